"""Hash chains over the audit trail and the security log (pure; no database).

Each event stores the hash of the event before it in its chain (``prev_hash``; None
for the first) and its own (``hash``): SHA-256 over a canonical form of what it
records and the previous hash. Changing, removing or reordering any stored event
breaks the chain at that event, which :func:`first_break` names.

Chains: one per intake (its history), one for events of no intake (e.g. an intake
deleted), and one for the security log. The canonical form is JSON, compact, UTF-8,
with the moment as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (microseconds: what both databases
keep). The form's first element names its version, so it can change without
rewriting old events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

AUDIT_FIELDS = ("intake_id", "user_id", "kind", "from_value", "to_value", "detail", "at")
# actor_id is left out: it is set to NULL when the user is deleted (the email is kept).
SECURITY_FIELDS = ("kind", "actor", "subject", "address", "detail", "at")
FORMS = {"audit": ("audit/1", AUDIT_FIELDS), "security": ("security/1", SECURITY_FIELDS)}


def moment(value: datetime | None) -> str | None:
    """A moment in the canonical form (UTC, microseconds); naive means UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(kind: str, values: Mapping[str, Any], prev_hash: str | None) -> bytes:
    """The bytes an event's hash is taken over (``kind``: ``audit`` or ``security``)."""
    name, fields = FORMS[kind]
    row = [name]
    for field in fields:
        value = values.get(field)
        row.append(moment(value) if isinstance(value, datetime) else value)
    row.append(prev_hash or "")
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(kind: str, values: Mapping[str, Any], prev_hash: str | None) -> str:
    """The hash an event stores (hex SHA-256 of :func:`canonical`)."""
    return hashlib.sha256(canonical(kind, values, prev_hash)).hexdigest()


def first_break(kind: str, events: Iterable[Mapping[str, Any]]) -> tuple[Any, str] | None:
    """The first event of one chain (in the order written) that does not match, with
    why; None when the chain is intact. Each event maps the fields, ``id``,
    ``prev_hash`` and ``hash``."""
    previous: str | None = None
    for event in events:
        if (event.get("prev_hash") or None) != previous:
            return event.get("id"), "its link to the event before does not match"
        if event.get("hash") != event_hash(kind, event, previous):
            return event.get("id"), "its content does not match its hash"
        previous = event["hash"]
    return None


def chain_rows(kind: str, events: Sequence[dict[str, Any]]) -> list[tuple[Any, str | None, str]]:
    """``(id, prev_hash, hash)`` for events of one chain in the order written: how a
    migration chains rows written before the chains existed."""
    out, previous = [], None
    for event in events:
        digest = event_hash(kind, event, previous)
        out.append((event.get("id"), previous, digest))
        previous = digest
    return out
