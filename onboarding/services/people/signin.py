"""Signing in without being locked out: failures counted per (email, address), per
address and per account, in the database (every app server counts the same ones), the
same way whether the email is an account or not. Callers commit.

- A pair (email, address) past ``LOGIN_PAIR_LIMIT`` waits (429), and so does an address
  past ``LOGIN_ADDRESS_LIMIT`` over every email; the account stays open to every other
  address, so nobody who lacks the password can lock its owner out.
- An account past ``LOGIN_ACCOUNT_CEILING`` (failures from anywhere) still opens with its
  password, but only with a second factor too: the TOTP for those who have one, otherwise
  a one-time code emailed to the owner. Guessing stays bounded; the owner gets in.
- Wrong second-factor codes are also counted per account, from every address alike
  (``User.failed_logins`` since ``User.first_failed_at``): past :data:`CODE_CEILING` in
  :data:`CODE_WINDOW` the code step is stopped for the account everywhere, every pending
  sign-in is void, and the owner is emailed a one-time code that lifts the stop (an
  admin's reset of the authenticator lifts it too). Someone who has the password cannot
  guess the TOTP by spreading guesses over many addresses (ASVS 6.3.1).
- The owner is told of the failures since their last sign-in when they next sign in.

Nothing here sleeps: a refused attempt costs the server one count query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from onboarding.db import db
from onboarding.db.models import LoginFailure, User, utcnow
from onboarding.domain.text import parse_rate
from onboarding.services.people import security_log
from onboarding.services.people.accounts import normalise_email

KEEP = timedelta(days=30)
"""Failures are kept this long (the owner's notice looks back to their last sign-in)."""
CODE_TRIES = 5
"""Wrong tries an emailed code takes before it is void (sign in again for another)."""
MFA_POLICIES = ("admins", "all", "optional")
CODE_CEILING = 10
"""Wrong second-factor codes an account takes, from every address together, before its
code step stops."""
CODE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Limits:
    """The sign-in limits: ``(count, window in seconds)`` each."""

    pair: tuple[int, int]
    address: tuple[int, int]
    ceiling: tuple[int, int]
    code_minutes: int = 10

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> Limits:
        """The limits of the app's settings; ValueError naming a setting that does not
        parse."""
        values = {}
        for name, key in (
            ("pair", "LOGIN_PAIR_LIMIT"),
            ("address", "LOGIN_ADDRESS_LIMIT"),
            ("ceiling", "LOGIN_ACCOUNT_CEILING"),
        ):
            try:
                values[name] = parse_rate(str(settings[key]))
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return cls(**values, code_minutes=int(settings.get("SIGNIN_CODE_MINUTES") or 10))


def check_settings(settings: Mapping[str, Any]) -> list[str]:
    """Problems with the sign-in settings, each naming its setting."""
    problems = []
    try:
        Limits.from_config(settings)
    except ValueError as exc:
        problems.append(str(exc))
    policy = settings.get("STAFF_MFA")
    if policy not in MFA_POLICIES:
        problems.append(f"STAFF_MFA must be one of {', '.join(MFA_POLICIES)} (got {policy!r})")
    return problems


def _since(seconds: int, now: datetime) -> datetime:
    return now - timedelta(seconds=seconds)


def _count(*where: Any) -> int:
    return db.session.execute(select(func.count(LoginFailure.id)).where(*where)).scalar_one()


def refused(email: str, address: str, limits: Limits, now: datetime | None = None) -> bool:
    """Whether this address must wait before trying ``email`` again (its pair, or the
    address itself, is at its limit). The same answer for an account and a stranger."""
    now = now or utcnow()
    email = normalise_email(email)
    count, window = limits.pair
    if (
        _count(
            LoginFailure.email == email,
            LoginFailure.address == address,
            LoginFailure.at > _since(window, now),
        )
        >= count
    ):
        return True
    count, window = limits.address
    return _count(LoginFailure.address == address, LoginFailure.at > _since(window, now)) >= count


def refused_before(email: str, address: str, limits: Limits, now: datetime | None = None) -> bool:
    """Whether the address was already refused before the failure just counted (so the
    security log has one row when it starts waiting, not one per guess)."""
    now = now or utcnow()
    email = normalise_email(email)
    count, window = limits.pair
    pair = _count(
        LoginFailure.email == email,
        LoginFailure.address == address,
        LoginFailure.at > _since(window, now),
    )
    count_a, window_a = limits.address
    per_address = _count(LoginFailure.address == address, LoginFailure.at > _since(window_a, now))
    return pair - 1 >= count or per_address - 1 >= count_a


def record_failure(email: str, address: str, now: datetime | None = None) -> None:
    """Count one failed sign-in (a wrong password, or a wrong second-factor code), and
    forget those older than :data:`KEEP`."""
    now = now or utcnow()
    db.session.add(LoginFailure(email=normalise_email(email)[:254], address=address[:64], at=now))
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))


def past_ceiling(email: str, limits: Limits, now: datetime | None = None) -> bool:
    """Whether the account of ``email`` had more failures, from anywhere, than its
    ceiling allows: its next sign-in needs a second factor as well."""
    now = now or utcnow()
    count, window = limits.ceiling
    return (
        _count(LoginFailure.email == normalise_email(email), LoginFailure.at > _since(window, now))
        >= count
    )


def just_reached_ceiling(email: str, limits: Limits, now: datetime | None = None) -> bool:
    """Whether the failure just counted took the account of ``email`` to its ceiling
    (the security log notes that once, not every guess)."""
    now = now or utcnow()
    count, window = limits.ceiling
    return (
        _count(LoginFailure.email == normalise_email(email), LoginFailure.at > _since(window, now))
        == count
    )


def mfa_required(user: User, policy: str) -> bool:
    """Whether ``STAFF_MFA`` (``policy``) makes ``user`` set up an authenticator app."""
    return policy == "all" or (policy == "admins" and user.is_admin)


def second_factor(user: User, limits: Limits, now: datetime | None = None) -> str | None:
    """What ``user``, whose password was right, must give as well: ``"totp"`` (they
    have an authenticator app), ``"email"`` (the account is past its ceiling and they
    have none: a code is emailed), or None."""
    if user.has_totp:
        return "totp"
    if past_ceiling(user.email, limits, now):
        return "email"
    return None


# --- the account-wide ceiling on second-factor codes -----------------------------------------


def codes_stopped(user: User) -> bool:
    """Whether ``user``'s code step is stopped (too many wrong codes from anywhere): no
    authenticator or recovery code is taken until the emailed code or an admin lifts
    it."""
    return (user.failed_logins or 0) >= CODE_CEILING


def record_code_failure(user: User, now: datetime | None = None) -> bool:
    """Count a wrong second-factor code against ``user``'s account (every address
    alike); True when this one stopped the code step."""
    now = now or utcnow()
    count = user.failed_logins or 0
    if count < CODE_CEILING and (
        user.first_failed_at is None or now - user.first_failed_at > CODE_WINDOW
    ):
        count, user.first_failed_at = 0, now
    user.failed_logins = count + 1
    return user.failed_logins == CODE_CEILING


def clear_code_failures(user: User) -> None:
    """A right code (or the owner's emailed one): the account's count starts again."""
    user.failed_logins = 0
    user.first_failed_at = None


# --- the one-time code by email ---------------------------------------------------------------


def _code_digest(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.id}:{code}".encode()).hexdigest()


def issue_email_code(user: User, limits: Limits, now: datetime | None = None) -> str:
    """A new six-digit sign-in code for ``user`` (the previous one is void); returns it
    to be emailed. Only its hash is kept."""
    code = f"{secrets.randbelow(10**6):06d}"
    user.email_code_hash = _code_digest(user, code)
    user.email_code_expires_at = (now or utcnow()) + timedelta(minutes=limits.code_minutes)
    user.email_code_tries = 0
    return code


def check_email_code(user: User, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is ``user``'s emailed code, unexpired and not yet used; a right
    code is used up, and :data:`CODE_TRIES` wrong ones void it."""
    if user.email_code_hash is None or user.email_code_expires_at is None:
        return False
    if (now or utcnow()) >= user.email_code_expires_at:
        user.email_code_hash = None
        return False
    code = "".join(code.split())
    if hmac.compare_digest(user.email_code_hash, _code_digest(user, code)):
        user.email_code_hash = user.email_code_expires_at = None
        user.email_code_tries = 0
        return True
    user.email_code_tries += 1
    if user.email_code_tries >= CODE_TRIES:
        user.email_code_hash = None
    return False


def may_issue_unlock_code(user: User, now: datetime | None = None) -> bool:
    """Whether a stopped account may be emailed a new code: one at most per code's
    lifetime, so someone holding the password gets five guesses per
    ``SIGNIN_CODE_MINUTES`` however many addresses they use."""
    return user.email_code_expires_at is None or (now or utcnow()) >= user.email_code_expires_at


def email_code_live(user: User, now: datetime | None = None) -> bool:
    """Whether ``user`` has an emailed code that can still be used."""
    return (
        user.email_code_hash is not None
        and user.email_code_expires_at is not None
        and (now or utcnow()) < user.email_code_expires_at
    )


# --- a completed sign-in -------------------------------------------------------------------------


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins to an account since its last sign-in: how many, the latest."""

    count: int
    latest_at: datetime | None
    latest_address: str | None


def failures_since_last_signin(user: User) -> Failures:
    """The failed sign-ins to ``user``'s account since they last signed in."""
    where = [LoginFailure.email == user.email]
    if user.last_login_at is not None:
        where.append(LoginFailure.at > user.last_login_at)
    count = _count(*where)
    latest = (
        db.session.execute(select(LoginFailure).where(*where).order_by(LoginFailure.id.desc()))
        .scalars()
        .first()
    )
    return Failures(count, latest.at if latest else None, latest.address if latest else None)


def complete(user: User, address: str, method: str | None = None) -> Failures:
    """Record a successful sign-in (audited) and return the failures its owner should
    hear of (those since their previous sign-in)."""
    failures = failures_since_last_signin(user)
    user.last_login_at = utcnow()
    security_log.record(
        "signin",
        actor=user,
        subject=user.email,
        address=address,
        detail=f"with {method}" if method else "with a password",
    )
    return failures
