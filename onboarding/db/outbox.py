"""The outbox: every outbound message, stored with the change that caused it and sent
after that change commits (:mod:`onboarding.integrations.outbox` sends them).

One row is one message to one recipient. ``channel`` says how it travels (``email``
today; webhook deliveries are meant to move here as ``webhook`` rows, their event name
as ``kind``, the endpoint as the recipient and the event's id as ``message_id``), so one
worker, one lease and one admin page serve every outbound message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onboarding.db import db
from onboarding.db.models import Intake, JSONType, User, UTCDateTime, new_token, utcnow

STATES = ("queued", "sending", "sent", "written", "failed", "cancelled", "held", "digested")
"""A message's states: ``queued`` (waiting, or waiting for its retry), ``sending`` (a
worker holds its lease), ``sent`` (the server accepted it), ``written`` (no mail server is
configured: kept here and logged, not sent), ``failed`` (refused for good, or out of
attempts), ``cancelled`` (no longer true before it went: a reminder to a prospect who
has since submitted), ``held`` (a staff notice waiting for its recipient's daily digest),
``digested`` (carried by that digest, ``digest_id``)."""
OPEN_STATES = ("queued", "sending")


class OutboxMessage(db.Model):
    """One outbound message, rendered when it was written: retries send the same bytes
    under the same ``message_id``, and admins read exactly what was (or would be) sent.

    ``locked_until`` is a worker's lease while it sends. ``dedupe_key`` (unique) keeps a
    message that must go once from being written twice (a receipt, the n-th reminder).
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default="email")
    kind: Mapped[str] = mapped_column(String(40))
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str | None] = mapped_column(String(200))
    from_address: Mapped[str] = mapped_column(String(400))
    reply_to: Mapped[str | None] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_code: Mapped[int | None]
    last_answer: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resent_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    # A staff notice held for its recipient's daily digest: the digest that carried it.
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL", name="fk_outbox_messages_digest_id")
    )

    intake: Mapped[Intake | None] = relationship()
    user: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_intake_kind", "intake_id", "kind"),
        Index("ix_outbox_messages_to_created", "to_address", "created_at"),
        Index("ix_outbox_messages_created", "created_at"),
    )


class DraftReminder(db.Model):
    """A draft's reminders: the unguessable token of its one-click stop link (it opens
    nothing else), and when the prospect stopped them."""

    __tablename__ = "draft_reminders"

    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), primary_key=True
    )
    stop_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intake: Mapped[Intake] = relationship()
