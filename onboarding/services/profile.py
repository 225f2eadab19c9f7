"""The agency profile in force: the newest saved version, else the shipped demo one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from onboarding.db import db
from onboarding.db.contracts import AgencyProfileVersion
from onboarding.db.models import AgreementVersion
from onboarding.domain.terms import (
    AgencyProfile,
    TermsInvalid,
    default_profile,
    load_profile,
)


def newest_profile_row() -> AgencyProfileVersion | None:
    """The profile version in force (the newest saved), or None when none was saved."""
    return db.session.execute(
        select(AgencyProfileVersion).order_by(AgencyProfileVersion.version.desc()).limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class InstallationProfile:
    """The profile an installation uses, and which saved version it is (None: none saved,
    so the shipped demo profile stands in and nothing can be sent)."""

    profile: AgencyProfile
    version: int | None


_CACHED = "onboarding.installation_profile"
"""Where :func:`installation_profile` keeps its answer, in the session's ``info``."""


def installation_profile(agency_name: str | None = None) -> InstallationProfile:
    """The saved profile in force, else the shipped demo one (named ``agency_name``,
    the ``AGENCY_NAME`` setting, which only seeds the name).

    Read and parsed once per database transaction (a request asks for it several
    times: the download, the send's checks, the agreement): the session keeps it until
    the transaction ends or a profile version is added, changed or removed in it."""
    session = db.session()
    cached = session.info.get(_CACHED)
    transaction = session.get_transaction()
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and cached[1] == agency_name
        and not any(isinstance(o, AgencyProfileVersion) for o in session.new)
    ):
        return cached[2]
    row = newest_profile_row()
    if row is not None:
        found = InstallationProfile(load_profile(row.data), row.version)
    else:
        profile = default_profile()
        if agency_name:
            profile = replace(profile, trading_name=agency_name)
        found = InstallationProfile(profile, None)
    session.info[_CACHED] = (session.get_transaction(), agency_name, found)
    return found


@event.listens_for(Session, "after_flush")
def _profile_changed(session: Session, flush_context: Any) -> None:
    """A profile version written in this transaction: read the profile again."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(o, AgencyProfileVersion) for o in changed):
        session.info.pop(_CACHED, None)


def profile_for_version(version: AgreementVersion) -> AgencyProfile:
    """The agency profile ``version`` was sent with (else the one in force)."""
    if version.profile_version is not None:
        row = db.session.execute(
            select(AgencyProfileVersion).where(
                AgencyProfileVersion.version == version.profile_version
            )
        ).scalar_one_or_none()
        if row is not None:
            try:
                return load_profile(row.data)
            except (TermsInvalid, ValueError, TypeError):
                pass
    return installation_profile().profile
