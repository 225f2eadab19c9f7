"""The polite decline, as the manager reviewed and edited it: written to the prospect
in the caller's transaction, replying to the manager."""

from __future__ import annotations

import re
from email.utils import formataddr

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake, User, utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.domain.workflow import TRANSITIONS
from onboarding.services.intake.workspace import change_status
from onboarding.services.notify.mail import JUST_SENT, wrap_text, write

MAX_LETTER = 10000


def decline_sent(intake: Intake) -> OutboxMessage | None:
    """The latest decline written for ``intake``, or None."""
    return db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.intake_id == intake.id, OutboxMessage.kind == "decline")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def send_decline(intake: Intake, user: User, letter: str) -> OutboxMessage:
    """Write the decline ``letter`` (the text as the manager reviewed it) to the
    prospect, replying to ``user``; the caller records it and commits. Raises
    ValueError (a sentence to show) with no address or no letter; the same letter
    a moment after the last (a double click) is not written twice. Sending it declines
    the intake (its status becomes ``declined``, recorded in its history), unless it
    is already closed."""
    letter = (letter or "").replace("\r\n", "\n").strip()
    if not intake.contact_email:
        raise ValueError("The prospect gave no email address: copy the letter instead.")
    if not letter:
        raise ValueError("Write the letter before sending it.")
    if len(letter) > MAX_LETTER:
        raise ValueError(f"The letter is too long (at most {MAX_LETTER} characters).")
    last = decline_sent(intake)
    just_now = utcnow() - JUST_SENT
    if last is not None and last.created_at >= just_now and last.text == wrap_text(letter):
        return last
    row = write(
        "decline",
        intake.contact_email,
        to_name=intake.contact_name,
        intake=intake,
        reply_to=formataddr((user.display_name, user.email)),
        company=intake.company,
        letter=letter,
        paragraphs=[p.split("\n") for p in re.split(r"\n\s*\n", letter)],
    )
    if "declined" in TRANSITIONS.get(intake.status, ()):  # the letter's send is the decision
        change_status(intake, "declined", user, detail="the decline letter was emailed")
    return row
