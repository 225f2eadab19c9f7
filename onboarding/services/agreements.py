"""The agreement of a stored intake: HTML preview and PDF, cached in the database.

The PDF cache lives in the database (not on local disk or in one process), so every
app server shares it and a repeat download costs no render.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import current_app, has_request_context, request
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from onboarding.db import db
from onboarding.db.engine import WRITE
from onboarding.db.models import Intake, RenderedPdf, utcnow
from onboarding.rendering import pdf

PAPERS = ("a4", "letter")
log = logging.getLogger(__name__)


class DatabaseCache:
    """A :class:`onboarding.rendering.pdf.PdfCache` on the ``rendered_pdfs`` table."""

    def get(self, key: str) -> bytes | None:
        return db.session.execute(
            select(RenderedPdf.pdf).where(RenderedPdf.key == key)
        ).scalar_one_or_none()

    def put(self, key: str, data: bytes) -> None:
        """Store a rendered PDF (best effort: a twin or a busy database only means the
        next download renders again).

        In a GET (a download) the request holds no write lock, and must not take one
        while it renders: the row is written in its own short write transaction. In a
        POST (or outside a request) it joins the caller's transaction, which commits.
        """
        row = {"key": key, "pdf": data, "created_at": utcnow()}
        statement = _insert_or_ignore()
        try:
            if has_request_context() and request.method == "GET":
                connection = db.engine.connect().execution_options(**{WRITE: True})
                with connection, connection.begin():
                    connection.execute(statement, row)
            else:
                with db.session.begin_nested():
                    db.session.execute(statement, row)
        except OperationalError:
            log.warning("PDF cache not written (database busy); it will render again")


def _insert_or_ignore():
    table = RenderedPdf.__table__
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)  # pragma: no cover - the two supported databases are above


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
