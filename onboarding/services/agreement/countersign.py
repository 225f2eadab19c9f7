"""The agency's countersignature, by staff with signing rights: checked before the write
transaction (:func:`prepare_countersignature`), recorded in it
(:func:`record_countersignature`), which announces ``agreement_signed``; callers
commit."""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, User, utcnow
from onboarding.services import signals
from onboarding.services.agreement.files import ensure_file
from onboarding.services.agreement.records import CountersignRecord
from onboarding.services.agreement.versions import one_line, verified_pdf, versions_of
from onboarding.services.intake.workspace import WorkspaceError, audit, change_status
from onboarding.services.people import accounts


@dataclass(frozen=True)
class Countersignature:
    """Where the staff user countersigned from."""

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
        title=one_line(user.title),
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
) -> AgreementVersion:
    """Record a prepared countersignature: the signed PDF and its SHA-256, the intake
    moved to ``signed`` (:func:`change_status`), an audit row; announces
    ``agreement_signed`` (the webhook event; the signed PDF queued to be made after the
    commit, by the worker or the first download, and the prospect's copy emailed with
    it).

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
    signals.announce(signals.agreement_signed, intake, version=version)
    return version
