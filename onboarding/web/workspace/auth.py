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
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField

from onboarding.db import db
from onboarding.db.models import User
from onboarding.domain.text import printable
from onboarding.services.notify import mail
from onboarding.services.people import mfa, security_log, signin
from onboarding.services.people.accounts import authenticate
from onboarding.web.extensions import login_manager

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

PENDING = "pending_signin"
PENDING_SECONDS = 600
"""A password accepted waits this long for its second factor."""


class LoginForm(FlaskForm):
    email = EmailField("Email address", render_kw={"autocomplete": "username"})
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField("Code", render_kw={"autocomplete": "one-time-code"})


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
            log.warning("forbidden: %s tried %s", current_user.email, printable(request.path))
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


def client_address() -> str:
    """The address a request came from (after PROXY_COUNT proxies), for the counts."""
    return (request.remote_addr or "unknown")[:64]


def limits() -> signin.Limits:
    return signin.Limits.from_config(current_app.config)


THROTTLED = (
    "Too many failed attempts to sign in with this email address from your network. "
    "Please wait a few minutes and try again."
)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in. Failures are counted per (email, address) and per address alike for
    every email, known or not (429 past a limit: never a lock on the account itself);
    the right password may lead to a second factor (services.signin)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    error = None
    status = 401
    if request.method == "POST":
        email = form.email.data or ""
        address = client_address()
        if not form.validate():
            error = "The form had expired. Please sign in again."
        elif signin.refused(email, address, limits()):
            log.warning("sign-in refused: %s failed too often for %s", address, printable(email))
            error, status = THROTTLED, 429
        else:
            user = authenticate(email, form.password.data or "", settings=current_app.config)
            if user is not None:
                method = signin.second_factor(user, limits())
                if signin.codes_stopped(user):
                    method = "unlock"
                if method is None:
                    return finish_signin(user, address, None, request.args.get("next"))
                return begin_second_factor(user, method, address, request.args.get("next"))
            log.warning("failed login for %s from %s", printable(email), address)
            signin.record_failure(email, address)
            note_if_throttled(email, address)
            if signin.just_reached_ceiling(email, limits()):
                security_log.record(
                    "signin_second_factor",
                    subject=normalise(email),
                    address=address,
                    detail="failed sign-ins reached the account's ceiling: a second factor "
                    "is asked from now",
                    by="someone signing in",
                )
            db.session.commit()
            error = "The email address or password is not right."
        form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), (
        200 if error is None else status
    )


def begin_second_factor(user: User, method: str, address: str, target: str | None):
    """The password was right: remember who is signing in (not signed in yet) and ask
    for the second factor; for ``email``, write a one-time code to the outbox."""
    session.clear()
    session[PENDING] = {
        "uid": user.id,
        "ver": user.session_version,
        "method": method,
        "at": now(),
        "next": safe_next(target),
    }
    if method == "email" or (method == "unlock" and signin.may_issue_unlock_code(user)):
        send_code(user, address)
    if method != "totp":
        security_log.record(
            "signin_second_factor",
            actor=None,
            subject=user.email,
            address=address,
            detail="code step stopped: emailed code asked"
            if method == "unlock"
            else "past the failure ceiling: emailed code asked",
            by="someone signing in",
        )
    db.session.commit()
    return redirect(url_for("auth.second_factor"))


def note_if_throttled(email: str, address: str) -> None:
    """One security-log row when an address reaches its limit for an email (not one per
    guess): the failure just counted is the one that made it wait."""
    if signin.refused(email, address, limits()) and not signin.refused_before(
        email, address, limits()
    ):
        security_log.record(
            "signin_throttled",
            actor=None,
            subject=normalise(email),
            address=address,
            detail="too many failed sign-ins: this address waits",
            by="someone signing in",
        )


def normalise(email: str) -> str:
    from onboarding.services.people.accounts import normalise_email

    return normalise_email(email)[:254]


def send_code(user: User, address: str, kind: str = "signin_code", **extra) -> None:
    """Email ``user`` a one-time sign-in code (their account is past its ceiling, or its
    code step is stopped: ``second_factor_stopped``)."""
    code = signin.issue_email_code(user, limits())
    mail.write(
        kind,
        user.email,
        to_name=user.display_name,
        user=user,
        name=user.display_name,
        code=code,
        minutes=limits().code_minutes,
        address=address,
        **extra,
    )
    # Sent because of a sign-in, not by anyone signed in (nor the command line).
    security_log.record(
        "signin_code_sent",
        actor=None,
        subject=user.email,
        address=address,
        detail="sent at sign-in",
        by="someone signing in",
    )


def pending_user() -> tuple[User | None, dict]:
    """The user whose password was accepted in this session and who still owes a second
    factor (None when there is none, or it waited too long)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or now() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None, {}
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.active or user.session_version != pending.get("ver"):
        return None, {}
    if signin.codes_stopped(user) and pending.get("method") != "unlock":
        return None, {}  # the code step was stopped: every pending sign-in is void
    return user, pending


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    """The second step of a sign-in: a TOTP code or a recovery code, or the code emailed
    to an account past its failure ceiling. A wrong code counts as a failed sign-in."""
    user, pending = pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Please sign in again.")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    method = pending["method"]
    error, status = None, 200
    if request.method == "POST":
        address = client_address()
        code = form.code.data or ""
        if not form.validate():
            error, status = "The form had expired. Please enter the code again.", 400
        elif signin.refused(user.email, address, limits()):
            error, status = THROTTLED, 429
        elif not code.strip():
            error, status = "Enter the code", 422
        elif method == "unlock":
            if signin.check_email_code(user, code):
                # The owner's mailbox lifts the stop; the authenticator is still asked.
                signin.clear_code_failures(user)
                if not user.has_totp:
                    return finish_signin(user, address, "an emailed code", pending.get("next"))
                session[PENDING] = pending | {"method": "totp", "ver": user.session_version}
                db.session.commit()
                flash("Now enter the code from your authenticator app.")
                return redirect(url_for("auth.second_factor"))
            signin.record_failure(user.email, address)
            db.session.commit()
            status = 401
            error = "The code is not right. Check it and try again."
            if not signin.email_code_live(user):
                error = "That code can no longer be used. Sign in again for a new one."
        else:
            ok = user.has_totp and (
                mfa.check_totp(user, code) or mfa.use_recovery_code(user, code, address)
            )
            if not ok and method == "email":
                ok = signin.check_email_code(user, code)
            if ok:
                signin.clear_code_failures(user)
                used = "an authenticator code" if user.has_totp else "an emailed code"
                return finish_signin(user, address, used, pending.get("next"))
            log.warning("wrong sign-in code for %s from %s", printable(user.email), address)
            signin.record_failure(user.email, address)
            note_if_throttled(user.email, address)
            if signin.record_code_failure(user):
                return stop_codes(user, address)
            db.session.commit()
            status = 401
            error = "The code is not right. Check it and try again."
            if method == "email" and not signin.email_code_live(user):
                error = "That code can no longer be used. Sign in again for a new one."
    return render_template(
        "auth/second_factor.html", form=form, method=method, error=error, user=user
    ), status


def stop_codes(user: User, address: str):
    """Too many wrong codes for ``user`` from anywhere: the code step stops for the
    account (every pending sign-in is void), the owner is emailed a code that lifts it
    and the security log has one row."""
    log.warning("second-factor codes stopped for %s (last from %s)", printable(user.email), address)
    send_code(user, address, kind="second_factor_stopped", failures=signin.CODE_CEILING)
    security_log.record(
        "signin_second_factor",
        actor=None,
        subject=user.email,
        address=address,
        detail=f"{signin.CODE_CEILING} wrong codes: the code step is stopped for the account",
        by="someone signing in",
    )
    db.session.commit()
    session.pop(PENDING, None)
    flash(
        "Too many wrong codes for this account: its codes are stopped. Its owner has been "
        "emailed how to sign in again."
    )
    return redirect(url_for("auth.login"))


def finish_signin(user: User, address: str, method: str | None, target: str | None):
    """Sign ``user`` in (a fresh session), tell them of failed attempts since their last
    sign-in, and send them on: to set up an authenticator when STAFF_MFA wants one."""
    failures = signin.complete(user, address, method)
    session.clear()  # a fresh session at login (no fixation)
    login_user(user)
    session["login_at"] = session["seen"] = now()
    db.session.commit()
    if failures.count:
        when = failures.latest_at.strftime("%d %b %Y %H:%M UTC") if failures.latest_at else ""
        flash(
            f"{failures.count} failed sign-in attempt{'s' if failures.count != 1 else ''} "
            f"to your account since your last sign-in (the latest on {when} from "
            f"{failures.latest_address}). If that was not you, nobody got in; consider "
            "changing your password on Your account.",
            "error",
        )
    if mfa_missing(user):
        flash("Set up an authenticator app to finish signing in: your account needs one.")
        return redirect(url_for("account.mfa_page"))
    return redirect(safe_next(target))


def tell_owner(user: User, what: str, address: str) -> None:
    """Email ``user`` that their account changed (``what``: a sentence's start, such as
    "Your password was changed"), from where and when; the caller commits."""
    from onboarding.db.models import utcnow

    mail.write(
        "account_changed",
        user.email,
        to_name=user.display_name,
        user=user,
        name=user.display_name,
        what=what,
        when=utcnow().strftime("%d %b %Y at %H:%M UTC"),
        address=address,
    )


def keep_this_session() -> None:
    """After a change that ended every session of the signed-in account (its version
    moved on), sign this one in again under the new version; the others stay ended."""
    login_at = session.get("login_at")
    login_user(current_user._get_current_object())
    session["login_at"] = login_at
    session["seen"] = now()


def mfa_missing(user) -> bool:
    """Whether STAFF_MFA wants ``user`` to have an authenticator app and they have none."""
    return signin.mfa_required(user, current_app.config["STAFF_MFA"]) and not user.has_totp


ENROLMENT_OPEN = {"account.mfa_page", "auth.logout", "static"}


def enforce_mfa_enrolment():
    """A signed-in user whom STAFF_MFA requires to use an authenticator app reaches no
    page but its set-up (and sign-out) until they have one."""
    if not current_user.is_authenticated or request.endpoint in ENROLMENT_OPEN:
        return None
    if not mfa_missing(current_user):
        return None
    if request.path.startswith("/api/"):
        return None  # bearer tokens, not sessions
    return redirect(url_for("account.mfa_page"))


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
    """End a staff session idle for SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS.

    A static file is no activity: the browser fetches the favicon, or an image, on its own
    after the page has loaded, and an idle tab must still come to its warning and its end.
    """
    if request.endpoint == "static" or not current_user.is_authenticated:
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
        if request.endpoint in (STATUS_ENDPOINT, "auth.keep_session"):
            logout_user()
            session.clear()
            return jsonify(signed_in=False, seconds_left=0), 401
        user_id = current_user.id
        logout_user()
        session.clear()
        if request.method == "GET":
            flash("Your session ended after a period of inactivity. Please sign in again.")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if request.endpoint in KEEPABLE:
            return keep_lapsed_post(user_id)
        flash("Your session ended after a period of inactivity. Please sign in again.")
        back = urlsplit(request.referrer or "")  # at least back to the page it came from
        if back.netloc == request.host and back.path.startswith("/workspace"):
            target = back.path + (f"?{back.query}" if back.query else "")
            return redirect(url_for("auth.login", next=target))
        return redirect(url_for("auth.login"))
    if request.endpoint == STATUS_ENDPOINT:
        return None  # asking how long is left is no activity
    if seen is None or moment - seen >= 60:  # refresh at most once a minute
        session["seen"] = moment
    return None


# --- nothing lost when a session lapses (issue 26) -----------------------------------------

KEEPABLE = frozenset({"contracts.save_terms", "contracts.save_agency", "sending.send"})
"""Forms whose post, arriving after the session lapsed, is kept (services.kept) and
restored into the same form, at the same path, after a fresh sign-in (``?kept=<id>``)."""
STATUS_ENDPOINT = "auth.session_status"
KEPT_NOTICE = (
    "Your session ended before your changes were saved. Nothing you typed is lost: it is "
    "filled in below. Check it and save it again."
)


def keep_lapsed_post(user_id: int):
    """A form posted after its author's session lapsed: kept server-side (never acted
    on: CSRFProtect checked its token before this hook, and even so it is only shown
    back, for its author to save after a fresh sign-in), then off to the sign-in page,
    which sends them back to the form with what they typed."""
    from onboarding.services import kept

    row = kept.keep_for_user(user_id, request.path, request.form)
    db.session.commit()
    flash(
        "Your session ended after a period of inactivity, so your changes are not saved "
        "yet. They are kept: sign in again and you will find them on the form."
    )
    return redirect(url_for("auth.login", next=f"{request.path}?kept={row.id}"))


def seconds_left() -> int | None:
    """Seconds until the signed-in session lapses for inactivity (or its age), or None."""
    if not current_user.is_authenticated:
        return None
    config = current_app.config
    moment = now()
    login_at, seen = session.get("login_at") or moment, session.get("seen") or moment
    idle_end = seen + config["SESSION_IDLE_MINUTES"] * 60
    max_end = login_at + config["SESSION_MAX_HOURS"] * 3600
    return max(0, min(idle_end, max_end) - moment)


@bp.app_context_processor
def _session_clock():
    return {"session_seconds_left": seconds_left}


@bp.get("/workspace/session")
@login_required
def session_status():
    """How long the session has left (JSON), without counting as activity: the page's
    warning asks before it warns (another tab may have kept the session going)."""
    return jsonify(signed_in=True, seconds_left=seconds_left())


@bp.post("/workspace/session")
@login_required
def keep_session():
    """The "Stay signed in" button: the session counts as active from now (a POST with CSRF)."""
    session["seen"] = now()
    return jsonify(signed_in=True, seconds_left=seconds_left())
