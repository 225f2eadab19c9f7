"""The prospect's answer to the version sent: a change request or an acceptance (and the
manager's replies in the thread). Each announces what happened
(:mod:`onboarding.services.signals`); callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, User, utcnow
from onboarding.domain.text import control_problem
from onboarding.services import signals
from onboarding.services.agreement.records import AcceptanceRecord
from onboarding.services.agreement.versions import (
    MAX_COMMENT,
    MAX_NAME,
    MAX_TITLE,
    company_of,
    contact_of,
    latest_version,
    normalised_name,
    one_line,
    verified_page,
    verified_pdf,
)
from onboarding.services.intake.workspace import (
    WorkspaceError,
    audit,
    change_status,
    required_text,
)


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


def record_change_request(version: AgreementVersion, comment: str) -> AgreementMessage:
    """The prospect comments or asks for changes: the thread keeps it, and announces
    ``changes_requested`` (the webhook event, the staff's notice; the intake waits in
    "needs your attention" until a reply or a new version). The version stays open, to
    comment on again, answer the manager's reply or accept, until a new one is sent.
    The comment form checks its fields first
    (:func:`onboarding.services.agreement.change_requests.request_changes`)."""
    _open_for_answer(version)
    comment = required_text(comment, "comment", "Tell us what you would like changed", MAX_COMMENT)
    message = AgreementMessage(
        intake_id=version.intake_id, version_id=version.id, author="prospect", text=comment
    )
    db.session.add(message)
    audit(
        version.intake,
        None,
        "prospect_commented",
        None,
        f"version {version.number}",
        "changes requested by the prospect",
    )
    signals.announce(signals.changes_requested, version.intake, version=version, comment=comment)
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
    # the prospect's email, with the link back to the thread (notify.prospect)
    signals.announce(
        signals.manager_replied, intake, version=version, text=text, author=user.display_name
    )
    return message


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
    name, title = one_line(acceptance.name), one_line(acceptance.title)
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


def record_acceptance(version: AgreementVersion, prepared: PreparedAcceptance) -> AgreementVersion:
    """Record a prepared acceptance, move the intake to ``accepted`` and announce
    ``agreement_accepted`` (the webhook event, the staff's notice, the accepted PDF
    queued to be made after the commit).

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
    signals.announce(signals.agreement_accepted, version.intake, version=version)
    return version
