"""Draft reminders: a draft that has stood still ``DRAFT_REMINDER_DAYS`` is reminded, at
most :data:`~onboarding.services.notify.mail.REMINDERS_MAX` times, never after
submit, with a one-click stop. Written to the outbox in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake, new_token, utcnow
from onboarding.db.outbox import DraftReminder, OutboxMessage
from onboarding.services.notify.mail import (
    REMINDERS_MAX,
    MailSettings,
    bound,
    cancel_reminders,
    write_to_prospect,
)


def _reminders_sent():
    return (
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.intake_id == Intake.id, OutboxMessage.kind == "draft_reminder")
        .scalar_subquery()
    )


def _last_reminder():
    return (
        select(func.max(OutboxMessage.created_at))
        .where(OutboxMessage.intake_id == Intake.id, OutboxMessage.kind == "draft_reminder")
        .scalar_subquery()
    )


def reminders_due(settings: MailSettings, now: datetime | None = None, limit: int = 500):
    """Ids of drafts owed a reminder: an address, no save for ``reminder_days`` (nor a
    reminder), fewer than :data:`REMINDERS_MAX` so far, not stopped."""
    cutoff = (now or utcnow()) - timedelta(days=settings.reminder_days)
    stopped = exists().where(
        DraftReminder.intake_id == Intake.id, DraftReminder.stopped_at.is_not(None)
    )
    last = _last_reminder()
    return db.session.execute(
        select(Intake.id)
        .where(
            Intake.status == "draft",
            Intake.contact_email.is_not(None),
            Intake.contact_email != "",
            Intake.updated_at <= cutoff,
            _reminders_sent() < REMINDERS_MAX,
            or_(last.is_(None), last <= cutoff),
            ~stopped,
        )
        .order_by(Intake.id)
        .limit(limit)
    ).scalars().all()  # fmt: skip


def remind(intake_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Write one draft's next reminder if it is still owed one; commits. Two runs at
    once write it once (the intake is locked; the n-th reminder's key is unique)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=bound().settings.reminder_days)
    begin_write(db.session())
    intake = db.session.execute(
        select(Intake).where(Intake.id == intake_id).with_for_update()
    ).scalar_one_or_none()
    if (
        intake is None
        or intake.status != "draft"
        or not intake.contact_email
        or intake.updated_at > cutoff
    ):
        db.session.rollback()
        return None
    earlier = db.session.execute(
        select(OutboxMessage.created_at).where(
            OutboxMessage.intake_id == intake.id, OutboxMessage.kind == "draft_reminder"
        )
    ).scalars().all()  # fmt: skip
    if len(earlier) >= REMINDERS_MAX or any(at > cutoff for at in earlier):
        db.session.rollback()
        return None
    reminder = db.session.get(DraftReminder, intake.id)
    if reminder is None:
        reminder = DraftReminder(intake_id=intake.id, stop_token=new_token())
        db.session.add(reminder)
    elif reminder.stopped_at is not None:
        db.session.rollback()
        return None
    number = len(earlier) + 1
    stop_url = bound().links.stop_reminders(reminder.stop_token)
    row = write_to_prospect(
        "draft_reminder",
        intake,
        # RFC 2369 and RFC 8058: mail clients offer a one-click "unsubscribe" that POSTs
        # "List-Unsubscribe=One-Click" to this link.
        headers={
            "List-Unsubscribe": f"<{stop_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        dedupe_key=f"draft_reminder:{intake.id}:{number}",
        number=number,
        last=number == REMINDERS_MAX,
        days=bound().settings.reminder_days,
        resume_url=bound().links.resume(intake.token),
        stop_url=stop_url,
    )
    try:
        db.session.commit()
    except IntegrityError:  # another worker wrote it first
        db.session.rollback()
        return None
    return row


def send_reminders(now: datetime | None = None) -> int:
    """Write every reminder due (``onboarding send-reminders`` and the worker's
    schedule); commits each; returns how many were written."""
    written = 0
    ids = reminders_due(bound().settings, now)
    db.session.rollback()
    for intake_id in ids:
        if remind(intake_id, now) is not None:
            written += 1
    return written


def reminder_by_stop_token(token: str) -> DraftReminder | None:
    """The reminders a stop link controls, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.execute(
        select(DraftReminder).where(DraftReminder.stop_token == token)
    ).scalar_one_or_none()


def stop_reminders(reminder: DraftReminder) -> bool:
    """Stop a draft's reminders (queued ones are cancelled); False if already stopped.
    The caller commits."""
    if reminder.stopped_at is not None:
        return False
    reminder.stopped_at = utcnow()
    cancel_reminders(reminder.intake, "Not sent: the prospect stopped reminders.")
    return True
