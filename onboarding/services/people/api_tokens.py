"""API tokens: made, looked up, revoked. Only a token's SHA-256 is stored. Callers commit.

A token is ``onb_`` followed by ``secrets.token_urlsafe(32)`` (256 bits). The database
keeps its SHA-256 (hex) and, for display, its first 12 characters (``onb_`` and 8 more:
not enough to guess the rest). The token itself is shown once, when it is made.

Lookup is by the hash (a unique index): a guess that differs from a real token in any
character has an unrelated hash, so the time a lookup takes says nothing about how
close a guess was; the stored hash is compared again with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.models import ApiToken, User, utcnow
from onboarding.domain.text import control_problem

PREFIX = "onb_"
DISPLAY_LENGTH = 12
MAX_NAME = 80
TOKEN_SHAPE = re.compile(r"onb_[A-Za-z0-9_-]{43}")
TOUCH_EVERY = timedelta(seconds=60)
"""``last_used_at`` is written at most once a minute per token (not on every request)."""


class TokenError(ValueError):
    """A token request refused, with the form field concerned."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class TokenInfo:
    """What a request needs to know about the token it carries (no ORM object)."""

    id: int
    name: str
    prefix: str
    last_used_at: datetime | None


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(name: str, user: User | None = None) -> tuple[ApiToken, str]:
    """A new token named ``name``; returns ``(row, token)`` — the token is shown once."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("name", "Give the token a name, for example the site that uses it")
    if len(name) > MAX_NAME:
        raise TokenError("name", f"The name must be at most {MAX_NAME} characters")
    problem = control_problem(name, multiline=False)
    if problem:
        raise TokenError("name", f"The name {problem}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        prefix=token[:DISPLAY_LENGTH],
        token_hash=hash_token(token),
        created_by_id=user.id if user else None,
    )
    db.session.add(row)
    return row, token


def find_token(token: str) -> TokenInfo | None:
    """The active token ``token`` names, or None (unknown, malformed, revoked, or made by
    a user who is now disabled: disabling someone stops their tokens).

    Reads on a connection of its own, so the request's session (and, on SQLite, the
    kind of transaction it starts) is left alone.
    """
    if not token or not TOKEN_SHAPE.fullmatch(token):
        return None
    digest = hash_token(token)
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                ApiToken.id,
                ApiToken.name,
                ApiToken.prefix,
                ApiToken.token_hash,
                ApiToken.last_used_at,
                ApiToken.revoked_at,
                User.active.label("creator_active"),
            )
            .outerjoin(User, User.id == ApiToken.created_by_id)
            .where(ApiToken.token_hash == digest)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.creator_active is False:  # made by a user since disabled: it stops with them
        return None
    if not hmac.compare_digest(row.token_hash, digest):  # pragma: no cover - same by lookup
        return None
    return TokenInfo(row.id, row.name, row.prefix, row.last_used_at)


def touch(info: TokenInfo) -> None:
    """Record that a token was used (at most once per :data:`TOUCH_EVERY`); commits.

    Call with no transaction open on the request's session (after its commit).
    """
    now = utcnow()
    if info.last_used_at is not None and now - info.last_used_at < TOUCH_EVERY:
        return
    from onboarding.db.engine import begin_write

    begin_write(db.session())
    db.session.execute(update(ApiToken).where(ApiToken.id == info.id).values(last_used_at=now))
    db.session.commit()


def revoke_token(token_id: int) -> ApiToken | None:
    """Revoke a token by id (idempotent); None if there is no such token."""
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def list_tokens() -> list[ApiToken]:
    """Every token, newest first (revoked ones too, marked)."""
    return list(db.session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars())
