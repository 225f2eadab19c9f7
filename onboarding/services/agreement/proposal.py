"""The proposal letter of an intake (``shared/spec/proposal.md``): composed with the
installation's agency profile (its rate card) and the engagement's terms, rendered to a
PDF on demand and kept per content in this process."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from onboarding.db.models import Intake, utcnow
from onboarding.domain.proposal import Proposal, compose_proposal
from onboarding.services.agreement import terms as agreement_terms

_KEEP = 32
_kept: OrderedDict[str, tuple[bytes, int]] = OrderedDict()
_lock = threading.Lock()


def proposal_of(intake: Intake, agency_name: str | None = None) -> Proposal:
    """The proposal of a submitted intake, dated today (the day it is read or sent: a
    version keeps the letter as sent, so an offer's default 30 days run from the send);
    raises ValueError for a draft intake."""
    if intake.assessment is None:
        raise ValueError("the intake has not been submitted")
    profile = agreement_terms.installation_profile(agency_name).profile
    return compose_proposal(
        intake.answers,
        intake.assessment.result,
        date=utcnow().date(),
        profile=profile,
        terms=agreement_terms.terms_of(intake),
    )


def proposal_pdf(
    intake: Intake, paper: str = "a4", agency_name: str | None = None
) -> tuple[bytes, str]:
    """The proposal as ``(pdf, file name)``; the same content renders once per process."""
    from onboarding.rendering.letters import proposal_pdf as render

    proposal = proposal_of(intake, agency_name)
    key = hashlib.sha256(
        json.dumps(proposal.as_json(), sort_keys=True).encode() + paper.encode()
    ).hexdigest()
    with _lock:
        kept = _kept.get(key)
    if kept is None:
        kept = render(proposal, paper=paper)
        with _lock:
            _kept[key] = kept
            while len(_kept) > _KEEP:
                _kept.popitem(last=False)
    name = f"Proposal - {proposal.company} - {proposal.date}.pdf"
    return kept[0], name
