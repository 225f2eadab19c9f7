"""The staff's daily digest: the notices held for staff who chose one email a day
(``DIGEST_HOUR``), written to the outbox in one message each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import User, utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.services.notify.mail import DIGEST_ITEMS, MailSettings, bound, write


def digests_due(settings: MailSettings, now: datetime | None = None) -> list[int]:
    """Ids of the users with notices held for a digest, once ``DIGEST_HOUR`` (UTC) has
    passed today. A user who went back to single emails still gets what was held."""
    now = now or utcnow()
    if now.hour < settings.digest_hour:
        return []
    return list(
        db.session.execute(
            select(OutboxMessage.user_id)
            .where(OutboxMessage.status == "held", OutboxMessage.user_id.is_not(None))
            .distinct()
        ).scalars()
    )


def digest(user_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Write one user's digest of their held notices, at most one a day; commits. Two
    workers at once write it once (the day's key is unique; the held rows are locked)."""
    now = now or utcnow()
    begin_write(db.session())
    user = db.session.execute(select(User).where(User.id == user_id).with_for_update()).scalar()
    held = db.session.execute(
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.intake))
        .where(OutboxMessage.user_id == user_id, OutboxMessage.status == "held")
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(DIGEST_ITEMS)
        .with_for_update()
    ).scalars().all()  # fmt: skip
    if user is None or not held:
        db.session.rollback()
        return None
    if not user.active:  # a disabled account hears nothing more
        for row in held:
            row.status, row.last_answer = "cancelled", "Not sent: the account is disabled."
        db.session.commit()
        return None
    items = [
        {
            "subject": row.subject,
            "when": f"{row.created_at:%d %b %H:%M} UTC",
            "url": bound().links.workspace_intake(row.intake.public_id)
            if row.intake is not None
            else bound().settings.base_url + "/workspace",
        }
        for row in held
    ]
    sent = write(
        "digest",
        user.email,
        to_name=user.display_name,
        user=user,
        dedupe_key=f"digest:{user.id}:{now:%Y-%m-%d}",
        name=user.display_name.split()[0],
        items=items,
        account_url=bound().links.account(),
    )
    try:
        db.session.flush()
    except IntegrityError:  # today's digest is written: the rest waits for tomorrow's
        db.session.rollback()
        return None
    for row in held:
        row.status, row.digest_id = "digested", sent.id
        row.last_answer = f"Sent in the daily digest (message {sent.id})."
    db.session.commit()
    return sent


def send_digests(now: datetime | None = None) -> int:
    """Write every digest due (the worker's schedule); returns how many were written."""
    ids = digests_due(bound().settings, now)
    db.session.rollback()
    return sum(1 for user_id in ids if digest(user_id, now) is not None)
