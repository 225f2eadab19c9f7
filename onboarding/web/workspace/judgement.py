"""Calibrating the judgement: what re-assessing would change, and how engagements
turned out.

- **Re-assess** (staff read it; admins apply it): before ``reassess --all`` lands a
  playbook change, the same table as ``onboarding playbooks impact`` for the playbooks
  the servers have loaded against the stored assessments.
- **Outcomes** (admins): per band and per rule, how the recorded engagements went.
- **An outcome** (staff, on a signed intake's page): one click.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from onboarding.db import db
from onboarding.domain.outcomes import OUTCOMES
from onboarding.services.intake import impact, outcomes, workspace
from onboarding.web.extensions import app_playbooks
from onboarding.web.workspace.auth import PostForm, admin_required, staff_only

bp = Blueprint("judgement", __name__, url_prefix="/workspace")
bp.before_request(staff_only)


def checked_post() -> None:
    if not PostForm().validate_on_submit():
        abort(400)


@bp.get("/reassess")
def reassess_page():
    """What re-assessing every intake with the loaded playbooks would change."""
    playbooks = app_playbooks()
    report, current = impact.pending_reassessment(playbooks)
    return render_template(
        "manager/reassess.html",
        report=report.as_dict(),
        current=current,
        version=playbooks.version,
        form=PostForm(),
    )


@bp.post("/reassess")
@admin_required
def reassess_all():
    """Admins: apply the loaded playbooks to every intake (as ``reassess --all``)."""
    checked_post()
    checked, changed = workspace.reassess_all(playbooks=app_playbooks())
    flash(f"Checked {checked:,} submitted intakes; re-assessed {changed:,}.")
    return redirect(url_for(".reassess_page"))


@bp.post("/intakes/<public_id>/outcome")
def record_outcome(public_id: str):
    """One click: how the engagement went."""
    intake = workspace.intake_by_public_id(public_id) or abort(404)
    checked_post()
    value = request.form.get("outcome", "")
    try:
        outcomes.record_outcome(intake, current_user, value)
    except workspace.WorkspaceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("manager.intake", public_id=public_id) + "#outcome")
    db.session.commit()
    flash(f"Outcome recorded: {OUTCOMES[value].lower()}.")
    return redirect(url_for("manager.intake", public_id=public_id) + "#outcome")


@bp.get("/outcomes")
@admin_required
def outcomes_page():
    """Admins: per band and per rule, how the recorded engagements turned out."""
    return render_template(
        "manager/outcomes.html",
        summary=outcomes.report(app_playbooks()),
        labels=OUTCOMES,
    )
