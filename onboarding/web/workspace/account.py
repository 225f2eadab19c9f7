"""Your account (every member of staff): how you hear of your intakes by email, your
password, and your authenticator app (the second factor).

The notice choice is each user's own: one email per submission, change request and
acceptance; one daily digest of them (after ``DIGEST_HOUR`` UTC); or none. The
authenticator is set up by scanning a QR code drawn here and typing a code it shows, and
gives recovery codes shown once.

Every change to the account's password or second factor (changing the password;
setting up, removing or renewing the authenticator's recovery codes) is a step up: it
asks for the current password and, where the account has an authenticator app, a code
from it (a session alone is not enough), ends every other session of the account and
emails its owner.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField

from onboarding.db import db
from onboarding.services.notify import mail
from onboarding.services.people import mfa, signin
from onboarding.services.people.accounts import AccountError, change_own_password
from onboarding.web.forms import choices
from onboarding.web.workspace.auth import (
    client_address,
    keep_this_session,
    mfa_missing,
    staff_only,
    tell_owner,
)

bp = Blueprint("account", __name__, url_prefix="/workspace")
bp.before_request(staff_only)


class NoticesForm(FlaskForm):
    notices = RadioField(
        "How should we tell you of new submissions, change requests and acceptances?",
        choices=choices(mail.NOTICE_CHOICES.items()),
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    code = StringField("Code from your authenticator app")
    new_password = PasswordField("New password")
    confirm_password = PasswordField("New password again")


class CodeForm(FlaskForm):
    password = PasswordField("Your password")
    code = StringField("Code from your authenticator app")


class RemoveMfaForm(FlaskForm):
    password = PasswordField("Your password")
    code = StringField("Code from your authenticator app")


def render_account(
    notices_form=None,
    password_form=None,
    password_errors=None,
    remove_errors=None,
    recovery_errors=None,
    status=200,
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
        recovery_errors=recovery_errors or {},
        held=mail.held_count(current_user),
        recovery_left=mfa.unused_recovery_codes(current_user) if current_user.has_totp else 0,
        mfa_required=signin.mfa_required(current_user, current_app.config["STAFF_MFA"]),
    ), status


def refused_code(field: str) -> None:
    """A refused account change is rolled back; a wrong code in it still counts towards
    the account's code ceiling (services.mfa.count_wrong_code)."""
    db.session.rollback()
    if field == "code":
        mfa.count_wrong_code(current_user)
        db.session.commit()


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
    """Change your own password, giving the current one (and a code from your
    authenticator app, if you have one); your other sessions end (this one goes on), you
    are emailed, API tokens keep working."""
    form = PasswordForm()
    if not form.validate():
        errors = {"current_password": "The form had expired. Please try again."}
        return render_account(password_form=form, password_errors=errors, status=400)
    try:
        try:
            mfa.step_up(current_user, form.current_password.data or "", form.code.data)
        except mfa.MfaError as exc:
            raise AccountError(
                "current_password" if exc.field == "password" else "code", str(exc)
            ) from None
        change_own_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            form.confirm_password.data or "",
            settings=current_app.config,
            address=client_address(),
        )
    except AccountError as exc:
        refused_code(exc.field)
        form.current_password.data = form.new_password.data = form.confirm_password.data = ""
        form.code.data = ""
        return render_account(password_form=form, password_errors={exc.field: str(exc)}, status=422)
    tell_owner(current_user, "Your password was changed", client_address())
    db.session.commit()
    # Every other session ended with the version; this one carries on under the new one.
    keep_this_session()
    flash("Your password is changed. Every other session of your account has ended.", "success")
    return redirect(url_for("account.index"))


@bp.route("/account/mfa", methods=["GET", "POST"])
def mfa_page():
    """Set up an authenticator app: scan the QR code (or type the key), enter the code it
    shows and your password; the recovery codes are shown once. The secret offered is
    derived on the server (services.mfa.pending_secret), never kept in the cookie."""
    if current_user.has_totp:
        return redirect(url_for("account.index") + "#mfa")
    key = current_app.config["SECRET_KEY"]
    secret = mfa.pending_secret(current_user, key)
    form = CodeForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate():
            errors["code"] = "The form had expired. Please enter the code again."
        else:
            try:
                mfa.step_up(current_user, form.password.data or "", None)
                # The page may have been opened in the previous window.
                pending = [secret, mfa.pending_secret(current_user, key, back=1)]
                codes = mfa.enrol(current_user, pending, form.code.data or "", client_address())
            except mfa.MfaError as exc:
                refused_code(exc.field)
                errors[exc.field] = str(exc)
            else:
                tell_owner(current_user, "An authenticator app was set up", client_address())
                db.session.commit()
                keep_this_session()
                return render_template("manager/recovery_codes.html", codes=codes, first=True)
    uri = mfa.provisioning_uri(secret, current_user.email, issuer=_issuer())
    return render_template(
        "manager/mfa_setup.html",
        form=form,
        error=next(iter(errors.values()), None),
        errors=errors,
        qr=mfa.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=mfa_missing(current_user),
    ), (422 if errors else 200)


def _issuer() -> str:
    from onboarding.services.profile import installation_profile

    name = installation_profile(current_app.config["AGENCY_NAME"]).profile.trading_name
    return f"{name} onboarding".replace(":", " ")


@bp.post("/account/mfa/recovery")
def recovery_codes():
    """New recovery codes (the old ones stop working), after your password and a current
    code; your other sessions end and you are emailed."""
    form = CodeForm()
    if not current_user.has_totp:
        return redirect(url_for("account.index"))
    try:
        if not form.validate():
            raise mfa.MfaError("password", "The form had expired. Please try again.")
        mfa.step_up(current_user, form.password.data or "", form.code.data)
    except mfa.MfaError as exc:
        refused_code(exc.field)
        return render_account(recovery_errors={exc.field: str(exc)}, status=422)
    codes = mfa.renew_recovery_codes(current_user, client_address())
    tell_owner(current_user, "New recovery codes were made", client_address())
    db.session.commit()
    keep_this_session()
    return render_template("manager/recovery_codes.html", codes=codes, first=False)


@bp.post("/account/mfa/remove")
def remove_mfa():
    """Remove your authenticator app (only where STAFF_MFA does not require one), with
    your password and a current code; your other sessions end and you are emailed."""
    form = RemoveMfaForm()
    errors: dict[str, str] = {}
    field = "password"
    if signin.mfa_required(current_user, current_app.config["STAFF_MFA"]):
        errors[field] = "Your account must keep an authenticator app."
    elif not form.validate():
        errors[field] = "The form had expired. Please try again."
    else:
        try:
            mfa.step_up(current_user, form.password.data or "", form.code.data)
        except mfa.MfaError as exc:
            errors[exc.field] = str(exc)
    if errors:
        refused_code("code" if "code" in errors else "password")
        return render_account(remove_errors=errors, status=422)
    mfa.remove(current_user, current_user, client_address())
    tell_owner(current_user, "Your authenticator app was removed", client_address())
    db.session.commit()
    keep_this_session()
    flash("Your authenticator app is removed: you sign in with your password.", "success")
    return redirect(url_for("account.index"))
