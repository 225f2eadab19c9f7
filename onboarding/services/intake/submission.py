"""Use cases between the database and the domain. Callers own the transaction (commit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onboarding.db import db
from onboarding.db.models import Assessment, Intake, utcnow
from onboarding.domain.assessment import evaluate
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import FieldError, get_questionnaire
from onboarding.services import kept, signals
from onboarding.services.profile import installation_profile


def create_intake(answers: dict[str, Any] | None = None) -> Intake:
    """A new draft intake (with optional pre-filled answers), added to the session."""
    intake = Intake(status="draft", answers={})
    if answers:
        intake.record_answers(answers)
    db.session.add(intake)
    return intake


def find_by_token(column, value: str, *, for_update: bool = False):
    """The row whose unique URL token ``column`` equals ``value``, or None.

    Anything longer than a token is refused before the query; ``for_update`` locks the
    row (call it inside a write transaction).
    """
    if not value or len(value) > 64:
        return None
    query = select(column.class_).where(column == value)
    if for_update:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


def intake_by_token(token: str, *, for_update: bool = False) -> Intake | None:
    """The intake a prospect's resume token opens, or None."""
    return find_by_token(Intake.token, token, for_update=for_update)


def resume_lapsed(intake: Intake, days: int, now: datetime | None = None) -> bool:
    """Whether ``intake``'s private link has lapsed: nothing saved for ``days`` days
    (``RESUME_DAYS``, 90 by default like the draft purge). A lapsed draft is not lost
    until the purge: the prospect asks the agency for a new start."""
    return (now or utcnow()) - intake.updated_at > timedelta(days=days)


def save_step(
    intake: Intake,
    section_id: str,
    submitted: dict[str, Any],
) -> list[FieldError]:
    """Store the valid answers of one step; return the errors of the others.

    Invalid values are not stored (the previous answer, if any, stays); answers to
    questions hidden by ``show_if`` are stored as unanswered. Announces
    ``intake_saved`` (a draft that now has an address it was never sent its link at
    gets its private link by email, sent after the caller commits).
    """
    errors = keep_answers(intake, section_id, submitted)
    intake.current_step = section_id
    return errors


def keep_answers(
    intake: Intake,
    section_id: str,
    submitted: dict[str, Any],
) -> list[FieldError]:
    """Store the valid answers of one step as they are given (the step's autosave, and
    :func:`save_step`), without moving the draft on; keep what did not pass its checks
    as typed (services.kept), so it comes back with its message when the step opens
    (:func:`step_draft`). Announces ``intake_saved``; returns the errors."""
    values, errors = get_questionnaire().validate_step(
        section_id, intake.answers or {}, submitted, form=True
    )
    intake.record_answers(values)
    if intake.id is None:
        db.session.flush()
    kept.keep_invalid(intake, section_id, submitted, {e.question for e in errors})
    signals.announce(signals.intake_saved, intake)
    return errors


def step_draft(intake: Intake, section_id: str) -> tuple[dict[str, Any], list[FieldError]]:
    """What a step shows when it opens: the stored answers with, over them, the ones
    kept as typed because they did not pass their checks, and those checks' errors
    (an address without an "@" typed earlier comes back with its message)."""
    answers = dict(intake.answers or {})
    raw = kept.invalid_kept(intake, section_id)
    if not raw:
        return answers, []
    questionnaire = get_questionnaire()
    merged = {**answers, **raw}
    _, errors = questionnaire.validate_step(section_id, answers, merged, form=True)
    errors = [e for e in errors if e.question in raw]
    return merged, questionnaire.form_errors(errors, merged)


def submit_intake(
    intake: Intake,
    *,
    playbooks: PlaybookSet,
    form: bool = False,
    email: bool = True,
) -> tuple[Assessment | None, list[FieldError]]:
    """Validate the whole set, assess it with ``playbooks`` (the app's) and mark the
    intake submitted; announces ``intake_submitted`` (the webhook event, and, unless
    ``email`` is False (the demo data), the prospect's receipt and the staff's notice,
    written to the outbox and sent after the caller commits).

    Idempotent: an intake already submitted returns its assessment unchanged, so a
    double click or a second tab stores one assessment. Lock the intake first
    (``intake_by_token(..., for_update=True)`` inside a write transaction). ``form``: the
    web form's submit, which also requires the questions it asks (``form_required``).
    """
    if intake.status != "draft":
        return intake.assessment, []
    questionnaire = get_questionnaire()
    clean, errors = questionnaire.validate(intake.answers or {}, form=form)
    if errors:
        return None, errors
    result = evaluate(clean, playbooks, questionnaire, installation_profile().profile)
    assessment = record_assessment(intake, result)
    intake.answers = {k: v for k, v in clean.items() if v is not None}
    intake.status = "new"
    intake.submitted_at = utcnow()
    kept.forget_intake(intake)  # what was kept as typed on its steps is moot now
    apply_assessment(intake, result)
    signals.announce(signals.intake_submitted, intake, email=email)
    return assessment, []


def record_assessment(intake: Intake, result: dict[str, Any]) -> Assessment:
    """Store an assessment of the intake and make it the one the dashboard lists."""
    assessment = Assessment(
        intake=intake,
        playbook_version=result["playbook_version"],
        result=result,
        score=result["score"],
        band=result["band"],
    )
    db.session.add(assessment)
    apply_assessment(intake, result)
    signals.announce(signals.intake_assessed, intake)  # its agreement is rendered anew
    return assessment


def apply_assessment(intake: Intake, result: dict[str, Any]) -> None:
    """Copy the figures the dashboard lists from an assessment onto its intake."""
    intake.score = result["score"]
    intake.band = result["band"]  # capped by a concentrated risk (v1.1): never from the score
    intake.band_note = result.get("band_note")
    intake.recommendation = result["recommendation"]
    risks = result["risks"]
    # The highest risk; a tie goes to the cause listed first in the contract.
    intake.top_risk = max(risks, key=risks.__getitem__) if risks else None


def submit_by_token(
    token: str,
    *,
    playbooks: PlaybookSet,
    form: bool = False,
) -> tuple[Intake | None, list[FieldError]]:
    """Submit the intake of ``token`` once (assessed with ``playbooks``), safely under
    concurrent submits; commits.

    Returns ``(intake, errors)``; ``intake`` is None for an unknown token.
    """
    intake = intake_by_token(token, for_update=True)
    if intake is None:
        return None, []
    _, errors = submit_intake(intake, playbooks=playbooks, form=form)
    if errors:
        db.session.rollback()
        return intake, errors
    try:
        db.session.commit()
    except IntegrityError:  # another request assessed it first: theirs stands
        db.session.rollback()
        intake = intake_by_token(token)
    return intake, []
