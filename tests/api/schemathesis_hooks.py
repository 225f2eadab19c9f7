"""Schemathesis hooks (schemathesis.toml loads them): two more checks.

``positive_data_acceptance`` lets a few operations refuse a schema-valid request with
422 (schemathesis.toml says why); this check keeps that allowance narrow: such a 422 may
name only the fields whose rules a JSON Schema cannot state.
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import ensure_resource_availability

SEMANTIC_FIELDS: dict[str, set[str] | None] = {
    # An active staff member's email; a cursor this list made; from <= to.
    "listIntakes": {"owner", "cursor", "submitted_from"},
    "createIntake": {"owner"},
    "updateIntake": {"owner"},
    # The terms' rules across fields. Every field for now: the model is not generated
    # from the term table yet (issue 22), so its schema is looser than the check.
    "putTerms": None,
    # A project's rules: blank text once trimmed, a decision area of this agreement's
    # table (decisions[i].area), a move's reason and a date from the project's start.
    "postProjectUpdate": None,
    "patchProjectMilestone": {"due", "reason", "state"},
}


@schemathesis.check
def refusals_name_only_unstated_rules(ctx, response, case) -> bool | None:
    """A schema-valid request refused with 422 names only fields of :data:`SEMANTIC_FIELDS`."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id not in SEMANTIC_FIELDS:
        return None  # positive_data_acceptance refuses every 422 there
    allowed = SEMANTIC_FIELDS[operation_id]
    if allowed is None:
        return None
    named = {e.get("field") or e.get("question") for e in response.json().get("errors", [])}
    unexpected = named - allowed
    assert not unexpected, (
        f"A schema-valid request was refused naming {sorted(unexpected)}: the document "
        "should say what the server checks there"
    )
    return None


@schemathesis.check
def created_resources_are_available(ctx, response, case) -> bool | None:
    """Schemathesis's ``ensure_resource_availability`` (a resource just created is found
    by the operations under its path), except for an intake's project: it exists only
    once the intake's agreement is signed by both parties, so a new intake has none."""
    if "/project" in case.path:
        return None
    return ensure_resource_availability(ctx, response, case)
