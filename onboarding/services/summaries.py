"""An intake and its assessment as JSON objects: what the API lists and webhooks carry.

Plain functions over the models, no pydantic and no Flask, so the API (which documents
these shapes as ``IntakeSummary`` and ``AssessmentSummary`` in
:mod:`onboarding.web.api.schema`) and the webhook events
(:mod:`onboarding.services.notify.webhooks`)
build them the same way. Timestamps are ISO 8601 with ``Z`` for UTC, as pydantic writes
them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboarding.db.models import Intake


def iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601, UTC written ``Z`` (``2026-03-31T14:05:09.123456Z``)."""
    if moment is None:
        return None
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def intake_fields(intake: Intake) -> dict[str, Any]:
    """The summary's fields with their Python values (timestamps as datetimes)."""
    return {
        "public_id": intake.public_id,
        "status": intake.status,
        "contact_name": intake.contact_name,
        "contact_email": intake.contact_email,
        "company": intake.company,
        "score": intake.score,
        "band": intake.band,
        "recommendation": intake.recommendation,
        "top_risk": intake.top_risk,
        "override_score": intake.override_score,
        "override_recommendation": intake.override_recommendation,
        "band_note": intake.band_note,
        "override_band": intake.override_band,
        "owner": intake.owner.email if intake.owner else None,
        "created_at": intake.created_at,
        "updated_at": intake.updated_at,
        "submitted_at": intake.submitted_at,
    }


def intake_summary(intake: Intake) -> dict[str, Any]:
    """An intake as a JSON object (the API's ``IntakeSummary``), keys in contract order."""
    fields = intake_fields(intake)
    for key in ("created_at", "updated_at", "submitted_at"):
        fields[key] = iso(fields[key])
    return fields


def assessment_summary(intake: Intake) -> dict[str, Any] | None:
    """The figures of an intake's latest assessment (the API's ``AssessmentSummary``),
    or None for a draft."""
    assessment = intake.assessment
    if assessment is None:
        return None
    result = assessment.result
    return {
        "score": result["score"],
        "band": result["band"],
        "band_note": result.get("band_note"),
        "recommendation": result["recommendation"],
        "risks": dict(result["risks"]),
        "red_flags": list(result["red_flags"]),
        "playbook_version": result["playbook_version"],
    }
