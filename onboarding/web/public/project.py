"""The client's project page (issue 30): the agreed plan, live; the updates; sign-offs
within the review window; the decisions log; how we work.

The link's token is the client's key: a 404 for an unknown or lapsed one, and there is
none before the agreement is signed by both parties. Forms check CSRF in the view, so an
expired page shows what was typed back instead of an error. Works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from onboarding.db import db
from onboarding.domain.agreement import display_date
from onboarding.services.intake.workspace import WorkspaceError
from onboarding.services.project import actions, state
from onboarding.web.public.intake import EXPIRED, csrf_ok
from onboarding.web.writing import start_writing

bp = Blueprint("project", __name__, url_prefix="/project")


class AnswerForm(FlaskForm):
    """A sign-off answer (fields read from the request)."""


def load(token: str):
    found = state.by_token(token, link_days=current_app.config["PROJECT_LINK_DAYS"])
    if found is None:
        abort(404)
    return found


def render(project, errors=None, values=None, answering=None, status=200):
    current = state.view(project)
    return (
        render_template(
            "project/client.html",
            view=current,
            intake=project.intake,
            decisions=state.client_decisions(current.decisions),
            form=AnswerForm(formdata=None),
            errors=errors or {},
            values=values or {},
            answering=answering,
        ),
        status,
    )


@bp.get("/<token>")
def view(token: str):
    """The project page."""
    return render(load(token))


@bp.post("/<token>/signoffs/<int:request_id>")
def answer(token: str, request_id: int):
    """The client approves the milestone or asks for a revision."""
    values = {
        "decision": request.form.get("decision", ""),
        "comment": request.form.get("comment", ""),
        "extra_round": request.form.get("extra_round") == "yes",
    }
    if not csrf_ok(AnswerForm()):
        return render(load(token), {"decision": EXPIRED}, values, request_id, 400)
    start_writing()
    project = load(token)
    try:
        actions.answer_signoff(project, request_id, **values)
    except WorkspaceError as exc:
        db.session.rollback()
        return render(load(token), exc.errors, values, request_id, 422)
    db.session.commit()
    return redirect(url_for(".view", token=token, _anchor="signoffs"), code=303)


@bp.app_template_filter("day")
def day(value) -> str:
    """A date as the documents write it: ``12 March 2027``."""
    return display_date(value)


@bp.app_template_global()
def project_link_of(version) -> str:
    """The client's project link for a countersigned version's page, else ""."""
    if version.countersigned_at is None:
        return ""
    found = state.project_of(version.intake, create=False)
    return url_for("project.view", token=found.token) if found is not None else ""
