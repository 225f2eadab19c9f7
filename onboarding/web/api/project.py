"""The JSON API's project operations (issue 30): the plan with states and dates, the
updates, the sign-offs and rounds; post an update; change or move a milestone.

404 until the intake's agreement is signed by both parties. Declared and answered as the
other operations are (:mod:`onboarding.web.api.base`).
"""

from __future__ import annotations

from typing import Any

from flask import g

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Project
from onboarding.services.intake import workspace
from onboarding.services.intake.workspace import WorkspaceError
from onboarding.services.project import actions, state
from onboarding.services.summaries import iso
from onboarding.web.api.agreement import token_user
from onboarding.web.api.base import (
    INTAKES_TAG,
    ApiError,
    as_json,
    bp,
    fail,
    json_body,
    limited,
    load,
    operation,
    parse,
)
from onboarding.web.api.document import JSON_BODY_ERRORS
from onboarding.web.api.project_schema import MilestonePatch, ProjectOut, UpdateIn


def _project(public_id: str) -> Project:
    found = state.project_of(load(public_id), create=False)
    if found is None:
        raise fail(404, "public_id", "This intake has no project: its agreement is not signed")
    return found


def _out(project: Project) -> dict[str, Any]:
    view = state.view(project)
    risky = {m.id for m in view.plan.at_risk()}
    return {
        "start": view.plan.start.isoformat(),
        "fixed_date": view.plan.fixed_date.isoformat() if view.plan.fixed_date else None,
        "cadence": view.plan.cadence,
        "next_update_due": view.next_update_due.isoformat() if view.next_update_due else None,
        "update_overdue": view.update_overdue,
        "acceptance_days": view.plan.acceptance_days,
        "milestones": [
            {
                "id": m.id,
                "name": m.name,
                "deliverable": m.deliverable,
                "agreed_start": m.agreed_start.isoformat(),
                "agreed_date": m.agreed_end.isoformat(),
                "due": m.end.isoformat(),
                "moved": m.moved,
                "reason": m.reason,
                "state": m.state,
                "at_risk": m.id in risky,
            }
            for m in view.plan.milestones
        ],
        "updates": [
            {
                "id": u.entry.id,
                "posted_at": iso(u.entry.created_at),
                "done": u.done,
                "next": u.next,
                "needs": u.needs,
                "decisions": [
                    {
                        "text": d.text,
                        "area": d.area,
                        "by": d.by,
                        "at": iso(d.at),
                        "outside_table": d.outside_table,
                    }
                    for d in u.decisions
                ],
            }
            for u in view.updates
        ],
        "signoffs": [
            {
                "id": s.request.id,
                "milestone": s.milestone.id,
                "requested_at": iso(s.request.created_at),
                "note": s.note,
                "state": view.signoff_state(s),
                "accepted_on": s.accepted_on.isoformat(),
                "comment": str(s.answer.data.get("comment", "")) if s.answer else "",
                "extra_round": str(s.answer.data.get("extra_round", "")) if s.answer else "",
            }
            for s in view.signoffs
        ],
        "rounds": [
            {"milestone": mid, "included": r.included, "used": r.used}
            for mid, r in view.rounds.items()
        ],
    }


def _refused(exc: WorkspaceError) -> ApiError:
    return ApiError(422, [{"field": f, "message": m} for f, m in exc.errors.items()])


@bp.get("/intakes/<public_id>/project")
@operation(
    "getProject", INTAKES_TAG, {200: (ProjectOut, "The project and where it stands.")},
    errors=(401, 404, 429),
)  # fmt: skip
@limited
def get_project(public_id: str):
    """The project after the signature

    The plan the countersigned agreement set, with each milestone's agreed and current
    date and state, the updates posted, the sign-offs with their review windows, and the
    revision rounds used. 404 until the agreement is signed by both parties.
    """
    return as_json(_out(_project(public_id)))


@bp.post("/intakes/<public_id>/project/updates")
@operation(
    "postProjectUpdate", INTAKES_TAG, {201: (ProjectOut, "The project with the update.")},
    errors=(*JSON_BODY_ERRORS, 404), body=UpdateIn,
)  # fmt: skip
@limited
def post_update(public_id: str):
    """Post a project update

    What is done, what comes next, what the agency needs from the client, and the
    decisions taken; the client is emailed it and the `project.update_posted` webhook
    fires.
    """
    body = parse(UpdateIn, json_body())
    begin_write(db.session())
    project = _project(public_id)
    try:
        actions.post_update(
            project, token_user(), done=body.done, next_up=body.next, needs=body.needs,
            decisions=[d.model_dump() for d in body.decisions],
        )  # fmt: skip
    except WorkspaceError as exc:
        raise _refused(exc) from None
    workspace.audit(project.intake, None, "api", None, f"update by API token “{g.api_token.name}”")
    db.session.commit()
    return as_json(_out(project), 201)


@bp.patch("/intakes/<public_id>/project/milestones/<milestone_id>")
@operation(
    "patchProjectMilestone", INTAKES_TAG, {200: (ProjectOut, "The project with the change.")},
    errors=(*JSON_BODY_ERRORS, 404), body=MilestonePatch,
)  # fmt: skip
@limited
def patch_milestone(public_id: str, milestone_id: str):
    """Change or move a milestone

    Sets its state, or moves it to a new date with the reason the client reads beside
    both dates (`project.milestone_moved` fires). A date before the start or from 2100
    on is refused (422) and nothing is stored.
    """
    body = parse(MilestonePatch, json_body())
    begin_write(db.session())
    project = _project(public_id)
    try:
        actions.change_milestone(
            project, token_user(), milestone_id, state=body.state,
            due=body.due, reason=body.reason,
        )  # fmt: skip
    except WorkspaceError as exc:
        if exc.field == "milestone":
            raise fail(404, "milestone_id", str(exc)) from None
        raise _refused(exc) from None
    db.session.commit()
    return as_json(_out(project))
