"""The agreement of a stored intake: HTML preview and PDF, cached in the database.

The PDF cache lives in the database (not on local disk or in one process), so every
app server shares it and a repeat download costs no render.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from . import pdf
from .extensions import db
from .models import Intake, RenderedPdf, utcnow

PAPERS = ("a4", "letter")
log = logging.getLogger(__name__)


class DatabaseCache:
    """A :class:`onboarding.pdf.PdfCache` on the ``rendered_pdfs`` table."""

    def get(self, key: str) -> bytes | None:
        return db.session.execute(
            select(RenderedPdf.pdf).where(RenderedPdf.key == key)
        ).scalar_one_or_none()

    def put(self, key: str, data: bytes) -> None:
        """Store it in the caller's transaction (best effort: a twin or a busy database
        only means the next download renders again). Callers commit."""
        dialect = db.engine.dialect.name
        table = RenderedPdf.__table__
        if dialect == "postgresql":
            statement = pg_insert(table).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite_insert(table).on_conflict_do_nothing()
        else:  # pragma: no cover - the two supported databases are above
            statement = insert(table)
        row = {"key": key, "pdf": data, "created_at": utcnow()}
        try:
            with db.session.begin_nested():
                db.session.execute(statement, row)
        except OperationalError:
            log.warning("PDF cache not written (database busy); it will render again")


def document_date(intake: Intake) -> date:
    """The agreement's date: the day the intake was submitted (stable across renders)."""
    moment = intake.submitted_at or intake.created_at
    return moment.date()


def _inputs(intake: Intake) -> tuple[dict, dict]:
    assessment = intake.assessment
    if assessment is None:
        raise ValueError("the intake has not been submitted")
    return intake.answers, assessment.result


def preview_html(intake: Intake, static_base: str, paper: str = "a4") -> str:
    """The agreement as an HTML page for the account manager."""
    answers, result = _inputs(intake)
    return pdf.agreement_html(
        answers,
        result,
        static_base=static_base,
        paper=paper,
        agency=current_app.config["AGENCY_NAME"],
        date=document_date(intake),
    )


def agreement_pdf(intake: Intake, paper: str = "a4") -> pdf.RenderedAgreement:
    """The agreement PDF of a submitted intake (rendered once, then from the cache)."""
    answers, result = _inputs(intake)
    return pdf.render_agreement(
        answers,
        result,
        paper=paper if paper in PAPERS else "a4",
        agency=current_app.config["AGENCY_NAME"],
        date=document_date(intake),
        cache=DatabaseCache(),
    )
