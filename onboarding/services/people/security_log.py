"""The security log: every event that changes who can do what, with who, when and from
where (ASVS 16.3.1, 16.3.3). Callers commit.

Each :func:`record` adds a :class:`~onboarding.db.models.SecurityEvent` row (admins read
them on the Security log page and export them as CSV) and writes one log line, every
value shown by :func:`~onboarding.domain.text.printable` so nothing a visitor typed can
forge a line.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import SecurityEvent, User, utcnow
from onboarding.domain.text import printable

log = logging.getLogger("onboarding.security")

KINDS = {
    "signin": "Signed in",
    "signin_second_factor": "Second factor asked at sign-in",
    "signin_throttled": "Sign-in refused: too many failures from that address",
    "signin_code_sent": "Sign-in code emailed",
    "user_created": "User added",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled",
    "password_reset": "Password reset by an admin",
    "password_changed": "Password changed by its owner",
    "mfa_enrolled": "Authenticator app set up",
    "mfa_reset": "Authenticator app reset by an admin",
    "mfa_disabled": "Authenticator app removed by its owner",
    "recovery_code_used": "Recovery code used",
    "recovery_codes_renewed": "Recovery codes renewed",
    "api_token_created": "API token created",
    "api_token_revoked": "API token revoked",
    "webhook_added": "Webhook endpoint added",
    "webhook_changed": "Webhook endpoint changed",
    "webhook_removed": "Webhook endpoint removed",
    "signing_rights": "Signing rights changed",
    "agreement_link_renewed": "Agreement link renewed",
}
"""Every kind of event, with the words the Security log page shows."""
PAGE = 200
CSV_COLUMNS = ("at", "kind", "event", "actor", "subject", "address", "detail")


def record(
    kind: str,
    *,
    actor: User | None = None,
    subject: str | None = None,
    address: str | None = None,
    detail: str | None = None,
    by: str | None = None,
) -> SecurityEvent:
    """Add one event (the caller's transaction) and log it on one line; ``by`` says who
    acted when no user did (the default: the command line)."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    event = SecurityEvent(
        at=utcnow(),
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else None,
        subject=(subject or None) and subject[:254],
        address=(address or None) and address[:64],
        detail=(detail or None) and detail[:500],
    )
    db.session.add(event)
    log.info(
        "security: %s by %s on %s from %s%s",
        kind,
        printable(event.actor or by or "the command line"),
        printable(subject or "-"),
        printable(address or "-"),
        f" ({printable(detail)})" if detail else "",
    )
    return event


def events(kind: str | None = None, before_id: int | None = None, limit: int = PAGE):
    """The latest events, newest first (of one ``kind`` when given; older than the event
    ``before_id`` for the next page)."""
    query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    if before_id:
        query = query.where(SecurityEvent.id < before_id)
    return list(db.session.execute(query).scalars())


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if isinstance(value, datetime):
        text = value.isoformat()
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(rows: Iterable[SecurityEvent]) -> str:
    """The events as CSV, with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in rows:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    e.at,
                    e.kind,
                    KINDS.get(e.kind, e.kind),
                    e.actor,
                    e.subject,
                    e.address,
                    e.detail,
                )  # fmt: skip
            ]
        )
    return out.getvalue()


def all_events(kind: str | None = None) -> list[SecurityEvent]:
    """Every event (the CSV export), newest first."""
    query = select(SecurityEvent).order_by(SecurityEvent.id.desc())
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    return list(db.session.execute(query).scalars())
