"""Checking the tamper-evident trail: each intake's history and the security log are
hash chains (:mod:`onboarding.domain.chain`, written by :mod:`onboarding.db.chain`).

:func:`verify_chains` re-computes every chain (or one intake's) from the stored rows and
names the first event of each that does not match; :func:`head_at` gives the hash of
the event a certificate page anchors (the chain's head when it was written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AuditEvent, Intake, SecurityEvent
from onboarding.domain import chain


@dataclass(frozen=True)
class Break:
    """The first event of a chain that does not match."""

    chain: str  # "intake INT-..." , "events of no intake" or "security log"
    event_id: int
    kind: str  # the event's kind (e.g. "status")
    at: datetime | None
    reason: str

    @property
    def label(self) -> str:
        at = f" at {chain.moment(self.at)}" if self.at else ""
        return f"{self.chain}: event {self.event_id} ({self.kind}{at}): {self.reason}"


def _check(kind: str, name: str, events) -> tuple[Break | None, int]:
    """The first break of one chain (rows in the order written), read as it streams."""
    fields = chain.FORMS[kind][1]
    seen = {"count": 0, "row": None}

    def values():
        for row in events:
            seen["count"] += 1
            seen["row"] = row
            yield {field: getattr(row, field) for field in fields} | {
                "id": row.id,
                "prev_hash": row.prev_hash,
                "hash": row.hash,
            }

    found = chain.first_break(kind, values())
    if found is None:
        return None, seen["count"]
    row = seen["row"]  # first_break stops at the event that does not match
    return Break(name, row.id, row.kind, row.at, found[1]), seen["count"]


AUDIT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.intake_id,
    AuditEvent.user_id,
    AuditEvent.kind,
    AuditEvent.from_value,
    AuditEvent.to_value,
    AuditEvent.detail,
    AuditEvent.at,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)
SECURITY_COLUMNS = (
    SecurityEvent.id,
    SecurityEvent.kind,
    SecurityEvent.actor,
    SecurityEvent.subject,
    SecurityEvent.address,
    SecurityEvent.detail,
    SecurityEvent.at,
    SecurityEvent.prev_hash,
    SecurityEvent.hash,
)


def verify_chains(public_id: str | None = None) -> tuple[list[Break], int]:
    """Every chain (or the history of the intake ``public_id``, whose absence raises
    LookupError): the first break of each broken chain, and how many events were
    checked. Rows are read as plain columns, a batch at a time, in one pass."""
    breaks: list[Break] = []
    checked = 0
    query = select(*AUDIT_COLUMNS).order_by(AuditEvent.intake_id, AuditEvent.id)
    if public_id is not None:
        intake = db.session.execute(
            select(Intake.id, Intake.public_id).where(Intake.public_id == public_id)
        ).first()
        if intake is None:
            raise LookupError(f"no intake {public_id}")
        names = {intake.id: intake.public_id}
        query = query.where(AuditEvent.intake_id == intake.id)
    else:
        names = dict(db.session.execute(select(Intake.id, Intake.public_id)).all())
    rows = db.session.execute(query.execution_options(yield_per=2000))
    try:  # a server-side cursor on PostgreSQL: closed even when a chain breaks early
        for intake_id, events in groupby(rows, key=lambda row: row.intake_id):
            name = (
                f"intake {names.get(intake_id, intake_id)}" if intake_id else "events of no intake"
            )
            found, n = _check("audit", name, events)
            checked += n
            if found:
                breaks.append(found)
    finally:
        rows.close()
    if public_id is None:
        query = select(*SECURITY_COLUMNS).order_by(SecurityEvent.id)
        events = db.session.execute(query.execution_options(yield_per=2000))
        try:
            found, n = _check("security", "security log", events)
        finally:
            events.close()
        checked += n
        if found:
            breaks.append(found)
    return breaks, checked


def head_at(intake_id: int, kind: str, to_value: str | None, since: datetime) -> str | None:
    """The hash of the first event of an intake's history of ``kind`` (and
    ``to_value``) written at or after ``since``: the chain's head at that event."""
    query = select(AuditEvent.hash).where(
        AuditEvent.intake_id == intake_id, AuditEvent.kind == kind, AuditEvent.at >= since
    )
    if to_value is not None:
        query = query.where(AuditEvent.to_value == to_value)
    return db.session.execute(query.order_by(AuditEvent.id).limit(1)).scalar()
