"""How engagements turned out: recorded by a manager in one click once the agreement is
signed, summarised for admins per band and per rule. Callers commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import EngagementOutcome, Intake, User, utcnow
from onboarding.domain.assessment import evaluate
from onboarding.domain.outcomes import OUTCOMES, record_of, summarise
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.intake.workspace import WorkspaceError, audit

RECORDABLE = ("signed",)
"""Statuses whose engagement can have an outcome: the agreement is signed by both."""


def can_record(intake: Intake) -> bool:
    """Whether an outcome can be recorded for this intake (its agreement is signed)."""
    return intake.status in RECORDABLE


def record_outcome(intake: Intake, user: User, outcome: str) -> EngagementOutcome:
    """Record (or change) how the engagement went; the audit trail keeps each choice."""
    if outcome not in OUTCOMES:
        raise WorkspaceError("outcome", "Choose how the engagement went from the four buttons")
    if not can_record(intake):
        raise WorkspaceError(
            "outcome",
            "An outcome can be recorded once the agreement is signed by both parties",
        )
    row = db.session.execute(
        select(EngagementOutcome).where(EngagementOutcome.intake_id == intake.id)
    ).scalar_one_or_none()
    before = row.outcome if row else None
    if row is None:
        row = EngagementOutcome(intake_id=intake.id, outcome=outcome)
        db.session.add(row)
    row.outcome, row.user_id, row.recorded_at = outcome, user.id, utcnow()
    audit(intake, user, "outcome", before, outcome)
    return row


def report(playbooks: PlaybookSet, batch: int = 500) -> dict[str, Any]:
    """Every recorded outcome against its engagement as ``playbooks`` assess it now (so a
    new or changed rule is judged on the engagements already past)."""
    questionnaire = get_questionnaire()
    titles = {f"{r.playbook}/{r.id}": r.id.replace("_", " ") for r in playbooks.rules}
    records = []
    skipped = 0
    last = 0
    while True:
        rows = db.session.execute(
            select(EngagementOutcome.id, EngagementOutcome.outcome, Intake.answers)
            .join(Intake, Intake.id == EngagementOutcome.intake_id)
            .where(EngagementOutcome.id > last)
            .order_by(EngagementOutcome.id)
            .limit(batch)
        ).all()  # fmt: skip
        if not rows:
            break
        for row in rows:
            clean, errors = questionnaire.validate(row.answers or {})
            if errors:
                skipped += 1
                continue
            result = evaluate(clean, playbooks, questionnaire)
            records.append(record_of(result, row.outcome))
        last = rows[-1].id
    summary = summarise(records, titles)
    summary["skipped"] = skipped
    return summary
