"""Sending an agreement, the prospect's acceptance or change request, and verification.

A sent agreement is frozen as an :class:`AgreementVersion` (answers, assessment,
playbook version and the exact PDF with its SHA-256). Accepting records who, when,
from where and which PDF, and appends a certificate page; an accepted version never
changes again. Callers commit.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, User, utcnow
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.integrations import webhooks
from onboarding.rendering import pdf
from onboarding.services import agreements
from onboarding.services.intakes import find_by_token
from onboarding.services.workspace import WorkspaceError, audit, change_status, required_text

MAX_COMMENT = 5000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions_of(intake: Intake) -> list[AgreementVersion]:
    """Every version sent for an intake, oldest first."""
    return list(
        db.session.execute(
            select(AgreementVersion)
            .where(AgreementVersion.intake_id == intake.id)
            .order_by(AgreementVersion.number)
        ).scalars()
    )


def messages_of(intake: Intake) -> list[AgreementMessage]:
    return list(
        db.session.execute(
            select(AgreementMessage)
            .where(AgreementMessage.intake_id == intake.id)
            .order_by(AgreementMessage.id)
        ).scalars()
    )


def send_agreement(intake: Intake, user: User, paper: str = "a4") -> AgreementVersion:
    """Freeze the agreement as a new version and move the intake to ``agreement_sent``."""
    if intake.assessment is None:
        raise WorkspaceError("agreement", "The intake has not been submitted yet")
    change_status(intake, "agreement_sent", user)  # checks the workflow
    rendered = agreements.agreement_pdf(intake, paper)
    for old in versions_of(intake):
        if old.status in ("sent", "changes_requested"):
            old.status = "superseded"
    number = (
        db.session.execute(
            select(func.max(AgreementVersion.number)).where(AgreementVersion.intake_id == intake.id)
        ).scalar()
        or 0
    ) + 1
    version = AgreementVersion(
        intake_id=intake.id,
        number=number,
        status="sent",
        answers=dict(intake.answers),
        assessment=intake.assessment.result,
        playbook_version=intake.assessment.playbook_version,
        paper=rendered.paper,
        document_id=rendered.document_id,
        content_sha256=rendered.sha256,
        pdf=rendered.pdf,
        pdf_sha256=sha256(rendered.pdf),
        filename=rendered.filename,
        sent_by_id=user.id,
    )
    db.session.add(version)
    audit(intake, user, "agreement_sent", None, f"version {number}, {rendered.document_id}")
    return version


def version_by_token(token: str, *, for_update: bool = False) -> AgreementVersion | None:
    """The version a prospect's agreement link opens, or None."""
    return find_by_token(AgreementVersion.token, token, for_update=for_update)


def latest_version(intake: Intake) -> AgreementVersion | None:
    versions = versions_of(intake)
    return versions[-1] if versions else None


def _open_for_answer(version: AgreementVersion) -> None:
    """Refuse an answer to a version that is not the one awaiting the prospect."""
    if version.status == "accepted":
        raise WorkspaceError("agreement", "This agreement has already been accepted.")
    if version.status == "superseded":
        raise WorkspaceError(
            "agreement", "A newer version of this agreement was sent to you: please open that one."
        )
    if version.status == "changes_requested":
        raise WorkspaceError(
            "agreement",
            "You asked for changes to this version; your account manager will send a new one.",
        )
    if version.intake.status != "agreement_sent":
        raise WorkspaceError("agreement", "This agreement is not open for acceptance.")


def request_changes(version: AgreementVersion, comment: str) -> AgreementMessage:
    """The prospect asks for changes: the thread keeps it, the intake returns to review."""
    _open_for_answer(version)
    comment = required_text(comment, "comment", "Tell us what you would like changed", MAX_COMMENT)
    message = AgreementMessage(
        intake_id=version.intake_id, version_id=version.id, author="prospect", text=comment
    )
    db.session.add(message)
    version.status = "changes_requested"
    intake = version.intake
    audit(intake, None, "status", intake.status, "in_review", "changes requested by the prospect")
    intake.status = "in_review"
    webhooks.emit("intake.status_changed", intake)
    return message


def add_manager_message(intake: Intake, user: User, text: str) -> AgreementMessage:
    """A manager's reply in the agreement thread."""
    text = required_text(text, "reply", "Write the reply before sending it", MAX_COMMENT)
    version = latest_version(intake)
    message = AgreementMessage(
        intake_id=intake.id,
        version_id=version.id if version else None,
        author="manager",
        user_id=user.id,
        text=text,
    )
    db.session.add(message)
    return message


@dataclass(frozen=True)
class Acceptance:
    name: str
    consent: bool
    ip: str
    user_agent: str


def accept(version: AgreementVersion, acceptance: Acceptance) -> AgreementVersion:
    """Record the prospect's acceptance and produce the final PDF with its certificate.

    Lock the version first (``version_by_token(..., for_update=True)`` inside a write
    transaction) so a double click accepts once.
    """
    errors = {}
    name = " ".join((acceptance.name or "").split())
    if not name:
        errors["name"] = "Type your full name to accept"
    elif len(name) > 120:
        errors["name"] = "Your name must be at most 120 characters"
    if not acceptance.consent:
        errors["consent"] = "Tick the box to confirm you accept the agreement"
    _open_for_answer(version)
    if errors:
        field, message = next(iter(errors.items()))
        raise WorkspaceError(field, message, errors)
    intake = version.intake
    now = utcnow()
    version.accepted_name = name
    version.accepted_email = intake.contact_email or intake.answers.get("contact_email")
    version.accepted_at = now
    version.accepted_ip = (acceptance.ip or "")[:64]
    version.accepted_user_agent = (acceptance.user_agent or "")[:500]
    version.final_pdf = final_pdf(version)
    version.final_pdf_sha256 = sha256(version.final_pdf)
    version.status = "accepted"
    audit(intake, None, "status", intake.status, "accepted", f"accepted by {name}")
    intake.status = "accepted"
    webhooks.emit("intake.status_changed", intake)
    return version


def certificate_facts(version: AgreementVersion) -> dict[str, str]:
    """What the certificate page states, in order."""
    q = get_questionnaire()
    company = q.questions["company"].display(version.answers.get("company"))
    return {
        "Agreement": f"{version.document_id}, version {version.number}",
        "Client": company,
        "Accepted by (typed name)": version.accepted_name or "",
        "Email of the client contact": version.accepted_email or "",
        "Accepted at (UTC)": version.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "From IP address": version.accepted_ip or "unknown",
        "Browser (user agent)": version.accepted_user_agent or "unknown",
        "SHA-256 of the PDF shown": version.pdf_sha256,
        "SHA-256 of the agreement content": version.content_sha256,
        "Sent": version.sent_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def final_pdf(version: AgreementVersion) -> bytes:
    """The PDF the prospect saw, byte for byte in its pages, plus the certificate page."""
    from pypdf import PdfReader, PdfWriter

    certificate = pdf.certificate_pdf(
        certificate_facts(version),
        title=f"Acceptance of {version.document_id}",
        paper=version.paper,
    )
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(version.pdf)))
    writer.append(PdfReader(io.BytesIO(certificate)))
    source = PdfReader(io.BytesIO(version.pdf)).metadata or {}
    writer.add_metadata({k: v for k, v in source.items() if isinstance(v, str)})
    writer.add_metadata({"/Subject": f"Accepted agreement {version.document_id}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Verification:
    version: AgreementVersion
    kind: str  # "accepted" (the final PDF) or "sent" (the PDF as sent)


def verify(data: bytes) -> Verification | None:
    """Which stored agreement a PDF is, by its SHA-256; None if it matches none."""
    digest = sha256(data)
    final = db.session.execute(
        select(AgreementVersion).where(AgreementVersion.final_pdf_sha256 == digest)
    ).scalar_one_or_none()
    if final is not None:
        return Verification(final, "accepted")
    sent = db.session.execute(
        select(AgreementVersion).where(AgreementVersion.pdf_sha256 == digest)
    ).scalars().first()  # fmt: skip
    return Verification(sent, "sent") if sent is not None else None
