"""Accounts of the agency's staff: creating users, checking passwords. Callers commit.

The functions that hash passwords or lock accounts take the app's ``settings`` (a
mapping such as ``app.config``) and read ``PASSWORD_HASH_METHOD``,
``ACCOUNT_LOCK_ATTEMPTS`` and ``ACCOUNT_LOCK_MINUTES`` from it.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from onboarding.db import db
from onboarding.db.models import User, utcnow
from onboarding.services.workspace import audit

ROLES = ("admin", "manager")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common-passwords.txt"
# A hash to compare against when the email is unknown, so a wrong email takes as long
# as a wrong password (no user enumeration by timing).
_DUMMY_HASH: dict[str, str] = {}


class AccountError(ValueError):
    """A user that cannot be created or changed, with the field and a sentence."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why a password is not acceptable (ASVS: length 8..128, not a common one), or None."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    if password.lower() in common_passwords():
        return "is one of the most common passwords: choose another"
    return None


def hash_password(password: str, *, settings: Mapping[str, Any]) -> str:
    """The stored form of ``password``, hashed with ``PASSWORD_HASH_METHOD``."""
    return generate_password_hash(password, method=settings["PASSWORD_HASH_METHOD"])


def user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def create_user(
    email: str,
    role: str,
    password: str | None = None,
    name: str | None = None,
    *,
    settings: Mapping[str, Any],
):
    """Add a user; returns ``(user, password)`` (a generated one when none is given).

    Raises AccountError for a bad email, role or password, or a taken email.
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("email", "Enter a valid email address")
    if role not in ROLES:
        raise AccountError("role", f"Role must be one of: {', '.join(ROLES)}")
    if user_by_email(email) is not None:
        raise AccountError("email", f"A user with the email {email} already exists")
    password = password or secrets.token_urlsafe(12)
    problem = password_problem(password)
    if problem:
        raise AccountError("password", f"The password {problem}")
    user = User(
        email=email, role=role, name=name, password_hash=hash_password(password, settings=settings)
    )
    db.session.add(user)
    return user, password


def authenticate(email: str, password: str, *, settings: Mapping[str, Any]) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = user_by_email(email)
    if user is None:
        method = settings["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    user.failed_logins, user.first_failed_at = 0, None
    return user


def _window_open(user: User, settings: Mapping[str, Any]) -> bool:
    """Whether the account's failed sign-ins started less than ACCOUNT_LOCK_MINUTES ago."""
    minutes = settings["ACCOUNT_LOCK_MINUTES"]
    return user.first_failed_at is not None and utcnow() - user.first_failed_at < timedelta(
        minutes=minutes
    )


def login_blocked(email: str, *, settings: Mapping[str, Any]) -> bool:
    """Whether the account of ``email`` has had ACCOUNT_LOCK_ATTEMPTS failed sign-ins
    within ACCOUNT_LOCK_MINUTES."""
    user = user_by_email(email)
    if user is None or not _window_open(user, settings):
        return False
    return user.failed_logins >= settings["ACCOUNT_LOCK_ATTEMPTS"]


def note_failure(email: str, *, settings: Mapping[str, Any]) -> None:
    """Count a failed sign-in against the account (if there is one)."""
    user = user_by_email(email)
    if user is None:
        return
    if _window_open(user, settings):
        user.failed_logins += 1
    else:
        user.failed_logins, user.first_failed_at = 1, utcnow()


def set_password(user: User, password: str, *, settings: Mapping[str, Any]) -> None:
    """Change a password (ends the user's other sessions); AccountError if it is weak."""
    problem = password_problem(password)
    if problem:
        raise AccountError("password", f"The password {problem}")
    user.password_hash = hash_password(password, settings=settings)
    user.session_version += 1


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<session_version>"`` from the session."""
    try:
        uid, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def count_users() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


# --- signing rights ---------------------------------------------------------------------------

MAX_TITLE = MAX_NAME = 120


def signing_name(user: User) -> str:
    """The name a countersignature shows."""
    return " ".join((user.name or "").split()) or user.display_name


def signing_problem(user: User) -> str | None:
    """Why ``user`` cannot countersign agreements for the agency (a sentence to them), or
    None: signing rights are granted by an admin, and the countersignature shows the
    user's name and title, so both must be set."""
    if not user.active:
        return "This account is disabled."
    if not user.can_sign:
        return (
            "You do not have signing rights: an admin grants them on the Users page, so "
            "ask an admin to countersign or to grant you the right."
        )
    if not " ".join((user.title or "").split()):
        return (
            "Your account has no title, which the countersignature shows: ask an admin to set it."
        )
    if not " ".join((user.name or "").split()):
        return "Your account has no name, which the countersignature shows: ask an admin to set it."
    return None


def set_signing(
    user: User, admin: User, *, can_sign: bool, title: str | None, name: str | None = None
) -> None:
    """An admin grants or withdraws ``user``'s right to countersign agreements, and sets
    the name and title the countersignature shows; audited. Raises AccountError
    (``title`` or ``name``) for a value too long, or a right granted without a title or
    name. Callers commit."""
    title = " ".join((title or "").split())
    new_name = " ".join((name if name is not None else user.name or "").split())
    if len(title) > MAX_TITLE:
        raise AccountError("title", f"The title must be at most {MAX_TITLE} characters")
    if len(new_name) > MAX_NAME:
        raise AccountError("name", f"The name must be at most {MAX_NAME} characters")
    if can_sign and not title:
        raise AccountError(
            "title",
            f"Give {user.email} a title before granting signing rights: the "
            "countersignature shows it",
        )
    if can_sign and not new_name:
        raise AccountError(
            "name",
            f"Give {user.email} a name before granting signing rights: the "
            "countersignature shows it",
        )
    before = _signing_state(user)
    user.title = title or None
    user.name = new_name or None
    user.can_sign = can_sign
    after = _signing_state(user)
    if before != after:
        audit(None, admin, "signing_rights", before, after, user.email)


def _signing_state(user: User) -> str:
    who = ", ".join(part for part in (user.name, user.title) if part) or "no name or title"
    return f"{'can sign' if user.can_sign else 'cannot sign'} ({who})"
