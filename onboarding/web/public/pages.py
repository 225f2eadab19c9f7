"""Public pages: the home page and the start of an intake."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from onboarding.db import db
from onboarding.services.intake.submission import create_intake
from onboarding.services.intake.workspace import invite_by_token, start_from_invite
from onboarding.web.extensions import limiter
from onboarding.web.public.remember import forget, remember, remembered


def start_limit() -> str:
    """``START_LIMIT``: drafts one address may start (at /start and from invites)."""
    return current_app.config["START_LIMIT"]


def start_global_limit() -> str:
    """``START_GLOBAL_LIMIT``: drafts every address together may start (many addresses
    cannot fill the database with drafts)."""
    return current_app.config["START_GLOBAL_LIMIT"]


def everyone() -> str:
    """One rate-limit key for every visitor (the global cap)."""
    return "everyone"


bp = Blueprint("pages", __name__)


class StartForm(FlaskForm):
    """The "Start" button (a POST with CSRF)."""


@bp.get("/")
def home():
    """The prospect's landing page."""
    return redirect(url_for("pages.start"))


@bp.route("/start", methods=["GET", "POST"])
@limiter.limit(start_limit, methods=["POST"], scope="start")
@limiter.limit(start_global_limit, methods=["POST"], scope="start_all", key_func=everyone)
def start():
    """Explain the intake; on POST create a draft and open its first step.

    A browser that remembers a draft in progress is offered it ("Continue your
    answers", with "Not you? Start again"): "Start now" never strands it for a new one.
    """
    form = StartForm()
    draft = remembered()
    if form.validate_on_submit():
        if request.form.get("action") == "start_again":
            return forget(redirect(url_for("pages.start")))
        if draft is None:
            draft = create_intake()
            db.session.commit()
        return remember(redirect(url_for("intake.resume", token=draft.token)), draft)
    page = render_template("intake/start.html", form=form, expired=bool(form.errors), draft=draft)
    return page


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(start_limit, methods=["POST"], scope="start")
@limiter.limit(start_global_limit, methods=["POST"], scope="start_all", key_func=everyone)
def invite(token: str):
    """An invite from an account manager: greet the prospect, then open their intake."""
    invite = invite_by_token(token)
    if invite is None:
        return render_template("intake/invite_gone.html", reason="unknown"), 404
    if not invite.usable():
        lapsed = invite.revoked_at is None and invite.manager.active
        reason = "expired" if lapsed else "revoked"  # a disabled manager's invites stop
        return render_template("intake/invite_gone.html", reason=reason, invite=invite), 410
    form = StartForm()
    if form.validate_on_submit():
        intake = start_from_invite(invite)
        db.session.commit()
        return remember(redirect(url_for("intake.resume", token=intake.token)), intake)
    return render_template("intake/start.html", form=form, invite=invite, expired=bool(form.errors))


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers: the app answers and reaches the database."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
