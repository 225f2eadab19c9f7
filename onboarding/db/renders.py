"""Background renders: the outbox's ``render`` channel
(:mod:`onboarding.services.agreement.prerender` works it) and the claims that keep two
processes from rendering the same PDF at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onboarding.db import db
from onboarding.db.models import Intake, UTCDateTime, utcnow

RENDER_KINDS = ("agreement", "accepted", "signed")
"""``agreement``: an intake's agreement (the download, and the next version to send);
``accepted`` and ``signed``: a version's file once the prospect accepted it or the
agency countersigned it."""


class RenderJob(db.Model):
    """One render to do ahead of the request that will want it.

    States as an outbox message's: ``queued`` (waiting, or waiting for its retry),
    ``rendering`` (a worker holds its lease, ``locked_until``), ``done``, ``failed``.
    """

    __tablename__ = "render_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreement_versions.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20), default="agreement")
    paper: Mapped[str] = mapped_column(String(10), default="a4")
    reason: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    intake: Mapped[Intake] = relationship()

    __table_args__ = (
        Index("ix_render_jobs_due", "status", "next_attempt_at"),
        Index("ix_render_jobs_intake", "intake_id", "kind", "status"),
    )


class RenderClaim(db.Model):
    """A PDF being rendered now, by its cache key; the claim lapses at ``expires_at``
    (a process killed mid-render leaves it to lapse)."""

    __tablename__ = "render_claims"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgreementPdfInputs(db.Model):
    """What an intake's agreement PDF (in one paper size) was last rendered from: a
    digest of its inputs (answers, assessment, terms, agency profile version and name,
    date, paper, and the code that composes and renders it) beside the key of its cached
    PDF (``rendered_pdfs``). A download that reads the same inputs serves that PDF with
    one statement, without composing the agreement
    (:func:`onboarding.services.agreement.compose.prerendered_pdf`). Deleting the intake
    deletes it."""

    __tablename__ = "agreement_pdf_inputs"

    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), primary_key=True
    )
    paper: Mapped[str] = mapped_column(String(10), primary_key=True)
    inputs: Mapped[str] = mapped_column(String(64))
    pdf_key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
