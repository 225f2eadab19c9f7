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
so the database's write lock is never held during a render. Each announces what
happened as it is recorded (:mod:`onboarding.services.signals`): the webhook events,
the emails and the files' renders subscribe. Callers commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, User, utcnow
from onboarding.domain import redline as redlines
from onboarding.domain.agreement import DEFAULT_AGENCY, Agreement, agreement_json
from onboarding.rendering import letters, pdf
from onboarding.services import sealing, signals
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement import proposal as proposals
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.agreement.versions import (
    FrozenPage,
    latest_version,
    page_digest,
    sha256,
    versions_of,
)
from onboarding.services.intake.workspace import WorkspaceError, audit, change_status
from onboarding.services.people import security_log


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


_NOT_COMPARED = ("document_id", "sha256", "problems")


def same_as(agreement: Agreement, version: AgreementVersion) -> bool:
    """Whether ``agreement`` says what ``version`` said: the same content, whatever the
    day (an agreement is dated the day it is sent, so its hash changes every day); a
    version sent before versions kept their content compares by its SHA-256."""
    if version.content_sha256 == agreement.sha256:
        return True
    if not version.content:
        return False
    now = {k: v for k, v in agreement_json(agreement).items() if k not in _NOT_COMPARED}
    then = {k: v for k, v in dict(version.content).items() if k not in _NOT_COMPARED}
    return now == then


def refuse_unchanged(agreement: Agreement, latest: AgreementVersion | None) -> None:
    """Refuse to send again the agreement the latest version already holds (the same
    content, :func:`same_as`): sending its link again is a separate action
    (:func:`resend_link`)."""
    if latest is not None and same_as(agreement, latest):
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
    blockers, agreement = agreement_terms.send_check(
        intake, agency, walk_away_reason=walk_away_reason
    )
    if blockers:  # checked before rendering: a refused send costs no render
        raise WorkspaceError("agreement", " ".join(blockers), {"agreement": "\n".join(blockers)})
    previous = latest_version(intake)
    refuse_unchanged(agreement, previous)  # before rendering, too
    content = agreement_json(agreement)
    # The proposal letter that goes with this version, frozen with it (the prospect's
    # page shows it first): its text as data, and its content as HTML.
    letter = proposals.proposal_of(intake, agency)
    content["proposal"] = letter.as_json()
    content["proposal_html"] = letters.proposal_html(letter, block="letter")
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
    # The record is the sealed file (its SHA-256 is the one stored and stated later).
    rendered = replace(
        rendered, pdf=sealing.seal_record(rendered.pdf, "Sent", rendered.document_id)
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
    message: str | None = None,
    subject: str | None = None,
) -> AgreementVersion:
    """Freeze the agreement as a new version and move the intake to ``agreement_sent``.

    ``prepared`` is what :func:`prepare_send` gave before the write transaction began;
    should the intake have changed since (or without it), the agreement is rendered
    here, in the caller's transaction. Raises WorkspaceError when the intake is a draft
    intake, when the agreement cannot be sent yet (:func:`agreement_terms.send_blockers`: no
    saved agency profile, no commercial terms, a contradiction, a client the assessment
    says to walk away from without ``walk_away_reason``), when nothing changed since
    the latest version (:func:`refuse_unchanged`) or the workflow refuses the move.

    The version keeps its content (``agreement_json``) and its redline against the
    latest earlier version (None for the first, or when that one kept no content).
    Announces ``agreement_sent`` (the webhook event; the prospect's link, and what
    changed, written to the outbox). ``message``: the manager's personal message, in
    the email and the version's thread; ``subject``: the email's, instead of the usual.
    """
    if intake.assessment is None:
        raise WorkspaceError("agreement", "The intake has not been submitted yet")
    reason = " ".join((walk_away_reason or "").split())[:1000] or None
    blockers, current = agreement_terms.send_check(intake, agency, walk_away_reason=reason)
    if blockers:
        raise WorkspaceError("agreement", " ".join(blockers), {"agreement": "\n".join(blockers)})
    latest = latest_version(intake)
    refuse_unchanged(current, latest)
    if intake.status != "agreement_sent":  # a new version while one is open: no move
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
        terms=agreement_terms.stored_terms(intake),
        profile_version=agreement_terms.installation_profile(agency).version,
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
    message = personal_message(message)
    if message:  # the personal message opens the version's thread, as the email says it
        db.session.add(
            AgreementMessage(
                intake_id=intake.id,
                version=version,
                author="manager",
                user_id=user.id,
                text=message,
            )
        )
    subject = " ".join((subject or "").split())[:200] or None
    signals.announce(
        signals.agreement_sent, intake, version=version, message=message, subject=subject
    )
    return version


def personal_message(text: str | None) -> str | None:
    """The manager's personal message as it goes out and is kept: its lines trimmed, no
    run of blank lines, at most 5,000 characters; None when there is none."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return joined[:5000] or None


def resend_link(intake: Intake, user: User, address: str | None = None) -> AgreementVersion:
    """Send the current version's link again (no new version): the version the prospect
    has not answered yet. Records it in the history and the security log (a lapsed link
    works again) and announces ``link_resent`` (the email, written again); raises
    WorkspaceError when no version awaits the prospect's answer."""
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
    security_log.record(
        "agreement_link_renewed",
        actor=user,
        subject=intake.public_id,
        address=address,
        detail=f"version {version.number}",
    )
    signals.announce(signals.link_resent, intake, version=version)
    return version


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
    return latest if same_as(current, latest) else None
