"""The project's use cases: each records one entry and announces it. Callers commit.

Every refusal is a :class:`~onboarding.services.intake.workspace.WorkspaceError` naming
its fields (all of them at once), and nothing is recorded.
"""

from __future__ import annotations

from typing import Any

from onboarding.db import db
from onboarding.db.models import Project, ProjectEntry, User, utcnow
from onboarding.domain import project as plans
from onboarding.services import signals
from onboarding.services.intake.workspace import WorkspaceError, audit
from onboarding.services.project.state import plan_of, view

LIMIT = 4000  # characters of one field
DECISION_BY = ("agency", "client")


def _text(value: Any, field: str, errors: dict[str, str], *, required: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[field] = required
    elif len(text) > LIMIT:
        errors[field] = f"Please keep it under {LIMIT:,} characters"
    return text


def _record(project: Project, kind: str, author: str, user: User | None, data: dict[str, Any]):
    entry = ProjectEntry(
        project=project, kind=kind, author=author, user=user, data=data, created_at=utcnow()
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def post_update(
    project: Project,
    user: User | None,
    *,
    done: str,
    next_up: str,
    needs: str = "",
    decisions: list[dict[str, Any]] | None = None,
) -> ProjectEntry:
    """The manager's update: what is done, what comes next, what we need from the
    client, and the decisions taken (each ``{"text", "area", "by"}``; ``area`` one of
    the agreement's decision table, or empty). Announces ``project_update_posted``."""
    errors: dict[str, str] = {}
    data = {
        "done": _text(done, "done", errors, required="Say what is done since the last update"),
        "next": _text(next_up, "next", errors, required="Say what comes next"),
        "needs": _text(needs, "needs", errors),
        "decisions": [],
    }
    areas = {str(r.get("area")) for r in (project.version.content or {}).get("decisions") or ()}
    for i, item in enumerate(decisions or ()):
        text = _text(item.get("text"), f"decisions[{i}].text", errors)
        if not text:
            continue
        area = str(item.get("area") or "")
        if area and area not in areas:
            errors[f"decisions[{i}].area"] = "Choose an area of the agreement's decision table"
        by = str(item.get("by") or "agency")
        if by not in DECISION_BY:
            errors[f"decisions[{i}].by"] = "Say who decided: the agency or the client"
        data["decisions"].append({"text": text, "area": area, "by": by})
    if errors:
        raise WorkspaceError(next(iter(errors)), next(iter(errors.values())), errors)
    entry = _record(project, "update", "manager", user, data)
    project.link_renewed_at = utcnow()  # the email carries the link again
    audit(project.intake, user, "project_update", detail=data["done"][:200])
    signals.announce(signals.project_update_posted, project.intake, project=project, entry=entry)
    return entry


def change_milestone(
    project: Project,
    user: User | None,
    milestone_id: str,
    *,
    state: str | None = None,
    due: Any = None,
    reason: str = "",
) -> ProjectEntry:
    """Set a milestone's state, or move it (a new date and the reason the client
    reads beside both dates). A move announces ``project_milestone_moved``."""
    plan = plan_of(project)
    try:
        change = plans.check_change(plan, milestone_id, state=state, due=due, reason=reason)
    except plans.PlanError as exc:
        raise WorkspaceError(exc.field, exc.message) from None
    entry = _record(project, "milestone", "manager", user, change)
    audit(project.intake, user, "project_milestone", detail=str(change)[:300])
    if "due" in change:
        signals.announce(
            signals.project_milestone_moved, project.intake, project=project, entry=entry
        )
    return entry


def request_signoff(
    project: Project, user: User | None, milestone_id: str, note: str = ""
) -> ProjectEntry:
    """Ask the client to sign off a milestone; refused while one for it is open."""
    current = view(project)
    errors: dict[str, str] = {}
    try:
        milestone = current.plan.milestone(milestone_id)
    except plans.PlanError as exc:
        raise WorkspaceError("milestone", exc.message) from None
    text = _text(note, "note", errors)
    if any(s.milestone.id == milestone.id for s in current.open_signoffs):
        errors["milestone"] = f"{milestone.name} is already waiting for the client's answer"
    if errors:
        raise WorkspaceError(next(iter(errors)), next(iter(errors.values())), errors)
    entry = _record(project, "signoff", "manager", user, {"milestone": milestone.id, "note": text})
    audit(project.intake, user, "project_signoff_requested", detail=milestone.name)
    signals.announce(
        signals.project_signoff_requested, project.intake, project=project, entry=entry
    )
    return entry


def answer_signoff(
    project: Project,
    request_id: int,
    *,
    decision: str,
    comment: str = "",
    extra_round: bool = False,
) -> ProjectEntry:
    """The client approves a milestone or asks for a revision (a comment saying what).
    A revision beyond the rounds included must be taken as the priced extra round
    (``extra_round``) or asked for as a change: never taken silently."""
    current = view(project)
    signoff = next((s for s in current.signoffs if s.request.id == request_id), None)
    if signoff is None or current.signoff_state(signoff) != "waiting":
        raise WorkspaceError("decision", "This sign-off has been answered or has lapsed")
    errors: dict[str, str] = {}
    if decision not in ("approved", "revision"):
        errors["decision"] = "Choose: approve it, or ask for a revision"
    text = _text(
        comment,
        "comment",
        errors,
        required="Say what you would like revised" if decision == "revision" else "",
    )
    beyond = current.rounds[signoff.milestone.id].beyond
    if decision == "revision" and beyond and not extra_round:
        priced = current.extra_round
        errors["extra_round"] = (
            f"The revision rounds included are used: tick to take another at {priced.price}"
            if priced
            else "The revision rounds included are used: ask your account manager for a "
            "change request"
        )
    if decision == "revision" and beyond and extra_round and current.extra_round is None:
        errors["extra_round"] = "No extra round is offered: ask for a change request instead"
    if errors:
        raise WorkspaceError(next(iter(errors)), next(iter(errors.values())), errors)
    data: dict[str, Any] = {
        "request": signoff.request.id,
        "milestone": signoff.milestone.id,
        "decision": decision,
        "comment": text,
    }
    if decision == "revision" and beyond:
        data["extra_round"] = current.extra_round.price if current.extra_round else ""
    entry = _record(project, "answer", "client", None, data)
    audit(
        project.intake, None, "project_signed_off", detail=f"{signoff.milestone.name}: {decision}"
    )
    signals.announce(signals.project_signed_off, project.intake, project=project, entry=entry)
    return entry
