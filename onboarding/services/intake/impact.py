"""What a playbook change does to the intakes an installation holds, before it lands.

Every submitted intake is read in batches by id (keyset; constant memory, whatever the
number of intakes) and assessed again; :class:`onboarding.domain.impact.Impact` counts
what changes. Nothing is written.

- :func:`compare_playbooks`: the stored answers under two playbook sets (``onboarding
  playbooks impact DIR``: the loaded ones against a changed copy).
- :func:`pending_reassessment`: each intake's latest stored assessment against the
  playbooks the app has loaded, for the intakes ``reassess --all`` would change (the
  workspace's re-assess page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Assessment, Intake
from onboarding.domain.assessment import evaluate
from onboarding.domain.impact import Change, Impact
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.profile import installation_profile

BATCH = 500


def label_of(row: Any) -> str:
    """How a manager recognises an intake: company, then contact."""
    parts = [p for p in (row.company, row.contact_name) if p]
    return " — ".join(parts) or "Unnamed prospect"


def submitted(batch: int = BATCH) -> Iterator[list[Any]]:
    """Every submitted intake (id, public id, names, answers), a batch at a time."""
    last = 0
    while True:
        rows = db.session.execute(
            select(Intake.id, Intake.public_id, Intake.company, Intake.contact_name,
                   Intake.answers)
            .where(Intake.status != "draft", Intake.id > last)
            .order_by(Intake.id)
            .limit(batch)
        ).all()  # fmt: skip
        if not rows:
            return
        yield rows
        last = rows[-1].id


def compare_playbooks(
    current: PlaybookSet,
    candidate: PlaybookSet,
    *,
    batch: int = BATCH,
    on_change: Callable[[Change], None] | None = None,
) -> Impact:
    """Every submitted intake's stored answers assessed under ``current`` and under
    ``candidate``; ``on_change`` hears each intake whose band changes, as it is found."""
    questionnaire = get_questionnaire()
    profile = installation_profile().profile
    impact = Impact()
    for rows in submitted(batch):
        for row in rows:
            clean, errors = questionnaire.validate(row.answers or {})
            if errors:
                impact.skip(row.public_id, "; ".join(f"{e.question}: {e.message}" for e in errors))
                continue
            before = evaluate(clean, current, questionnaire, profile)
            after = evaluate(clean, candidate, questionnaire, profile)
            change = impact.add(row.public_id, label_of(row), before, after)
            if change is not None and on_change is not None:
                on_change(change)
        db.session.rollback()  # end the read transaction between batches
    return impact


def _latest(ids: list[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    """The latest assessment (playbook version, result) of each of ``ids``."""
    rows = db.session.execute(
        select(Assessment.intake_id, Assessment.playbook_version, Assessment.result)
        .where(Assessment.intake_id.in_(ids))
        .order_by(Assessment.intake_id, Assessment.id)
    ).all()  # fmt: skip
    return {r.intake_id: (r.playbook_version, r.result) for r in rows}  # the last one wins


def pending_reassessment(playbooks: PlaybookSet, *, batch: int = BATCH) -> tuple[Impact, int]:
    """The intakes ``reassess --all`` would change: each one's latest assessment against
    ``playbooks``. Returns the report and how many intakes are already up to date."""
    questionnaire = get_questionnaire()
    profile = installation_profile().profile
    impact = Impact()
    current = 0
    for rows in submitted(batch):
        latest = _latest([r.id for r in rows])
        for row in rows:
            if row.id not in latest:
                continue
            version, before = latest[row.id]
            if version == playbooks.version:
                current += 1
                continue
            clean, errors = questionnaire.validate(row.answers or {})
            if errors:
                impact.skip(row.public_id, "; ".join(f"{e.question}: {e.message}" for e in errors))
                continue
            after = evaluate(clean, playbooks, questionnaire, profile)
            impact.add(row.public_id, label_of(row), before, after)
        db.session.rollback()
    return impact, current
