"""Reminders to drafts that stood still: at most twice, never after submit, stopped in
one click (a GET only asks; the POST needs no CSRF token: its link is the key)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake
from onboarding.db.outbox import DraftReminder, OutboxMessage
from onboarding.integrations import outbox
from tests.factories import example
from tests.mail.conftest import BASE_URL, html_part, invoke, rows, settled, text_part, words
from tests.web.helpers import Prospect, form_data

EMAIL = "d.okafor@harbourfreight.example"
STOP = re.compile(re.escape(BASE_URL) + r"/intake/stop-reminders/[\w-]+")


def draft(client) -> Prospect:
    prospect = Prospect(client)
    prospect.start()
    assert prospect.step("about", form_data("about", example())).status_code == 302
    return prospect


def age(app, days: float = 4) -> None:
    """Let the drafts (and the reminders already written) stand still ``days`` more."""
    with app.app_context():
        begin_write(db.session())
        for intake in db.session.execute(select(Intake)).scalars():
            db.session.execute(
                update(Intake)
                .where(Intake.id == intake.id)
                .values(updated_at=intake.updated_at - timedelta(days=days))
            )
        for row in db.session.execute(select(OutboxMessage)).scalars():
            row.created_at -= timedelta(days=days)
        db.session.commit()


def reminders(app) -> list[OutboxMessage]:
    return [r for r in rows(app) if r.kind == "draft_reminder"]


def remind(app) -> str:
    result = invoke(app, "send-reminders")
    assert result.exit_code == 0, result.output
    settled(app)
    return result.output


def test_a_still_draft_is_reminded_twice_at_most(mail_app, client, inbox):
    prospect = draft(client)
    assert "Wrote 0 reminder(s)" in remind(mail_app)  # saved just now: not yet
    age(mail_app, days=2.9)
    assert "Wrote 0 reminder(s)" in remind(mail_app)  # DRAFT_REMINDER_DAYS is 3
    age(mail_app, days=0.2)
    assert "Wrote 1 reminder(s) to drafts not saved for 3 days." in remind(mail_app)
    [first] = [m for m in inbox.to(EMAIL) if "waiting" in m["Subject"]]
    assert first["Subject"] == "Your answers for Brightline Studio are waiting"
    text = text_part(first)
    assert f"{BASE_URL}/intake/{prospect.token}" in text
    [stop] = STOP.findall(text)
    assert first["List-Unsubscribe"] == f"<{stop}>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{stop}"' in html_part(first)
    assert "We will remind you once more at most." in words(text)
    # Not again until it has stood still DRAFT_REMINDER_DAYS since the reminder.
    assert "Wrote 0" in remind(mail_app)
    age(mail_app, days=3.1)
    assert "Wrote 1" in remind(mail_app)
    second = [m for m in inbox.to(EMAIL) if "waiting" in m["Subject"]][1]
    assert second["Subject"] == "A last reminder: your answers for Brightline Studio are waiting"
    assert "This is the last reminder we send about it." in words(text_part(second))
    assert STOP.findall(text_part(second)) == [stop]  # one stop link per draft
    age(mail_app, days=30)
    assert "Wrote 0" in remind(mail_app)  # never a third
    assert len(reminders(mail_app)) == 2


def test_a_submitted_intake_gets_no_reminder_and_its_queued_one_is_cancelled(
    mail_app, recorder, client, inbox
):
    prospect = draft(client)
    age(mail_app)
    assert "Wrote 1" in invoke(mail_app, "send-reminders").output
    [queued] = reminders(mail_app)
    assert queued.status == "queued"  # not sent yet (the recorder holds it)
    prospect.fill_all(example())
    assert prospect.submit().status_code == 302
    [cancelled] = reminders(mail_app)
    assert cancelled.status == "cancelled"
    assert cancelled.last_answer == "Not sent: the prospect submitted their answers."
    with mail_app.app_context():
        assert outbox.deliver(cancelled.id) is None
    age(mail_app, days=30)
    assert "Wrote 0" in invoke(mail_app, "send-reminders").output
    assert not [m for m in inbox.messages if "waiting" in m["Subject"]]


def test_the_stop_link_asks_on_get_and_stops_on_post_without_csrf(
    mail_app, recorder, client, inbox
):
    draft(client)
    age(mail_app)
    invoke(mail_app, "send-reminders")
    [queued] = reminders(mail_app)
    path = STOP.findall(queued.text)[0].removeprefix(BASE_URL)
    # A GET (a mail scanner, a prefetch, a person) changes nothing.
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200
        assert "Stop reminders about your questionnaire?" in page.text
        assert f'<form method="post" action="{path}">' in page.text
        assert "csrf_token" not in page.text
    with mail_app.app_context():
        assert db.session.execute(select(DraftReminder.stopped_at)).scalar_one() is None
    assert reminders(mail_app)[0].status == "queued"
    # A mail client's one-click unsubscribe (RFC 8058): a POST with no CSRF token.
    response = mail_app.test_client().post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and "Reminders stopped" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    with mail_app.app_context():
        assert db.session.execute(select(DraftReminder.stopped_at)).scalar_one() is not None
    [cancelled] = reminders(mail_app)
    assert cancelled.status == "cancelled"
    assert cancelled.last_answer == "Not sent: the prospect stopped reminders."
    assert "You already stopped them" in client.get(path).text
    assert client.post(path).status_code == 200  # again: still stopped, no error
    age(mail_app, days=30)
    assert "Wrote 0" in invoke(mail_app, "send-reminders").output
    assert client.get("/intake/stop-reminders/not-a-token").status_code == 404
    assert client.post("/intake/stop-reminders/not-a-token").status_code == 404


def test_the_worker_runs_the_reminders_on_its_schedule(mail_app, client, inbox):
    draft(client)
    settled(mail_app)
    age(mail_app)
    outbox.dispatcher(mail_app).stop()
    mail_app.extensions.pop("outbox")
    mail_app.config.update(DRAFT_REMINDER_SWEEP_SECONDS=3600)
    outbox.dispatcher(mail_app).start()  # a fresh worker looks for reminders at start
    for _ in range(100):
        if reminders(mail_app):
            break
        time.sleep(0.05)
    settled(mail_app)
    [reminder] = reminders(mail_app)
    assert reminder.status == "sent"
    assert len([m for m in inbox.to(EMAIL) if "waiting" in m["Subject"]]) == 1
