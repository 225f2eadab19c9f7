"""Sending an agreement, the prospect's acceptance or change request, and verification.

A sent agreement is frozen as an :class:`AgreementVersion`: answers, assessment,
playbook version, the exact PDF with its SHA-256, and the page the prospect reads (the
same content as HTML, with the stylesheet of the day and their SHA-256). Accepting
records who, when, from where (and, for a signer who is not the contact, their title and
confirmed authority); the agency's countersignature, by staff with signing rights,
records the same and completes it (status ``signed``); neither ever changes again.

Each file issued is kept with its SHA-256: the PDF as sent, the accepted PDF and the
signed PDF. The later two are the page frozen when the version was sent, re-rendered
with the signature(s) filled into its signature block, then a certificate stating the
SHA-256 of the file(s) it came from and each event (who, when in UTC, from where);
:func:`verify` says which of the three a PDF is. Stored PDFs and pages are checked
against their SHA-256 before they are shown or used (:func:`verified_pdf`,
:func:`verified_page`).

Sending, accepting and countersigning render a PDF, which takes a second or more: the
web renders first (:func:`prepare_send`, :func:`prepare_acceptance`,
:func:`prepare_countersignature`, which write nothing but the PDF cache, in a
transaction of their own), then begins its write transaction and records
(:func:`send_agreement`, :func:`record_acceptance`, :func:`record_countersignature`),
so the database's write lock is never held during a render. Webhook events
``agreement.sent``, ``agreement.changes_requested``, ``agreement.accepted`` and
``agreement.signed`` fire as each is recorded. Callers commit.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, User, utcnow
from onboarding.domain import redline as redlines
from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement, agreement_json
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.text import control_problem
from onboarding.rendering import documents, pdf
from onboarding.services import accounts, agreements, contracts, events, mail, prerender
from onboarding.services.intakes import find_by_token
from onboarding.services.workspace import WorkspaceError, audit, change_status, required_text

MAX_COMMENT = 5000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


FILES = (
    AgreementVersion.pdf,
    AgreementVersion.final_pdf,
    AgreementVersion.signed_pdf,
    AgreementVersion.html,
    AgreementVersion.stylesheet,
)
"""A version's files and frozen page (hundreds of KB each): loaded when read."""


def versions_of(intake: Intake) -> list[AgreementVersion]:
    """Every version sent for an intake, oldest first (its files load when read: a
    send or a page listing the versions does not fetch every stored PDF)."""
    return list(
        db.session.execute(
            select(AgreementVersion)
            .where(AgreementVersion.intake_id == intake.id)
            .order_by(AgreementVersion.number)
            .options(*(defer(column) for column in FILES))
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
    blockers, agreement = contracts.send_check(intake, agency, walk_away_reason=walk_away_reason)
    if blockers:  # checked before rendering: a refused send costs no render
        raise WorkspaceError("agreement", " ".join(blockers), {"agreement": "\n".join(blockers)})
    previous = latest_version(intake)
    refuse_unchanged(agreement, previous)  # before rendering, too
    content = agreement_json(agreement)
    red = redline_against(previous, content)
    shown = None
    if red is not None and previous is not None:
        shown = redlines.changes(red, previous.number, previous.content, content)
    rendered = agreements.agreement_pdf(
        intake,
        paper,
        agency=agency,
        own_transaction=own_transaction,
        changes=shown,
        agreement=agreement,
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
    mailer: mail.Mailer | None = None,
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
    latest earlier version (None for the first, or when that one kept no content). With
    a ``mailer``, the prospect's link (and what changed) is written to the outbox.
    """
    if intake.assessment is None:
        raise WorkspaceError("agreement", "The intake has not been submitted yet")
    reason = " ".join((walk_away_reason or "").split())[:1000] or None
    blockers, current = contracts.send_check(intake, agency, walk_away_reason=reason)
    if blockers:
        raise WorkspaceError("agreement", " ".join(blockers), {"agreement": "\n".join(blockers)})
    latest = latest_version(intake)
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
    events.emit("agreement.sent", intake)
    if mailer is not None:
        mail.agreement_sent(intake, version, mailer)
    return version


def resend_link(
    intake: Intake, user: User, mailer: mail.Mailer | None = None, address: str | None = None
) -> AgreementVersion:
    """Send the current version's link again (no new version): the version the prospect
    has not answered yet. Records it in the history and the security log (a lapsed link
    works again), and, with a ``mailer``, writes the email again; raises WorkspaceError
    when no version awaits the prospect's answer."""
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
    version.link_renewed_at = utcnow()  # a lapsed link works again for SIGNING_DAYS
    from onboarding.services import security_log

    security_log.record(
        "agreement_link_renewed",
        actor=user,
        subject=intake.public_id,
        address=address,
        detail=f"version {version.number}",
    )
    if mailer is not None:
        mail.agreement_sent(intake, version, mailer, again=True)
    return version


def link_expires_at(version: AgreementVersion, days: int) -> datetime | None:
    """When the prospect's link to ``version`` stops opening it: ``days``
    (``SIGNING_DAYS``) after it was sent or last renewed ("Send the link again"), or at
    the end of the terms' ``valid_until`` day if sooner. None for a version answered
    (an accepted or signed agreement stays reachable by its link)."""
    if version.status != "sent":
        return None
    start = version.link_renewed_at or version.sent_at
    ends = start + timedelta(days=days)
    raw = (version.terms or {}).get("valid_until") if isinstance(version.terms, dict) else None
    if isinstance(raw, str) and raw:
        try:
            until = datetime.fromisoformat(raw[:10]).replace(tzinfo=UTC) + timedelta(days=1)
        except ValueError:
            until = None
        if until is not None and version.link_renewed_at is None and until < ends:
            ends = until
    return ends


def link_lapsed(version: AgreementVersion, days: int, now: datetime | None = None) -> bool:
    """Whether the prospect's link to ``version`` has lapsed (see :func:`link_expires_at`)."""
    ends = link_expires_at(version, days)
    return ends is not None and (now or utcnow()) >= ends


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


def verified_pdf(version: AgreementVersion, *, final: bool = False, signed: bool = False) -> bytes:
    """The version's PDF as sent (``final``: as accepted by the client; ``signed``: as
    countersigned, with both signatures), once its SHA-256 matches the one recorded;
    raises AgreementCorrupted if not, ValueError for a file the version does not have."""
    data, recorded, kind = version.pdf, version.pdf_sha256, "sent"
    if signed:
        if version.signed_pdf is None:
            raise ValueError("this version has not been countersigned")
        data, recorded, kind = version.signed_pdf, version.signed_pdf_sha256, "signed"
    elif final:
        if version.final_pdf is None:
            raise ValueError("this version has not been accepted")
        data, recorded, kind = version.final_pdf, version.final_pdf_sha256, "accepted"
    if sha256(data) != recorded:
        raise AgreementCorrupted(
            f"the {kind} PDF of {version.document_id} version {version.number} does not "
            "match its recorded SHA-256"
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


def request_changes(
    version: AgreementVersion, comment: str, mailer: mail.Mailer | None = None
) -> AgreementMessage:
    """The prospect asks for changes: the thread keeps it, the intake returns to review
    (with a ``mailer``, the staff hear of it)."""
    _open_for_answer(version)
    comment = required_text(comment, "comment", "Tell us what you would like changed", MAX_COMMENT)
    message = AgreementMessage(
        intake_id=version.intake_id, version_id=version.id, author="prospect", text=comment
    )
    db.session.add(message)
    version.status = "changes_requested"
    change_status(version.intake, "in_review", None, detail="changes requested by the prospect")
    events.emit("agreement.changes_requested", version.intake)
    if mailer is not None:
        mail.agreement_answered(version.intake, version, mailer, "change_request", comment=comment)
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


# --- the prospect's acceptance ------------------------------------------------------------

MAX_NAME = MAX_TITLE = 120


def normalised_name(name: str | None) -> str:
    """A name as compared with the contact's: case, accents, punctuation and spacing aside."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def company_of(version: AgreementVersion) -> str:
    """The client's company as the version names it."""
    return get_questionnaire().questions["company"].display(version.answers.get("company"))


def contact_of(version: AgreementVersion) -> str:
    """The client contact the version was sent to (the name its signature block prints)."""
    return _one_line(version.answers.get("contact_name"))


@dataclass(frozen=True)
class Acceptance:
    """What the prospect sent: the typed name, the consent box, and where from; when
    the name is not the contact's, also their title and the authority box."""

    name: str
    consent: bool
    ip: str
    user_agent: str
    title: str = ""
    authority: bool = False


@dataclass(frozen=True)
class AcceptanceRecord:
    """Who accepted, when and from where: what the version and its certificate keep."""

    name: str
    email: str | None
    at: datetime
    ip: str
    user_agent: str
    title: str | None = None  # given by the signer (required when not the contact)
    authority: bool | None = None  # True: they confirmed their authority to sign


@dataclass(frozen=True)
class PreparedAcceptance:
    """An acceptance checked, to record (its PDF is made after, in the background)."""

    version_id: int
    pdf_sha256: str  # of the PDF the prospect saw (the final PDF states it)
    record: AcceptanceRecord


def check_acceptance(version: AgreementVersion, acceptance: Acceptance) -> dict[str, Any]:
    """The acceptance's clean values (name, title, authority), or WorkspaceError with
    every field's problem in ``errors``, keyed by field in the form's order: ``name``,
    ``title`` and ``authority`` (needed when the typed name is not the contact's),
    ``consent``. Also refuses a version not open for an answer."""
    errors: dict[str, str] = {}
    name, title = _one_line(acceptance.name), _one_line(acceptance.title)
    typed = (acceptance.name or "").strip()
    if not name:
        errors["name"] = "Type your full name to accept"
    elif control_problem(typed, multiline=False):
        errors["name"] = f"Your name {control_problem(typed, multiline=False)}"
    elif len(name) > MAX_NAME:
        errors["name"] = f"Your name must be at most {MAX_NAME} characters"
    contact = contact_of(version)
    stand_in = bool(name) and normalised_name(name) != normalised_name(contact)
    typed_title = (acceptance.title or "").strip()
    if control_problem(typed_title, multiline=False):
        errors["title"] = f"Your title {control_problem(typed_title, multiline=False)}"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Your title must be at most {MAX_TITLE} characters"
    elif stand_in and not title:
        errors["title"] = (
            f"Give your job title: you are signing instead of {contact}"
            if contact
            else "Give your job title"
        )
    if stand_in and not acceptance.authority:
        errors["authority"] = (
            f"Tick the box to confirm you have authority to sign for {company_of(version)}"
        )
    if not acceptance.consent:
        errors["consent"] = "Tick the box to confirm you accept the agreement"
    _open_for_answer(version)
    if errors:
        field_name, message = next(iter(errors.items()))
        raise WorkspaceError(field_name, message, errors)
    return {
        "name": name,
        "title": title or None,
        "authority": True if acceptance.authority else None,
    }


def prepare_acceptance(version: AgreementVersion, acceptance: Acceptance) -> PreparedAcceptance:
    """Check the prospect's acceptance (and that the stored PDF and page are intact).

    Writes nothing: call it before the write transaction of :func:`record_acceptance`
    begins. Raises WorkspaceError (every field's problem in ``errors``,
    :func:`check_acceptance`) or AgreementCorrupted when the stored PDF or page does not
    match its SHA-256. The accepted PDF is rendered after the acceptance is recorded
    (:func:`ensure_file`), by the outbox worker or the first request that wants it.
    """
    clean = check_acceptance(version, acceptance)
    intake = version.intake
    record = AcceptanceRecord(
        name=clean["name"],
        email=intake.contact_email or intake.answers.get("contact_email"),
        at=utcnow(),
        ip=(acceptance.ip or "")[:64],
        user_agent=(acceptance.user_agent or "")[:500],
        title=clean["title"],
        authority=clean["authority"],
    )
    verified_pdf(version)  # the PDF the prospect saw is intact
    verified_page(version)
    return PreparedAcceptance(version.id, version.pdf_sha256, record)


def record_acceptance(
    version: AgreementVersion, prepared: PreparedAcceptance, mailer: mail.Mailer | None = None
) -> AgreementVersion:
    """Record a prepared acceptance, move the intake to ``accepted`` and fire
    ``agreement.accepted`` (with a ``mailer``, the staff hear of it).

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
    version.accepted_title = record.title
    version.accepted_authority = record.authority
    version.status = "accepted"
    change_status(version.intake, "accepted", None, detail=f"accepted by {record.name}")
    prerender.queue_file(version, "accepted")  # its PDF, made after the commit
    events.emit("agreement.accepted", version.intake)
    if mailer is not None:
        mail.agreement_answered(version.intake, version, mailer, "agreement_accepted")
    return version


def acceptance_record(version: AgreementVersion) -> AcceptanceRecord:
    """The acceptance an accepted version keeps."""
    if version.accepted_at is None:
        raise ValueError("this version has not been accepted")
    return AcceptanceRecord(
        name=version.accepted_name or "",
        email=version.accepted_email,
        at=version.accepted_at,
        ip=version.accepted_ip or "",
        user_agent=version.accepted_user_agent or "",
        title=version.accepted_title,
        authority=version.accepted_authority,
    )


# --- the agency's countersignature --------------------------------------------------------


@dataclass(frozen=True)
class Countersignature:
    """Where the staff user countersigned from."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class CountersignRecord:
    """Who countersigned for the agency, when and from where."""

    user_id: int
    name: str
    title: str
    email: str
    at: datetime
    ip: str
    user_agent: str


@dataclass(frozen=True)
class PreparedCountersignature:
    """A countersignature checked, to record (its PDF is made after, in the background)."""

    version_id: int
    final_pdf_sha256: str  # of the accepted PDF it came from
    record: CountersignRecord


def is_countersigned(version: AgreementVersion) -> bool:
    return version.countersigned_at is not None


def to_countersign(intake: Intake) -> AgreementVersion | None:
    """The version waiting for the agency's countersignature: the accepted one, while
    the intake is accepted and nobody has countersigned it yet."""
    if intake.status != "accepted":
        return None
    for version in reversed(versions_of(intake)):
        if version.status == "accepted" and not is_countersigned(version):
            return version
    return None


def countersign_refusal(version: AgreementVersion, user: User) -> str | None:
    """Why ``user`` cannot countersign ``version`` now (a sentence), or None."""
    if is_countersigned(version):
        return f"Version {version.number} is already countersigned."
    if version.status != "accepted" or version.intake.status != "accepted":
        return "Only an agreement the client has accepted can be countersigned."
    return accounts.signing_problem(user)


def prepare_countersignature(
    version: AgreementVersion, user: User, countersignature: Countersignature
) -> PreparedCountersignature:
    """Check that ``user`` may countersign the accepted ``version`` and render the signed
    PDF (both signatures, a certificate of both events).

    Writes nothing: call it before the write transaction of
    :func:`record_countersignature` begins. Raises WorkspaceError (field
    ``countersign``) when the user has no signing rights or title, or the version is not
    accepted or already countersigned; AgreementCorrupted when a stored file does not
    match its SHA-256.
    """
    refusal = countersign_refusal(version, user)
    if refusal:
        raise WorkspaceError("countersign", refusal)
    if version.final_pdf is None:  # the worker has not made it yet: make it now
        ensure_file(version.id, "accepted")
        db.session.refresh(version)
    verified_pdf(version, final=True)  # the accepted PDF, whose SHA-256 it states
    record = CountersignRecord(
        user_id=user.id,
        name=accounts.signing_name(user),
        title=_one_line(user.title),
        email=user.email,
        at=utcnow(),
        ip=(countersignature.ip or "")[:64],
        user_agent=(countersignature.user_agent or "")[:500],
    )
    return PreparedCountersignature(version.id, version.final_pdf_sha256 or "", record)


def record_countersignature(
    version: AgreementVersion,
    user: User,
    prepared: PreparedCountersignature,
    mailer: mail.Mailer | None = None,
) -> AgreementVersion:
    """Record a prepared countersignature: the signed PDF and its SHA-256, the intake
    moved to ``signed`` (:func:`change_status`), an audit row, ``agreement.signed``.

    Lock the version first (inside the write transaction) so that two staff users
    pressing at once countersign once: the second raises WorkspaceError.
    """
    if (version.id, version.final_pdf_sha256) != (prepared.version_id, prepared.final_pdf_sha256):
        raise ValueError("this countersignature was prepared for another agreement")
    if prepared.record.user_id != user.id:
        raise ValueError("this countersignature was prepared for another user")
    refusal = countersign_refusal(version, user)
    if refusal:
        raise WorkspaceError("countersign", refusal)
    record = prepared.record
    version.countersigned_by_id = user.id
    version.countersigned_name = record.name
    version.countersigned_title = record.title
    version.countersigned_at = record.at
    version.countersigned_ip = record.ip
    version.countersigned_user_agent = record.user_agent
    intake = version.intake
    change_status(intake, "signed", user, detail=f"countersigned by {record.name}, {record.title}")
    audit(
        intake,
        user,
        "agreement_countersigned",
        None,
        f"version {version.number}",
        f"{record.name}, {record.title}, from {record.ip or 'unknown'}; accepted PDF SHA-256 "
        f"{version.final_pdf_sha256}",
    )
    events.emit("agreement.signed", intake)
    # The signed PDF is made after the commit (by the worker, or the first download);
    # the prospect's copy is emailed with it.
    prerender.queue_file(version, "signed")
    return version


def countersign_record(version: AgreementVersion) -> CountersignRecord:
    """The countersignature a countersigned version keeps."""
    if version.countersigned_at is None:
        raise ValueError("this version has not been countersigned")
    signer = version.countersigned_by
    return CountersignRecord(
        user_id=version.countersigned_by_id or 0,
        name=version.countersigned_name or "",
        title=version.countersigned_title or "",
        email=signer.email if signer is not None else "",
        at=version.countersigned_at,
        ip=version.countersigned_ip or "",
        user_agent=version.countersigned_user_agent or "",
    )


def signed_filename(version: AgreementVersion) -> str:
    return (version.filename or f"{version.document_id}.pdf").replace(".pdf", " - signed.pdf")


def ensure_file(version_id: int, kind: str, mailer: mail.Mailer | None = None) -> bool:
    """Make the ``accepted`` or ``signed`` PDF of a version if it is not made yet (the
    worker after the acceptance or countersignature, or the first request that wants it
    first); stored in a short write transaction of its own (call it without the write
    lock). One process renders it (a claim on the version and kind) while the others
    wait, at most ``agreements.WAIT_SECONDS``, then render it themselves; the first to
    store it wins (the version row is locked), so the file never changes once stored.
    With the signed PDF and a ``mailer``, the prospect's confirmation (the PDF attached)
    is written in the same transaction. Returns whether the file exists now."""
    if kind not in ("accepted", "signed"):
        raise ValueError(f"not a file we issue: {kind!r}")
    column = AgreementVersion.final_pdf if kind == "accepted" else AgreementVersion.signed_pdf
    db.session.rollback()  # a fresh look at what is stored
    version = db.session.get(AgreementVersion, version_id, populate_existing=True)
    if version is None:
        return False
    if getattr(version, column.key) is not None:
        return True
    if kind == "signed" and version.final_pdf is None:
        ensure_file(version_id, "accepted")
    key = f"{kind}:{version_id}"
    claimed = agreements.claim(key)
    if not claimed:  # another process makes it now: wait for it, then make it here
        if agreements.wait_for(key, lambda: _stored(version_id, column), agreements.WAIT_SECONDS):
            db.session.rollback()  # end our snapshot: the caller then reads the stored file
            return True
        claimed = agreements.claim(key)
    db.session.rollback()
    version = db.session.get(AgreementVersion, version_id, populate_existing=True)
    if version is None:
        if claimed:
            agreements.release(key)
        return False
    try:
        if kind == "accepted":
            data = final_pdf(version, acceptance_record(version))
        else:
            data = signed_pdf(version, acceptance_record(version), countersign_record(version))
        db.session.rollback()
        begin_write(db.session())
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.id == version_id).with_for_update()
        ).scalar_one_or_none()
        if version is None:  # deleted with its intake meanwhile
            db.session.rollback()
            return False
        if getattr(version, column.key) is None:
            if kind == "accepted":
                version.final_pdf, version.final_pdf_sha256 = data, sha256(data)
            else:
                version.signed_pdf, version.signed_pdf_sha256 = data, sha256(data)
            audit(
                version.intake,
                None,
                f"{kind}_pdf_made",
                None,
                f"version {version.number}",
                f"{kind} PDF SHA-256 {sha256(data)}",
            )
            if kind == "signed" and mailer is not None:
                mail.agreement_signed(
                    version.intake, version, mailer, data, signed_filename(version)
                )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        if claimed:
            agreements.release(key)
    return True


def _stored(version_id: int, column) -> bool:
    with db.engine.connect() as connection:
        return (
            connection.execute(
                select(column.isnot(None)).where(AgreementVersion.id == version_id)
            ).scalar()
            is True
        )


# --- the files we issue: the accepted and the signed PDF ----------------------------------


def utc_text(moment: datetime) -> str:
    """A moment as the certificates state it: ``2026-11-27 14:03:07 UTC``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _agreement_part(version: AgreementVersion, *, accepted: bool) -> documents.CertificatePart:
    facts = {
        "Agreement": f"{version.document_id}, version {version.number}",
        "Client": company_of(version),
        "Sent (UTC)": utc_text(version.sent_at),
        f"SHA-256 of the PDF as sent (version {version.number})": version.pdf_sha256,
    }
    if accepted:
        facts[f"SHA-256 of the accepted PDF (version {version.number})"] = (
            version.final_pdf_sha256 or ""
        )
    facts["SHA-256 of the agreement content"] = version.content_sha256
    return documents.CertificatePart("The agreement", facts)


def _client_part(version: AgreementVersion, record: AcceptanceRecord) -> documents.CertificatePart:
    facts = {"Accepted by (typed name)": record.name}
    if record.title:
        facts["Title"] = record.title
    if record.authority:
        facts[f"Authority to sign for {company_of(version)}"] = "Confirmed by the signer"
    facts |= {
        "Email of the client contact": record.email or "",
        "Accepted at (UTC)": utc_text(record.at),
        "From IP address": record.ip or "unknown",
        "Browser (user agent)": record.user_agent or "unknown",
    }
    return documents.CertificatePart("Accepted by the Client", facts)


def _agency_part(record: CountersignRecord) -> documents.CertificatePart:
    return documents.CertificatePart(
        "Countersigned for the Agency",
        {
            "Countersigned by": record.name,
            "Title": record.title,
            "Email": record.email,
            "Countersigned at (UTC)": utc_text(record.at),
            "From IP address": record.ip or "unknown",
            "Browser (user agent)": record.user_agent or "unknown",
        },
    )


def acceptance_certificate(
    version: AgreementVersion, record: AcceptanceRecord, *, rerendered: bool = True
) -> documents.Certificate:
    """The certificate of the accepted PDF: what it is, the version and sent PDF it came
    from (its SHA-256), and the acceptance (who, when in UTC, from where)."""
    made = (
        "the document frozen when it was sent, re-rendered with the Client's signature"
        if rerendered
        else "the pages of the PDF as sent, then a page with the Client's signature"
    )
    return documents.Certificate(
        "Certificate of acceptance",
        (
            f"This file is agreement {version.document_id}, version {version.number}, as "
            f"accepted by the Client: {made}, then this certificate.",
            f"This file came from version {version.number}, PDF SHA-256 "
            f"{version.pdf_sha256}. The agency keeps the SHA-256 of every file it issues: "
            "anyone holding this file can check it with the agency.",
        ),
        (_agreement_part(version, accepted=False), _client_part(version, record)),
    )


def signature_certificate(
    version: AgreementVersion,
    client: AcceptanceRecord,
    agency: CountersignRecord,
    *,
    rerendered: bool = True,
) -> documents.Certificate:
    """The certificate of the signed PDF: what it is, the version and accepted PDF it
    came from (their SHA-256), and both events (who, when in UTC, from where)."""
    made = (
        "the document frozen when it was sent, re-rendered with both signatures"
        if rerendered
        else "the pages of the PDF as sent, then a page with both signatures"
    )
    return documents.Certificate(
        "Certificate of signature",
        (
            f"This file is agreement {version.document_id}, version {version.number}, signed "
            f"by both parties: {made}, then this certificate of both signatures.",
            f"This file came from version {version.number}, PDF SHA-256 {version.pdf_sha256}, "
            f"as accepted by the Client in the file with SHA-256 {version.final_pdf_sha256}. "
            "The agency keeps the SHA-256 of every file it issues: anyone holding this file "
            "can check it with the agency.",
        ),
        (
            _agreement_part(version, accepted=True),
            _client_part(version, client),
            _agency_part(agency),
        ),
    )


def _client_mark(version: AgreementVersion, record: AcceptanceRecord) -> documents.SignatureMark:
    return documents.SignatureMark(
        0, company_of(version), record.name, record.title or "", utc_text(record.at)
    )


def _issue(
    version: AgreementVersion,
    marks: tuple[documents.SignatureMark, ...],
    certificate,  # rerendered: bool -> documents.Certificate
    *,
    kind: str,
    at: datetime,
) -> bytes:
    """A file we issue from ``version``: its frozen page re-rendered with ``marks`` in
    the signature block, then the certificate, in one render; for a version without a
    frozen page (or one whose signature block cannot take them), the PDF as sent
    followed by a signature page and the certificate. Raises AgreementCorrupted when
    the stored PDF or page does not match its SHA-256."""
    from pypdf import PdfReader, PdfWriter

    shown = verified_pdf(version)  # the file it came from: its SHA-256 is stated
    page = verified_page(version)
    source = PdfReader(io.BytesIO(shown)).metadata or {}
    subject = f"{kind} agreement {version.document_id}, version {version.number}"
    identifier = sha256(f"{version.pdf_sha256}\0{kind}\0{at.isoformat()}".encode())[:32].encode()
    author = str(source.get("/Author") or "")
    marks = tuple(
        m if m.organisation else replace(m, organisation=author or "the Agency") for m in marks
    )
    renderer = pdf.get_renderer()
    html = None
    if page is not None:
        html = documents.signed_html(
            title=page.title,
            body=page.html,
            stylesheet=page.stylesheet,
            paper=version.paper,
            marks=marks,
            certificate=certificate(True),
            meta={
                "author": author,
                "description": subject,
                "keywords": f"engagement agreement, {version.document_id}",
                "generator": "Onboarding",
                "dcterms.created": version.sent_at.date().isoformat(),
                "dcterms.modified": at.date().isoformat(),
            },
        )
    if html is not None:
        return renderer.render(html, identifier=identifier).pdf
    pages = renderer.render(
        documents.certificate_html(
            title=f"{kind} agreement {version.document_id}",
            paper=version.paper,
            certificate=certificate(False),
            marks=marks,
            document_id=version.document_id,
        ),
        identifier=identifier,
    ).pdf
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(shown)))
    writer.append(PdfReader(io.BytesIO(pages)))
    writer.add_metadata({k: v for k, v in source.items() if isinstance(v, str)})
    writer.add_metadata({"/Subject": subject})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def final_pdf(version: AgreementVersion, record: AcceptanceRecord) -> bytes:
    """The accepted PDF: the document frozen when it was sent, re-rendered with the
    Client's signature, then the certificate of acceptance (stating the sent PDF's
    SHA-256). Raises AgreementCorrupted when the stored PDF or page does not match its
    SHA-256."""
    return _issue(
        version,
        (_client_mark(version, record),),
        lambda rerendered: acceptance_certificate(version, record, rerendered=rerendered),
        kind="Accepted",
        at=record.at,
    )


def signed_pdf(
    version: AgreementVersion, client: AcceptanceRecord, agency: CountersignRecord
) -> bytes:
    """The signed PDF: the document frozen when it was sent, re-rendered with both
    signatures, then the certificate of both events (stating the SHA-256 of the sent
    and the accepted PDF)."""
    agency_mark = documents.SignatureMark(1, "", agency.name, agency.title, utc_text(agency.at))
    return _issue(
        version,
        (_client_mark(version, client), agency_mark),
        lambda rerendered: signature_certificate(version, client, agency, rerendered=rerendered),
        kind="Signed",
        at=agency.at,
    )


# --- which file is this? --------------------------------------------------------------------

KINDS = {"signed": "fully signed", "accepted": "accepted by the client", "sent": "sent"}
"""The files we issue, as :func:`verify` names them."""


@dataclass(frozen=True)
class Verification:
    version: AgreementVersion
    kind: str  # "signed" (both signatures), "accepted" (by the client) or "sent"

    @property
    def label(self) -> str:
        """``fully signed (version 2)``, ``accepted by the client (version 2)`` or
        ``sent (version 1)``."""
        return f"{KINDS[self.kind]} (version {self.version.number})"


def verify(data: bytes) -> Verification | None:
    """Which file we issued a PDF is, by its SHA-256: the signed, the accepted or the
    sent PDF of a version; None if it matches none."""
    return verify_digest(sha256(data))


def verify_stream(stream: io.RawIOBase | io.BufferedIOBase, chunk: int = 1 << 16):
    """:func:`verify` for a file read a chunk at a time (an upload of any size is
    hashed without being held in memory)."""
    digest = hashlib.sha256()
    while True:
        block = stream.read(chunk)
        if not block:
            break
        digest.update(block)
    return verify_digest(digest.hexdigest())


def verify_digest(digest: str) -> Verification | None:
    """The version and kind of the PDF whose SHA-256 (hex) is ``digest``, or None."""
    for kind, column in (
        ("signed", AgreementVersion.signed_pdf_sha256),
        ("accepted", AgreementVersion.final_pdf_sha256),
        ("sent", AgreementVersion.pdf_sha256),
    ):
        version = db.session.execute(
            select(AgreementVersion).where(column == digest).order_by(AgreementVersion.id)
        ).scalars().first()  # fmt: skip
        if version is not None:
            return Verification(version, kind)
    return None
