"""The prospects list as CSV: the filtered intakes, every answer in its own column,
streamed in batches; cells a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from onboarding.db.models import Intake, User
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.intake.listing import Filters, conditions

EXPORT_BATCH = 1000


# --- CSV export ----------------------------------------------------------------------------

EXPORT_HEADER = (
    "public_id",
    "submitted_at",
    "status",
    "owner_email",
    "score",
    "override_score",
    "band",
    "recommendation",
    "top_risk",
    "band_note",
    "override_band",
)

EXPORT_COLUMNS = (
    Intake.id,
    Intake.public_id,
    Intake.submitted_at,
    Intake.status,
    Intake.owner_id,
    Intake.score,
    Intake.override_score,
    Intake.band,
    Intake.recommendation,
    Intake.top_risk,
    Intake.band_note,
    Intake.override_band,
    Intake.answers,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading '.

    Only text: the numbers we write ourselves (scores, counts) stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def answer_cell(kind: str, value: Any) -> Any:
    """One answer as a CSV cell: codes, yes/no, multi values joined by '; '."""
    if value is None or value == "":
        return ""
    if kind == "yesno":
        return "yes" if value else "no"
    if kind == "multi":
        return "; ".join(str(v) for v in value)
    return value


def iso_utc(moment: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second (``2026-03-31T14:05:09Z``)."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_rows(session: Session, f: Filters, batch: int = EXPORT_BATCH) -> Iterator[Sequence[Any]]:
    """The rows of the export, read in batches of ``batch`` by id (keyset pagination).

    Never holds more than one batch: each batch is a fresh ``id > last`` query, so the
    memory used does not grow with the number of intakes. Rows come in id order.
    """
    where = conditions(f)
    last = 0
    while True:
        rows = session.execute(
            select(*EXPORT_COLUMNS).where(*where, Intake.id > last).order_by(Intake.id).limit(batch)
        ).all()  # fmt: skip
        if not rows:
            return
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def export_csv(session: Session, f: Filters, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The CSV of every intake ``f`` selects, as text chunks (about one per batch)."""
    questions = [(q.id, q.type) for q in get_questionnaire().questions.values()]
    emails = dict(session.execute(select(User.id, User.email)).all())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*EXPORT_HEADER, *(qid for qid, _ in questions)])
    for count, row in enumerate(export_rows(session, f, batch), start=1):
        answers = row.answers or {}
        cells = [
            neutralise(row.public_id),  # a token may start with '-' (1 in 64)
            iso_utc(row.submitted_at),
            neutralise(row.status),
            neutralise(emails.get(row.owner_id, "")),
            row.score,
            row.override_score,
            neutralise(row.band),
            neutralise(row.recommendation),
            neutralise(row.top_risk),
            neutralise(row.band_note or ""),
            neutralise(row.override_band or ""),
        ]
        cells += [neutralise(answer_cell(kind, answers.get(qid))) for qid, kind in questions]
        writer.writerow(cells)
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
