"""The Project tab of a signed intake (staff): post updates at the agreed rhythm, move
milestones with a reason the client reads, ask for sign-offs, and see the decisions log
checked against the agreement's decision table. 404 before the countersignature.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from onboarding.db import db
from onboarding.domain import project as plans
from onboarding.services.intake.workspace import WorkspaceError
from onboarding.services.project import actions, state
from onboarding.web.workspace.auth import PostForm, staff_only
from onboarding.web.workspace.common import checked_post, load
from onboarding.web.writing import start_writing

bp = Blueprint("project_staff", __name__, url_prefix="/workspace")
bp.before_request(staff_only)

DECISION_ROWS = 3
"""Decision lines the update form offers."""


def _project(public_id: str):
    found = state.project_of(load(public_id))
    if found is None:
        abort(404)
    return found


def render(project, errors=None, values=None, form_id="", status=200):
    current = state.view(project)
    content = project.version.content or {}
    return (
        render_template(
            "manager/project.html",
            view=current,
            intake=project.intake,
            client_link=url_for("project.view", token=project.token, _external=True),
            areas=[(r.get("area"), r.get("label")) for r in content.get("decisions") or ()],
            states=plans.STATE_LABELS,
            errors=errors or {},
            values=values or {},
            form_id=form_id,
            rows=DECISION_ROWS,
            form=PostForm(),
        ),
        status,
    )


@bp.get("/intakes/<public_id>/project")
def page(public_id: str):
    """The project as the client sees it, with the manager's forms."""
    project = _project(public_id)
    db.session.commit()  # made on first sight after the countersignature
    return render(project)


def _act(public_id: str, form_id: str, action):
    checked_post()
    values = request.form.to_dict()
    start_writing()
    project = _project(public_id)
    try:
        action(project)
    except WorkspaceError as exc:
        db.session.rollback()
        return render(_project(public_id), exc.errors, values, form_id, 422)
    db.session.commit()
    return redirect(url_for(".page", public_id=public_id, _anchor=form_id), code=303)


@bp.post("/intakes/<public_id>/project/updates")
def post_update(public_id: str):
    form = request.form
    decisions = [
        {
            "text": form.get(f"decision-{i}-text", ""),
            "area": form.get(f"decision-{i}-area", ""),
            "by": form.get(f"decision-{i}-by", "agency"),
        }
        for i in range(DECISION_ROWS)
    ]
    return _act(
        public_id,
        "update",
        lambda p: actions.post_update(
            p,
            current_user,
            done=form.get("done", ""),
            next_up=form.get("next", ""),
            needs=form.get("needs", ""),
            decisions=decisions,
        ),
    )


@bp.post("/intakes/<public_id>/project/milestones/<milestone_id>")
def change_milestone(public_id: str, milestone_id: str):
    form = request.form
    return _act(
        public_id,
        f"milestone-{milestone_id}",
        lambda p: actions.change_milestone(
            p,
            current_user,
            milestone_id,
            state=form.get("state") or None,
            due=form.get("due") or None,
            reason=form.get("reason", ""),
        ),
    )


@bp.post("/intakes/<public_id>/project/signoffs")
def request_signoff(public_id: str):
    form = request.form
    return _act(
        public_id,
        "signoff",
        lambda p: actions.request_signoff(
            p, current_user, form.get("milestone", ""), form.get("note", "")
        ),
    )


@bp.app_template_global()
def project_open(intake) -> bool:
    """Whether the intake has a project (a countersigned agreement): its tab shows."""
    return state.signed_version(intake) is not None
