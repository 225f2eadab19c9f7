"""What an accepted or countersigned version keeps of the event: who, when, from where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onboarding.db.models import AgreementVersion


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
    legal_name: str | None = None  # the client's legal name, as the signer confirmed it
    address: str | None = None  # the client's registered address, as confirmed


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
        legal_name=version.accepted_legal_name,
        address=version.accepted_address,
    )


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
