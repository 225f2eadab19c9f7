"""What happens after the prospect accepts: the agency countersigns, someone contacts them.

Everything comes from the version they accepted: its owner at the agency (else the
agency's signatory in the profile version it was sent with) and the agency's response
time from its resolved terms, in working days (else two working days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from onboarding.db.models import AgreementVersion
from onboarding.domain.agreement import number_word
from onboarding.domain.terms import (
    AgencyProfile,
    TermsInvalid,
    parse_terms,
    values,
)
from onboarding.services.profile import profile_for_version

DEFAULT_WORKING_DAYS = 2
HOURS_PER_WORKING_DAY = 24  # as the terms count them: 24 hours is one working day


@dataclass(frozen=True)
class NextSteps:
    """Who will contact the prospect, and within how long."""

    agency: str
    contact_name: str
    contact_role: str  # "your account manager" or the signatory's title
    contact_email: str
    working_days: int
    countersigned: bool

    @property
    def within(self) -> str:
        """``within two working days``."""
        days = self.working_days
        return f"within {number_word(days)} working {'day' if days == 1 else 'days'}"


def _resolved(version: AgreementVersion, profile: AgencyProfile) -> dict[str, Any]:
    """The version's resolved terms: as frozen with its content, else resolved again
    from what it was sent with (profile version, terms, answers); {} if neither."""
    content = version.content or {}
    frozen = content.get("resolved_terms") if isinstance(content, dict) else None
    if isinstance(frozen, dict) and frozen.get("response_hours"):
        return frozen
    try:
        return values(profile, parse_terms(version.terms), version.answers or {})
    except (TermsInvalid, KeyError, ValueError, TypeError):
        return {}


def working_days(resolved: dict[str, Any]) -> int:
    """The agency's response time in whole working days (at least one), or the default."""
    hours = resolved.get("response_hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        return DEFAULT_WORKING_DAYS
    return max(1, math.ceil(hours / HOURS_PER_WORKING_DAY))


def next_steps(version: AgreementVersion) -> NextSteps:
    """What the confirmation page tells a prospect who accepted ``version``."""
    profile = profile_for_version(version)
    resolved = _resolved(version, profile)
    owner = version.intake.owner
    if owner is not None and owner.active:
        name, role, email = owner.display_name, "your account manager", owner.email
    else:
        signatory = profile.signatory
        name, role, email = signatory.name, signatory.title, signatory.email
    return NextSteps(
        agency=str(resolved.get("agency") or profile.trading_name),
        contact_name=name,
        contact_role=role,
        contact_email=email,
        working_days=working_days(resolved),
        countersigned=version.countersigned_at is not None,
    )
