"""A prospect's answers are saved as they are given (issue 26): the step's autosave
stores the valid ones without moving on, and what did not pass its checks comes back
as typed, with its message, when the step opens again."""

from __future__ import annotations

from tests.factories import csrf_of
from tests.web.helpers import Prospect


def autosave(client, prospect: Prospect, section_id: str, data: dict):
    page = client.get(prospect.url(f"/step/{section_id}"))
    return client.post(
        prospect.url(f"/step/{section_id}/answers"),
        data={**data, "csrf_token": csrf_of(page.text)},
    )


def test_an_answer_given_is_saved_without_pressing_the_button(app, client):
    prospect = Prospect(client)
    prospect.start()
    response = autosave(client, prospect, "about", {"contact_name": "Rita Gomez"})
    assert response.status_code == 200
    assert response.get_json() == {"saved": True, "invalid": []}  # unanswered is no error
    # A new browser (no cookie, no session) opening the private link finds it.
    other = app.test_client()
    page = other.get(prospect.url("/step/about"))
    assert page.status_code == 200 and 'value="Rita Gomez"' in page.text
    # Nothing moved on: the private link still opens this step.
    resumed = other.get(prospect.url())
    assert resumed.headers["Location"].endswith("/step/about")


def test_an_invalid_email_from_an_earlier_attempt_comes_back_with_its_message(app, client):
    prospect = Prospect(client)
    prospect.start()
    refused = prospect.step("about", {"contact_name": "Rita", "contact_email": "rita.acme"})
    assert refused.status_code == 422
    # Away to the start and back: the email is there as typed, with why.
    page = app.test_client().get(prospect.url("/step/about"))
    assert page.status_code == 200
    assert 'value="rita.acme"' in page.text
    assert 'id="contact_email-error"' in page.text
    assert "There is a problem" in page.text
    assert 'value="Rita"' in page.text  # the valid answer was stored
    # Once corrected, the kept input goes.
    prospect.step("about", {"contact_name": "Rita", "contact_email": "rita@acme.example"})
    again = client.get(prospect.url("/step/about")).text
    assert 'value="rita@acme.example"' in again and "contact_email-error" not in again


def test_an_invalid_answer_autosaved_is_kept_not_stored(app, client):
    prospect = Prospect(client)
    prospect.start()
    response = autosave(client, prospect, "about", {"timeline_weeks": "twelve"})
    assert "timeline_weeks" in response.get_json()["invalid"]
    page = client.get(prospect.url("/step/about")).text
    assert 'value="twelve"' in page and 'id="timeline_weeks-error"' in page


def test_the_autosave_needs_the_forms_csrf_token(app, client):
    prospect = Prospect(client)
    prospect.start()
    response = client.post(
        prospect.url("/step/about/answers"), data={"contact_name": "Mallory", "csrf_token": "x"}
    )
    assert response.status_code == 400 and response.get_json()["saved"] is False
    assert "Mallory" not in client.get(prospect.url("/step/about")).text


def test_the_step_page_offers_the_autosave(app, client):
    prospect = Prospect(client)
    prospect.start()
    page = client.get(prospect.url("/step/about")).text
    assert f'data-autosave="{prospect.url("/step/about/answers")}"' in page
    assert 'id="autosave-status"' in page


def test_what_was_kept_goes_when_the_intake_is_sent(app, client):
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import KeptForm
    from tests.web.helpers import example

    prospect = Prospect(client)
    prospect.start()
    prospect.step("about", {"contact_email": "not-an-address"})
    with app.app_context():
        assert db.session.execute(select(KeptForm)).first() is not None
    prospect.fill_all(example("burned-marketer"))
    assert prospect.submit().status_code == 302
    with app.app_context():
        assert db.session.execute(select(KeptForm)).first() is None
