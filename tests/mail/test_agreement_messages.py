"""The agreement's messages (issue 14, part B1): the prospect's link on each send with
what changed, sent again on request; each arrives once, to the right person."""

from __future__ import annotations

import logging

import pytest

from tests.factories import answer, login, post, send
from tests.mail.conftest import BASE_URL, reads_well, settled, text_part, words
from tests.web.helpers import make_files

PROSPECT = "d.okafor@harbourfreight.example"


@pytest.fixture
def manager(mail_app, client, staff):
    login(client, staff["managers"][0])
    return staff


@pytest.fixture
def sent(mail_app, client, manager, submitted, inbox):
    token = send(client, submitted)
    settled(mail_app)
    return {"token": token, "public_id": submitted}


def agreement_mail(inbox):
    return [m for m in inbox.to(PROSPECT) if "agreement" in str(m["Subject"]).lower()]


def test_the_first_send_emails_the_prospect_their_link_once(mail_app, sent, inbox):
    [message] = agreement_mail(inbox)
    assert str(message["Subject"]) == "Your agreement with Brightline Studio: your private link"
    assert "Daniel Okafor" in str(message["To"])
    text = text_part(message)
    reads_well(text)
    assert f"{BASE_URL}/agreement/{sent['token']}" in text.split()
    assert "What changed" not in text  # nothing to compare with
    assert "Harbour Freight Logistics" in words(text)
    assert f"{BASE_URL}/agreement/{sent['token']}" in message.get_body(("html",)).get_content()


def test_a_second_version_says_what_changed_in_plain_words(mail_app, client, sent, inbox):
    _, changed = answer(mail_app, f"/agreement/{sent['token']}/changes", {"comment": "4 rounds"})
    assert changed.status_code == 302
    settled(mail_app)
    inbox.reset()
    second = send(client, sent["public_id"], revised=True)
    settled(mail_app)
    [message] = agreement_mail(inbox)
    assert str(message["Subject"]) == (
        "Your agreement with Brightline Studio, version 2: your private link"
    )
    text = text_part(message)
    reads_well(text)
    assert f"{BASE_URL}/agreement/{second}" in text.split()
    assert sent["token"] not in text  # the old version's link is not given
    assert "What changed since version 1:\n- Revision rounds: from 3 to 4\n" in text
    # Four rounds as standard meet the client's wish: the extra round is offered no more.
    assert "\n- Options offered: from Priority replies" in text
    assert "- Clause changed: " in text
    html = message.get_body(("html",)).get_content()
    assert "<li" in html and "Revision rounds: from 3 to 4" in html


def test_send_the_link_again_emails_the_same_link_again(mail_app, client, sent, inbox):
    inbox.reset()
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, url + "/agreement/resend", {}, url).status_code == 302
    rows = settled(mail_app)
    [message] = agreement_mail(inbox)
    assert "(again)" in str(message["Subject"])
    text = text_part(message)
    reads_well(text)
    assert f"{BASE_URL}/agreement/{sent['token']}" in text.split()
    assert [r.kind for r in rows].count("agreement_sent") == 2
    assert len({r.message_id for r in rows}) == len(rows)


def test_the_log_line_carries_no_agreement_link(mail_app, client, manager, submitted, caplog):
    caplog.set_level(logging.DEBUG)
    token = send(client, submitted)
    settled(mail_app)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("onboarding")]
    assert any("agreement_sent" in line for line in lines)
    for line in lines:
        assert token not in line and "/agreement/" not in line


def test_the_change_list_reads_as_plain_words_and_stays_short():
    from onboarding.services.notify.agreement_mail import change_lines

    red = {
        "values": [
            {"term": "Monthly fee", "from": "£4,000", "to": "£4,500"},
            {"term": "Deposit", "from": "", "to": "£1,000"},
            {"term": "Rush fee", "from": "£200", "to": ""},
        ],
        "clauses": [
            {"id": "a", "title": "Kickoff", "change": "added"},
            {"id": "b", "title": "Exclusivity", "change": "removed"},
            {"id": "c", "title": "Payment", "change": "changed"},
        ],
    }
    assert change_lines(red) == [
        "Monthly fee: from £4,000 to £4,500",
        "Deposit: now £1,000",
        "Rush fee: £200 no longer applies",
        "New clause: Kickoff",
        "Clause removed: Exclusivity",
        "Clause changed: Payment",
    ]
    assert change_lines(None) == [] and change_lines({"values": [], "clauses": []}) == []
    short = change_lines(red, limit=4)
    assert len(short) == 4 and short[-1] == "and 3 more changes, shown on the agreement's page"


# --- the staff's notices -----------------------------------------------------------------------


def staff_mail(inbox, staff, subject_start):
    found = {}
    for address in staff["managers"]:
        found[address] = [m for m in inbox.to(address) if m["Subject"].startswith(subject_start)]
    return found


def test_a_change_request_tells_every_active_manager_once(mail_app, sent, inbox, manager):
    inbox.reset()
    comment = "Updates twice a week, please, and one more round of revisions."
    _, changed = answer(mail_app, f"/agreement/{sent['token']}/changes", {"comment": comment})
    assert changed.status_code == 302
    rows = settled(mail_app)
    assert [r.kind for r in rows].count("change_request") == 2
    for address, [notice] in staff_mail(inbox, manager, "Changes requested").items():
        assert notice["Subject"] == (
            "Changes requested: Harbour Freight Logistics, agreement version 1"
        )
        assert address in str(notice["To"])
        text = text_part(notice)
        reads_well(text)
        assert comment in words(text)
        assert f"{BASE_URL}/workspace/intakes/{sent['public_id']}#agreement" in text.split()
        assert sent["token"] not in text  # the prospect's link is theirs alone
    assert inbox.to("gone@agency.example") == [] and inbox.to(manager["admin"]) == []
    assert inbox.to(PROSPECT) == []  # the prospect is not told of their own request
    assert len(inbox.messages) == 2


def test_an_acceptance_tells_the_owner_only(mail_app, client, sent, inbox, manager):
    from onboarding.db import db
    from onboarding.db.models import User
    from onboarding.services.intake import workspace

    with mail_app.app_context():
        owner = db.session.execute(
            db.select(User).where(User.email == manager["managers"][1])
        ).scalar_one()
        intake = workspace.intake_by_public_id(sent["public_id"])
        workspace.assign_owner(intake, owner, owner)
        db.session.commit()
    inbox.reset()
    _, accepted = answer(
        mail_app, f"/agreement/{sent['token']}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert accepted.status_code == 302
    settled(mail_app)
    [notice] = [m for m in inbox.messages if PROSPECT not in str(m["To"])]  # and her receipt
    assert manager["managers"][1] in str(notice["To"])
    assert notice["Subject"] == "Accepted: Harbour Freight Logistics, agreement version 1"
    text = text_part(notice)
    reads_well(text)
    assert "Daniel Okafor of Harbour Freight Logistics has accepted version 1" in words(text)
    assert "countersignature" in text and "every account manager" not in text
    assert f"{BASE_URL}/workspace/intakes/{sent['public_id']}#agreement" in text.split()
    assert "Options chosen: none." in text


def test_the_acceptance_notice_names_the_options_chosen(mail_app, client, sent, inbox):
    inbox.reset()
    choice = {
        "option": ["priority_replies", "extra_revision_round"],
        "quantity.extra_revision_round": "2",
        "name": "Daniel Okafor",
        "consent": "yes",
    }
    _, accepted = answer(mail_app, f"/agreement/{sent['token']}/accept", choice)
    assert accepted.status_code == 302
    settled(mail_app)
    [notice] = [m for m in inbox.messages if str(m["Subject"]).startswith("Accepted:")][:1]
    text = text_part(notice)
    reads_well(text)
    assert "- Priority replies: £450.00 a month (replies within four working hours)" in text
    assert "- Extra revision round: 2 rounds at £600.00 each: £1,200.00" in text
    html = notice.get_body(("html",)).get_content()
    assert "<li>Priority replies: £450.00 a month" in html


# --- the polite decline ------------------------------------------------------------------------


@pytest.fixture
def walk_away(mail_app, manager):
    """A submitted intake the assessment says to walk away from; its public id."""
    from onboarding.db import db
    from onboarding.services.intake.submission import create_intake, submit_intake
    from onboarding.web.extensions import app_playbooks
    from tests.factories import example

    with mail_app.app_context():
        intake = create_intake(example("hands-on-director"))
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(mail_app), email=False)
        db.session.commit()
        return intake.public_id


def test_the_decline_is_sent_as_shown_once_reviewed(mail_app, client, walk_away, inbox):
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import AuditEvent, Intake

    url = f"/workspace/intakes/{walk_away}/decline"
    page = client.get(url)
    assert "Send this letter" in page.text and 'name="letter"' in page.text
    shown = page.text.split('name="letter" rows="18">', 1)[1].split("</textarea>")[0]
    assert "Dear Margot," in shown
    edited = shown.replace("&#39;", "'").replace(
        "Kind regards,", "I would be glad to suggest a colleague.\n\nKind regards,"
    )
    # Without its CSRF token, nothing is sent.
    assert client.post(url + "/send", data={"letter": edited}).status_code == 400
    sent = post(client, url + "/send", {"letter": edited}, url)
    assert sent.status_code == 302
    settled(mail_app)
    with mail_app.app_context():
        address = db.session.execute(select(Intake.contact_email)).scalars().all()
        address = [a for a in address if a and "harbourfreight" not in a][0]
        kinds = db.session.execute(select(AuditEvent.kind, AuditEvent.to_value)).all()
        assert ("decline_emailed", address) in kinds
    [letter] = inbox.to(address)
    assert "Brightline Studio" in letter["Subject"] and "our answer" in letter["Subject"]
    assert "Max Manager" in str(letter["Reply-To"])
    text = text_part(letter)
    assert text.startswith("Dear Margot,")
    assert "I would be glad to suggest a colleague." in text
    assert "right agency for this project" in words(text)
    for line in text.splitlines():
        assert len(line) <= 72
    assert "<" not in text
    assert "I would be glad to suggest a colleague." in letter.get_body(("html",)).get_content()
    after = client.get(url).text
    assert f"The letter was sent to {address}." in after  # the flash
    assert 'id="decline-sent"' in after  # and the page says so afterwards too
    # A double click sends it once.
    post(client, url + "/send", {"letter": edited}, url)
    settled(mail_app)
    assert len(inbox.to(address)) == 1


def test_an_empty_letter_is_refused_and_nothing_is_sent(mail_app, client, walk_away, inbox):
    url = f"/workspace/intakes/{walk_away}/decline"
    refused = post(client, url + "/send", {"letter": "  "}, url)
    assert refused.status_code == 422
    assert "Write the letter before sending it." in refused.text
    settled(mail_app)
    assert inbox.messages == []


# --- signed by both parties ----------------------------------------------------------------------


def test_the_prospect_gets_the_signed_pdf_once_countersigned(
    mail_app, client, sent, inbox, manager
):
    from onboarding.db import db
    from onboarding.services.agreement import verify
    from onboarding.services.people.accounts import set_signing, user_by_email

    with mail_app.app_context():
        user = user_by_email(manager["managers"][0])
        set_signing(user, user_by_email(manager["admin"]), can_sign=True, title="Director")
        db.session.commit()
    _, accepted = answer(
        mail_app, f"/agreement/{sent['token']}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert accepted.status_code == 302
    settled(mail_app)
    inbox.reset()
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, f"{url}/versions/1/countersign", {}, url).status_code == 302
    make_files(mail_app)  # the worker makes the signed PDF and writes the email with it
    settled(mail_app)
    [message] = inbox.to(PROSPECT)
    assert message["Subject"] == "Signed by both parties: your agreement with Brightline Studio"
    text = text_part(message)
    reads_well(text)
    assert "signed by both parties" in words(text) and "attached" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().endswith(" - signed.pdf")
    data = attachment.get_content()
    with mail_app.app_context():
        found = verify.verify(data)
        assert found is not None and found.kind == "signed"
    assert len(inbox.messages) == 1  # staff are not mailed for their own countersignature
