"""Your account (every member of staff): how you hear of your intakes by email, your
password, and your authenticator app (the second factor).

The notice choice is each user's own: one email per submission, change request and
acceptance; one daily digest of them (after ``DIGEST_HOUR`` UTC); or none. Changing the
password asks for the current one and ends every other session of the account; the
authenticator is set up by scanning a QR code drawn here and typing a code it shows, and
gives recovery codes shown once.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField

from onboarding.db import db
from onboarding.services.notify import mail
from onboarding.services.people import mfa, signin
from onboarding.services.people.accounts import AccountError, change_own_password
from onboarding.web.forms import choices
from onboarding.web.workspace.auth import client_address, mfa_missing, staff_only

bp = Blueprint("account", __name__, url_prefix="/workspace")
bp.before_request(staff_only)

MFA_SECRET = "mfa_secret"  # noqa: S105 - a session key, not a secret
"""The session key of an authenticator secret shown but not yet confirmed."""


class NoticesForm(FlaskForm):
    notices = RadioField(
        "How should we tell you of new submissions, change requests and acceptances?",
        choices=choices(mail.NOTICE_CHOICES.items()),
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
    confirm_password = PasswordField("New password again")


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app")


class RemoveMfaForm(FlaskForm):
    password = PasswordField("Your password")
    code = StringField("Code from your authenticator app")


def render_account(
    notices_form=None, password_form=None, password_errors=None, remove_errors=None, status=200
):
    """The Your account page with its three forms (each showing its own errors)."""
    notices_form = notices_form or NoticesForm(data={"notices": current_user.notices})
    return render_template(
        "manager/account.html",
        form=notices_form,
        password_form=password_form or PasswordForm(formdata=None),
        password_errors=password_errors or {},
        remove_form=RemoveMfaForm(formdata=None),
        remove_errors=remove_errors or {},
        held=mail.held_count(current_user),
        recovery_left=mfa.unused_recovery_codes(current_user) if current_user.has_totp else 0,
        mfa_required=signin.mfa_required(current_user, current_app.config["STAFF_MFA"]),
    ), status


@bp.route("/account", methods=["GET", "POST"])
def index():
    form = NoticesForm(data={"notices": current_user.notices})
    if form.validate_on_submit():
        mail.set_notices(current_user, form.notices.data)
        db.session.commit()
        flash(f"Saved: {mail.NOTICE_CHOICES[form.notices.data].lower()}.", "success")
        return redirect(url_for("account.index"))
    return render_account(notices_form=form, status=400 if form.errors else 200)


@bp.post("/account/password")
def password():
    """Change your own password, giving the current one; your other sessions end (this
    one goes on), API tokens keep working."""
    form = PasswordForm()
    if not form.validate():
        errors = {"current_password": "The form had expired. Please try again."}
        return render_account(password_form=form, password_errors=errors, status=400)
    try:
        change_own_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            form.confirm_password.data or "",
            settings=current_app.config,
            address=client_address(),
        )
    except AccountError as exc:
        db.session.rollback()
        form.current_password.data = form.new_password.data = form.confirm_password.data = ""
        return render_account(password_form=form, password_errors={exc.field: str(exc)}, status=422)
    db.session.commit()
    # Every other session ended with the version; this one carries on under the new one.
    login_at = session.get("login_at")
    login_user(current_user._get_current_object())
    session["login_at"] = login_at
    flash("Your password is changed. Every other session of your account has ended.", "success")
    return redirect(url_for("account.index"))


@bp.route("/account/mfa", methods=["GET", "POST"])
def mfa_page():
    """Set up an authenticator app: scan the QR code (or type the key), enter the code it
    shows; the recovery codes are shown once."""
    if current_user.has_totp:
        return redirect(url_for("account.index") + "#mfa")
    secret = session.get(MFA_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[MFA_SECRET] = mfa.new_secret()
    form = CodeForm()
    error = None
    if request.method == "POST":
        if not form.validate():
            error = "The form had expired. Please enter the code again."
        else:
            try:
                codes = mfa.enrol(current_user, secret, form.code.data or "", client_address())
            except mfa.MfaError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                session.pop(MFA_SECRET, None)
                return render_template("manager/recovery_codes.html", codes=codes, first=True)
    uri = mfa.provisioning_uri(secret, current_user.email, issuer=_issuer())
    return render_template(
        "manager/mfa_setup.html",
        form=form,
        error=error,
        qr=mfa.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=mfa_missing(current_user),
    ), (422 if error else 200)


def _issuer() -> str:
    from onboarding.services.profile import installation_profile

    name = installation_profile(current_app.config["AGENCY_NAME"]).profile.trading_name
    return f"{name} onboarding".replace(":", " ")


@bp.post("/account/mfa/recovery")
def recovery_codes():
    """New recovery codes (the old ones stop working), after a current code."""
    form = CodeForm()
    if not current_user.has_totp:
        return redirect(url_for("account.index"))
    if not form.validate() or not mfa.check_totp(current_user, form.code.data or ""):
        db.session.rollback()
        flash("Enter the code your authenticator app shows now to get new recovery codes.", "error")
        return redirect(url_for("account.index") + "#mfa")
    codes = mfa.new_recovery_codes(current_user)
    from onboarding.services.people import security_log

    security_log.record(
        "recovery_codes_renewed",
        actor=current_user,
        subject=current_user.email,
        address=client_address(),
    )
    db.session.commit()
    return render_template("manager/recovery_codes.html", codes=codes, first=False)


@bp.post("/account/mfa/remove")
def remove_mfa():
    """Remove your authenticator app (only where STAFF_MFA does not require one), with
    your password and a current code."""
    from werkzeug.security import check_password_hash

    form = RemoveMfaForm()
    errors: dict[str, str] = {}
    field = "password"
    if signin.mfa_required(current_user, current_app.config["STAFF_MFA"]):
        errors[field] = "Your account must keep an authenticator app."
    elif not form.validate():
        errors[field] = "The form had expired. Please try again."
    elif not check_password_hash(current_user.password_hash, form.password.data or ""):
        errors[field] = "Your password is not right"
    elif not mfa.check_totp(current_user, form.code.data or ""):
        errors["code"] = "Enter the code your authenticator app shows now"
    if errors:
        db.session.rollback()
        return render_account(remove_errors=errors, status=422)
    mfa.remove(current_user, current_user, client_address())
    db.session.commit()
    flash("Your authenticator app is removed: you sign in with your password.", "success")
    return redirect(url_for("account.index"))
