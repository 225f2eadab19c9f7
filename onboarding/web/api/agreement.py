"""The JSON API's operations on the agreement: its terms, sending it, the versions sent.

Declared and answered as the other operations are (:mod:`onboarding.web.api.base`).
"""

from __future__ import annotations

from typing import Any

from flask import (
    current_app,
    g,
    url_for,
)
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import ApiToken, Intake, User
from onboarding.domain.terms import TermsInvalid
from onboarding.services.agreement import proposal as proposals
from onboarding.services.agreement import send, versions
from onboarding.services.agreement import terms as contracts
from onboarding.services.intake import workspace
from onboarding.services.summaries import iso
from onboarding.web.api.base import (
    INTAKES_TAG,
    ApiError,
    as_json,
    bp,
    fail,
    json_body,
    limited,
    load,
    operation,
    parse,
    pdf_attachment,
    pdf_paper,
    require_submitted,
)
from onboarding.web.api.document import (
    JSON_BODY_ERRORS,
)
from onboarding.web.api.schema import (
    AgreementQuery,
    SendRequest,
    Terms,
    TermsOut,
    VersionDetail,
    VersionList,
    VersionSent,
)
from onboarding.web.writing import renders_before_writing, start_writing

# --- the agreement as a contract: terms, sending ------------------------------------------


def _terms_out(intake: Intake) -> dict[str, Any]:
    agency = current_app.config["AGENCY_NAME"]
    terms = contracts.terms_of(intake)
    agreement = contracts.agreement_of(intake, agency, terms)
    return {
        "terms": contracts.stored_terms(intake),
        "draft": agreement.draft,
        "problems": [p.as_dict() for p in agreement.problems]
        + [p.as_dict() for p in contracts.problems_of(intake, agreement, terms)],
        "blockers": contracts.send_blockers(intake, agency, walk_away_reason="-"),
    }


@bp.get("/intakes/<public_id>/terms")
@operation(
    "getTerms", INTAKES_TAG, {200: (TermsOut, "The terms and what they leave open.")},
    errors=(401, 404, 409, 429),
)  # fmt: skip
@limited
def get_terms(public_id: str):
    """The engagement's terms

    The terms the account manager set for this engagement (shared/spec/terms.md), whether
    the agreement is still a draft, its contradictions, and what stops it being sent.
    """
    intake = load(public_id)
    require_submitted(intake)
    return as_json(_terms_out(intake))


@bp.put("/intakes/<public_id>/terms")
@operation(
    "putTerms", INTAKES_TAG, {200: (TermsOut, "The saved terms.")},
    errors=(*JSON_BODY_ERRORS, 404, 409), body=Terms,
)  # fmt: skip
@limited
def put_terms(public_id: str):
    """Set the engagement's terms

    Replaces the terms with the object given; every problem comes at once, each with a
    `field` path such as `payment_schedule[1].percent` (422). Clause removals and
    replacements keep their reason in the intake's history.
    """
    body = json_body()
    if not isinstance(body, dict):  # null too: it is no object of terms
        raise fail(422, "body", "must be a JSON object of terms")
    intake = load(public_id)
    require_submitted(intake)
    begin_write(db.session())
    try:
        contracts.save_terms(intake, body, token_user())
    except TermsInvalid as exc:
        raise ApiError(422, [e.as_dict() for e in exc.errors]) from None
    workspace.audit(intake, None, "api", None, f"terms by API token “{g.api_token.name}”")
    db.session.commit()
    return as_json(_terms_out(intake))


def token_user() -> User | None:
    """The staff member who created the calling token (the API acts on their behalf)."""
    token = db.session.get(ApiToken, g.api_token.id)
    return token.created_by if token is not None else None


@bp.post("/intakes/<public_id>/agreement")
@operation(
    "sendAgreement", INTAKES_TAG, {201: (VersionSent, "The version sent and its link.")},
    errors=(*JSON_BODY_ERRORS, 404, 409, 503), body=SendRequest,
)  # fmt: skip
@limited
@renders_before_writing
def send_agreement(public_id: str):
    """Send the agreement as a new version

    Freezes the current agreement as a new version and returns the prospect's private
    link. 409 with every reason when it cannot be sent: no saved agency profile, no
    commercial terms (a draft), a contradiction, or a client the assessment says to walk
    away from without `override_walk_away` (a reason, kept in the history).
    """
    body = json_body()
    intake = load(public_id)
    request_ = parse(SendRequest, body)
    require_submitted(intake)
    user = token_user()
    if user is None:
        made_by = db.session.execute(
            select(ApiToken.created_by_id).where(ApiToken.id == g.api_token.id)
        ).scalar()
        if made_by is None:  # onboarding api-token create NAME, without --user
            raise fail(
                409,
                "authorization",
                "This token was made without a user: make one with --user to send "
                "(onboarding api-token create NAME --user EMAIL)",
            )
        raise fail(409, "authorization", "The token's creator no longer exists: it cannot send")
    agency = current_app.config["AGENCY_NAME"]
    reason = request_.override_walk_away
    try:  # rendered before the write transaction begins (never under the write lock)
        prepared = send.prepare_send(intake, request_.paper, agency=agency, walk_away_reason=reason)
        start_writing()
        intake = load(public_id)
        version = send.send_agreement(
            intake, user, request_.paper, agency=agency, prepared=prepared,
            walk_away_reason=reason,
        )  # fmt: skip
    except workspace.WorkspaceError as exc:
        reasons = [line for m in exc.errors.values() for line in m.split("\n") if line]
        raise ApiError(409, [{"field": "agreement", "message": r} for r in reasons]) from None
    workspace.audit(intake, None, "api", None, f"agreement sent by API token “{g.api_token.name}”")
    db.session.commit()
    url = url_for("signing.view", token=version.token, _external=True)
    data = {"number": version.number, "document_id": version.document_id,
            "sha256": version.pdf_sha256, "url": url}  # fmt: skip
    return as_json(data, 201)


# --- the versions sent, with their redlines -------------------------------------------------


def _version_out(version) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "document_id": version.document_id,
        "sha256": version.pdf_sha256,
        "sent_at": iso(version.sent_at),
    }


@bp.get("/intakes/<public_id>/agreement/versions")
@operation(
    "listAgreementVersions", INTAKES_TAG, {200: (VersionList, "The versions, oldest first.")},
    errors=(401, 404, 429),
)  # fmt: skip
@limited
def list_versions(public_id: str):
    """The versions of the agreement sent

    Every version sent for the intake, oldest first, with where it stands and the
    SHA-256 of the PDF sent (`onboarding verify` and the workspace check a file
    against it). Empty before the first send.
    """
    intake = load(public_id)
    return as_json({"items": [_version_out(v) for v in versions.versions_of(intake)]})


@bp.get("/intakes/<public_id>/agreement/versions/<int:number>")
@operation(
    "getAgreementVersion", INTAKES_TAG,
    {200: (VersionDetail, "The version, with its redline against the one before.")},
    errors=(401, 404, 429),
)  # fmt: skip
@limited
def get_version(public_id: str, number: int):
    """One version of the agreement, with what changed

    The version and its `redline` against version n-1 (null for version 1): the terms
    whose values changed (`from`, `to`, in the agreement's words) and the clauses
    added, removed or changed, each with a word diff.
    """
    intake = load(public_id)
    version = next((v for v in versions.versions_of(intake) if v.number == number), None)
    if version is None:
        raise fail(404, "number", f"This intake has no version {number} of its agreement")
    return as_json(_version_out(version) | {"redline": version.redline} | _options_out(version))


def _options_out(version) -> dict[str, Any]:
    """The options offered with a version and, once accepted, those chosen."""
    from dataclasses import asdict

    from onboarding.domain.agreement import choose_from_offer

    content = version.content or {}
    offered = content.get("options_offered") or []
    chosen = None
    if version.options_chosen is not None:
        currency = str((content.get("resolved_terms") or {}).get("currency") or "GBP")
        choice = {o["id"]: int(o["quantity"]) for o in version.options_chosen}
        chosen = [asdict(o) for o in choose_from_offer(offered, choice, currency)[0]]
    return {"options_offered": offered, "options_chosen": chosen}


# --- the proposal letter ----------------------------------------------------------------------


@bp.get("/intakes/<public_id>/proposal.pdf")
@operation(
    "getProposalPdf", INTAKES_TAG,
    {200: (None, "The PDF, as an attachment with a file name.")},  # document.RESPONSES: media
    errors=(401, 404, 409, 422, 429, 503), query=AgreementQuery,
)  # fmt: skip
@limited
def proposal_pdf(public_id: str):
    """The proposal letter (PDF)

    The letter that goes with the agreement: what the agency heard, how the work will
    run, the answer to each worry, the options offered with their prices, what happens
    next and until when the offer stands. Not binding: the agreement is the contract.
    """
    intake = load(public_id)
    paper = pdf_paper()
    require_submitted(intake)
    data, name = proposals.proposal_pdf(intake, paper, current_app.config["AGENCY_NAME"])
    return pdf_attachment(data, name)
