"""With no mail server nothing is lost: a log line (whom, which kind, never a private
link) and the admins' Outbox page, which shows every message whole and sends it again."""

from __future__ import annotations

import logging

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake
from onboarding.db.outbox import OutboxMessage
from onboarding.services.intake.privacy import delete_intake
from tests.factories import csrf_of, example
from tests.mail.conftest import BASE_URL, PASSWORD, rows, settled
from tests.web.helpers import Prospect, form_data

EMAIL = "d.okafor@harbourfreight.example"


def login(client, email):
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 302, response.text
    return client


def give_email(client) -> Prospect:
    prospect = Prospect(client)
    prospect.start()
    assert prospect.step("about", form_data("about", example())).status_code == 302
    return prospect


def test_without_a_mail_server_the_log_says_a_message_was_written_and_no_link(
    no_server_app, client, staff, caplog
):
    caplog.set_level(logging.INFO)
    prospect = give_email(client)
    [row] = settled(no_server_app)
    assert row.status == "written" and row.sent_at is not None
    assert row.last_answer == "Not sent: no MAIL_SERVER is set. Kept here to read."
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("onboarding")]
    written = [line for line in lines if "written, not sent" in line]
    assert written == [
        f"mail {row.id} (resume_link) to {EMAIL} written, not sent: no MAIL_SERVER is set; "
        "admins read it whole on the workspace's Outbox page"
    ]
    for line in lines:  # no line of any logger carries the private link
        assert prospect.token not in line and "/intake/" not in line


def test_admins_read_the_message_whole_on_the_outbox_page(no_server_app, client, staff):
    prospect = give_email(client)
    [row] = settled(no_server_app)
    login(client, staff["admin"])
    page = client.get("/workspace/outbox")
    assert page.status_code == 200
    assert "No mail server is set" in page.text
    assert 'href="/workspace/outbox"' in page.text  # the nav link
    assert "Your private link to your answers for Brightline Studio" in page.text
    assert "Written, not sent" in page.text and EMAIL in page.text
    detail = client.get(f"/workspace/outbox/{row.id}")
    assert detail.status_code == 200
    link = f"{BASE_URL}/intake/{prospect.token}"
    assert link in detail.text  # the text part, whole
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in detail.text
    assert "Daniel Okafor &lt;d.okafor@harbourfreight.example&gt;" in detail.text  # To
    html = client.get(f"/workspace/outbox/{row.id}/html")
    assert html.status_code == 200 and f'href="{link}"' in html.text
    assert html.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert detail.headers["Cache-Control"] == "no-store"


def test_the_outbox_is_for_admins_only(no_server_app, client, staff):
    give_email(client)
    [row] = settled(no_server_app)
    assert client.get("/workspace/outbox").status_code == 302  # to sign-in
    login(client, staff["managers"][0])
    home = client.get("/workspace/").text
    assert 'href="/workspace/outbox"' not in home
    for url in (
        "/workspace/outbox",
        f"/workspace/outbox/{row.id}",
        f"/workspace/outbox/{row.id}/html",
    ):
        assert client.get(url).status_code == 403
    token = csrf_of(home)
    assert (
        client.post(f"/workspace/outbox/{row.id}/resend", data={"csrf_token": token}).status_code
        == 403
    )
    assert len(rows(no_server_app)) == 1


def test_send_again_sends_a_copy_under_a_new_message_id(mail_app, client, staff, inbox):
    inbox.unknown = {EMAIL}
    give_email(client)
    [failed] = settled(mail_app)
    assert failed.status == "failed"
    login(client, staff["admin"])
    page = client.get("/workspace/outbox").text
    assert "Failed" in page and "550 5.1.1" in page and "User unknown" in page
    # Without its CSRF token: refused, nothing written.
    assert client.post(f"/workspace/outbox/{failed.id}/resend").status_code == 400
    inbox.unknown = set()  # the mailbox exists now
    response = client.post(
        f"/workspace/outbox/{failed.id}/resend", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 302
    assert "is being sent again as #" in client.get(response.headers["Location"]).text
    original, copy = settled(mail_app)
    assert original.status == "failed" and copy.status == "sent"
    assert copy.resent_from_id == original.id and copy.message_id != original.message_id
    assert copy.text == original.text and copy.subject == original.subject
    [message] = inbox.to(EMAIL)
    assert message["Message-ID"] == copy.message_id


def test_a_failing_server_never_fails_the_request(mail_app, client, inbox):
    mail_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_MAX_ATTEMPTS=1)
    prospect = Prospect(client)
    prospect.start()
    prospect.fill_all(example())
    assert prospect.submit().status_code == 302
    found = settled(mail_app)
    assert {r.status for r in found} == {"failed"}


def test_deleting_a_prospect_deletes_their_messages(no_server_app, client):
    give_email(client)
    settled(no_server_app)
    with no_server_app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        delete_intake(intake, None)
        db.session.commit()
        assert db.session.execute(select(OutboxMessage)).first() is None
