"""Accounts of the agency's staff: creating users, checking passwords. Callers commit.

The functions that hash or check passwords take the app's ``settings`` (a mapping such
as ``app.config``) and read ``PASSWORD_HASH_METHOD`` and ``AGENCY_NAME`` from it. Every
change to who can sign in is written to the security log (:mod:`.security_log`);
sign-in limits and second factors are :mod:`.signin` and :mod:`.mfa`.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from onboarding.db import db
from onboarding.db.models import User
from onboarding.domain.text import control_problem
from onboarding.services.intake.workspace import audit
from onboarding.services.people import security_log

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


PRODUCT_NAME = "onboarding"
"""The product's own name: a context word no password may contain (ASVS 6.2.11)."""


def context_words(email: str | None, settings: Mapping[str, Any] | None = None) -> list[str]:
    """The words a password of ``email``'s account may not contain (ASVS 6.2.11): the
    email, its name part and that part's pieces, the agency's name and its words (from
    the saved profile and ``AGENCY_NAME``), and the product's name; each of 4 letters or
    more, lower case."""
    words: set[str] = {PRODUCT_NAME}
    email = normalise_email(email or "")
    if email:
        local = email.split("@")[0]
        words |= {
            email,
            local,
            *local.replace("+", ".").replace("_", ".").replace("-", ".").split("."),
        }
    names = [str((settings or {}).get("AGENCY_NAME") or "")]
    try:
        from onboarding.services.profile import installation_profile

        names.append(installation_profile(names[0] or None).profile.trading_name)
    except Exception:  # noqa: BLE001, S110 - no profile table yet (a fresh database)
        pass
    for name in names:
        squeezed = "".join(ch for ch in name.lower() if ch.isalnum())
        words |= {squeezed, *("".join(c for c in w if c.isalnum()) for w in name.lower().split())}
    return sorted(w for w in words if len(w) >= 4)


def password_problem(password: str, context: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why a password is not acceptable (ASVS: length 8..128, not a common one, none of
    the ``context`` words such as the email or the agency's name), or None."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    if password.lower() in common_passwords():
        return "is one of the most common passwords: choose another"
    squeezed = "".join(ch for ch in password.lower() if ch.isalnum())
    for word in context:
        if word in password.lower() or ("".join(c for c in word if c.isalnum()) in squeezed):
            return (
                "must not contain your email address, the agency's name or the product's "
                f"name ({word!r} is easy to guess): choose another"
            )
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
    actor: User | None = None,
    address: str | None = None,
):
    """Add a user (``actor`` the admin, None for the command line; audited); returns
    ``(user, password)`` (a generated one when none is given).

    Raises AccountError for a bad email, role or password, or a taken email.
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("email", "Enter a valid email address")
    if role not in ROLES:
        raise AccountError("role", f"Role must be one of: {', '.join(ROLES)}")
    if user_by_email(email) is not None:
        raise AccountError("email", f"A user with the email {email} already exists")
    if name and control_problem(name, multiline=False):
        raise AccountError("name", f"The name {control_problem(name, multiline=False)}")
    password = password or secrets.token_urlsafe(12)
    problem = password_problem(password, context_words(email, settings))
    if problem:
        raise AccountError("password", f"The password {problem}")
    user = User(
        email=email, role=role, name=name, password_hash=hash_password(password, settings=settings)
    )
    db.session.add(user)
    db.session.flush()
    security_log.record(
        "user_created",
        actor=actor,
        subject=email,
        address=address,
        detail=f"role {role}" + ("" if actor else ", from the command line"),
    )
    return user, password


def authenticate(email: str, password: str, *, settings: Mapping[str, Any]) -> User | None:
    """The active user with these credentials, or None (same cost either way). Records
    nothing: the caller counts a failure (services.signin) or completes the sign-in."""
    user = user_by_email(email)
    if user is None:
        method = settings["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(
    user: User,
    password: str,
    *,
    settings: Mapping[str, Any],
    actor: User | None = None,
    address: str | None = None,
) -> None:
    """Change a password (every session of ``user`` ends; API tokens keep working, since
    integrations hold them); audited as a reset by ``actor`` or, when ``actor`` is the
    user, a change. AccountError if it is weak."""
    problem = password_problem(password, context_words(user.email, settings))
    if problem:
        raise AccountError("password", f"The password {problem}")
    user.password_hash = hash_password(password, settings=settings)
    user.session_version += 1
    own = actor is not None and actor.id == user.id
    security_log.record(
        "password_changed" if own else "password_reset",
        actor=actor,
        subject=user.email,
        address=address,
    )


def change_own_password(
    user: User,
    current: str,
    new: str,
    confirm: str,
    *,
    settings: Mapping[str, Any],
    address: str | None = None,
) -> None:
    """A user changes their own password, giving the current one (ASVS 6.2.2, 6.2.3).
    Raises AccountError naming the field: ``current_password``, ``new_password`` or
    ``confirm_password``."""
    if not current or not check_password_hash(user.password_hash, current):
        raise AccountError("current_password", "Your current password is not right")
    if not new:
        raise AccountError("new_password", "Enter a new password")
    if new != confirm:
        raise AccountError("confirm_password", "The two new passwords are not the same")
    if new == current:
        raise AccountError("new_password", "The new password must differ from the current one")
    try:
        set_password(user, new, settings=settings, actor=user, address=address)
    except AccountError as exc:
        raise AccountError("new_password", str(exc)) from None


def set_active(user: User, admin: User, active: bool, *, address: str | None = None) -> None:
    """An admin enables or disables ``user``. Disabling ends their sessions, and stops
    their API tokens and invites (checked where those are used, so enabling again brings
    them back); audited."""
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    security_log.record(
        "user_enabled" if active else "user_disabled",
        actor=admin,
        subject=user.email,
        address=address,
    )


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
    if user.is_admin and not (user.can_sign and user.title and user.name):
        # an admin grants the right, so they may grant it to themselves
        return (
            "You are an admin: give your account a name and a title and tick "
            "“May countersign agreements” on the Users page, then countersign here."
        )
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
    user: User,
    admin: User,
    *,
    can_sign: bool,
    title: str | None,
    name: str | None = None,
    address: str | None = None,
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
    for field, value in (("title", title), ("name", new_name)):
        if control_problem(value, multiline=False):
            raise AccountError(field, f"The {field} {control_problem(value, multiline=False)}")
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
        security_log.record(
            "signing_rights",
            actor=admin,
            subject=user.email,
            address=address,
            detail=f"{before} -> {after}",
        )


def _signing_state(user: User) -> str:
    who = ", ".join(part for part in (user.name, user.title) if part) or "no name or title"
    return f"{'can sign' if user.can_sign else 'cannot sign'} ({who})"
