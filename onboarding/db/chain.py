"""Writes each new audit and security event into its hash chain (:mod:`onboarding.domain.chain`).

A ``before_flush`` hook on every session: whatever code adds an
:class:`~onboarding.db.models.AuditEvent` or :class:`~onboarding.db.models.SecurityEvent`,
the row is written with the hash of its chain's last event and its own. Two writers
must not both extend the same head (a fork): on PostgreSQL the transaction takes an
advisory lock on the chain (held until it ends) before reading the head; on SQLite a
write transaction holds the database's one write lock (``BEGIN IMMEDIATE``), and one
that began deferred cannot commit over another's write (SQLITE_BUSY), so no fork.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from onboarding.domain import chain


def chain_key(row) -> tuple[str, int | None]:
    """Which chain a row belongs to: ``("audit", intake_id)`` or ``("security", None)``."""
    from onboarding.db.models import AuditEvent

    if isinstance(row, AuditEvent):
        return "audit", row.intake_id
    return "security", None


def lock_chain(session: Session, key: tuple[str, int | None]) -> None:
    """Serialise writers of one chain until the transaction ends (PostgreSQL)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    number = int.from_bytes(
        hashlib.sha256(f"chain:{key}".encode()).digest()[:8], "big", signed=True
    )
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (number,))


def head(session: Session, key: tuple[str, int | None]) -> str | None:
    """The hash of the last event written in a chain, or None."""
    from onboarding.db.models import AuditEvent, SecurityEvent

    kind, intake_id = key
    if kind == "security":
        query = select(SecurityEvent.hash).order_by(SecurityEvent.id.desc()).limit(1)
    else:
        where = (
            AuditEvent.intake_id.is_(None)
            if intake_id is None
            else AuditEvent.intake_id == intake_id
        )
        query = select(AuditEvent.hash).where(where).order_by(AuditEvent.id.desc()).limit(1)
    return session.execute(query).scalar()


def values_of(row) -> dict:
    """The fields of a row as its canonical form reads them."""
    kind = chain_key(row)[0]
    return {name: getattr(row, name) for name in chain.FORMS[kind][1]}


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, flush_context, instances) -> None:
    from onboarding.db.models import AuditEvent, SecurityEvent, utcnow

    new = [o for o in session.new if isinstance(o, AuditEvent | SecurityEvent) and o.hash is None]
    if not new:
        return
    new.sort(key=lambda o: inspect(o).insert_order)  # the order they were added (and get ids)
    heads: dict[tuple[str, int | None], str | None] = {}
    for row in new:
        key = chain_key(row)
        if key not in heads:
            lock_chain(session, key)
            heads[key] = head(session, key)
        if row.at is None:
            row.at = utcnow()
        row.prev_hash = heads[key]
        row.hash = chain.event_hash(key[0], values_of(row), row.prev_hash)
        heads[key] = row.hash
