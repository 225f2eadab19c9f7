"""The agency profile in force: the newest saved version, else the shipped demo one."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select

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


def installation_profile(agency_name: str | None = None) -> InstallationProfile:
    """The saved profile in force, else the shipped demo one (named ``agency_name``,
    the ``AGENCY_NAME`` setting, which only seeds the name)."""
    row = newest_profile_row()
    if row is not None:
        return InstallationProfile(load_profile(row.data), row.version)
    profile = default_profile()
    if agency_name:
        profile = replace(profile, trading_name=agency_name)
    return InstallationProfile(profile, None)


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
