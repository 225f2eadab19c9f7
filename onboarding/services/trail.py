"""Checking the tamper-evident trail: each intake's history and the security log are
hash chains (:mod:`onboarding.domain.chain`, written by :mod:`onboarding.db.chain`).

:func:`verify_chains` re-computes every chain (or one intake's) from the stored rows and
names the first event of each that does not match; :func:`head_at` gives the hash of
the event a certificate page anchors (the chain's head when it was written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.chain import values_of
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


def _rows(events):
    for row in events:
        values = values_of(row)
        values |= {"id": row.id, "prev_hash": row.prev_hash, "hash": row.hash}
        yield values, row


def _check(kind: str, name: str, events) -> tuple[Break | None, int]:
    rows = list(_rows(events))
    found = chain.first_break(kind, (values for values, _ in rows))
    if found is None:
        return None, len(rows)
    event_id, reason = found
    row = next(r for v, r in rows if v["id"] == event_id)
    return Break(name, event_id, row.kind, row.at, reason), len(rows)


def verify_chains(public_id: str | None = None) -> tuple[list[Break], int]:
    """Every chain (or the history of the intake ``public_id``, whose absence raises
    LookupError): the first break of each broken chain, and how many events were
    checked."""
    breaks: list[Break] = []
    checked = 0
    if public_id is not None:
        intake = db.session.execute(
            select(Intake).where(Intake.public_id == public_id)
        ).scalar_one_or_none()
        if intake is None:
            raise LookupError(f"no intake {public_id}")
        intakes = [(intake.id, intake.public_id)]
    else:
        intakes = list(db.session.execute(select(Intake.id, Intake.public_id)).all())
        intakes.append((None, None))
    for intake_id, name in intakes:
        where = (
            AuditEvent.intake_id.is_(None)
            if intake_id is None
            else (AuditEvent.intake_id == intake_id)
        )
        events = db.session.execute(
            select(AuditEvent).where(where).order_by(AuditEvent.id)
        ).scalars()
        found, n = _check("audit", f"intake {name}" if name else "events of no intake", events)
        checked += n
        if found:
            breaks.append(found)
    if public_id is None:
        events = db.session.execute(select(SecurityEvent).order_by(SecurityEvent.id)).scalars()
        found, n = _check("security", "security log", events)
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
