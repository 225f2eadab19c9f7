"""Sending is a decision (issue 26): the send page shows who the agreement goes to, the
email's subject, a personal message (kept in the email and in the negotiation thread)
and a summary of what the client will see, with the redline a later version shows
them; only its confirm button sends (``services.agreement.send``).

A send posted as the session lapsed is kept and comes back on this page after a fresh
sign-in (``auth.KEEPABLE``), never sent blindly.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from onboarding.db import db
from onboarding.domain import redline as redlines
from onboarding.domain.agreement import agreement_json
from onboarding.domain.workflow import may_send
from onboarding.services import kept
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement import send as send_service
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.agreement.versions import latest_version
from onboarding.services.intake import workspace
from onboarding.services.notify import agreement_mail
from onboarding.web.workspace.auth import KEPT_NOTICE, PostForm, staff_only
from onboarding.web.workspace.common import checked_post, link_sent, load
from onboarding.web.writing import renders_before_writing, start_writing

bp = Blueprint("sending", __name__, url_prefix="/workspace")

bp.before_request(staff_only)

MAX_MESSAGE = 5000
"""Characters of the personal message (a thread message's own limit)."""
MAX_SUBJECT = 200


def _agency() -> str:
    return current_app.config["AGENCY_NAME"]


def _typed(form: Any) -> dict[str, str]:
    """What the send form holds: paper, subject, message, the walk-away reason."""
    return {
        "paper": form.get("paper", "a4") if form.get("paper") in agreements.PAPERS else "a4",
        "subject": form.get("subject", ""),
        "message": form.get("message", ""),
        "walk_away_reason": form.get("walk_away_reason", ""),
    }


def _checked(typed: dict[str, str]) -> dict[str, str]:
    """Why the subject or the message cannot go out as typed, by field id."""
    errors = {}
    if len(" ".join(typed["subject"].split())) > MAX_SUBJECT:
        errors["send-subject"] = f"Shorten the subject to {MAX_SUBJECT} characters or fewer."
    if len(typed["message"].strip()) > MAX_MESSAGE:
        errors["send-message"] = (
            f"Shorten the message to {MAX_MESSAGE:,} characters or fewer "
            f"(it has {len(typed['message'].strip()):,})."
        )
    return errors


def _page(intake, typed: dict[str, str], errors: dict[str, str], status: int = 200, notice=None):
    """The send page: the recipient, the email, and what the client will see."""
    agency = _agency()
    blockers, agreement = agreement_terms.send_check(intake, agency, walk_away_reason="-")
    previous = latest_version(intake)
    number = (previous.number + 1) if previous is not None else 1
    content = agreement_json(agreement)
    red = send_service.redline_against(previous, content)
    changes = None
    if red is not None and previous is not None:
        changes = redlines.changes(red, previous.number, previous.content, content)
    unchanged = previous is not None and previous.content_sha256 == agreement.sha256
    email = agreement_mail.agreement_sent_preview(
        intake,
        number,
        red,
        message=send_service.personal_message(typed["message"]),
        subject=typed["subject"],
    )
    return (
        render_template(
            "manager/send.html",
            intake=intake,
            agreement=agreement,
            number=number,
            previous=previous,
            changes=changes,
            version={"number": number},
            unchanged=unchanged,
            blockers=blockers,
            can_send=may_send(intake.status),
            walk_away=(intake.assessment.result or {}).get("recommendation") == "walk_away",
            email=email,
            default_subject=agreement_mail.agreement_sent_preview(intake, number, red).subject,
            typed=typed,
            errors=errors,
            notice=notice,
            unsaved=bool(errors or notice),
            max_message=MAX_MESSAGE,
            form=PostForm(),
        ),
        status,
    )


@bp.get("/intakes/<public_id>/agreement/send")
def send_page(public_id: str):
    """Review what goes out before sending: nothing is emailed from this page's GET."""
    intake = load(public_id)
    if intake.assessment is None:
        flash("The intake has not been submitted yet: there is no agreement to send.")
        return redirect(url_for("manager.intake", public_id=public_id))
    restored = kept.kept_for_user(current_user.id, request.path, request.args.get("kept"))
    if restored is not None:
        return _page(intake, _typed(kept.KeptValues(restored)), {}, notice=KEPT_NOTICE)
    typed = _typed(request.args)  # the preview's paper, when it links here
    return _page(intake, typed, {})


@bp.post("/intakes/<public_id>/agreement/send")
@renders_before_writing
def send(public_id: str):
    """The send page's confirm: freeze the agreement as a version and email the
    prospect their link, with the subject and the personal message given (the message
    is also the version's first words in the thread).

    The PDF renders (or comes from the cache) before the write transaction begins.
    """
    intake = load(public_id)
    checked_post()
    if intake.assessment is None:
        return redirect(url_for("manager.intake", public_id=public_id))
    typed = _typed(request.form)
    errors = _checked(typed)
    if errors:
        return _page(intake, typed, errors, 422)
    paper, agency = typed["paper"], _agency()
    reason = typed["walk_away_reason"].strip() or None
    if reason is None and (intake.assessment.result or {}).get("recommendation") == "walk_away":
        errors["walk-away-reason"] = (
            "Say why you send it anyway: the assessment recommends walking away."
        )
        return _page(intake, typed, errors, 422)
    try:
        prepared = send_service.prepare_send(intake, paper, agency=agency, walk_away_reason=reason)
        start_writing()
        intake = load(public_id)
        version = send_service.send_agreement(
            intake,
            current_user,
            paper,
            agency=agency,
            prepared=prepared,
            walk_away_reason=reason,
            message=typed["message"],
            subject=typed["subject"],
        )
    except workspace.WorkspaceError as exc:
        db.session.rollback()
        intake = load(public_id)
        return _page(intake, typed, {"send": str(exc)}, 422)
    kept.forget_for_user(current_user.id, request.path)
    db.session.commit()
    flash(link_sent(intake, version, f"Agreement version {version.number} is sent"))
    return redirect(url_for("manager.intake", public_id=public_id) + "#agreement")
