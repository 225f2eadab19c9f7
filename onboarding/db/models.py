"""Persistence only: typed SQLAlchemy 2.0 models. Methods change state, never commit."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from onboarding.db import db

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


class User(db.Model):
    """An account manager or admin of the agency."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="manager")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes when the password changes or the user is disabled: old sessions end.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed sign-ins in the current window, kept in the database so every app server
    # and worker counts the same attempts against the account.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The user protocol Flask-Login expects (the web layer signs users in; the model
    # only answers): disabled users cannot sign in.
    # Staff who may countersign agreements for the agency (granted by an admin); the
    # countersignature shows their name and title.
    title: Mapped[str | None] = mapped_column(String(120))
    can_sign: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # How they hear of submissions, change requests and acceptances: ``each`` message,
    # a daily ``digest``, or ``off`` (see :data:`NOTICE_CHOICES`).
    notices: Mapped[str] = mapped_column(String(10), default="each", server_default="each")
    # The TOTP second factor (migration 0014): the base32 secret once enrolled, when,
    # and the last time step a code was accepted for (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # The one-time sign-in code emailed to an account past its failure ceiling that has
    # no TOTP: its SHA-256, when it lapses, and the wrong tries against it.
    email_code_hash: Mapped[str | None] = mapped_column(String(64))
    email_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_code_tries: Mapped[int] = mapped_column(default=0, server_default="0")

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class LoginFailure(db.Model):
    """One failed sign-in: the email as typed (an account or not) and the address.

    Counted per (email, address), per address and per email by every app server alike
    (services.signin); the owner of an account is told of them at their next sign-in.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class RecoveryCode(db.Model):
    """A single-use recovery code of a user's second factor; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecurityEvent(db.Model):
    """The security log: who (``actor``, kept as text when the user goes) did what
    (``kind``) to whom or what (``subject``), when and from where (``address``)."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    # The hash chain (domain.chain, filled in by db.chain as the row is written).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class Invite(db.Model):
    """A private link a manager sends a prospect; the intake it starts is theirs."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    company: Mapped[str | None] = mapped_column(String(160))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    manager: Mapped[User] = relationship()

    def usable(self, now: datetime | None = None) -> bool:
        """Whether the link still opens an intake: not revoked, not expired, and its
        manager not disabled (disabling someone stops their invites)."""
        return (
            self.revoked_at is None
            and (now or utcnow()) < self.expires_at
            and (self.manager is None or self.manager.active)
        )


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
    # Which cause capped the band at guarded (assessment.md v1.1), or None (migration 0013).
    band_note: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    # A manager's override sits beside the computed assessment, never replacing it.
    override_score: Mapped[int | None]
    override_recommendation: Mapped[str | None] = mapped_column(String(30))
    override_band: Mapped[str | None] = mapped_column(String(10))  # its own, never derived
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    override_by: Mapped[User | None] = relationship(foreign_keys=[override_by_id])
    invite: Mapped[Invite | None] = relationship()
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="intake", order_by="Assessment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_intakes_status_submitted", "status", "submitted_at"),
        Index("ix_intakes_company", "company"),
        Index("ix_intakes_contact_name", "contact_name"),
        Index("ix_intakes_updated_at", "updated_at"),
        # The prospects list reads only this index for its filters, counts and sorts
        # (every row also carries ~2 KB of answers); see migration 0003.
        Index(
            "ix_intakes_listing",
            "band",
            "status",
            "owner_id",
            "submitted_at",
            "score",
            "top_risk",
            "contact_name",
            "company",
            "contact_email",
            "id",
        ),  # fmt: skip
        Index("ix_intakes_submitted_order", "submitted_at", "id", "status"),
    )

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


class EngagementOutcome(db.Model):
    """How an engagement turned out, recorded by a manager once its agreement is signed
    (one per intake; recording again replaces it, the audit trail keeps the history)."""

    __tablename__ = "engagement_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), unique=True
    )
    outcome: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
    intake: Mapped[Intake] = relationship(
        backref=backref(
            "outcome", uselist=False, cascade="all, delete-orphan", passive_deletes=True
        )
    )


class ActionCheck(db.Model):
    """A recommended action ticked (or unticked) by a manager, with who and when."""

    __tablename__ = "action_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"))
    action_id: Mapped[str] = mapped_column(String(80))
    done: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("intake_id", "action_id"),)


class Note(db.Model):
    """A manager's note on an intake."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class AuditEvent(db.Model):
    """Who did what to an intake, when: status changes, overrides, re-assessments."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int | None] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The intake's hash chain (domain.chain, filled in by db.chain as the row is written).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()


class RenderedPdf(db.Model):
    """A rendered agreement PDF of one intake, kept by the SHA-256 of what it was
    rendered from. It belongs to its intake: deleting the intake deletes it (in the
    database, ``ON DELETE CASCADE``, and in the session, ``Intake.rendered_pdfs``), so
    forgetting a prospect never needs to re-compose their agreements to find them.
    """

    __tablename__ = "rendered_pdfs"

    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intake: Mapped[Intake] = relationship(
        backref=backref("rendered_pdfs", cascade="all, delete-orphan", passive_deletes=True)
    )


# --- the JSON API and webhooks ------------------------------------------------------------


class ApiToken(db.Model):
    """A bearer token of the JSON API. Only its SHA-256 is kept; the prefix is for display."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class WebhookEndpoint(db.Model):
    """A URL that receives signed events; the secret signs them (shown to the admin once)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # ``standard``: Standard Webhooks headers signed with the base64 key of a ``whsec_``
    # secret; ``legacy`` (endpoints registered before): only ``Onboarding-Signature``,
    # keyed with the whole secret string, until an admin rolls the secret.
    signing: Mapped[str] = mapped_column(String(10), default="standard", server_default="legacy")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()


class WebhookDelivery(db.Model):
    """One event sent (or to send) to one endpoint, with the outcome of every attempt.

    ``payload`` is the exact JSON body: retries and re-sends sign and send the same
    bytes (with a new timestamp). ``locked_until`` is a worker's lease while it sends.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    intake_id: Mapped[int | None] = mapped_column(
        ForeignKey("intakes.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    intake: Mapped[Intake | None] = relationship()

    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)


class AgreementVersion(db.Model):
    """An agreement as sent to the prospect, frozen: what they read is what they accept.

    Once accepted a version never changes; a later edit is a new version, and every
    version's PDF stays downloadable.
    """

    __tablename__ = "agreement_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    status: Mapped[str] = mapped_column(String(20), default="sent")
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONType)
    playbook_version: Mapped[str] = mapped_column(String(64))
    paper: Mapped[str] = mapped_column(String(10))
    document_id: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_name: Mapped[str | None] = mapped_column(String(120))
    accepted_email: Mapped[str | None] = mapped_column(String(254))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_ip: Mapped[str | None] = mapped_column(String(64))
    accepted_user_agent: Mapped[str | None] = mapped_column(String(500))
    final_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    final_pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # The page the prospect reads, frozen when sent (from migration 0007; None for the
    # versions sent before, whose page offers the PDF): its title, the agreement's HTML
    # (the content of the PDF, as the document's ``<main>``), the stylesheet of that day,
    # and the SHA-256 of the three (see services.agreement.versions.page_digest).
    title: Mapped[str | None] = mapped_column(String(300))
    html: Mapped[str | None] = mapped_column(Text)
    stylesheet: Mapped[str | None] = mapped_column(Text)
    page_sha256: Mapped[str | None] = mapped_column(String(64))
    # What made it a contract (shared/spec/terms.md): the engagement's terms as sent, the
    # agency profile version it used, and the reason when the assessment said walk away.
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    profile_version: Mapped[int | None] = mapped_column(Integer)
    walk_away_reason: Mapped[str | None] = mapped_column(Text)
    # Negotiation: the version's content as data (domain.agreement.agreement_json), so
    # the next version can show what changed (its redline against the previous one).
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    redline: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The client's signature when the signer is not the contact: title and authority.
    accepted_title: Mapped[str | None] = mapped_column(String(120))
    accepted_authority: Mapped[bool | None] = mapped_column(Boolean)
    # The client as a party, as the client confirmed or completed it on accepting.
    accepted_legal_name: Mapped[str | None] = mapped_column(String(200))
    accepted_address: Mapped[str | None] = mapped_column(String(300))
    # The options of the proposal the client chose, frozen with the acceptance
    # ([{"id", "quantity"}]; migration 0020): listed in the accepted PDF.
    options_chosen: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # The agency's countersignature, and the fully signed PDF (both signatures, both
    # events in its certificate).
    countersigned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    countersigned_name: Mapped[str | None] = mapped_column(String(120))
    countersigned_title: Mapped[str | None] = mapped_column(String(120))
    countersigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    countersigned_ip: Mapped[str | None] = mapped_column(String(64))
    countersigned_user_agent: Mapped[str | None] = mapped_column(String(500))
    signed_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # When a manager last renewed the link of this (unsigned) version: the link lapses
    # SIGNING_DAYS after it was sent or renewed (migration 0014).
    link_renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    intake: Mapped[Intake] = relationship()
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    countersigned_by: Mapped[User | None] = relationship(foreign_keys=[countersigned_by_id])

    __table_args__ = (UniqueConstraint("intake_id", "number"),)


class AgreementMessage(db.Model):
    """The thread between prospect and manager about an agreement (change requests)."""

    __tablename__ = "agreement_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"))
    author: Mapped[str] = mapped_column(String(10))  # "prospect" | "manager"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[AgreementVersion | None] = relationship()
    user: Mapped[User | None] = relationship()


class PlaybookVersion(db.Model):
    """A version of the playbooks saved from the workspace's playbook editor: the rule
    edits (points, risk, on/off, reason) over the playbook files, cumulative, so the
    latest row alone says what the installation runs. Rows are never changed: they are
    the history."""

    __tablename__ = "playbook_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_version: Mapped[str] = mapped_column(String(64))  # the files' SHA-256
    version: Mapped[str] = mapped_column(String(64), index=True)  # files + edits
    edits: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changes: Mapped[list[str]] = mapped_column(JSONType)  # what this save changed, in words
    reason: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class Project(db.Model):
    """The project a countersigned agreement starts: its private link for the client.

    Made once, when the agreement is signed by both parties (never before); its plan is
    the signed version's content, and what happened since is in :class:`ProjectEntry`.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), unique=True, index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The client's link lapses PROJECT_LINK_DAYS after this (each update email renews it).
    link_renewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The owner's last reminder that an update was due (one per due date).
    reminded_for: Mapped[str | None] = mapped_column(String(10))

    intake: Mapped[Intake] = relationship()
    version: Mapped[AgreementVersion] = relationship()
    entries: Mapped[list[ProjectEntry]] = relationship(
        back_populates="project", order_by="ProjectEntry.id", cascade="all, delete-orphan"
    )


class ProjectEntry(db.Model):
    """One thing that happened on a project, never changed afterwards: an update posted,
    a milestone changed (state, or moved with a reason), a sign-off asked for, a
    sign-off answered (approved, or a revision asked for). ``data`` holds its fields."""

    __tablename__ = "project_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # update | milestone | signoff | answer
    author: Mapped[str] = mapped_column(String(10))  # "manager" | "client"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="entries")
    user: Mapped[User | None] = relationship()


# --- ux1 ---
class KeptForm(db.Model):
    """What was typed into a form and not yet saved, kept server-side so nothing is lost
    (issue 26): a staff member's post refused because their session had lapsed
    (``user_id``, ``place`` the form's path; short-lived, restored into the form after
    a fresh sign-in, never replayed), or a prospect's answers that did not pass their
    checks (``intake_id``, ``place`` the step), shown again with their message."""

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    intake_id: Mapped[int | None] = mapped_column(
        ForeignKey("intakes.id", ondelete="CASCADE"), index=True
    )
    place: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


from onboarding.db import chain as _chain  # noqa: E402, F401 - chains audit and security rows
