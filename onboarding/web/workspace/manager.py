"""The account manager's workspace: one intake in detail, invites, users.

Views check access, call :mod:`onboarding.services.intake.workspace`, commit, and render.
"""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AuditEvent, Intake, Note, User, utcnow
from onboarding.domain import redline as redlines
from onboarding.domain.history import describe
from onboarding.domain.outcomes import OUTCOMES
from onboarding.domain.playbooks import DUE, SECTIONS
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.workflow import (
    RECOMMENDATIONS,
    STATUS_LABELS,
    assessment_changes,
    may_send,
)
from onboarding.rendering.figures import CAUSE_LABELS, risk_chart
from onboarding.services.agreement import answers as agreement_answers
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement import countersign as agreement_countersign
from onboarding.services.agreement import files, send
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.agreement import verify as agreement_verify
from onboarding.services.agreement import versions as agreement_versions
from onboarding.services.intake import listing, privacy, workspace
from onboarding.services.people import mfa, signin
from onboarding.services.people.accounts import (
    AccountError,
    create_user,
    set_active,
    set_password,
    set_signing,
    signing_problem,
)
from onboarding.services.profile import installation_profile
from onboarding.web.downloads import content_disposition
from onboarding.web.errors import render_error
from onboarding.web.extensions import app_playbooks
from onboarding.web.workspace.auth import (
    PostForm,
    admin_required,
    client_address,
    staff_only,
    tell_owner,
)
from onboarding.web.workspace.common import checked_post, link_sent, load
from onboarding.web.writing import renders_before_writing, start_writing

bp = Blueprint("manager", __name__, url_prefix="/workspace")


bp.before_request(staff_only)


@bp.app_template_global()
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@bp.app_template_global()
def recommendation_label(value: str | None) -> str:
    return RECOMMENDATIONS.get(value or "", value or "")


@bp.app_template_global()
def cause_label(cause: str | None) -> str:
    return CAUSE_LABELS.get(cause or "", cause or "")


def answer_groups(intake: Intake) -> list[dict]:
    q = get_questionnaire()
    answers = intake.answers or {}
    return [
        {
            "section": s,
            "rows": [
                (question, question.display(answers.get(question.id)))
                for question in s.questions
                if q.shown(question.id, answers)
            ],
        }
        for s in q.sections
    ]


@bp.get("/intakes/<public_id>")
def intake(public_id: str):
    """Everything about one prospect: answers, fit, why, actions, history."""
    return render_intake(load(public_id))


# The fields of the detail page's forms, by the anchor of their section: a refused
# change is shown at its field (what was typed kept), and in the summary at the top.
FIELD_IDS = {
    "#override": {
        "score": "override-score",
        "band": "override-band",
        "recommendation": "override-rec",
        "reason": "override-reason",
    },
    "#notes": {"note": "note"},
    "#agreement": {"reply": "reply", "comment": "reply", "reason": "walk-away-reason"},
    "#status": {"status": "status-select"},
    "#delete": {"confirm": "confirm-delete"},
}


def render_intake(intake: Intake, errors: dict[str, str] | None = None, status: int = 200):
    """The detail page; ``errors`` maps a field's id to why its value was refused (the
    page then shows what was typed, from the request's form)."""
    assessment = intake.assessment
    result = assessment.result if assessment else None
    changes = []
    if len(intake.assessments) > 1:
        changes = assessment_changes(intake.assessments[-2].result, result)
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.intake_id == intake.id).order_by(AuditEvent.id.desc())
    ).scalars().all()  # fmt: skip
    notes = db.session.execute(
        select(Note).where(Note.intake_id == intake.id).order_by(Note.id.desc())
    ).scalars().all()  # fmt: skip
    managers = db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.email)
    ).scalars().all()  # fmt: skip
    versions = agreement_versions.versions_of(intake)
    can_send = may_send(intake.status)
    action_texts = {a["id"]: a["text"] for a in (result or {}).get("actions", [])}
    history = [
        (e, describe(e.kind, e.from_value, e.to_value, e.detail, actions=action_texts,
                     outcomes=OUTCOMES))
        for e in events
    ]  # fmt: skip
    return render_template(
        "manager/intake.html",
        errors=errors or {},
        typed=request.form if errors else {},
        history=history,
        question_labels={q.id: q.label for q in get_questionnaire().questions.values()},
        currency=installation_profile().profile.currency,
        step_title=listing.step_title,
        intake=intake,
        result=result,
        chart=risk_chart(result["risks"], labels=result.get("risk_labels")) if result else None,
        groups=answer_groups(intake),
        checks=workspace.checks_of(intake),
        events=events,
        notes=notes,
        managers=managers,
        changes=changes,
        transitions=workspace.next_statuses(intake.status),
        versions=versions,
        change_counts={v.number: n for v in versions if (n := redlines.count(v.redline))},
        unchanged=send.unchanged_since(intake, current_app.config["AGENCY_NAME"])
        if can_send and versions
        else None,
        thread=agreement_versions.messages_of(intake),
        to_countersign=agreement_countersign.to_countersign(intake),
        signing_problem=signing_problem(current_user),
        can_send=can_send,
        blockers=agreement_terms.send_blockers(
            intake, current_app.config["AGENCY_NAME"], walk_away_reason="-"
        )
        if assessment
        else [],
        recommendations=RECOMMENDATIONS,
        outcome_labels=OUTCOMES,
        due=DUE,
        sections=SECTIONS,
        form=PostForm(),
        outdated=bool(assessment) and assessment.playbook_version != app_playbooks().version,
    ), status


def _done(intake: Intake, message: str, anchor: str = ""):
    db.session.commit()
    flash(message)
    return redirect(url_for(".intake", public_id=intake.public_id) + anchor)


def _refused(intake: Intake, exc: workspace.WorkspaceError, anchor: str = ""):
    """The page again, with what was typed and why it was refused, at the field."""
    db.session.rollback()
    fields = FIELD_IDS.get(anchor, {})
    default = anchor.lstrip("#") or "main"
    errors: dict[str, str] = {}
    for field, message in exc.errors.items():
        errors.setdefault(fields.get(field, default), message)
    return render_intake(load(intake.public_id), errors, 422)


def wants_json() -> bool:
    """A progressive-enhancement request (intake.js's fetch), answered without a reload."""
    return request.headers.get("X-Requested-With") == "fetch"


@bp.post("/intakes/<public_id>/status")
def status(public_id: str):
    """Move the intake to the status picked (the workflow's rules: change_status)."""
    target = request.form.get("status", "")
    return _act(
        public_id,
        lambda i: workspace.change_status(i, target, current_user, by_hand=True),
        f"Status changed to {STATUS_LABELS.get(target, target).lower()}.",
        "#status",
    )


@bp.post("/intakes/<public_id>/override")
def override(public_id: str):
    intake = load(public_id)
    checked_post()
    try:
        if request.form.get("clear"):
            workspace.clear_override(intake, current_user)
            return _done(intake, "Override removed: the computed assessment applies.", "#fit")
        workspace.set_override(
            intake,
            current_user,
            request.form.get("score"),
            request.form.get("recommendation"),
            request.form.get("reason", ""),
            request.form.get("band"),
        )
    except workspace.WorkspaceError as exc:
        return _refused(intake, exc, "#override")
    return _done(intake, "Override saved beside the computed assessment.", "#fit")


def _act(public_id: str, change, message: str, anchor: str):
    """A POST that changes one intake: check CSRF, change, commit, and say what happened."""
    intake = load(public_id)
    checked_post()
    try:
        change(intake)
    except workspace.WorkspaceError as exc:
        return _refused(intake, exc, anchor)
    return _done(intake, message, anchor)


@bp.post("/intakes/<public_id>/notes")
def add_note(public_id: str):
    text = request.form.get("note", "")
    if not wants_json():
        return _act(
            public_id, lambda i: workspace.add_note(i, current_user, text), "Note added.", "#notes"
        )
    intake = load(public_id)
    checked_post()
    try:
        note = workspace.add_note(intake, current_user, text)
    except workspace.WorkspaceError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 422
    db.session.commit()
    meta = f"{current_user.display_name}, {note.created_at:%d %b %Y %H:%M}"
    return jsonify(text=note.text, meta=meta, message="Note added.")


@bp.post("/intakes/<public_id>/actions/<action_id>")
def action(public_id: str, action_id: str):
    """Tick or untick an action. Without JavaScript the page comes back at that action;
    with it, nothing reloads and focus stays on the button."""
    done = request.form.get("done") == "1"
    intake = load(public_id)
    checked_post()
    try:
        workspace.set_action(intake, current_user, action_id, done)
    except workspace.WorkspaceError as exc:
        if wants_json():
            db.session.rollback()
            return jsonify(error=str(exc)), 422
        return _refused(intake, exc, "#actions")
    db.session.commit()
    if wants_json():
        state = "done" if done else "reopened"
        meta = f"{state} by {current_user.display_name}, {utcnow():%d %b %H:%M}"
        return jsonify(done=done, meta=meta)
    return redirect(url_for(".intake", public_id=public_id, _anchor=f"action-{action_id}"))


@bp.post("/intakes/<public_id>/owner")
def owner(public_id: str):
    intake = load(public_id)
    checked_post()
    value = request.form.get("owner", "")
    new_owner = None
    if value:
        # A user id is a small whole number: anything longer is no user (and would
        # overflow the database's integer).
        ok = value.isdigit() and len(value) <= 9
        new_owner = db.session.get(User, int(value)) if ok else None
        if new_owner is None or not new_owner.active:
            abort(400)
    workspace.assign_owner(intake, new_owner, current_user)
    return _done(intake, "Owner changed.", "#status")


@bp.post("/intakes/<public_id>/reassess")
def reassess(public_id: str):
    intake = load(public_id)
    checked_post()
    try:
        new = workspace.reassess(intake, current_user, playbooks=app_playbooks())
    except workspace.WorkspaceError as exc:
        return _refused(intake, exc)
    if new is None:
        flash("The assessment is already up to date with the playbooks.")
        return redirect(url_for(".intake", public_id=public_id))
    return _done(intake, "Re-assessed with the current playbooks.", "#fit")


@bp.get("/intakes/<public_id>/agreement")
def agreement_preview(public_id: str):
    """The agreement as the client will read it (HTML preview)."""
    intake = load(public_id)
    if intake.assessment is None:
        abort(404)
    paper = request.args.get("paper", "a4")
    if paper not in agreements.PAPERS:
        paper = "a4"
    agency = current_app.config["AGENCY_NAME"]
    html = agreements.preview_html(intake, url_for("static", filename=""), paper, agency=agency)
    blockers = agreement_terms.send_blockers(intake, agency, walk_away_reason="-")
    bar = render_template(
        "manager/_preview_bar.html",
        intake=intake,
        paper=paper,
        can_send=may_send(intake.status),
        draft=bool(blockers),
        walk_away=intake.assessment.result.get("recommendation") == "walk_away",
        sent_before=bool(agreement_versions.versions_of(intake)),
    )
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + bar, html, count=1)
    # The trace says where a clause comes from in words, not by its internal id.
    html = re.sub(r"agency standard terms &middot; [\w-]+", "the agency's standard terms", html)
    return Response(html, mimetype="text/html")


@bp.get("/intakes/<public_id>/agreement.pdf")
def agreement_pdf(public_id: str):
    """Download the agreement PDF (A4 or US Letter), named after the company and date:
    the one rendered in the background, found with one statement, when the intake's
    data are still those it was rendered from; else composed (and rendered) now."""
    paper, agency = request.args.get("paper", "a4"), current_app.config["AGENCY_NAME"]
    found = agreements.prerendered_pdf(public_id, paper, agency=agency)
    if found is None:
        intake = load(public_id)
        if intake.assessment is None:
            abort(404)
        rendered = agreements.agreement_pdf(
            intake, paper, agency=agency
        )  # a GET holds no write lock: the cache is written in a transaction of its own
        found = rendered.pdf, rendered.filename
    data, filename = found
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(agreement_versions.AgreementCorrupted)
def _corrupted(exc: agreement_versions.AgreementCorrupted):
    db.session.rollback()
    current_app.logger.error("refused to serve a stored agreement: %s", exc)
    return render_error(
        500,
        "This stored agreement no longer matches the SHA-256 recorded when it was sent or "
        "accepted: it was changed outside the app, so it is not shown.",
    )


@bp.post("/intakes/<public_id>/agreement/resend")
def resend_link(public_id: str):
    """Give the current version's link again (no new version); the history records it."""
    intake = load(public_id)
    checked_post()
    try:
        version = send.resend_link(intake, current_user, client_address())
    except workspace.WorkspaceError as exc:
        return _refused(intake, exc, "#agreement")
    db.session.commit()
    flash(link_sent(intake, version, f"The link of version {version.number} is sent again"))
    return redirect(url_for(".intake", public_id=public_id) + "#agreement")


@bp.get("/intakes/<public_id>/versions/<int:number>/changes")
def version_changes(public_id: str, number: int):
    """What a version changed since the one before (its redline), as the prospect sees it."""
    intake = load(public_id)
    version = next((v for v in agreement_versions.versions_of(intake) if v.number == number), None)
    if version is None:
        abort(404)
    return render_template(
        "manager/version_changes.html",
        intake=intake,
        version=version,
        changes=agreement_versions.changes_of(version),
    )


@bp.post("/intakes/<public_id>/agreement/reply")
def agreement_reply(public_id: str):
    reply = request.form.get("reply", "")
    return _act(
        public_id,
        lambda i: agreement_answers.add_manager_message(i, current_user, reply),
        "Reply added to the thread.",
        "#agreement",
    )


def version_of(intake: Intake, number: int):
    """The intake's version ``number`` (404 if none)."""
    version = next((v for v in agreement_versions.versions_of(intake) if v.number == number), None)
    if version is None:
        abort(404)
    return version


@bp.get("/intakes/<public_id>/versions/<int:number>.pdf")
def version_pdf(public_id: str, number: int):
    """A sent version's PDF; with ?final=1 the PDF the client accepted (their signature
    and its certificate), with ?signed=1 the PDF signed by both parties."""
    version = version_of(load(public_id), number)
    final, signed = request.args.get("final") == "1", request.args.get("signed") == "1"
    if (final and version.accepted_at is None) or (signed and version.countersigned_at is None):
        abort(404)
    if (final and version.final_pdf is None) or (signed and version.signed_pdf is None):
        # The worker has not made it yet: this request makes it (or waits for it).
        files.ensure_file(version.id, "signed" if signed else "accepted")
        version = version_of(load(public_id), number)
    data = agreement_versions.verified_pdf(version, final=final, signed=signed)
    name = version.filename
    if signed or final:
        name = name.replace(".pdf", " - signed.pdf" if signed else " - accepted.pdf")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.post("/intakes/<public_id>/versions/<int:number>/countersign")
@renders_before_writing
def countersign(public_id: str, number: int):
    """Countersign the version the client accepted, for the agency (staff with signing
    rights): the signed PDF renders before the write transaction begins, which then
    locks the version so two presses countersign once."""
    intake = load(public_id)
    checked_post()
    version = version_of(intake, number)
    where = agreement_countersign.Countersignature(
        ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", "")
    )
    try:
        prepared = agreement_countersign.prepare_countersignature(version, current_user, where)
        start_writing()
        intake = load(public_id)
        version = agreement_versions.version_by_token(version.token, for_update=True) or abort(404)
        agreement_countersign.record_countersignature(version, current_user, prepared)
    except workspace.WorkspaceError as exc:
        return _refused(intake, exc, "#agreement")
    db.session.commit()  # the worker makes the signed PDF and emails the client their copy
    flash(
        f"Version {version.number} is countersigned: the agreement is signed by both parties. "
        "The signed PDF is being prepared; the client's link gives it to them, and it is "
        "emailed to them, as soon as it is ready."
    )
    return redirect(url_for(".intake", public_id=public_id) + "#agreement")


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Upload a PDF to check it is an agreement we sent or the one a client accepted.
    The upload may be up to ``VERIFY_MAX_BYTES`` (this route alone: see
    ``OnboardingRequest.max_content_length``); its hash is computed as it is read."""
    result = error = None
    if request.method == "POST":
        checked_post()
        upload = request.files.get("pdf")
        if upload is None or not upload.filename:
            error = "Choose the PDF file to check"
        else:
            result = agreement_verify.verify_stream(upload.stream)
            if result is None:
                error = (
                    "This file does not match any agreement we sent, that a client accepted "
                    "or that both parties signed: it may have been changed."
                )
    return render_template(
        "manager/verify.html",
        result=result,
        error=error,
        form=PostForm(),
        checked=request.method == "POST",
    ), (422 if error else 200)


@bp.post("/intakes/<public_id>/delete")
@admin_required
def delete_intake(public_id: str):
    """Admins: delete an intake and all its data, after typing the company to confirm."""
    intake = load(public_id)
    checked_post()
    expected = (intake.company or intake.public_id).strip().lower()
    if request.form.get("confirm", "").strip().lower() != expected:
        message = "Type the company name exactly as shown to confirm the deletion"
        return _refused(intake, workspace.WorkspaceError("confirm", message), "#delete")
    privacy.delete_intake(intake, current_user)
    db.session.commit()
    flash("The intake and everything derived from it are deleted.")
    return redirect(url_for("dashboard.index"))


# --- users (admins only) -----------------------------------------------------------------


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    """Admins add managers and admins, and disable accounts."""
    errors: dict[str, str] = {}
    generated = None
    if request.method == "POST":
        checked_post()
        try:
            user, password = create_user(
                request.form.get("email", ""),
                request.form.get("role", "manager"),
                request.form.get("password") or None,
                request.form.get("name") or None,
                settings=current_app.config,
                actor=current_user,
                address=client_address(),
            )
            db.session.commit()
            if not request.form.get("password"):
                generated = (user.email, password)
            flash(f"{user.email} can now sign in.")
        except AccountError as exc:
            db.session.rollback()
            errors[exc.field] = str(exc)
    return _users_page(errors, generated, values=request.form if errors else {})


def _users_page(errors, generated=None, *, values=None, signing=None):
    """The Users page; ``signing``: a refused signing save (the user's id, its errors
    by field and what was posted), shown by that user's form and in the summary."""
    rows = db.session.execute(select(User).order_by(User.email)).scalars().all()
    policy = current_app.config["STAFF_MFA"]
    return render_template(
        "manager/users.html",
        mfa_required=lambda u: signin.mfa_required(u, policy),
        users=rows,
        errors=errors,
        generated=generated,
        form=PostForm(),
        values=values or {},
        signing=signing,
    ), (422 if errors or signing else 200)


@bp.post("/users/<int:user_id>/active")
@admin_required
def user_active(user_id: int):
    checked_post()
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for(".users"))
    set_active(user, current_user, request.form.get("active") == "1", address=client_address())
    db.session.commit()
    flash(f"{user.email} is now {'active' if user.active else 'disabled'}.")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/password")
@admin_required
def user_password(user_id: int):
    checked_post()
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        # A session alone must not change its own credentials: Your account asks for the
        # password and the second factor first.
        flash("Change your own password and authenticator app on Your account.", "error")
        return redirect(url_for(".users"))
    try:
        set_password(
            user,
            request.form.get("password", ""),
            settings=current_app.config,
            actor=current_user,
            address=client_address(),
        )
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".users"))
    tell_owner(user, f"Your password was reset by {current_user.email}", client_address())
    db.session.commit()
    flash(f"Password changed for {user.email}; their other sessions have ended.")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/signing")
@admin_required
def user_signing(user_id: int):
    """Admins grant or withdraw the right to countersign agreements, and set the name and
    title the countersignature shows (audited)."""
    checked_post()
    user = db.session.get(User, user_id) or abort(404)
    try:
        set_signing(
            user,
            current_user,
            can_sign=request.form.get("can_sign") == "1",
            title=request.form.get("title", ""),
            name=request.form.get("name"),  # None (no field): keep the name
            address=client_address(),
        )
    except AccountError as exc:  # shown by the field and in the summary, the box kept
        db.session.rollback()
        return _users_page({}, signing={"id": user_id, "errors": {exc.field: str(exc)}})
    db.session.commit()
    state = "can countersign agreements" if user.can_sign else "cannot countersign agreements"
    flash(f"{user.email} {state}.")
    return redirect(url_for(".users") + f"#signing-{user_id}")


@bp.post("/users/<int:user_id>/mfa-reset")
@admin_required
def user_mfa_reset(user_id: int):
    """Admins remove a user's authenticator app and recovery codes (a lost phone): their
    sessions end, and they set up a new one at their next sign-in (audited)."""
    checked_post()
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        # A session alone must not change its own credentials: Your account asks for the
        # password and the second factor first.
        flash("Change your own password and authenticator app on Your account.", "error")
        return redirect(url_for(".users"))
    if not user.has_totp and not user.failed_logins:
        flash(f"{user.email} has no authenticator app to reset.", "error")
        return redirect(url_for(".users"))
    mfa.remove(user, current_user, client_address())
    tell_owner(user, f"Your authenticator app was reset by {current_user.email}", client_address())
    db.session.commit()
    flash(f"The authenticator app of {user.email} is reset; their sessions have ended.")
    return redirect(url_for(".users"))
