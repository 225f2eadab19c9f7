"""What the Outbox page lists and does: the messages by status and kind, their counts,
one message, and a message sent again."""

from __future__ import annotations

from email.utils import make_msgid

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from onboarding.db import db
from onboarding.db.models import utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.integrations import outbox


def messages(
    status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """The newest messages, optionally of one state or kind."""
    query = (
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.intake))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.execute(query).scalars())


def counts() -> dict[str, int]:
    """How many messages are in each state."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    )
    return {status: n for status, n in rows}


def message(message_id: int) -> OutboxMessage | None:
    return db.session.get(OutboxMessage, message_id)


def resend(row: OutboxMessage) -> OutboxMessage:
    """Send a message again: a copy, queued now, under a new ``Message-ID`` (mail
    services drop a message whose id they have seen, and this one may have been), with
    the original's text, HTML and headers. The caller commits."""
    domain = row.message_id.strip("<>").rpartition("@")[2] or "localhost"
    copy = OutboxMessage(
        channel=row.channel,
        kind=row.kind,
        intake_id=row.intake_id,
        user_id=row.user_id,
        to_address=row.to_address,
        to_name=row.to_name,
        from_address=row.from_address,
        reply_to=row.reply_to,
        subject=row.subject,
        text=row.text,
        html=row.html,
        headers=dict(row.headers or {}),
        attachment=row.attachment,
        attachment_name=row.attachment_name,
        message_id=make_msgid(domain=domain),
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
        resent_from_id=row.id,
    )
    db.session.add(copy)
    outbox.track([copy])
    return copy
