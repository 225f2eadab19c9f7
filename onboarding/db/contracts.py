"""What makes an agreement a contract, stored: the agency profile's versions and each
engagement's terms (contracts: shared/spec/terms.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from onboarding.db import db
from onboarding.db.models import Intake, JSONType, User, UTCDateTime, utcnow


class AgencyProfileVersion(db.Model):
    """One saved version of the agency profile; the newest is the one in force.

    Versions are never changed or deleted: an agreement records the version it used.
    """

    __tablename__ = "agency_profile_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(300))

    created_by: Mapped[User | None] = relationship()


class EngagementTermsRow(db.Model):
    """The account manager's terms of one engagement (terms.md), as last saved."""

    __tablename__ = "engagement_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), unique=True, index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    intake: Mapped[Intake] = relationship(
        backref=backref(
            "terms_row", uselist=False, cascade="all, delete-orphan", passive_deletes=True
        )
    )
