"""The agreement as a contract: the agency profile (versioned), each engagement's terms,
and whether an agreement may be sent (contract: shared/spec/terms.md).

Callers commit. Validation errors raise :class:`~onboarding.domain.terms.TermsInvalid`
(every problem at once, each with a ``field`` path).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.contracts import AgencyProfileVersion, EngagementTermsRow
from onboarding.db.models import Intake, User, utcnow
from onboarding.domain.agreement import Agreement, compose
from onboarding.domain.consistency import Problem, check_agreement
from onboarding.domain.options import unknown_ids
from onboarding.domain.readiness import DraftProblem
from onboarding.domain.terms import (
    AgencyProfile,
    EngagementTerms,
    TermError,
    TermsInvalid,
    default_profile,
    load_profile,
    parse_terms,
)
from onboarding.services import signals
from onboarding.services.intake.workspace import audit
from onboarding.services.profile import (  # noqa: F401 - part of this module's API
    InstallationProfile,
    installation_profile,
    newest_profile_row,
)

LAWYER_NOTE = (
    "The shipped standard terms are a starting point to review with the agency's own "
    "lawyer before use; they are not legal advice."
)


# --- the agency profile ---------------------------------------------------------------


def profile_versions(limit: int = 50) -> list[AgencyProfileVersion]:
    """The saved versions, newest first."""
    return list(
        db.session.execute(
            select(AgencyProfileVersion).order_by(AgencyProfileVersion.version.desc()).limit(limit)
        ).scalars()
    )


def save_profile(data: Mapping[str, Any], user: User | None, note: str | None = None):
    """Validate and store a new version of the agency profile; returns the row.

    Raises TermsInvalid with every problem. The stored data is the complete profile
    (the shipped defaults filled in), so a version reads the same forever.
    """
    profile = load_profile(data)
    latest = db.session.execute(select(func.max(AgencyProfileVersion.version))).scalar()
    row = AgencyProfileVersion(
        version=(latest or 0) + 1,
        data=profile.as_dict(),
        created_by_id=user.id if user else None,
        note=(note or "").strip()[:300] or None,
    )
    db.session.add(row)
    audit(None, user, "agency_profile_saved", latest, row.version, note)
    signals.announce(signals.profile_saved, None)  # the open intakes' agreements change
    return row


def seed_profile(agency_name: str, user: User | None = None):
    """Save the shipped demo profile as version 1, named ``agency_name`` (``make run``).

    Does nothing when a profile exists. Returns the row or None.
    """
    if newest_profile_row() is not None:
        return None
    data = default_profile().as_dict()
    data["trading_name"] = agency_name or data["trading_name"]
    return save_profile(data, user, note="The shipped demo profile, seeded by seed-demo")


# --- an engagement's terms ----------------------------------------------------------------


def stored_terms(intake: Intake) -> dict[str, Any]:
    """The terms as last saved for this intake (contract form), or ``{}`` (also for
    stored data that is not an object: :func:`terms_of` names it)."""
    row = intake.terms_row
    return dict(row.data) if row is not None and isinstance(row.data, Mapping) else {}


def terms_of(intake: Intake) -> EngagementTerms:
    """The engagement's terms as a checked object (empty when none were saved). Terms
    stored before today's checks that no longer pass them (a year-9999 date), or that
    are not a terms object at all, are read without the keys at fault, so the intake's
    pages still show; the agreement is a draft naming each (``rejected``), never an
    error page."""
    data = stored_terms(intake) if intake.terms_row is not None else {}
    if intake.terms_row is not None and not isinstance(intake.terms_row.data, Mapping):
        return EngagementTerms(rejected=(TermError("terms", "not a terms object"),))
    try:
        return parse_terms(data)
    except TermsInvalid as exc:
        bad = {re.split(r"[.\[]", e.field, maxsplit=1)[0] for e in exc.errors}
        try:
            kept = parse_terms({k: v for k, v in data.items() if k not in bad})
        except TermsInvalid:  # pragma: no cover - what is left passed once already
            kept = EngagementTerms()
        return replace(kept, rejected=tuple(exc.errors))


def save_terms(intake: Intake, data: Mapping[str, Any], user: User | None) -> EngagementTerms:
    """Validate and store an engagement's terms; record what changed in the history.

    Raises TermsInvalid (every problem at once). Removals and replacements of clauses
    keep their reason in the audit trail (never shown to the client).
    """
    terms = parse_terms(data)
    unknown = unknown_ids(installation_profile().profile.options, terms.options)
    if unknown:
        raise TermsInvalid([TermError(f, m) for f, m in unknown])
    before = terms_of(intake) if intake.terms_row is not None else EngagementTerms()
    stored = terms.as_dict()
    if intake.terms_row is None:
        intake.terms_row = EngagementTermsRow(data=stored, updated_by_id=user.id if user else None)
    else:
        intake.terms_row.data = stored
        intake.terms_row.updated_by_id = user.id if user else None
    old = {(c["id"], c.get("reason")) for c in before.clauses.remove}
    for change in terms.clauses.remove:
        if (change["id"], change.get("reason")) not in old:
            audit(intake, user, "clause_removed", change["id"], None, change.get("reason"))
    old = {(c["id"], c.get("text")) for c in before.clauses.replace}
    for change in terms.clauses.replace:
        if (change["id"], change.get("text")) not in old:
            audit(intake, user, "clause_replaced", change["id"], None, change.get("reason"))
    old_added = {(c.get("title"), c.get("text")) for c in before.clauses.add}
    for change in terms.clauses.add:
        if (change.get("title"), change.get("text")) not in old_added:
            audit(intake, user, "clause_added", None, change.get("title") or change.get("id"))
    for kind in ("offer", "withdraw", "include"):
        was = set(getattr(before.options, kind))
        for oid in getattr(terms.options, kind):
            if oid not in was or terms.options.reasons.get(oid) != before.options.reasons.get(oid):
                reason = terms.options.reasons.get(oid) if kind == "include" else None
                audit(intake, user, f"option_{kind}", None, oid, reason)
    audit(intake, user, "terms_saved", None, "draft" if _is_draft(terms) else "complete")
    signals.announce(signals.terms_saved, intake)  # its agreement changes
    return terms


def _is_draft(terms: EngagementTerms) -> bool:
    from onboarding.domain.terms import is_draft

    return is_draft(terms)


# --- the agreement of an intake -------------------------------------------------------------


def document_date(intake: Intake) -> dt.date:
    """The agreement's date: the day it is sent. Until then it is today's (the date it
    would bear if sent now: the preview, the PDF download and the send agree); a sent
    version keeps the date it was sent with, frozen in its PDF and page."""
    return utcnow().date()


def agreement_of(
    intake: Intake, agency_name: str | None = None, terms: EngagementTerms | None = None
) -> Agreement:
    """The agreement of a submitted intake with the installation's profile and its terms.

    Raises ValueError when the intake has not been submitted.
    """
    if intake.assessment is None:
        raise ValueError("the intake has not been submitted")
    profile = installation_profile(agency_name).profile
    return compose(
        intake.answers,
        intake.assessment.result,
        date=document_date(intake),
        profile=profile,
        terms=terms if terms is not None else terms_of(intake),
    )


def problems_of(intake: Intake, agreement: Agreement, terms: EngagementTerms) -> list[Problem]:
    """The contradictions of an intake's agreement (empty when consistent)."""
    profile = installation_profile().profile  # its standard clauses, as written
    return check_agreement(
        agreement, intake.answers, intake.assessment.result, terms, profile=profile
    )


def send_blockers(
    intake: Intake, agency_name: str | None = None, *, walk_away_reason: str | None = None
) -> list[str]:
    """Why this intake's agreement cannot be sent yet, one sentence each (empty: it can).

    Checks the agency profile (saved, complete), the commercial terms (not a draft),
    the consistency check, the safeguard for the client's biggest worry, and an
    explicit decision with a reason to send to a client the assessment says to walk
    away from.
    """
    return send_check(intake, agency_name, walk_away_reason=walk_away_reason)[0]


def send_check(
    intake: Intake, agency_name: str | None = None, *, walk_away_reason: str | None = None
) -> tuple[list[str], Agreement]:
    """:func:`send_blockers`, and the agreement it composed to check them (a send uses
    it rather than composing it again)."""
    out = []
    current = installation_profile(agency_name)
    if current.version is None:
        out.append(
            "The agency profile has not been saved: an admin fills in the agency's legal "
            "details under Agency profile (a demo name never goes out)."
        )
    else:
        missing = current.profile.missing_for_sending()
        if missing:
            out.append("The agency profile lacks: " + ", ".join(missing) + ".")
    terms = terms_of(intake)
    agreement = agreement_of(intake, agency_name, terms)
    out += [draft_refusal(p) for p in agreement.problems]
    out += [f"Contradiction: {p.line()}" for p in problems_of(intake, agreement, terms)]
    recommendation = (intake.assessment.result or {}).get("recommendation")
    if recommendation == "walk_away" and not (walk_away_reason or "").strip():
        out.append(
            "The assessment recommends walking away: sending needs an explicit "
            '"send anyway" with a reason.'
        )
    return out, agreement


def draft_refusal(problem: DraftProblem) -> str:
    """A draft problem as the refused send names it: the field as the form labels it,
    and what to do in Prepare the agreement."""
    from onboarding.domain.term_fields import table

    row = table().row(problem.field)
    label = row.label if row is not None else problem.field
    return f"The agreement is a draft: {label} ({problem.field}) {problem.message}."


def decline_letter(intake: Intake, profile: AgencyProfile, user: User | None) -> str:
    """The polite decline for a client to walk away from, signed by ``user``."""
    from onboarding.domain.decline import decline_letter as letter

    sender = user.display_name if user is not None else profile.signatory.name
    return letter(
        intake.answers or {},
        intake.assessment.result if intake.assessment else {},
        agency=profile.trading_name,
        sender=sender or profile.trading_name,
    )
