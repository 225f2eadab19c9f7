"""The second factor: TOTP (RFC 6238, with pyotp) and single-use recovery codes.
Callers commit.

Enrolment happens in two steps: :func:`new_secret` makes a secret the page shows as a
QR code (:func:`qr_svg`, drawn on the server) and as text; :func:`enrol` keeps it only
once the person types a code their app made from it, and returns the recovery codes,
shown once: only their SHA-256 is stored. A TOTP code is accepted once (the time step
of the last one used is kept) within one step either side of now, for clock drift.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, select

from onboarding.db import db
from onboarding.db.models import RecoveryCode, User, utcnow
from onboarding.services.people import security_log

ISSUER = "Onboarding"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class MfaError(ValueError):
    """A second-factor request refused, with the form field and a sentence."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


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


def enrol(user: User, secret: str, code: str, address: str | None = None) -> list[str]:
    """Keep ``secret`` as ``user``'s authenticator once ``code`` proves their app has it;
    returns the new recovery codes (shown once). Raises MfaError (``code``) otherwise."""
    step = _matching_step(secret, code)
    if step is None:
        raise MfaError(
            "code",
            "Enter the 6-digit code your authenticator app shows now for this account",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    security_log.record("mfa_enrolled", actor=user, subject=user.email, address=address)
    return codes


def remove(user: User, actor: User, address: str | None = None) -> None:
    """Remove ``user``'s authenticator and recovery codes: by an admin (``mfa_reset``, for
    someone who lost their phone) or by its owner (``mfa_disabled``). Their sessions end."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_version += 1 if actor.id != user.id else 0
    security_log.record(
        "mfa_reset" if actor.id != user.id else "mfa_disabled",
        actor=actor,
        subject=user.email,
        address=address,
    )
