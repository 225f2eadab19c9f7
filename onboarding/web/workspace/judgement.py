"""Calibrating the judgement: what re-assessing would change, the playbook editor, and
how engagements turned out.

- **Re-assess** (staff read it; admins apply it): before ``reassess --all`` lands a
  playbook change, the same table as ``onboarding playbooks impact`` for the playbooks
  the servers have loaded against the stored assessments.
- **Playbooks** (admins): each rule's points, risk, on/off and reason, edited in the
  browser; the impact on the stored intakes is shown before saving; a save is a new
  playbook version, applied by re-assessing.
- **Outcomes** (admins): per band and per rule, how the recorded engagements went.
- **An outcome** (staff, on a signed intake's page): one click.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from onboarding.db import db
from onboarding.domain import assessment
from onboarding.domain.outcomes import OUTCOMES
from onboarding.domain.playbook_edits import current_values, editable, key_of
from onboarding.services.intake import impact, outcomes, playbook_editor, workspace
from onboarding.web.extensions import app_playbooks
from onboarding.web.workspace.auth import PostForm, admin_required, staff_only
from onboarding.web.workspace.common import checked_post

bp = Blueprint("judgement", __name__, url_prefix="/workspace")
bp.before_request(staff_only)


@bp.app_template_global()
def verdict_label(result: dict) -> str:
    """The recommendation in words; never "proceed" beside a scope red flag (v1.2)."""
    return assessment.verdict_label(result)


@bp.app_template_global()
def reasons_of(result: dict) -> list[dict]:
    """One reason per answer (the contributions that share a sentence, merged)."""
    return assessment.reasons(result)


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


# --- the playbook editor ---------------------------------------------------------------


def _files_playbooks():
    """The playbooks as the files have them (the editor's edits are made over these)."""
    from flask import current_app

    return current_app.extensions["onboarding"].playbooks


def _editor_rows(base, edits: dict) -> list[dict]:
    """One row per editable rule: its condition (read-only), cause and the values shown
    (the edits being made, else the saved ones, else the file's)."""
    rows = []
    for rule in editable(base):
        key = key_of(rule)
        values = {**current_values(rule), **edits.get(key, {})}
        rows.append({"key": key, "rule": rule, "now": values})
    return rows


def _parsed_edits(base) -> tuple[dict, list[tuple[str, str]]]:
    """The edits a posted editor form makes, and its errors (field id, message)."""
    edits: dict = {}
    errors: list[tuple[str, str]] = []
    for rule in editable(base):
        key = key_of(rule)
        field = key.replace("/", "--")
        values: dict = {"enabled": request.form.get(f"{field}--enabled") == "on"}
        for name, lo, hi in (("points", -50, 50), ("risk", 0, 100)):
            raw = (request.form.get(f"{field}--{name}") or "").strip().replace("−", "-")
            try:
                number = int(raw)
            except ValueError:
                number = None
            if number is None or not lo <= number <= hi:
                errors.append(
                    (f"{field}--{name}", f"{key}: {name} must be a whole number from {lo} to {hi}")
                )
                continue
            values[name] = number
        because = " ".join((request.form.get(f"{field}--because") or "").split())
        if not because:
            errors.append((f"{field}--because", f"{key}: the reason is empty"))
        elif len(because) > 500:
            errors.append((f"{field}--because", f"{key}: the reason is longer than 500 characters"))
        else:
            values["because"] = because
        edits[key] = values
    return edits, errors


@bp.route("/playbooks", methods=["GET", "POST"])
@admin_required
def playbook_editor_page():
    """Admins: edit each rule's points, risk, on/off and reason; preview the impact on
    the stored intakes (what changed, which intakes change band), then save."""
    base = _files_playbooks()
    preview = None
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        checked_post()
        edits, errors = _parsed_edits(base)
        action = request.form.get("action", "preview")
        if not errors:
            try:
                if action == "save":
                    row = playbook_editor.save(
                        base, edits, current_user, request.form.get("reason", "")
                    )
                    db.session.commit()
                    flash(
                        f"Saved playbook version {row.version[:12]}: "
                        + "; ".join(row.changes)
                        + ". Re-assess the intakes to apply it."
                    )
                    return redirect(url_for(".reassess_page"))
                preview = playbook_editor.preview(base, edits)
            except playbook_editor.EditError as exc:
                db.session.rollback()
                errors = [("", p) for p in exc.problems]
        shown = edits
    else:
        shown = playbook_editor.edits_now(base)
    status = 422 if errors else 200
    return render_template(
        "manager/playbooks.html",
        rows=_editor_rows(base, shown),
        playbooks=base.playbooks,
        preview=preview,
        errors=errors,
        history=playbook_editor.history(),
        version=app_playbooks().version,
        reason=request.form.get("reason", ""),
        form=PostForm(),
    ), status
