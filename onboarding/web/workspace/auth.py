"""Staff login and logout, and the access checks every workspace page uses."""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField

from onboarding.db import db
from onboarding.services.accounts import authenticate, login_blocked, note_failure
from onboarding.web.extensions import limiter, login_manager

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


class LoginForm(FlaskForm):
    email = EmailField("Email address", render_kw={"autocomplete": "username"})
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"})


class PostForm(FlaskForm):
    """An empty form: a POST button with CSRF (logout, status changes, ...)."""


def staff_only():
    """A blueprint's ``before_request``: every page needs a signed-in member of staff
    (others go to the sign-in page)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def admin_required(view):
    """Only admins; others get 403 (and the attempt is logged)."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            log.warning("forbidden: %s tried %s", current_user.email, request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str:
    """A same-site path to return to after login, never another site."""
    if target and target.isprintable():  # no CR/LF or other control characters
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("dashboard.index")


def now() -> int:
    """Seconds since the epoch (one place, so tests can move the clock)."""
    return int(time.time())


def _failed(response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed)
def login():
    """Sign in; failures are slowed, limited per address and logged."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    error = None
    status = 401
    if request.method == "POST":
        email = form.email.data or ""
        if not form.validate():
            error = "The form had expired. Please sign in again."
        elif login_blocked(email, settings=current_app.config):
            log.warning("sign-in refused: %r is locked after failed attempts", email)
            error = "Too many failed attempts for this account. Please wait and try again later."
            status = 429
        else:
            user = authenticate(email, form.password.data or "", settings=current_app.config)
            if user is not None:
                session.clear()  # a fresh session at login (no fixation)
                login_user(user)
                session["login_at"] = session["seen"] = now()
                db.session.commit()
                return redirect(safe_next(request.args.get("next")))
            log.warning("failed login for %r from %s", email, request.remote_addr)
            note_failure(email, settings=current_app.config)
            db.session.commit()
            time.sleep(current_app.config["LOGIN_FAILURE_DELAY"])
            error = "The email address or password is not right."
        form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), (
        200 if error is None else status
    )


@bp.post("/logout")
@login_required
def logout():
    """Sign out (a POST with CSRF); copies of the old session cookie stop working too."""
    current_user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.login"))


def enforce_session_limits():
    """End a staff session idle for SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS."""
    if not current_user.is_authenticated:
        return None
    moment = now()
    config = current_app.config
    login_at, seen = session.get("login_at"), session.get("seen")
    expired = (
        login_at is None
        or moment - login_at > config["SESSION_MAX_HOURS"] * 3600
        or (seen is not None and moment - seen > config["SESSION_IDLE_MINUTES"] * 60)
    )
    if expired:
        logout_user()
        session.clear()
        flash("Your session ended after a period of inactivity. Please sign in again.")
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login"))
    if seen is None or moment - seen >= 60:  # refresh at most once a minute
        session["seen"] = moment
    return None
