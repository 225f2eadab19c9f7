"""Sending an agreement, the prospect's acceptance or change request, and verification.

A sent agreement is frozen as an :class:`AgreementVersion`: answers, assessment,
playbook version, the exact PDF with its SHA-256, and the page the prospect reads (the
same content as HTML, with the stylesheet of the day and their SHA-256). Accepting
records who, when, from where and which PDF, and appends a certificate page; an
accepted version never changes again. Stored PDFs and pages are checked against their
SHA-256 before they are shown (:func:`verified_pdf`, :func:`verified_page`).

Sending and accepting render a PDF, which takes a second or more: the web renders
first (:func:`prepare_send`, :func:`prepare_acceptance`, which write nothing but the PDF
cache, in a transaction of their own), then begins its write transaction and records
(:func:`send_agreement`, :func:`record_acceptance`), so the database's write lock is
never held during a render. Callers commit.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, User, utcnow
from onboarding.domain import redline as redlines
from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement, agreement_json
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.rendering import pdf
from onboarding.services import agreements, contracts
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


class AgreementCorrupted(RuntimeError):
    """A stored PDF or page no longer matches the SHA-256 recorded with it: it is never
    served nor accepted (the database was changed behind the app's back)."""


def page_digest(title: str, html: str, stylesheet: str) -> str:
    """The SHA-256 of a frozen page: its title, HTML and stylesheet."""
    return sha256("\0".join((title, html, stylesheet)).encode())


@dataclass(frozen=True)
class FrozenPage:
    """The page a prospect reads, as it was when the version was sent."""

    title: str
    html: str  # the agreement's content: the document's <main>, without the page
    stylesheet: str


@dataclass(frozen=True)
class PreparedAgreement:
    """An intake's agreement ready to send: composed, its PDF rendered, its page made,
    its content as data and its redline against the version it follows."""

    intake_id: int
    agreement: Agreement
    rendered: pdf.RenderedAgreement
    page: FrozenPage
    previous_id: int | None = None  # the latest version when it was prepared
    content: dict[str, Any] = field(default_factory=dict)  # agreement_json(agreement)
    redline: dict[str, Any] | None = None  # against the previous version's content


def nothing_changed(version: AgreementVersion) -> str:
    return (
        f"Nothing changed since version {version.number}: the agreement is the one sent "
        f"then ({version.document_id}). Change its terms or clauses in Prepare the agreement "
        "first, or send the same version's link again."
    )


def refuse_unchanged(agreement: Agreement, latest: AgreementVersion | None) -> None:
    """Refuse to send again the agreement the latest version already holds (the same
    content SHA-256): sending its link again is a separate action (:func:`resend_link`)."""
    if latest is not None and latest.content_sha256 == agreement.sha256:
        message = nothing_changed(latest)
        raise WorkspaceError("agreement", message, {"agreement": message})


def redline_against(
    previous: AgreementVersion | None, content: dict[str, Any]
) -> dict[str, Any] | None:
    """The redline of ``content`` against the previous version (None without one, or
    when it was sent before versions kept their content)."""
    if previous is None or not previous.content:
        return None
    return redlines.redline(previous.content, content)


def prepare_send(
    intake: Intake,
    paper: str = "a4",
    *,
    agency: str = DEFAULT_AGENCY,
    own_transaction: bool = True,
    walk_away_reason: str | None = None,
) -> PreparedAgreement:
    """Compose and render the agreement to send (from the PDF cache when it is there).

    Writes nothing but the PDF cache, in a transaction of its own: call it before the
    write transaction of :func:`send_agreement` begins (``own_transaction=False`` when
    the caller already holds the write lock). Raises WorkspaceError for a draft.
    """
    if intake.assessment is None:
        raise WorkspaceError("agreement", "The intake has not been submitted yet")
    blockers = contracts.send_blockers(intake, agency, walk_away_reason=walk_away_reason)
    if blockers:  # checked before rendering: a refused send costs no render
        raise WorkspaceError("agreement", " ".join(blockers), {"agreement": "\n".join(blockers)})
    agreement = agreements.compose(intake, agency)
    previous = latest_version(intake)
    refuse_unchanged(agreement, previous)  # before rendering, too
    content = agreement_json(agreement)
    red = redline_against(previous, content)
    shown = None
    if red is not None and previous is not None:
        shown = redlines.changes(red, previous.number, previous.content, content)
    rendered = agreements.agreement_pdf(
        intake, paper, agency=agency, own_transaction=own_transaction, changes=shown
    )
    page = FrozenPage(
        title=agreement.title,
        html=pdf.html_for(agreement, trace="appendix", block="document"),
        stylesheet=pdf.STYLESHEET.read_text(encoding="utf-8"),
    )
    return PreparedAgreement(
        intake.id,
        agreement,
        rendered,
        page,
        previous_id=previous.id if previous is not None else None,
        content=content,
        redline=red,
    )


def _still_current(
    prepared: PreparedAgreement,
    intake: Intake,
    current: Agreement,
    latest: AgreementVersion | None,
    paper: str,
) -> bool:
    """Whether ``prepared`` is still this intake's agreement (nothing changed since, and
    no other version was sent meanwhile)."""
    return (
        prepared.intake_id == intake.id
        and prepared.rendered.paper == (paper if paper in agreements.PAPERS else "a4")
        and prepared.agreement.sha256 == prepared.rendered.sha256 == current.sha256
        and prepared.previous_id == (latest.id if latest is not None else None)
    )


def send_agreement(
    intake: Intake,
    user: User,
    paper: str = "a4",
    *,
    agency: str = DEFAULT_AGENCY,
    prepared: PreparedAgreement | None = None,
    walk_away_reason: str | None = None,
) -> AgreementVersion:
    """Freeze the agreement as a new version and move the intake to ``agreement_sent``.

    ``prepared`` is what :func:`prepare_send` gave before the write transaction began;
    should the intake have changed since (or without it), the agreement is rendered
    here, in the caller's transaction. Raises WorkspaceError when the intake is a draft
    intake, when the agreement cannot be sent yet (:func:`contracts.send_blockers`: no
    saved agency profile, no commercial terms, a contradiction, a client the assessment
    says to walk away from without ``walk_away_reason``), when nothing changed since
    the latest version (:func:`refuse_unchanged`) or the workflow refuses the move.

    The version keeps its content (``agreement_json``) and its redline against the
    latest earlier version (None for the first, or when that one kept no content).
    """
    if intake.assessment is None:
        raise WorkspaceError("agreement", "The intake has not been submitted yet")
    reason = " ".join((walk_away_reason or "").split())[:1000] or None
    blockers = contracts.send_blockers(intake, agency, walk_away_reason=reason)
    if blockers:
        raise WorkspaceError("agreement", " ".join(blockers), {"agreement": "\n".join(blockers)})
    latest = latest_version(intake)
    current = agreements.compose(intake, agency)
    refuse_unchanged(current, latest)
    change_status(intake, "agreement_sent", user)  # checks the workflow
    if prepared is None or not _still_current(prepared, intake, current, latest, paper):
        prepared = prepare_send(
            intake, paper, agency=agency, own_transaction=False, walk_away_reason=reason
        )
    rendered, page = prepared.rendered, prepared.page
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
        title=page.title,
        html=page.html,
        stylesheet=page.stylesheet,
        page_sha256=page_digest(page.title, page.html, page.stylesheet),
        terms=contracts.stored_terms(intake),
        profile_version=contracts.installation_profile(agency).version,
        walk_away_reason=reason
        if (intake.assessment.result or {}).get("recommendation") == "walk_away"
        else None,
        content=prepared.content,
        redline=prepared.redline,
    )
    db.session.add(version)
    if version.walk_away_reason:
        audit(intake, user, "walk_away_overridden", None, f"version {number}", reason)
    audit(intake, user, "agreement_sent", None, f"version {number}, {rendered.document_id}")
    return version


def resend_link(intake: Intake, user: User) -> AgreementVersion:
    """Send the current version's link again (no new version): the version the prospect
    has not answered yet. Records it in the history; raises WorkspaceError when no
    version awaits the prospect's answer."""
    version = latest_version(intake)
    if version is None:
        raise WorkspaceError("agreement", "No agreement has been sent yet.")
    if version.status != "sent" or intake.status != "agreement_sent":
        state = version.status.replace("_", " ")
        raise WorkspaceError(
            "agreement",
            f"Version {version.number} is not waiting for the prospect's answer ({state}): "
            "only the link of a version awaiting an answer is sent again.",
        )
    audit(intake, user, "agreement_link_resent", None, f"version {version.number}")
    return version


def previous_version(version: AgreementVersion) -> AgreementVersion | None:
    """The version sent before this one, or None for the first."""
    return db.session.execute(
        select(AgreementVersion)
        .where(
            AgreementVersion.intake_id == version.intake_id,
            AgreementVersion.number < version.number,
        )
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def changes_of(version: AgreementVersion) -> redlines.Changes | None:
    """What a version changed since the previous one, ready to show (clause numbers,
    shortened context); None for a first version or one without a redline."""
    if version.redline is None:
        return None
    previous = previous_version(version)
    return redlines.changes(
        version.redline,
        previous.number if previous is not None else version.number - 1,
        previous.content if previous is not None else None,
        version.content,
    )


def unchanged_since(intake: Intake, agency: str = DEFAULT_AGENCY) -> AgreementVersion | None:
    """The latest version when the intake's agreement today is the same (sending would
    be refused), else None."""
    latest = latest_version(intake)
    if latest is None or intake.assessment is None:
        return None
    try:
        current = agreements.compose(intake, agency)
    except ValueError:
        return None
    return latest if current.sha256 == latest.content_sha256 else None


def verified_pdf(version: AgreementVersion, *, final: bool = False) -> bytes:
    """The version's PDF as sent (``final``: as accepted, with its certificate), once
    its SHA-256 matches the one recorded; raises AgreementCorrupted if not, ValueError
    for the final PDF of a version not accepted."""
    data, recorded = version.pdf, version.pdf_sha256
    if final:
        if version.final_pdf is None:
            raise ValueError("this version has not been accepted")
        data, recorded = version.final_pdf, version.final_pdf_sha256
    if sha256(data) != recorded:
        raise AgreementCorrupted(
            f"the {'accepted' if final else 'sent'} PDF of {version.document_id} version "
            f"{version.number} does not match its recorded SHA-256"
        )
    return data


def verified_page(version: AgreementVersion) -> FrozenPage | None:
    """The page frozen with the version, once its SHA-256 matches the one recorded
    (raises AgreementCorrupted if not); None for a version sent before pages were kept,
    whose prospect reads the PDF."""
    if version.html is None:
        return None
    page = FrozenPage(version.title or "", version.html, version.stylesheet or "")
    if page_digest(page.title, page.html, page.stylesheet) != version.page_sha256:
        raise AgreementCorrupted(
            f"the page of {version.document_id} version {version.number} does not match "
            "its recorded SHA-256"
        )
    return page


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
    change_status(version.intake, "in_review", None, detail="changes requested by the prospect")
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
    """What the prospect sent: the typed name, the consent box, and where from."""

    name: str
    consent: bool
    ip: str
    user_agent: str


@dataclass(frozen=True)
class AcceptanceRecord:
    """Who accepted, when and from where: what the version and its certificate keep."""

    name: str
    email: str | None
    at: datetime
    ip: str
    user_agent: str


@dataclass(frozen=True)
class PreparedAcceptance:
    """An acceptance checked, with its final PDF rendered, to record."""

    version_id: int
    pdf_sha256: str  # of the PDF the prospect saw (the final PDF starts with it)
    record: AcceptanceRecord
    final_pdf: bytes


def prepare_acceptance(version: AgreementVersion, acceptance: Acceptance) -> PreparedAcceptance:
    """Check the prospect's acceptance and render the final PDF with its certificate.

    Writes nothing: call it before the write transaction of :func:`record_acceptance`
    begins. Raises WorkspaceError (every field's problem in ``errors``) for a missing
    name or consent or a version not open for an answer, AgreementCorrupted when the
    stored PDF does not match its SHA-256.
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
    record = AcceptanceRecord(
        name=name,
        email=intake.contact_email or intake.answers.get("contact_email"),
        at=utcnow(),
        ip=(acceptance.ip or "")[:64],
        user_agent=(acceptance.user_agent or "")[:500],
    )
    return PreparedAcceptance(version.id, version.pdf_sha256, record, final_pdf(version, record))


def record_acceptance(version: AgreementVersion, prepared: PreparedAcceptance) -> AgreementVersion:
    """Record a prepared acceptance and move the intake to ``accepted``.

    Lock the version first (``version_by_token(..., for_update=True)`` inside a write
    transaction) so a double click accepts once: the second raises WorkspaceError.
    """
    if (version.id, version.pdf_sha256) != (prepared.version_id, prepared.pdf_sha256):
        raise ValueError("this acceptance was prepared for another agreement")
    _open_for_answer(version)
    record = prepared.record
    version.accepted_name = record.name
    version.accepted_email = record.email
    version.accepted_at = record.at
    version.accepted_ip = record.ip
    version.accepted_user_agent = record.user_agent
    version.final_pdf = prepared.final_pdf
    version.final_pdf_sha256 = sha256(prepared.final_pdf)
    version.status = "accepted"
    change_status(version.intake, "accepted", None, detail=f"accepted by {record.name}")
    return version


def certificate_facts(version: AgreementVersion, record: AcceptanceRecord) -> dict[str, str]:
    """What the certificate page states, in order."""
    q = get_questionnaire()
    company = q.questions["company"].display(version.answers.get("company"))
    return {
        "Agreement": f"{version.document_id}, version {version.number}",
        "Client": company,
        "Accepted by (typed name)": record.name,
        "Email of the client contact": record.email or "",
        "Accepted at (UTC)": record.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "From IP address": record.ip or "unknown",
        "Browser (user agent)": record.user_agent or "unknown",
        "SHA-256 of the PDF shown": version.pdf_sha256,
        "SHA-256 of the agreement content": version.content_sha256,
        "Sent": version.sent_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def final_pdf(version: AgreementVersion, record: AcceptanceRecord) -> bytes:
    """The PDF the prospect saw, byte for byte in its pages, plus the certificate page
    (raises AgreementCorrupted when the stored PDF does not match its SHA-256)."""
    from pypdf import PdfReader, PdfWriter

    shown = verified_pdf(version)
    certificate = pdf.certificate_pdf(
        certificate_facts(version, record),
        title=f"Acceptance of {version.document_id}",
        paper=version.paper,
    )
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(shown)))
    writer.append(PdfReader(io.BytesIO(certificate)))
    source = PdfReader(io.BytesIO(shown)).metadata or {}
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
