"""The second factor: TOTP (RFC 6238, with pyotp) and single-use recovery codes.
Callers commit.

Enrolment happens in two steps: :func:`pending_secret` is the secret the page shows as a
QR code (:func:`qr_svg`, drawn on the server) and as text; :func:`enrol` keeps it only
once the person types a code their app made from it, and returns the recovery codes,
shown once: only their SHA-256 is stored. The pending secret never travels in the
session cookie: the server derives it (HMAC of the app's secret key, the account and
its session version, and a :data:`ENROL_WINDOW` time window), so it expires on its own
and any change to the account voids it. A TOTP code is accepted once (the time step
of the last one used is kept) within one step either side of now, for clock drift.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash

from onboarding.db import db
from onboarding.db.models import RecoveryCode, User, utcnow
from onboarding.services.people import security_log

ISSUER = "Onboarding"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
ENROL_WINDOW = 900
"""Seconds a pending secret is shown for; one shown is accepted for up to two windows."""


class MfaError(ValueError):
    """A second-factor request refused, with the form field and a sentence."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def pending_secret(user: User, key: str, now: float | None = None, back: int = 0) -> str:
    """The authenticator secret ``user`` is offered while setting one up: derived on the
    server from ``key`` (the app's secret key), the account, its session version and the
    current :data:`ENROL_WINDOW` (``back`` windows ago), so nothing is kept in the cookie
    and it lapses by itself."""
    window = int((time.time() if now is None else now) // ENROL_WINDOW) - back
    message = f"totp-enrol:{user.id}:{user.session_version}:{window}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()  # 160 bits, 32 characters


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG markup (no image request, no third party)."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, title="QR code for your authenticator app", dark="#0b0c0c", light="#ffffff"
    )


def _clean(code: str) -> str:
    return "".join((code or "").split())


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (now, or one either side) whose code is ``code``, or None."""
    code = _clean(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    step = int(moment // totp.interval)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def check_totp(user: User, code: str, now: float | None = None) -> bool:
    """Whether ``code`` is a current TOTP code of ``user`` not used before (a replayed
    code is refused); the step used is remembered."""
    if not user.has_totp:
        return False
    step = _matching_step(user.totp_secret or "", code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def new_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with :data:`RECOVERY_CODES` new ones, returned
    to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code)))
    return codes


def use_recovery_code(user: User, code: str, address: str | None = None) -> bool:
    """Whether ``code`` is one of ``user``'s unused recovery codes; it is used up."""
    code = _clean(code)
    if not code or len(code) > 20:
        return False
    row = db.session.execute(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    row.used_at = utcnow()
    left = unused_recovery_codes(user)
    security_log.record(
        "recovery_code_used",
        actor=user,
        subject=user.email,
        address=address,
        detail=f"{left} left",
    )
    return True


def unused_recovery_codes(user: User) -> int:
    """How many of ``user``'s recovery codes are unused."""
    rows = db.session.execute(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    return len(rows)


def step_up(user: User, password: str, code: str | None) -> None:
    """The proof an account change asks for (ASVS 6.2.3, 6.4.6): the current password
    and, where the account has an authenticator app, a current code from it (a recovery
    code does not do). Raises MfaError naming the field (``password`` or ``code``)."""
    from onboarding.services.people import signin

    if not password or not check_password_hash(user.password_hash, password):
        raise MfaError("password", "Your current password is not right")
    if user.has_totp and signin.codes_stopped(user):
        raise MfaError(
            "code",
            "Too many wrong codes were entered for your account: sign out and sign in again "
            "with the code we emailed you, or ask an admin",
        )
    if user.has_totp and not check_totp(user, code or ""):
        raise MfaError("code", "Enter the code your authenticator app shows now")


def count_wrong_code(user: User) -> None:
    """A wrong code at a step-up counts towards the account's code ceiling like one at
    sign-in (a session and the password must not allow unlimited guesses); committed
    by the caller after it rolled the refused change back."""
    from onboarding.services.people import signin

    if user.has_totp and signin.record_code_failure(user):
        security_log.record(
            "signin_second_factor",
            actor=user,
            subject=user.email,
            detail=f"{signin.CODE_CEILING} wrong codes at a step-up: the code step is stopped",
        )


def renew_recovery_codes(user: User, address: str | None = None) -> list[str]:
    """New recovery codes for ``user`` (after :func:`step_up`): the old ones stop working
    and the account's other sessions end (audited)."""
    codes = new_recovery_codes(user)
    user.session_version += 1
    security_log.record("recovery_codes_renewed", actor=user, subject=user.email, address=address)
    return codes


def enrol(
    user: User, secrets_: str | list[str], code: str, address: str | None = None
) -> list[str]:
    """Keep the secret (of ``secrets_``, the pending ones) that ``code`` proves the
    user's app has as ``user``'s authenticator; returns the new recovery codes (shown
    once). Raises MfaError (``code``) otherwise."""
    step, secret = None, ""
    for secret in [secrets_] if isinstance(secrets_, str) else secrets_:
        step = _matching_step(secret, code)
        if step is not None:
            break
    if step is None:
        raise MfaError(
            "code",
            "Enter the 6-digit code your authenticator app shows now for this account",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.session_version += 1  # a factor change ends the account's other sessions
    codes = new_recovery_codes(user)
    security_log.record("mfa_enrolled", actor=user, subject=user.email, address=address)
    return codes


def remove(user: User, actor: User, address: str | None = None) -> None:
    """Remove ``user``'s authenticator and recovery codes: by an admin (``mfa_reset``, for
    someone who lost their phone) or by its owner (``mfa_disabled``). Every session of
    the account ends (the owner's own view signs its session in again), and a stopped
    second-factor ceiling is lifted."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_version += 1
    user.failed_logins = 0
    user.first_failed_at = None
    security_log.record(
        "mfa_reset" if actor.id != user.id else "mfa_disabled",
        actor=actor,
        subject=user.email,
        address=address,
    )
