"""Persistence only: typed SQLAlchemy 2.0 models. Methods change state, never commit."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db

JSONType = JSON().with_variant(JSONB(), "postgresql")

STATUSES = ("draft", "new", "in_review", "agreement_sent", "accepted", "declined", "walked_away")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_token() -> str:
    """An unguessable URL token: 192 bits from ``secrets``."""
    return secrets.token_urlsafe(24)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (also on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Intake(db.Model):
    """One prospect's questionnaire, from draft to submitted, with its latest assessment."""

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    current_step: Mapped[str | None] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    company: Mapped[str | None] = mapped_column(String(160))
    score: Mapped[int | None] = mapped_column(index=True)
    band: Mapped[str | None] = mapped_column(String(10), index=True)
    recommendation: Mapped[str | None] = mapped_column(String(30))
    top_risk: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="intake", order_by="Assessment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_intakes_status_submitted", "status", "submitted_at"),)

    @property
    def assessment(self) -> Assessment | None:
        """The latest assessment, if the intake was submitted."""
        return self.assessments[-1] if self.assessments else None

    def record_answers(self, values: dict[str, Any]) -> None:
        """Merge clean answers into the stored set and refresh the listed facts."""
        merged = {**(self.answers or {}), **values}
        self.answers = merged
        self.contact_name = merged.get("contact_name")
        self.contact_email = merged.get("contact_email")
        self.company = merged.get("company")


class Assessment(db.Model):
    """An assessment of an intake's answers by one version of the playbooks."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"))
    playbook_version: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)
    score: Mapped[int]
    band: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intake: Mapped[Intake] = relationship(back_populates="assessments")

    __table_args__ = (UniqueConstraint("intake_id", "playbook_version"),)
