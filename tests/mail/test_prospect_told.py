"""Every state told (issue 26, points 5, 9 and 11): the prospect's receipt when they
accept, the invite emailed with its link, the manager's reply emailed with a link back,
the decline letter's send declining the intake; a company ending "Co." gets one full
stop. Each arrives once, through the real SMTP server."""

from __future__ import annotations

import pytest

from onboarding.db import db
from onboarding.services.intake import workspace
from tests.factories import answer, example, login, post, send, text_of
from tests.mail.conftest import (
    BASE_URL,
    EMAIL,
    reads_well,
    rows,
    settled,
    started,
    text_part,
    words,
)
from tests.web.helpers import form_data

PROSPECT = "d.okafor@harbourfreight.example"
ACCEPT = {"name": "Daniel Okafor", "consent": "yes"}


@pytest.fixture
def manager(mail_app, client, staff):
    login(client, staff["managers"][0])
    return staff


@pytest.fixture
def sent(mail_app, client, manager, submitted, inbox):
    with mail_app.app_context():
        workspace.intake_by_public_id(submitted).company = "Northwind Tea Co."
        db.session.commit()
    token = send(client, submitted)
    settled(mail_app)
    inbox.reset()
    return {"token": token, "public_id": submitted}


def test_accepting_emails_the_prospect_a_receipt_once(mail_app, sent, inbox):
    _, accepted = answer(mail_app, f"/agreement/{sent['token']}/accept", ACCEPT)
    assert accepted.status_code == 302
    settled(mail_app)
    [message] = [m for m in inbox.to(PROSPECT) if "accepted" in str(m["Subject"])]
    assert str(message["Subject"]) == "You accepted your agreement with Brightline Studio"
    text = text_part(message)
    reads_well(text)
    assert "Daniel Okafor accepted version 1" in words(text)
    assert "countersigns" in text
    assert f"{BASE_URL}/agreement/{sent['token']}" in text.split()
    assert "#0b6e4f" in message.get_body(("html",)).get_content()  # the app's colour


def test_the_managers_reply_is_emailed_with_a_link_back(mail_app, client, sent, inbox):
    url = f"/workspace/intakes/{sent['public_id']}"
    reply = "We can offer four revision rounds if the deadline moves a week."
    assert post(client, url + "/agreement/reply", {"reply": reply}, url).status_code == 302
    settled(mail_app)
    [message] = inbox.to(PROSPECT)
    assert "A reply about your agreement" in str(message["Subject"])
    text = text_part(message)
    reads_well(text)
    assert reply in words(text)
    assert f"{BASE_URL}/agreement/{sent['token']}#conversation" in text.split()
    assert "Northwind Tea Co.." not in words(text) and "Northwind Tea Co." in words(text)


def test_sending_the_decline_letter_declines_the_intake(mail_app, client, sent, inbox):
    url = f"/workspace/intakes/{sent['public_id']}"
    page = client.get(url + "/decline")
    assert page.status_code == 200
    letter = "Thank you for your answers. We are not the right agency for this project."
    sent_letter = post(client, url + "/decline/send", {"letter": letter}, url + "/decline")
    assert sent_letter.status_code == 302
    settled(mail_app)
    [message] = inbox.to(PROSPECT)
    assert "not the right agency" in words(text_part(message))
    assert "Declined" in text_of(client.get(url).text)
    # The prospect's private link now says so, not "we send you an engagement agreement".
    with mail_app.app_context():
        token = workspace.intake_by_public_id(sent["public_id"]).token
    thanks = text_of(mail_app.test_client().get(f"/intake/{token}/thanks").text)
    assert "We will not be going ahead with this project" in thanks
    assert "we send you an engagement agreement" not in thanks
    agreement = text_of(mail_app.test_client().get(f"/agreement/{sent['token']}").text)
    assert "no longer open" in agreement and "Accept the agreement" not in agreement


def test_an_invite_is_emailed_and_its_link_stays_listed(mail_app, client, manager, inbox):
    created = post(
        client,
        "/workspace/invites",
        {"name": "Priya Shah", "email": "priya@northwind.example", "company": "Northwind Tea Co."},
        "/workspace/invites",
    )
    assert created.status_code == 200
    assert "Invite emailed to Priya Shah" in text_of(created.text)
    settled(mail_app)
    [message] = inbox.to("priya@northwind.example")
    text = text_part(message)
    reads_well(text)
    assert "Northwind Tea Co.." not in words(text)
    [link] = [w for w in text.split() if w.startswith(f"{BASE_URL}/invite/")]
    listing = client.get("/workspace/invites").text
    assert link.replace(BASE_URL, "") in listing  # findable again, to copy
    assert 'data-copy="#invite-link-' in listing
    opened = mail_app.test_client().get(link.replace(BASE_URL, ""))
    assert opened.status_code in (200, 302)


def test_email_me_my_link_after_a_refused_send_tells_the_truth(mail_app, client, inbox):
    inbox.unknown = {EMAIL}  # the server refuses the address for good (550)
    prospect = started(client)
    prospect.step("about", form_data("about", example()))  # the link, written on save
    [failed] = settled(mail_app)
    assert failed.status == "failed" and inbox.to(EMAIL) == []
    response = prospect.step("about", form_data("about", example()), action="email_link")
    page = text_of(client.get(response.headers["Location"]).text)
    assert f"We could not email your link to {EMAIL}" in page
    assert "We have emailed" not in page
    assert len(rows(mail_app)) == 1  # nothing more queued that would fail the same way


def test_each_comment_tells_the_staff_once(mail_app, client, sent, inbox):
    for comment in ("Fortnightly updates, please", "And who owns the photos?"):
        _, asked = answer(mail_app, f"/agreement/{sent['token']}/changes", {"comment": comment})
        assert asked.status_code == 302
    settled(mail_app)
    for manager in ("max@agency.example", "mia@agency.example"):  # nobody owns it: both
        said = sorted(words(text_part(m)) for m in inbox.to(manager))
        assert len(said) == 2  # one for each comment, none twice
        assert "And who owns the photos?" in said[0] and "Fortnightly updates" in said[1]


def test_the_link_sent_again_by_the_manager_does_not_say_as_asked(mail_app, client, sent, inbox):
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, url + "/agreement/resend", {}, url).status_code == 302
    settled(mail_app)
    [message] = inbox.to(PROSPECT)
    text = words(text_part(message))
    assert "As asked" not in text
    assert "Here again is your private link to version 1" in text
    assert "Northwind Tea Co.." not in text and "for Northwind Tea Co." in text
