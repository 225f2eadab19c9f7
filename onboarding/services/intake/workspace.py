"""Account managers' use cases on intakes: status, overrides, notes, checklist, invites,
re-assessment. Every change is recorded in the audit trail. Callers commit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import (
    ActionCheck,
    Assessment,
    AuditEvent,
    Intake,
    Invite,
    Note,
    User,
    utcnow,
)
from onboarding.domain.assessment import evaluate
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.text import control_problem
from onboarding.domain.workflow import (
    RECOMMENDATIONS,
    SET_BY_ACTION,
    STATUS_LABELS,
    TRANSITIONS,
    TransitionError,
    check_transition,
)
from onboarding.services import signals
from onboarding.services.intake.submission import create_intake, find_by_token, record_assessment
from onboarding.services.profile import installation_profile

MAX_NOTE = 5000
MAX_REASON = 1000


class WorkspaceError(ValueError):
    """A change refused, with the form field it concerns and a sentence."""

    def __init__(self, field: str, message: str, errors: dict[str, str] | None = None):
        self.field = field
        self.errors = errors or {field: message}
        super().__init__(message)


def required_text(value: str | None, field: str, missing: str, limit: int) -> str:
    """Trimmed free text; WorkspaceError naming ``field`` when empty or too long."""
    text = (value or "").strip()
    if not text:
        raise WorkspaceError(field, missing)
    if len(text) > limit:
        raise WorkspaceError(field, f"Please keep it under {limit:,} characters")
    problem = control_problem(text, multiline=True)
    if problem:
        raise WorkspaceError(field, f"The text {problem}")
    return text


def audit(
    intake: Intake | None, user: User | None, kind: str, before=None, after=None, detail=None
):
    """Record one event of the audit trail."""
    db.session.add(
        AuditEvent(
            intake_id=intake.id if intake else None,
            user_id=user.id if user else None,
            kind=kind,
            from_value=None if before is None else str(before)[:200],
            to_value=None if after is None else str(after)[:200],
            detail=detail,
        )
    )


def intake_by_public_id(public_id: str) -> Intake | None:
    """The intake with this public id (what workspace URLs carry), or None."""
    return find_by_token(Intake.public_id, public_id)


def next_statuses(status: str) -> list[str]:
    """The statuses a person may move an intake to from ``status`` (the workspace's
    choices; agreement sent and accepted are reached by actions, never picked)."""
    return [s for s in TRANSITIONS.get(status, ()) if s not in SET_BY_ACTION]


def change_status(
    intake: Intake,
    target: str,
    user: User | None,
    *,
    by_hand: bool = False,
    detail: str | None = None,
) -> None:
    """Move an intake along the workflow: check the move, record it in the audit trail
    (with ``detail``, if given) and fire ``intake.status_changed``. Callers commit.

    ``by_hand``: the status was picked by a person (the workspace's status form, the
    API's PATCH), who may not pick a status reached by an action (sending the
    agreement, the prospect accepting it). ``user`` is None for the API and the
    prospect. Raises WorkspaceError (field ``status``) for a move not allowed.
    """
    if by_hand and target in SET_BY_ACTION:
        raise WorkspaceError(
            "status",
            f"{STATUS_LABELS[target]} is reached by sending the agreement or by the prospect "
            "accepting it, never set by hand: send the agreement (or let the prospect "
            "accept it) to reach that status",
        )
    try:
        check_transition(intake.status, target)
    except TransitionError as exc:
        message = str(exc)
        if by_hand and target in STATUS_LABELS:
            allowed = ", ".join(STATUS_LABELS[s].lower() for s in next_statuses(intake.status))
            message = (
                f"An intake that is {STATUS_LABELS[intake.status].lower()} cannot move to "
                f"{STATUS_LABELS[target].lower()} (allowed: {allowed or 'none'})"
            )
        raise WorkspaceError("status", message) from None
    before = intake.status
    audit(intake, user, "status", before, target, detail)
    intake.status = target
    signals.announce(signals.status_changed, intake, previous_status=before)


BANDS = ("strong", "guarded", "poor")


def set_override(
    intake: Intake,
    user: User,
    score: Any,
    recommendation: str | None,
    reason: str,
    band: str | None = None,
) -> None:
    """Record a manager's own score, band and/or recommendation beside the computed ones
    (the band is the manager's own choice, never derived from their score)."""
    reason = required_text(reason, "reason", "Give a reason for the override", MAX_REASON)
    value: int | None = None
    if score not in (None, ""):
        text = str(score).strip()
        try:
            if not text.isascii():  # int() reads "８０" too: only the digits people type
                raise ValueError(text)
            value = int(text)
        except ValueError:
            raise WorkspaceError(
                "score", "The score must be a whole number from 0 to 100"
            ) from None
        if not 0 <= value <= 100:
            raise WorkspaceError("score", "The score must be a whole number from 0 to 100")
    if recommendation in ("", None):
        recommendation = None
    elif recommendation not in RECOMMENDATIONS:
        raise WorkspaceError("recommendation", "Choose a recommendation from the list")
    if band in ("", None):
        band = None
    elif band not in BANDS:
        raise WorkspaceError("band", "Choose a band from the list: strong, guarded or poor")
    if value is None and recommendation is None and band is None:
        raise WorkspaceError("score", "Give a score, a band, a recommendation, or any of them")
    before = (
        f"score {intake.override_score}, {intake.override_band}, {intake.override_recommendation}"
    )
    intake.override_score = value
    intake.override_band = band
    intake.override_recommendation = recommendation
    intake.override_reason = reason
    intake.override_by_id = user.id
    intake.override_at = utcnow()
    audit(intake, user, "override", before, f"score {value}, {band}, {recommendation}", reason)


def clear_override(intake: Intake, user: User) -> None:
    """Go back to the computed score and recommendation."""
    if intake.override_reason is None:
        return
    audit(intake, user, "override_cleared", intake.override_score, None)
    intake.override_score = intake.override_recommendation = intake.override_reason = None
    intake.override_band = None
    intake.override_by_id = intake.override_at = None


def add_note(intake: Intake, user: User, text: str) -> Note:
    """Attach a note to an intake."""
    text = required_text(text, "note", "Write the note before saving it", MAX_NOTE)
    note = Note(intake_id=intake.id, user_id=user.id, text=text)
    db.session.add(note)
    audit(intake, user, "note", None, text[:80])
    return note


def set_action(intake: Intake, user: User, action_id: str, done: bool) -> None:
    """Tick or untick one recommended action of the latest assessment."""
    assessment = intake.assessment
    known = {a["id"] for a in assessment.result["actions"]} if assessment else set()
    if action_id not in known:
        raise WorkspaceError("action", "That action is not in this intake's checklist")
    check = db.session.execute(
        select(ActionCheck).where(
            ActionCheck.intake_id == intake.id, ActionCheck.action_id == action_id
        )
    ).scalar_one_or_none()
    if check is None:
        check = ActionCheck(intake_id=intake.id, action_id=action_id)
        db.session.add(check)
    check.done, check.user_id, check.at = done, user.id, utcnow()
    audit(intake, user, "action", None, f"{action_id}: {'done' if done else 'not done'}")


def checks_of(intake: Intake) -> dict[str, ActionCheck]:
    """The checklist state of an intake, by action id."""
    rows = db.session.execute(select(ActionCheck).where(ActionCheck.intake_id == intake.id))
    return {c.action_id: c for c in rows.scalars()}


def reassess(
    intake: Intake, user: User | None = None, *, playbooks: PlaybookSet
) -> Assessment | None:
    """Assess a submitted intake again with ``playbooks`` (the app's current ones).

    Returns the new assessment, or None when the playbooks have not changed since the
    latest one (the old assessments are kept, so the change can be shown).
    """
    if intake.status == "draft" or intake.assessment is None:
        return None
    if intake.assessment.playbook_version == playbooks.version:
        return None
    questionnaire = get_questionnaire()
    clean, errors = questionnaire.validate(intake.answers)
    if errors:  # answers valid under the old questionnaire but not the new one
        raise WorkspaceError("answers", "; ".join(f"{e.question}: {e.message}" for e in errors))
    result = evaluate(clean, playbooks, questionnaire, installation_profile().profile)
    old = intake.assessment
    new = record_assessment(intake, result)
    audit(intake, user, "reassessed", old.score, result["score"], playbooks.version[:12])
    return new


def reassess_all(*, playbooks: PlaybookSet, batch: int = 500) -> tuple[int, int]:
    """Re-assess every submitted intake whose assessment is not of ``playbooks``; commits.

    Returns ``(checked, changed)``.
    """
    checked = changed = 0
    last_id = 0
    while True:
        intakes = db.session.execute(
            select(Intake)
            .where(Intake.status != "draft", Intake.id > last_id)
            .order_by(Intake.id)
            .limit(batch)
        ).scalars().all()  # fmt: skip
        if not intakes:
            return checked, changed
        for intake in intakes:
            checked += 1
            changed += reassess(intake, playbooks=playbooks) is not None
            last_id = intake.id
        db.session.commit()


# --- invites -------------------------------------------------------------------------


INVITE_NOUNS = {
    "name": "the prospect's name",
    "email": "the prospect's email address",
    "company": "the prospect's company",
}


def create_invite(
    manager: User, name: str, email: str, company: str | None, note: str | None, days: int
) -> Invite:
    """A new invite link for a prospect, valid for ``days``; announces
    ``invite_created`` (the prospect's email with the link, written to the outbox)."""
    questionnaire = get_questionnaire()
    errors = []
    for field, qid, value in (("name", "contact_name", name), ("email", "contact_email", email),
                              ("company", "company", company)):  # fmt: skip
        try:
            cleaned = questionnaire.clean_value(qid, value or None)
        except ValueError:  # in plain words, as an instruction (no library text)
            question = replace(questionnaire.questions[qid], name=INVITE_NOUNS[field])
            errors.append(WorkspaceError(field, question.instruction(value)))
            continue
        if field in ("name", "email") and not cleaned:
            errors.append(WorkspaceError(field, f"Enter {INVITE_NOUNS[field]}"))
    if note and len(note) > MAX_NOTE:
        errors.append(WorkspaceError("note", f"The note must be {MAX_NOTE:,} characters or fewer"))
    if errors:
        raise WorkspaceError(errors[0].field, str(errors[0]), {e.field: str(e) for e in errors})
    invite = Invite(
        manager_id=manager.id,
        name=name.strip(),
        email=questionnaire.clean_value("contact_email", email),
        company=(company or "").strip() or None,
        note=(note or "").strip() or None,
        expires_at=utcnow() + timedelta(days=days),
    )
    invite.manager = manager
    db.session.add(invite)
    signals.announce(signals.invite_created, None, invite=invite)
    return invite


def invite_by_token(token: str) -> Invite | None:
    """The invite a prospect's invite link opens, or None."""
    return find_by_token(Invite.token, token)


def start_from_invite(invite: Invite) -> Intake:
    """The intake an invite opens: the existing one, or a new draft owned by its manager."""
    existing = db.session.execute(
        select(Intake).where(Intake.invite_id == invite.id).order_by(Intake.id)
    ).scalars().first()  # fmt: skip
    if existing is not None:
        return existing
    prefill: dict[str, Any] = {"contact_name": invite.name, "contact_email": invite.email}
    if invite.company:
        prefill["company"] = invite.company
    intake = create_intake(prefill)
    intake.owner_id = invite.manager_id
    intake.invite_id = invite.id
    return intake


def revoke_invite(invite: Invite, user: User) -> None:
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        audit(None, user, "invite_revoked", f"invite {invite.id}", None)  # no personal data


def assign_owner(intake: Intake, owner: User | None, user: User) -> None:
    """Give an intake to a manager (or to nobody)."""
    before = intake.owner.email if intake.owner else None
    intake.owner_id = owner.id if owner else None
    audit(intake, user, "owner", before, owner.email if owner else None)
