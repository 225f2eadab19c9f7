"""Nobody loses their input (issue 16): the browser remembers a draft, Start now and
Back never strand it, the web form asks follow-ups under the answer that reveals them,
long text is never cut, and error messages are plain instructions."""

from __future__ import annotations

from onboarding.db import db
from onboarding.db.models import Intake
from onboarding.services.intake.submission import intake_by_token
from onboarding.web.public.remember import COOKIE
from tests.factories import csrf_of, example
from tests.web.helpers import Prospect, form_data


def stored(app, token: str) -> Intake:
    with app.app_context():
        intake = intake_by_token(token)
        db.session.expunge(intake)
        return intake


def cookie_of(client):
    return client.get_cookie(COOKIE)


def test_the_browser_remembers_the_draft_and_start_now_resumes_it(app, client):
    prospect = Prospect(client)
    token = prospect.start()
    cookie = cookie_of(client)
    assert cookie is not None and cookie.value == token
    assert cookie.http_only and cookie.same_site == "Lax"
    prospect.step("about", form_data("about", example()))

    page = client.get("/start")
    assert "Continue your answers" in page.text and "Not you? Start again" in page.text
    assert "Start now" not in page.text
    again = client.post("/start", data={"csrf_token": csrf_of(page.text)})
    assert again.headers["Location"].endswith(f"/intake/{token}")  # the same draft
    with app.app_context():
        assert db.session.query(Intake).count() == 1


def test_back_on_the_first_step_keeps_the_draft(app, client):
    prospect = Prospect(client)
    token = prospect.start()
    data = form_data("about", example())
    back = prospect.step("about", data, action="back")
    assert back.headers["Location"].endswith("/start")
    assert stored(app, token).answers["contact_name"] == "Daniel Okafor"  # saved
    page = client.get("/start")
    resumed = client.post("/start", data={"csrf_token": csrf_of(page.text)})
    assert resumed.headers["Location"].endswith(f"/intake/{token}")
    with app.app_context():
        assert db.session.query(Intake).count() == 1


def test_not_you_start_again_forgets_the_draft_on_this_device(app, client):
    prospect = Prospect(client)
    token = prospect.start()
    page = client.get("/start")
    forgot = client.post("/start", data={"csrf_token": csrf_of(page.text), "action": "start_again"})
    assert forgot.headers["Location"].endswith("/start")
    assert cookie_of(client) is None
    assert "Start now" in client.get("/start").text
    assert stored(app, token).status == "draft"  # the draft itself is kept


def test_the_resume_link_remembers_the_draft_and_submitting_forgets_it(app, client):
    prospect = Prospect(client)
    token = prospect.start()
    other = app.test_client()
    other.get(f"/intake/{token}")
    assert cookie_of(other).value == token
    prospect.fill_all(example())
    done = prospect.submit()
    assert done.status_code == 302
    client.get(prospect.url("/thanks"))
    assert cookie_of(client) is None
    assert "Start now" in client.get("/start").text


def test_past_agencies_are_asked_inside_yes_and_zero_is_recorded_after_no(app, client):
    prospect = Prospect(client)
    token = prospect.start()
    page = client.get(prospect.url("/step/history")).text
    reveal = page.index('id="worked_with_agency_before-yes-reveal"')
    assert page.index('id="worked_with_agency_before-0"') < reveal  # under "Yes"
    assert page.index('id="past_agencies_count"') > reveal
    assert page.index('id="past_agencies_count"') < page.index('id="worked_with_agency_before-1"')
    assert 'aria-controls="worked_with_agency_before-yes-reveal"' in page

    no = prospect.step("history", {"worked_with_agency_before": "no"})
    assert no.status_code == 302, no.text
    assert stored(app, token).answers["past_agencies_count"] == 0

    yes = prospect.step("history", {"worked_with_agency_before": "yes"})
    assert yes.status_code == 422
    assert "Enter the number of agencies you have worked with" in yes.text


def test_long_text_is_never_cut_and_the_error_keeps_it(app, client):
    prospect = Prospect(client)
    prospect.start()
    goal = "Grow the qualified leads from the website. " * 18  # 774 characters
    data = form_data("goals", example()) | {"primary_goal": goal}
    page = client.get(prospect.url("/step/goals")).text
    assert " maxlength=" not in page
    assert "You can enter up to 500 characters" in page
    response = prospect.step("goals", data)
    assert response.status_code == 422
    assert "The main goal of the project must be 500 characters or fewer" in response.text
    assert goal.strip() in response.text  # shown back whole


def test_the_progress_list_goes_back_saving_the_step(app, client):
    prospect = Prospect(client)
    token = prospect.start()
    answers = example()
    prospect.step("about", form_data("about", answers))
    page = client.get(prospect.url("/step/time")).text
    assert 'name="goto" value="about"' in page
    assert page.count("Step 2 of 7") == 1  # once on the page (the title has it too)
    data = form_data("time", answers)
    back = prospect.step("time", data, goto="about")
    assert back.headers["Location"].endswith("/step/about")
    assert stored(app, token).answers["update_frequency"] == answers["update_frequency"]


def test_the_budget_question_says_its_currency(app, client):
    prospect = Prospect(client)
    prospect.start()
    page = client.get(prospect.url("/step/about")).text
    assert "Amounts in GBP." in page
