"""The agreement of a stored intake: HTML preview and PDF, cached in the database.

The PDF cache lives in the database (not on local disk or in one process), so every
app server shares it and a repeat download costs no render. A cached PDF belongs to its
intake (``rendered_pdfs.intake_id``): deleting the intake deletes it.

Renders are slow (a second or more), so they never run while the caller holds the
database's write lock: render first, with ``own_transaction=True`` (the default), which
writes the cached PDF in a short write transaction of its own; then begin the caller's
write transaction (see :func:`onboarding.services.agreement.send.prepare_send`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError

from onboarding.db import db
from onboarding.db.contracts import AgencyProfileVersion, EngagementTermsRow
from onboarding.db.engine import WRITE
from onboarding.db.models import Assessment, Intake, RenderedPdf, utcnow
from onboarding.db.renders import AgreementPdfInputs, RenderClaim
from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement
from onboarding.domain.redline import Changes
from onboarding.domain.resources import PACKAGE
from onboarding.rendering import pdf
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.profile import installation_profile

PAPERS = ("a4", "letter")
CLAIM_SECONDS = 45.0
WAIT_SECONDS = 10.0
"""How long a request waits for another process's render of the same PDF before it
renders the PDF itself (a slow or stuck render never holds a page up for long)."""
"""How long a render claim holds (a render is capped at ``PDF_RENDER_TIMEOUT``, 20 s by
default); a process killed mid-render leaves its claim to lapse."""
log = logging.getLogger(__name__)


class DatabaseCache:
    """A :class:`onboarding.rendering.pdf.PdfCache` on the ``rendered_pdfs`` table, for
    the PDFs of one intake.

    ``own_transaction=True``: :meth:`put` writes in a short write transaction of its own
    (on its own connection), so the caller must not hold the write lock (a download, or
    a send before its write transaction begins). ``False``: :meth:`put` joins the
    session's transaction, which the caller commits (it already holds the write lock).
    """

    def __init__(self, intake_id: int, *, own_transaction: bool = True):
        self.intake_id = intake_id
        self.own_transaction = own_transaction

    def get(self, key: str) -> bytes | None:
        return db.session.execute(
            select(RenderedPdf.pdf).where(
                RenderedPdf.intake_id == self.intake_id, RenderedPdf.key == key
            )
        ).scalar_one_or_none()

    def put(self, key: str, data: bytes) -> None:
        """Store a rendered PDF (best effort: a twin or a busy database only means the
        next download renders again)."""
        row = {"intake_id": self.intake_id, "key": key, "pdf": data, "created_at": utcnow()}
        statement = _insert_or_ignore()
        try:
            if self.own_transaction:
                connection = db.engine.connect().execution_options(**{WRITE: True})
                with connection, connection.begin():
                    connection.execute(statement, row)
            else:
                with db.session.begin_nested():
                    db.session.execute(statement, row)
        except OperationalError:
            log.warning("PDF cache not written (database busy); it will render again")


def claim(key: str, seconds: float = CLAIM_SECONDS) -> bool:
    """Claim ``key`` (a PDF to render) for ``seconds``; False while another process
    holds it. A claim and its clean-up run in a short write transaction of their own
    (call it without the write lock); a busy database grants it (a render twice beats
    no render)."""
    now = utcnow()
    table = RenderClaim.__table__
    try:
        connection = db.engine.connect().execution_options(**{WRITE: True})
        with connection, connection.begin():
            connection.execute(delete(table).where(table.c.key == key, table.c.expires_at < now))
            # RETURNING, not rowcount: an INSERT's rowcount is -1 on PostgreSQL here.
            inserted = connection.execute(
                _insert_or_ignore(table).returning(table.c.key),
                {"key": key, "expires_at": now + timedelta(seconds=seconds)},
            ).first()
    except OperationalError:
        log.warning("render claim not taken (database busy); rendering anyway")
        return True
    return inserted is not None


def held(key: str) -> bool:
    """Whether a claim on ``key`` holds now (a fresh look)."""
    table = RenderClaim.__table__
    with db.engine.connect() as connection:
        until = connection.execute(
            select(table.c.expires_at).where(table.c.key == key)
        ).scalar_one_or_none()
    return until is not None and until >= utcnow()


def wait_for(key: str, done, seconds: float = CLAIM_SECONDS, poll: float = 0.05) -> bool:
    """Wait while another process holds ``key``: True once ``done()``, False when the
    claim was released or lapsed without it (claim it then)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(poll)
        if done():
            return True
        if not held(key):
            return bool(done())
    return False


def release(key: str) -> None:
    table = RenderClaim.__table__
    try:
        connection = db.engine.connect().execution_options(**{WRITE: True})
        with connection, connection.begin():
            connection.execute(delete(table).where(table.c.key == key))
    except OperationalError:
        log.warning("render claim not released (database busy); it lapses")


class SharedDatabaseCache(DatabaseCache):
    """The database cache, with claims (``render_claims``): one process renders a PDF,
    the others wait for it, even when two requests and a background render arrive
    together. Claims and polls use connections of their own, so the caller must not hold
    the write lock (``own_transaction=True``)."""

    poll_seconds = 0.05

    def __init__(self, intake_id: int, *, claim_seconds: float = CLAIM_SECONDS):
        super().__init__(intake_id, own_transaction=True)
        self.claim_seconds = claim_seconds

    def get(self, key: str) -> bytes | None:
        """The PDF stored under ``key`` as committed now (a connection of its own: the
        session's snapshot may predate another process's render)."""
        table = RenderedPdf.__table__
        with db.engine.connect() as connection:
            return connection.execute(
                select(table.c.pdf).where(table.c.intake_id == self.intake_id, table.c.key == key)
            ).scalar_one_or_none()

    def claim(self, key: str) -> bool:
        return claim(key, self.claim_seconds)

    def wait(self, key: str) -> bytes | None:
        found: list[bytes] = []

        def done() -> bool:
            data = self.get(key)
            if data is not None:
                found.append(data)
            return data is not None

        wait_for(key, done, min(self.claim_seconds, WAIT_SECONDS), self.poll_seconds)
        return found[0] if found else None

    def release(self, key: str) -> None:
        release(key)


def _insert_or_ignore(table=None):
    table = RenderedPdf.__table__ if table is None else table
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)  # pragma: no cover - the two supported databases are above


def compose(intake: Intake, agency: str = DEFAULT_AGENCY) -> Agreement:
    """The agreement of a submitted intake, composed now with the installation's agency
    profile and the engagement's terms (raises ValueError for a draft intake)."""
    return agreement_terms.agreement_of(intake, agency)


def preview_html(
    intake: Intake, static_base: str, paper: str = "a4", *, agency: str = DEFAULT_AGENCY
) -> str:
    """The agreement as an HTML page for the account manager."""
    return pdf.html_for(compose(intake, agency), static_base=static_base, paper=paper)


def agreement_pdf(
    intake: Intake,
    paper: str = "a4",
    *,
    agency: str = DEFAULT_AGENCY,
    own_transaction: bool = True,
    changes: Changes | None = None,
    agreement: Agreement | None = None,
) -> pdf.RenderedAgreement:
    """The agreement PDF of a submitted intake (rendered once, then from the cache);
    ``changes``: a version to send, with its page "Changes since version n";
    ``agreement``: the intake's agreement when the caller has just composed it.

    Call it without the write lock (the default, ``own_transaction=True``); a caller
    that already holds it passes ``own_transaction=False``. The PDF to download (no
    ``changes``, composed here, ``own_transaction``) is also noted with the digest of
    its inputs (``agreement_pdf_inputs``), which :func:`prerendered_pdf` looks up.
    """
    paper = paper if paper in PAPERS else "a4"
    inputs = None
    if changes is None and agreement is None and own_transaction:
        inputs = inputs_digest(
            intake.answers,
            intake.assessment.result if intake.assessment is not None else None,
            intake.terms_row.data if intake.terms_row is not None else None,
            _profile_version(agency),
            agency,
            agreement_terms.document_date(intake),
            paper,
        )
    agreement = agreement if agreement is not None else compose(intake, agency)
    rendered = pdf.render_pdf(
        agreement,
        paper=paper,
        cache=SharedDatabaseCache(intake.id)
        if own_transaction
        else DatabaseCache(intake.id, own_transaction=False),
        changes=changes,
    )
    if inputs is not None:
        key = pdf.cache_key(agreement, paper, pdf.get_renderer())
        _note_inputs(intake.id, paper, inputs, key, rendered.filename)
    return rendered


# --- the download with one statement ----------------------------------------------------

_CODE = ("domain", "rendering", "services/agreement", "services/profile.py")
"""What composes and renders an agreement, besides its data and the renderer's own
files (:func:`onboarding.rendering.pdf.renderer_version`), under the package."""


@functools.cache
def composing_code() -> str:
    """A digest of the code and data files that make an agreement PDF of stored inputs
    (once per process): a change to any of them renders again."""
    digest = hashlib.sha256()
    for name in _CODE:
        root = PACKAGE / name
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_digest(
    answers: Any,
    result: Any,
    terms: Any,
    profile_version: int | None,
    agency: str,
    day: dt.date,
    paper: str,
) -> str:
    """The SHA-256 of everything an intake's agreement PDF is made from: its stored
    answers, latest assessment and terms (as stored), the agency profile version in
    force (with the agency name, which stands in when none was saved), the document
    date, the paper, the composing code and the renderer."""
    payload = json.dumps(
        [answers, result, terms, profile_version, agency, day.isoformat(), paper,
         composing_code(), pdf.get_renderer().version],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )  # fmt: skip
    return hashlib.sha256(payload.encode()).hexdigest()


def _profile_version(agency: str) -> int | None:
    return installation_profile(agency).version


def _note_inputs(intake_id: int, paper: str, inputs: str, key: str, filename: str) -> None:
    """Note what the intake's PDF in ``paper`` was rendered from (written only when it
    changed; best effort, in a short write transaction of its own, as the cache is)."""
    table = AgreementPdfInputs.__table__
    known = db.session.execute(
        select(table.c.inputs, table.c.pdf_key).where(
            table.c.intake_id == intake_id, table.c.paper == paper
        )
    ).first()
    if known is not None and tuple(known) == (inputs, key):
        return
    row = {"intake_id": intake_id, "paper": paper, "inputs": inputs, "pdf_key": key,
           "filename": filename, "created_at": utcnow()}  # fmt: skip
    dialect = db.engine.dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_(table).on_conflict_do_update(
        index_elements=[table.c.intake_id, table.c.paper],
        set_={name: row[name] for name in ("inputs", "pdf_key", "filename", "created_at")},
    )
    try:
        connection = db.engine.connect().execution_options(**{WRITE: True})
        with connection, connection.begin():
            connection.execute(statement, row)
    except (OperationalError, IntegrityError):  # busy, or the intake was just deleted
        log.warning("agreement PDF inputs not noted; the next download composes it")


def prerendered_pdf(
    public_id: str, paper: str = "a4", *, agency: str = DEFAULT_AGENCY
) -> tuple[bytes, str] | None:
    """The agreement PDF of intake ``public_id`` and its file name, when it was rendered
    from what the intake holds now (the download of :func:`agreement_pdf` after the
    background render); else None (compose it: :func:`agreement_pdf`).

    One statement: the intake's answers, latest assessment and terms, the profile
    version in force and the noted inputs with their cached PDF; the digest of the
    first four (with the agency, today's date and the paper) must equal the noted one.
    """
    if not public_id or len(public_id) > 64:
        return None
    paper = paper if paper in PAPERS else "a4"
    intakes = Intake.__table__
    assessments = Assessment.__table__
    terms = EngagementTermsRow.__table__
    noted = AgreementPdfInputs.__table__
    cached = RenderedPdf.__table__
    latest = (
        select(func.max(assessments.c.id))
        .where(assessments.c.intake_id == intakes.c.id)
        .correlate(intakes)
        .scalar_subquery()
    )
    profile_version = select(func.max(AgencyProfileVersion.__table__.c.version)).scalar_subquery()
    statement = (
        select(
            intakes.c.answers,
            assessments.c.result,
            terms.c.data.label("terms"),
            profile_version.label("profile_version"),
            noted.c.inputs,
            noted.c.filename,
            cached.c.pdf,
        )
        .select_from(
            intakes.join(noted, (noted.c.intake_id == intakes.c.id) & (noted.c.paper == paper))
            .join(cached, (cached.c.intake_id == intakes.c.id) & (cached.c.key == noted.c.pdf_key))
            .join(assessments, assessments.c.id == latest)
            .outerjoin(terms, terms.c.intake_id == intakes.c.id)
        )
        .where(intakes.c.public_id == public_id)
    )
    row = db.session.execute(statement).first()
    if row is None:
        return None
    now = inputs_digest(row.answers, row.result, row.terms, row.profile_version, agency,
                        agreement_terms.document_date(None), paper)  # fmt: skip
    return (row.pdf, row.filename) if now == row.inputs else None
