"""Each message arrives once at a real SMTP server, to the right person, with the right
subject and links, a plain-text part that reads well and an HTML part."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake, User, utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.intake.workspace import create_invite
from tests.factories import csrf_of, example
from tests.mail.conftest import (
    BASE_URL,
    EMAIL,
    SENDER,
    html_part,
    invoke,
    reads_well,
    rows,
    settled,
    started,
    text_part,
    words,
)
from tests.web.helpers import Prospect, form_data

LINK = re.compile(re.escape(BASE_URL) + r"/intake/[\w-]+")


def about(prospect: Prospect, **changes):
    answers = {**example(), **changes}
    return prospect.step("about", form_data("about", answers))


def backdate(app, seconds: float = 120) -> None:
    """Make every message look older (past the "just sent" minute)."""
    with app.app_context():
        begin_write(db.session())
        for row in db.session.execute(db.select(OutboxMessage)).scalars():
            row.created_at -= timedelta(seconds=seconds)
        db.session.commit()


# --- the private link ------------------------------------------------------------------------


def test_the_resume_link_arrives_once_when_an_email_is_given(mail_app, client, inbox):
    prospect = started(client)
    assert about(prospect).status_code == 302  # the request answers; the worker sends
    settled(mail_app)
    [message] = inbox.to(EMAIL)
    assert message["Subject"] == "Your private link to your answers for Brightline Studio"
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["From"].addresses[0].display_name == "Brightline Studio"
    assert str(message["To"]) == f"Daniel Okafor <{EMAIL}>"
    assert message["Reply-To"] is None  # no owner, no saved profile: replies go to From
    text, html = text_part(message), html_part(message)
    link = f"{BASE_URL}/intake/{prospect.token}"
    assert LINK.findall(text) == [link]
    assert f'href="{link}"' in html and "Continue my answers" in html
    reads_well(text)
    assert text.startswith("Hello Daniel,")
    assert "please do not forward it" in words(text)
    [row] = rows(mail_app)
    assert row.status == "sent" and row.message_id == message["Message-ID"]
    assert row.last_answer.startswith("250 2.0.0 Ok: queued as TEST")
    # The link opens the draft where it was left.
    assert client.get(f"/intake/{prospect.token}").status_code == 302
    # Later steps send nothing more: the address already has its link.
    step = get_questionnaire().sections[1].id
    assert prospect.step(step, form_data(step, example())).status_code == 302
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 1 and len(rows(mail_app)) == 1


def test_replies_reach_the_signatory_of_the_saved_profile(mail_app, client, inbox):
    from onboarding.domain.terms import default_profile
    from onboarding.services.agreement import terms as agreement_terms

    with mail_app.app_context():
        data = default_profile().as_dict()
        data["signatory"] = {
            "name": "Sam Reyes",
            "title": "Director",
            "email": "sam@agency.example",
        }
        agreement_terms.save_profile(data, None)
        db.session.commit()
    about(started(client))
    settled(mail_app)
    [message] = inbox.to(EMAIL)
    assert str(message["Reply-To"]) == "Sam Reyes <sam@agency.example>"


def test_a_changed_address_gets_its_own_link(mail_app, client, inbox):
    prospect = started(client)
    about(prospect)
    about(prospect, contact_email="daniel@okafor.example")
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 1 and len(inbox.to("daniel@okafor.example")) == 1


def test_a_draft_with_no_email_gets_no_message(mail_app, client, inbox):
    prospect = started(client)
    step = get_questionnaire().sections[1].id
    assert prospect.step(step, form_data(step, example())).status_code == 302
    page = prospect.client.get(prospect.url(f"/step/{step}")).text
    assert "Email me my link" not in page and "About you and the project" in page
    # The button (posted anyway) asks for an address and writes nothing.
    response = prospect.step(step, form_data(step, example()), action="email_link")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "We need your email address first" in page
    assert rows(mail_app) == [] and inbox.messages == []
    # Nor does a reminder, however long it stands still.
    with mail_app.app_context():
        db.session.execute(update(Intake).values(updated_at=utcnow() - timedelta(days=30)))
        db.session.commit()
    result = invoke(mail_app, "send-reminders")
    assert "Wrote 0 reminder(s)" in result.output
    assert rows(mail_app) == [] and inbox.messages == []


def test_email_me_my_link_on_a_step_saves_the_step_and_sends_again(mail_app, client, inbox):
    prospect = started(client)
    about(prospect)
    settled(mail_app)
    backdate(mail_app)
    step = get_questionnaire().sections[1].id
    page = client.get(prospect.url(f"/step/{step}")).text
    assert "Email me my link" in page and f"at {EMAIL}" in page
    response = prospect.step(step, form_data(step, example()), action="email_link")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/step/{step}")  # stays on the step
    page = client.get(response.headers["Location"]).text
    assert f"We have emailed your private link to {EMAIL}" in page
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 2
    with mail_app.app_context():  # the step's answers were saved by the same button
        intake = db.session.execute(db.select(Intake)).scalar_one()
        assert intake.current_step == step


def test_the_button_on_the_first_step_sends_one_link_for_the_address_just_typed(
    mail_app, client, inbox
):
    prospect = started(client)
    response = prospect.step("about", form_data("about", example()), action="email_link")
    assert response.status_code == 302
    assert "We have emailed your private link" in client.get(response.headers["Location"]).text
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 1  # the saved address's link, not two


def test_the_link_button_is_limited_per_intake_and_per_address(mail_app, client, inbox):
    mail_app.config.update(MAIL_LINK_PER_INTAKE=2, MAIL_LINK_PER_ADDRESS=3)
    prospect = started(client)
    about(prospect)
    backdate(mail_app)
    step = get_questionnaire().sections[1].id
    prospect.step(step, form_data(step, example()), action="email_link")
    backdate(mail_app)
    response = prospect.step(step, form_data(step, example()), action="email_link")
    page = client.get(response.headers["Location"]).text
    assert "we have not sent another one now" in page
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 2
    # Another intake for the same address: the address's limit (3 a day) stops the 4th.
    other = started(mail_app.test_client())
    about(other)  # the 3rd to this address: sent
    backdate(mail_app)
    response = other.step(step, form_data(step, example()), action="email_link")
    assert "we have not sent another one now" in other.client.get(response.headers["Location"]).text
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 3


def test_the_link_button_needs_its_csrf_token(mail_app, client, inbox):
    prospect = started(client)
    about(prospect)
    settled(mail_app)
    backdate(mail_app)
    step = get_questionnaire().sections[1].id
    data = {**form_data(step, example()), "action": "email_link", "csrf_token": "stale"}
    response = client.post(prospect.url(f"/step/{step}"), data=data)
    assert response.status_code == 422 and "for your security" in response.text
    response = client.post(prospect.url("/email-link"), data={"csrf_token": "stale"})
    assert response.status_code == 422
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 1


def test_the_review_page_emails_the_link_too(mail_app, client, inbox):
    prospect = started(client)
    prospect.fill_all(example())
    settled(mail_app)
    backdate(mail_app)
    page = client.get(prospect.url("/review")).text
    assert "Email me my link" in page
    forms = page.split("<form")
    link_form = next(f for f in forms if "email-link" in f)
    response = client.post(prospect.url("/email-link"), data={"csrf_token": csrf_of(link_form)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
    settled(mail_app)
    assert len(inbox.to(EMAIL)) == 2


def test_an_invited_prospect_gets_their_link_replying_to_their_manager(
    mail_app, client, inbox, staff
):
    with mail_app.app_context():
        manager = db.session.execute(
            db.select(User).filter_by(email="max@agency.example")
        ).scalar_one()
        invite = create_invite(manager, "Daniel Okafor", EMAIL, "Harbour Freight", None, 30)
        db.session.commit()
        token = invite.token
    page = client.get(f"/invite/{token}")
    client.post(f"/invite/{token}", data={"csrf_token": csrf_of(page.text)})
    prospect = Prospect(client)
    with mail_app.app_context():
        prospect.token = db.session.execute(db.select(Intake.token)).scalar_one()
    about(prospect)  # the address was filled in by the invite; saving confirms it
    settled(mail_app)
    [invited, message] = inbox.to(EMAIL)  # the invite itself (issue 26), then the link
    assert "invites you" in str(invited["Subject"])
    assert str(invited["Reply-To"]) == "Max Manager <max@agency.example>"
    assert str(message["Reply-To"]) == "Max Manager <max@agency.example>"


# --- submission ------------------------------------------------------------------------------


def test_a_submission_sends_a_receipt_and_tells_every_active_manager(
    mail_app, client, inbox, staff
):
    prospect = started(client)
    prospect.fill_all(example())
    assert prospect.submit().status_code == 302
    found = settled(mail_app)
    assert sorted(r.kind for r in found) == [
        "new_submission",
        "new_submission",
        "receipt",
        "resume_link",
    ]
    receipt = [m for m in inbox.to(EMAIL) if "what happens next" in m["Subject"]]
    [receipt] = receipt
    assert (
        receipt["Subject"]
        == "We have your answers for Harbour Freight Logistics: what happens next"
    )
    text = text_part(receipt)
    reads_well(text)
    assert "\n1. Within two working days" in text and "\n4. Kickoff" in text
    assert "just reply to this email" in words(text)
    assert f"at {EMAIL}" in words(text) and "Nothing starts until you do" in words(text)
    assert not LINK.search(text)  # no private link needed any more
    # Staff: both active managers, not the disabled one, not the admin.
    with mail_app.app_context():
        public_id = db.session.execute(db.select(Intake.public_id)).scalar_one()
    for address in staff["managers"]:
        [notice] = inbox.to(address)
        assert notice["Subject"] == "New intake: Harbour Freight Logistics (guarded, 51/100)"
        text = text_part(notice)
        reads_well(text)
        assert f"{BASE_URL}/workspace/intakes/{public_id}" in text
        assert "It has no owner yet" in words(text) and EMAIL in text
        assert f'href="{BASE_URL}/workspace/intakes/{public_id}"' in html_part(notice)
    assert inbox.to("gone@agency.example") == [] and inbox.to(staff["admin"]) == []
    assert len(inbox.messages) == 4


def test_an_owned_intake_tells_only_its_owner_and_the_receipt_names_them(
    mail_app, client, inbox, staff
):
    prospect = started(client)
    prospect.fill_all(example())
    with mail_app.app_context():
        begin_write(db.session())
        owner = db.session.execute(
            db.select(User).filter_by(email="mia@agency.example")
        ).scalar_one()
        db.session.execute(update(Intake).values(owner_id=owner.id))
        db.session.commit()
    prospect.submit()
    settled(mail_app)
    [receipt] = [m for m in inbox.to(EMAIL) if "what happens next" in m["Subject"]]
    assert str(receipt["Reply-To"]) == "Mia Manager <mia@agency.example>"
    assert "Mia Manager, your account manager," in words(text_part(receipt))
    [notice] = inbox.to("mia@agency.example")
    assert "The intake is yours." in words(text_part(notice))
    assert inbox.to("max@agency.example") == []


def test_an_api_submission_sends_the_same_messages(mail_app, client, inbox, staff):
    from onboarding.services.people.api_tokens import create_token

    with mail_app.app_context():
        _, token = create_token("Website")
        db.session.commit()
    response = client.post(
        "/api/v1/intakes",
        json={"answers": example(), "owner": "max@agency.example"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    settled(mail_app)
    assert [m["Subject"] for m in inbox.to(EMAIL)] == [
        "We have your answers for Harbour Freight Logistics: what happens next"
    ]
    assert len(inbox.to("max@agency.example")) == 1 and inbox.to("mia@agency.example") == []


def test_a_double_submit_sends_one_receipt(mail_app, client, inbox, staff):
    prospect = started(client)
    prospect.fill_all(example())
    page = client.get(prospect.url("/review")).text
    token = csrf_of(page)
    client.post(prospect.url("/submit"), data={"csrf_token": token})
    client.post(prospect.url("/submit"), data={"csrf_token": token})
    settled(mail_app)
    assert len([m for m in inbox.to(EMAIL) if "what happens next" in m["Subject"]]) == 1
