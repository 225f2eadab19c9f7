"""Which intakes need the manager's attention: the prospect asked (a change request or a
message) and has had no answer yet, and the intake is not closed."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from onboarding.db.models import AgreementMessage, AgreementVersion, Intake

CLOSED_STATUSES = ("declined", "walked_away")
"""Statuses that close an intake: nothing there awaits an answer."""


def awaiting_answer() -> Select[tuple[int]]:
    """The ids of intakes whose thread ends with the prospect: their latest message
    is the prospect's, and no version was sent after it (a reply or a new version
    answers it). One row per such intake."""
    asked = aliased(AgreementMessage, name="asked")
    later = aliased(AgreementMessage, name="later")
    return select(asked.intake_id).where(
        asked.author == "prospect",
        ~exists().where(later.intake_id == asked.intake_id, later.id > asked.id),
        ~exists().where(
            AgreementVersion.intake_id == asked.intake_id,
            AgreementVersion.sent_at > asked.created_at,
        ),
    )


def attention_condition() -> ColumnElement[bool]:
    """An intake needs the manager's attention: the prospect asked (a change request
    or a message) and has had no answer yet, a reply or a new version, and the intake
    is not closed (declined or walked away)."""
    return and_(Intake.id.in_(awaiting_answer()), Intake.status.not_in(CLOSED_STATUSES))


def attention_count(session: Session) -> int:
    """How many intakes need the manager's attention: one query, walking the
    prospects' messages (few) rather than the intakes (many)."""
    query = select(func.count()).select_from(Intake).where(attention_condition())
    return int(session.execute(query).scalar_one())
