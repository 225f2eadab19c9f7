"""The JSON API's schemas, and the OpenAPI 3.1 document built from them.

One source per shape, used both to validate or serialise and to document:

- request bodies and responses are pydantic v2 models (the views validate bodies with
  them and serialise responses through them; the OpenAPI ``components.schemas`` are
  their JSON Schemas);
- the ``answers`` object's JSON Schema is generated from the questionnaire data
  (``onboarding/data/questionnaire.yaml``), the same data ``Questionnaire.validate``
  checks answers with: types, enums, ranges, lengths and the required list;
- the assessment's schema follows ``shared/spec/assessment.md`` (keys may be added);
- the ``paths`` are generated (spectree) from each view's declaration of its query,
  body and response models (``@operation`` in :mod:`onboarding.web.api.views`), and
  completed here by :func:`complete_paths` with what a declaration cannot say.

No Flask here: :func:`openapi_document` takes the settings and generated paths it
depends on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema, models_json_schema

from onboarding.db.models import Intake
from onboarding.domain.playbooks import CAUSES, DUE, SECTIONS
from onboarding.domain.questionnaire import (
    SCALE_MAX,
    SCALE_MIN,
    Question,
    Questionnaire,
    get_questionnaire,
)
from onboarding.domain.resources import project_dir
from onboarding.domain.workflow import RECOMMENDATIONS, SET_BY_ACTION, STATUS_LABELS, TRANSITIONS
from onboarding.services.intake.listing import MAX_SEARCH
from onboarding.services.notify.webhooks import EVENTS
from onboarding.services.summaries import intake_fields
from onboarding.web.api.terms_model import Terms  # made from the term table

API_VERSION = "1"
PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
SORT_KEYS = {
    "submitted_at": "submitted",
    "created_at": "created",
    "updated_at": "updated",
    "score": "score",
    "company": "company",
    "name": "name",
}
"""The list's sort parameter (``-`` first for descending) -> the query model's sort key
(:data:`onboarding.services.intake.listing.CURSOR_SORTS`)."""
SORTS = tuple(s for key in SORT_KEYS for s in (key, f"-{key}"))
DEFAULT_SORT = "-submitted_at"

Cause = Literal[CAUSES]  # type: ignore[valid-type]
Band = Literal["strong", "guarded", "poor"]
Recommendation = Literal[tuple(RECOMMENDATIONS)]  # type: ignore[valid-type]
Status = Literal[tuple(STATUS_LABELS)]  # type: ignore[valid-type]
Event = Literal[tuple(EVENTS)]  # type: ignore[valid-type]
Due = Literal[tuple(DUE)]  # type: ignore[valid-type]
AgreementSection = Literal[tuple(SECTIONS)]  # type: ignore[valid-type]
Percent = Annotated[int, Field(ge=0, le=100)]
Email = Annotated[str, Field(max_length=254)]
NoteText = Annotated[str, Field(min_length=1, max_length=5000)]

# An answers field: validated by the questionnaire (not by pydantic), documented by a
# reference to the schema generated from it (put in place by ``component_schemas``).
DraftAnswersRef = Annotated[Any, WithJsonSchema({"x-answers": "DraftAnswers"})]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------


class ErrorItem(Model):
    """One problem: ``question`` names an answer, ``field`` anything else."""

    question: str | SkipJsonSchema[None] = Field(
        None, description="The question id of an invalid answer (answers only)."
    )
    field: str | SkipJsonSchema[None] = Field(
        None,
        description="The request part at fault: a body field, a query parameter, "
        "`authorization`, `body` or `request`.",
    )
    message: str = Field(description="What is wrong, as a sentence for a person.")


class ErrorList(Model):
    """Every problem at once; nothing was stored or computed."""

    errors: list[ErrorItem]


# --- the assessment contract (shared/spec/assessment.md) -----------------------------


class Open(BaseModel):
    """Contract objects: the listed keys are promised, more may be added."""

    model_config = ConfigDict(extra="allow")


class Risks(Open):
    """Risk per cause, 0 (none) to 100 (severe)."""

    excess_free_time: Percent
    trust_deficit: Percent
    process_transparency: Percent
    frustrated_creative: Percent
    tactical_focus: Percent
    fear: Percent


class Contribution(Open):
    """A rule that moved the score or a risk, with the answers it read and why."""

    playbook: str
    rule: str
    points: int
    cause: Cause | None
    questions: list[str]
    because: str


class Clause(Open):
    """A tailored clause of the agreement, with the answers that triggered it."""

    id: str
    playbook: str
    section: AgreementSection
    title: str
    text: str
    triggered_by: list[str] = Field(description="Empty for a clause every agreement has.")


class Action(Open):
    """What the account manager should do."""

    id: str
    playbook: str
    text: str
    due: Due


class Assessment(Open):
    """The fit assessment (contract: shared/spec/assessment.md, v1). Keys may be added."""

    score: Percent = Field(description="0..100, higher is a better fit.")
    band: Band = Field(
        description="strong (score >= 70), guarded (40..69), poor (< 40), except that a "
        "cause at risk 60 or more caps it at guarded (v1.1; band_note says which): read "
        "the band, never derive it from the score."
    )
    band_note: str | None = Field(
        None, description="Which cause capped the band, as a sentence; null when none did."
    )
    recommendation: Recommendation = Field(
        description="proceed / proceed_with_guardrails / walk_away by band; walk_away "
        "whatever the score when a walk_away playbook red flag fires."
    )
    risks: Risks
    red_flags: list[str]
    contributions: list[Contribution]
    clauses: list[Clause] = Field(description="In agreement order.")
    actions: list[Action]
    playbook_version: str = Field(description="SHA-256 of the playbook set that produced it.")


# --- the questionnaire definition ------------------------------------------------------


class ValueLabel(Model):
    value: str
    label: str


class QuestionDef(Model):
    id: str
    type: Literal["text", "email", "integer", "scale", "choice", "multi", "yesno", "date"]
    label: str
    required: bool
    form_required: bool | SkipJsonSchema[None] = Field(
        None,
        description="Asked and required by the web form, optional for API answers (a "
        "question added after v1). A date is a string YYYY-MM-DD.",
    )
    help: str | SkipJsonSchema[None] = None
    max_length: int | SkipJsonSchema[None] = None
    min: int | SkipJsonSchema[None] = None
    max: int | SkipJsonSchema[None] = None
    values: list[ValueLabel] | SkipJsonSchema[None] = None
    ends: list[str] | SkipJsonSchema[None] = Field(None, min_length=2, max_length=2)
    show_if: str | SkipJsonSchema[None] = Field(
        None, description="Shown (and required, if required) only when this condition holds."
    )


class SectionDef(Model):
    id: str
    title: str
    intro: str
    questions: list[QuestionDef]


class QuestionnaireDef(Model):
    """The questionnaire: sections of questions, in the order a prospect answers them."""

    version: int
    sections: list[SectionDef]


# --- intakes ---------------------------------------------------------------------------


class IntakeSummary(Model):
    """An intake as the lists show it (webhooks send the same object).

    Built by :func:`onboarding.services.summaries.intake_summary`; this model documents it.
    """

    public_id: str = Field(description="The intake's id in URLs.")
    status: Status
    contact_name: str | None
    contact_email: str | None
    company: str | None
    score: Percent | None = Field(description="The computed score; null for a draft.")
    band: Band | None
    recommendation: Recommendation | None
    top_risk: Cause | None
    override_score: Percent | None = Field(
        description="A manager's own score, kept beside the computed one."
    )
    override_recommendation: Recommendation | None
    band_note: str | None = Field(
        description="Which cause capped the computed band at guarded (assessment.md v1.1); "
        "null when none did, or for an assessment made before v1.1."
    )
    override_band: Band | None = Field(
        description="A manager's own band, kept beside the computed one (chosen, never "
        "derived from the override's score)."
    )
    owner: str | None = Field(description="Email of the account manager who owns it.")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


class NoteOut(Model):
    text: str
    author: str | None = Field(description="Email of the author; null when added via the API.")
    created_at: datetime


class IntakeDetail(IntakeSummary):
    """One intake with its answers, latest assessment and notes."""

    answers: DraftAnswersRef = Field(description="The stored answers (a draft's may be partial).")
    assessment: Assessment | None = Field(description="The latest assessment; null for a draft.")
    override_reason: str | None
    notes: list[NoteOut] = Field(description="Newest first.")
    resume_url: str | None = Field(
        description="A draft's private link: it opens the intake for the prospect, where "
        "they left off. Null once submitted. Treat it as a secret of the prospect's."
    )


class IntakeList(Model):
    """One page of intakes, and the cursor of the next page (null on the last)."""

    items: list[IntakeSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page.")


class StrictModel(Model):
    model_config = ConfigDict(extra="forbid", strict=True)


class IntakeCreate(StrictModel):
    """A new intake from answers (complete: submitted and assessed; partial: a draft)."""

    answers: DraftAnswersRef = Field(
        description="Complete and valid answers submit the intake (status `new`, assessed, "
        "`intake.submitted` fires); a partial set makes a draft whose `resume_url` lets "
        "the prospect finish it. Invalid values are refused (422) either way."
    )
    owner: Email | None = Field(None, description="Email of the account manager to own it.")
    submit: bool = Field(
        True,
        description="false keeps even complete answers as a draft, for the prospect to "
        "review and submit themselves.",
    )


class IntakePatch(StrictModel):
    """Changes to an intake; give any of the fields (at least one)."""

    status: Status | SkipJsonSchema[None] = Field(
        None,
        description="Move along the workflow: "
        + "; ".join(
            f"{s} -> {', '.join(x for x in t if x not in SET_BY_ACTION) or '(none)'}"
            for s, t in TRANSITIONS.items()
            if s != "draft"
        )
        + ". A move the workflow does not allow is refused with 409, and so are "
        + " and ".join(SET_BY_ACTION)
        + ": those are reached by sending the agreement and by the prospect accepting it. "
        "The current status is a no-op.",
    )
    owner: Email | None = Field(
        None, description="Email of an active staff member to own the intake, or null for nobody."
    )
    note: NoteText | SkipJsonSchema[None] = Field(
        None, description="A note to append to the intake."
    )


class Answers(RootModel[dict[str, Any]]):
    """A complete answer set (the assessments' body): its schema is generated from the
    questionnaire (:func:`answers_schema`), which also checks it; this model only names
    it in a declaration."""


# --- query parameters (declared here; the views read them, with their own messages) ---------


class IntakeListQuery(Model):
    """The parameters of ``GET /intakes`` (read by ``views.list_query``)."""

    status: Status | SkipJsonSchema[None] = Field(
        None,
        description="Only this status. Without it, every submitted intake (drafts only with "
        "`status=draft`).",
    )
    band: Band | SkipJsonSchema[None] = Field(None, description="Only this band.")
    owner: Email | SkipJsonSchema[None] = Field(
        None,
        description="Only intakes this staff member owns (their email), or `none` for intakes "
        "nobody owns.",
    )
    q: Annotated[str, Field(max_length=MAX_SEARCH)] | SkipJsonSchema[None] = Field(
        None, description="Search: a case-insensitive part of the name, company or email."
    )
    submitted_from: date | SkipJsonSchema[None] = Field(
        None, description="Submitted on or after this day (YYYY-MM-DD, UTC)."
    )
    submitted_to: date | SkipJsonSchema[None] = Field(
        None, description="Submitted on or before this day (YYYY-MM-DD, UTC)."
    )
    needs_attention: bool | SkipJsonSchema[None] = Field(
        None,
        description="`true`: only intakes awaiting the agency's answer (the prospect's "
        "message or change request is the last word of the thread: no reply and no new "
        "version since), closed ones (declined, walked away) left out. `false` or absent: "
        "no such filter.",
    )
    sort: Literal[SORTS] = Field(  # type: ignore[valid-type]
        DEFAULT_SORT,
        description="Sort key, `-` first for descending. Intakes without a value (a draft's "
        "score) come last either way; ties are broken by creation order.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1 to 100).")
    cursor: Annotated[str, Field(max_length=500)] | SkipJsonSchema[None] = Field(
        None,
        description="The `next_cursor` of the previous page (opaque). Keep the same `sort`; "
        "the filters may stay or change.",
    )


class AgreementQuery(Model):
    """The parameters of ``GET /intakes/{public_id}/agreement.pdf``."""

    paper: Literal["a4", "letter"] = Field("a4", description="Paper size.")


# --- serialising ------------------------------------------------------------------------


def intake_detail(intake: Intake, notes: list, resume_url: str | None) -> dict[str, Any]:
    """An intake as the :class:`IntakeDetail` JSON object."""
    assessment = intake.assessment
    detail = IntakeDetail(
        **intake_fields(intake),
        answers=dict(intake.answers or {}),
        assessment=Assessment.model_validate(assessment.result) if assessment else None,
        override_reason=intake.override_reason,
        notes=[
            NoteOut(text=n.text, author=n.user.email if n.user else None, created_at=n.created_at)
            for n in notes
        ],
        resume_url=resume_url if intake.status == "draft" else None,
    )
    return detail.model_dump(mode="json")


class AssessmentSummary(Model):
    """The figures of the latest assessment (the full one: GET /intakes/{public_id}).

    Built by :func:`onboarding.services.summaries.assessment_summary`.
    """

    score: Percent
    band: Band
    band_note: str | None = Field(description="Which cause capped the band; null if none.")
    recommendation: Recommendation
    risks: Risks
    red_flags: list[str]
    playbook_version: str


class EventData(Model):
    intake: IntakeSummary
    assessment: AssessmentSummary | None = Field(description="Null for a draft.")
    previous_status: Status | SkipJsonSchema[None] = Field(
        None, description="intake.status_changed only: the status before the change."
    )


class WebhookEvent(Model):
    """The JSON body of every webhook delivery."""

    id: str = Field(
        description="The event id: retries and re-sends of an event carry the same id, so "
        "a receiver can ignore one it has already handled."
    )
    event: Event
    created_at: datetime
    data: EventData


# --- the answers, from the questionnaire data -----------------------------------------------


def _value_schema(q: Question, *, required: bool) -> dict[str, Any]:
    if q.type == "text":
        schema: dict[str, Any] = {"type": "string"}
        if q.max_length:
            schema["maxLength"] = q.max_length
        # No NUL characters; a required text needs a character that is not a space
        # (answers are trimmed and an empty one is unanswered).
        schema["pattern"] = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$" if required else "^[^\\u0000]*$"
    elif q.type == "email":
        schema = {"type": "string", "format": "email", "maxLength": 254}
    elif q.type in ("integer", "scale"):
        lo, hi = q.bounds()
        schema = {"type": "integer", "minimum": lo, "maximum": hi}
    elif q.type == "choice":
        schema = {"type": "string", "enum": list(q.values)}
    elif q.type == "multi":
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": list(q.values)},
            "uniqueItems": True,
        }
    elif q.type == "date":
        schema = {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
    else:  # yesno
        schema = {"type": "boolean"}
    return schema


def _describe(q: Question, section_title: str, *, required: bool, partial: bool) -> str:
    parts = [f"{q.label} ({section_title})."]
    if q.help:
        parts.append(q.help)
    if q.type == "scale" and q.ends:
        parts.append(f"{SCALE_MIN} = {q.ends[0]}; {SCALE_MAX} = {q.ends[1]}.")
    if q.values:
        parts.append("Values: " + "; ".join(f"`{k}` {v}" for k, v in q.values.items()) + ".")
    if q.type == "multi":
        parts.append("No repeats; may be empty.")
    if q.type == "date":
        parts.append("A date, YYYY-MM-DD (2000-01-01 to 2100-12-31).")
    if q.show_if:
        when = "required when shown" if q.required else "optional"
        parts.append(
            f"Shown only when `{q.show_if}` ({when}); when the condition does not hold the "
            "answer is ignored."
        )
    elif q.form_required:
        parts.append(
            "Optional here (a question added after v1): may be absent or null; the web form "
            "asks it."
        )
    elif not q.required:
        parts.append("Optional: may be absent or null.")
    elif partial:
        parts.append("Required to submit.")
    return " ".join(parts)


def answers_schema(questionnaire: Questionnaire | None = None, *, partial: bool = False) -> dict:
    """The JSON Schema of an answers object, generated from the questionnaire data.

    ``partial=False``: a complete set (what an assessment needs): every required
    question listed in ``required``, non-null. ``partial=True``: a draft's answers, where
    any question may be missing or null. ``show_if`` cannot be expressed per question
    here (``past_problems`` is required only when ``worked_with_agency_before`` is
    true), so such questions are left out of ``required`` and their description says it.
    """
    questionnaire = questionnaire or get_questionnaire()
    properties: dict[str, Any] = {}
    required: list[str] = []
    for section in questionnaire.sections:
        for q in section.questions:
            must = q.required and not partial and not q.show_if
            schema = _value_schema(q, required=must)
            if not must:
                schema["type"] = [schema["type"], "null"]
                if "enum" in schema:
                    schema["enum"] = [*schema["enum"], None]
            schema["title"] = q.label
            schema["description"] = _describe(q, section.title, required=must, partial=partial)
            properties[q.id] = schema
            if must:
                required.append(q.id)
    conditional = [q.id for q in questionnaire.questions.values() if q.show_if and q.required]
    if partial:
        description = (
            "A draft's answers: `{question_id: value}`, any subset, null for unanswered. "
            "Values are checked as for a complete set; unknown question ids are errors."
        )
    else:
        description = (
            "A complete answer set, `{question_id: value}`, as the questionnaire defines "
            "it (`GET /api/v1/questionnaire`). "
            "Optional questions may be absent or null; unknown question ids are errors. "
            "Texts are trimmed (an empty text is unanswered). "
            + (
                f"Conditional questions ({', '.join(conditional)}) are required when shown, "
                "which this schema cannot express: the API names them in a 422 when missing."
                if conditional
                else ""
            )
        )
    out: dict[str, Any] = {
        "type": "object",
        "title": "DraftAnswers" if partial else "Answers",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    return out


# --- the OpenAPI document --------------------------------------------------------------------


class Problem(Model):
    """A contradiction in the agreement, naming the clauses involved."""

    clauses: list[str]
    message: str


class TermsOut(Model):
    """The saved terms, whether the agreement is still a draft, and what stops it
    being sent (an empty list: it can be sent)."""

    terms: Terms
    draft: bool
    problems: list[Problem]
    blockers: list[str]


class SendRequest(Model):
    """Send the current agreement as a new version."""

    paper: Literal["a4", "letter"] = "a4"
    override_walk_away: str | None = Field(
        None,
        description="Required when the assessment recommends walking away: why the "
        "agreement is sent all the same (kept in the history).",
        max_length=1000,
    )


class VersionSent(Model):
    """The version just sent, and the prospect's private link."""

    number: int
    document_id: str
    sha256: str
    url: str


class RedlineValue(Model):
    """A term whose value changed, in the words the agreement uses."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    term: str = Field(examples=["Revision rounds"])
    from_: str = Field(alias="from", examples=["2"])
    to: str = Field(examples=["3"])


class RedlineClause(Model):
    """A clause added, removed or changed (matched by its id; a clause that only moved
    is not changed). ``diff``: its words, each run ``["=", kept]``, ``["-", removed]``
    or ``["+", added]``; joined by single spaces, ``=`` and ``-`` give the previous
    text, ``=`` and ``+`` the new one."""

    id: str
    title: str
    change: Literal["added", "removed", "changed"]
    diff: list[tuple[Literal["=", "-", "+"], str]]


class Redline(Model):
    """What changed since the version before (domain.redline)."""

    values: list[RedlineValue]
    clauses: list[RedlineClause]


class VersionOut(Model):
    """A version of the agreement as sent (frozen): its number, where it stands, and the
    SHA-256 of the PDF the prospect received."""

    number: int = Field(description="1 for the first version sent, then 2, 3 ...")
    status: str = Field(
        description="sent (awaiting the prospect's answer), changes_requested, "
        "superseded (a newer version was sent), accepted, or signed (countersigned).",
        examples=["sent"],
    )
    document_id: str = Field(examples=["AGR-2465D4BD63"])
    sha256: str = Field(description="SHA-256 of the PDF as sent (hex).")
    sent_at: datetime


class VersionList(Model):
    """Every version sent for an intake, oldest first (empty before the first send)."""

    items: list[VersionOut]


class VersionDetail(VersionOut):
    """One version, with what it changed since the version before."""

    redline: Redline | None = Field(
        description="Against version n-1; null for version 1 (and for a version sent "
        "before versions kept their content)."
    )


MODELS: tuple[type[BaseModel], ...] = (
    ErrorList,
    Assessment,
    QuestionnaireDef,
    IntakeSummary,
    IntakeDetail,
    IntakeList,
    IntakeCreate,
    IntakePatch,
    WebhookEvent,
    Terms,
    TermsOut,
    SendRequest,
    VersionSent,
    Redline,
    VersionList,
    VersionDetail,
)


def component_schemas() -> dict[str, Any]:
    """Every named schema: the pydantic models' and the two generated answer schemas."""
    _, top = models_json_schema(
        [(m, "validation") for m in MODELS if m in (IntakeCreate, IntakePatch)]
        + [(m, "serialization") for m in MODELS if m not in (IntakeCreate, IntakePatch)],
        ref_template=REF,
    )
    schemas = _link_answers(dict(top.get("$defs", {})))
    schemas["Answers"] = answers_schema(partial=False)
    schemas["DraftAnswers"] = answers_schema(partial=True)
    return dict(sorted(schemas.items()))


def _link_answers(node: Any) -> Any:
    """Tidy pydantic's schemas: each ``{"x-answers": name, ...}`` marker becomes a
    ``$ref`` to that schema, and ``"default": null`` goes where null is not allowed (a
    field that may be left out but not sent as null)."""
    if isinstance(node, dict):
        if "x-answers" in node:
            rest = {k: v for k, v in node.items() if k != "x-answers"}
            return {"$ref": REF.format(model=node["x-answers"]), **rest}
        if "default" in node and node["default"] is None and "type" in node:
            kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
            if "null" not in kinds:
                node = {k: v for k, v in node.items() if k != "default"}
        return {k: _link_answers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_link_answers(v) for v in node]
    return node


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


# --- the paths: generated from the views' declarations, then completed here ----------------------
#
# Each view declares its operation where it is defined (``onboarding.web.api.views``:
# ``@operation(...)``: operationId, tag, query and body models, response models and
# codes; its docstring is the summary and description) and spectree turns those
# declarations into ``paths``. What a declaration cannot say is added below, by
# operationId or by status: request examples, response headers, the PDF's media type,
# the path parameters' limits, and the optional token of the public operations.

ERROR_TEXT = {
    400: "The body is not valid JSON.",
    401: "No token, or a token that is unknown or revoked (see `WWW-Authenticate`).",
    404: "No intake with this id.",
    409: "The intake's state does not allow it.",
    413: "The body is larger than `MAX_CONTENT_LENGTH`.",
    415: "The body is not `application/json`.",
    422: "Invalid values: every problem, each naming its field or question.",
    429: "Too many requests for this token (`API_RATE_LIMIT`); see `Retry-After`.",
}
"""What each error status means; every one answers an :class:`ErrorList`."""
JSON_BODY_ERRORS = (400, 401, 413, 415, 422, 429)
"""The errors of an operation that reads a JSON body."""

AUTH_HEADER = {
    "WWW-Authenticate": {
        "description": '`Bearer realm="onboarding"`, with `error="invalid_token"` for a bad token.',
        "schema": {"type": "string"},
    }
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {"401": AUTH_HEADER}
"""Headers of every response with this status."""

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "public_id": {
        "schema": {"type": "string", "maxLength": 64},
        "description": "The intake's `public_id`.",
    },
    "number": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "The version's number (1 for the first sent).",
    },
}
"""Every path parameter (``<public_id>`` in a route): its schema and description."""


def example_answers() -> dict[str, Any] | None:
    """The calm founder's answers (examples/), as the assessment request example."""
    path = project_dir("examples") / "calm-founder.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return None


CREATE_EXAMPLE = {
    "answers": {
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@analytical.example",
        "company": "Analytical Engines Ltd",
        "project_type": "website",
        "budget_band": "10k_50k",
    },
    "owner": None,
}
PATCH_EXAMPLE = {"status": "in_review", "note": "Called Ada: kickoff planned for next week."}
REQUEST_EXAMPLES: dict[str, Callable[[], Any]] = {
    "createAssessment": example_answers,
    "createIntake": lambda: CREATE_EXAMPLE,
    "updateIntake": lambda: PATCH_EXAMPLE,
}
"""operationId -> the example of its JSON body (the reference's curl sends it)."""

RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("createIntake", "201"): {
        "headers": {"Location": {"description": "The intake's URL.", "schema": {"type": "string"}}},
    },
    ("getAgreementPdf", "200"): {
        "headers": {
            "Content-Disposition": {
                "description": '`attachment; filename="Agreement - <company> - <date>.pdf"`',
                "schema": {"type": "string"},
            }
        },
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
}
"""(operationId, status) -> what its response adds to the declaration."""

OPTIONAL_AUTH = [{"bearerAuth": []}, {}]


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    """A generated parameter, tidied: its description beside its schema (not in it, and
    no title), no null default; a path parameter as ``PATH_PARAMETERS`` describes it."""
    schema = {k: v for k, v in param["schema"].items() if k not in ("title", "description")}
    out = {
        "name": param["name"],
        "in": param["in"],
        "required": param.get("required", False),
        "schema": _link_answers(schema),
        "description": param.get("description") or param["schema"].get("description", ""),
    }
    if param["in"] == "path":
        out.update(copy.deepcopy(PATH_PARAMETERS[param["name"]]))
    return out


def _operation(op: dict[str, Any], public: bool, may_be_public: bool) -> dict[str, Any]:
    op_id = op["operationId"]
    description = op.get("description") or ""
    if may_be_public:
        description += (
            " Public: no token needed (`API_PUBLIC=true`)."
            if public
            else " Needs a token unless the server sets `API_PUBLIC=true`."
        )
    out: dict[str, Any] = {
        "operationId": op_id,
        "tags": op["tags"],
        "summary": op["summary"],
        "description": description,
    }
    if op.get("parameters"):
        out["parameters"] = [_parameter(p) for p in op["parameters"]]
    if "requestBody" in op:
        out["requestBody"] = body = copy.deepcopy(op["requestBody"])
        example = REQUEST_EXAMPLES.get(op_id, lambda: None)()
        if example is not None:
            body["content"]["application/json"]["example"] = example
    out["responses"] = {}
    for code, response in op["responses"].items():
        response = copy.deepcopy(response)
        if code in RESPONSE_HEADERS:
            response["headers"] = copy.deepcopy(RESPONSE_HEADERS[code])
        response.update(copy.deepcopy(RESPONSES.get((op_id, code), {})))
        out["responses"][code] = response
    if op.get("deprecated"):
        out["deprecated"] = True
    if may_be_public and public:
        out["security"] = OPTIONAL_AUTH
    return out


def complete_paths(
    generated: dict[str, Any], public: bool, public_operations: Collection[str]
) -> dict[str, Any]:
    """The paths generated from the views' declarations, completed (see above).

    ``public``: whether the server sets ``API_PUBLIC``; ``public_operations``: the
    operationIds that need no token then.
    """
    return {
        path: {
            method: _operation(op, public, op["operationId"] in public_operations)
            for method, op in item.items()
        }
        for path, item in generated.items()
    }


SIGNATURE_DOC = (
    "Every delivery is a `POST` of a `WebhookEvent` (`Content-Type: application/json`) "
    "with the headers `Onboarding-Event` (the event name), `Onboarding-Delivery` (the "
    "delivery's number) and `Onboarding-Signature: t=<unix time>,v1=<hex>`, where `v1` is "
    'HMAC-SHA256 of `"{t}.{raw body}"` under the endpoint\'s secret (`whsec_...`). '
    "Check it on the raw body and refuse a `t` more than 5 minutes away (a replay). "
    "Answer any 2xx within the timeout (10 s by default) to acknowledge; anything else "
    "(or no answer) is retried with exponential backoff, up to 6 attempts."
)


def webhooks_section() -> dict[str, Any]:
    out = {}
    for name, what in EVENTS.items():
        out[name] = {
            "post": {
                "summary": f"{what}.",
                "description": SIGNATURE_DOC,
                "parameters": [
                    {
                        "name": "Onboarding-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "`t=<unix time>,v1=<hex>`",
                    },
                    {
                        "name": "Onboarding-Event",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "enum": [name]},
                    },
                    {
                        "name": "Onboarding-Delivery",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],  # fmt: skip
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("WebhookEvent")}},
                },
                "responses": {"2XX": {"description": "Received; anything else is retried."}},
            }
        }
    return out


DESCRIPTION = (
    """\
The intake, fit assessment and workflow of Onboarding, over HTTP and JSON.

**Authentication.** Send `Authorization: Bearer <token>`. An admin makes tokens in the \
workspace (API page) or with `onboarding api-token create NAME`; a token is shown once. \
Missing, unknown or revoked tokens get 401 with a `WWW-Authenticate` header. Cookies \
are never read: a signed-in browser session is not an API credential.

**Errors** are JSON, `{"errors": [{"question" | "field": ..., "message": ...}]}`, with \
every problem at once: 400 (not JSON), 401, 404, 409 (not allowed in the intake's \
state), 413 (too large), 415 (not `application/json`), 422 (invalid values; unknown \
fields are invalid too), 429 (rate limit).

**Pagination** is by cursor: pass the previous page's `next_cursor` as `cursor` until it \
is null. **Rate limit**: per token (per address without one); headers \
`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`, and `Retry-After` on \
429.

**Webhooks** (see `webhooks`): signed POSTs to the URLs an admin registers, for \
"""
    + " and ".join(f"`{name}`" for name in EVENTS)
    + "."
)


def openapi_document(
    server_url: str,
    public: bool,
    rate_limit: str,
    paths: dict[str, Any],
    public_operations: Collection[str] = (),
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a server at ``server_url``.

    ``paths``: as generated from the views' declarations (see :func:`complete_paths`).
    """
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Onboarding API",
            "version": API_VERSION,
            "description": DESCRIPTION + f"\n\nThis server's rate limit: {rate_limit} per token.",
        },
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {
                "name": "Questionnaire and assessments",
                "description": "Stateless: nothing is stored.",
            },
            {"name": "Intakes", "description": "Prospects' intakes and their workflow."},
        ],  # fmt: skip
        "paths": complete_paths(paths, public, public_operations),
        "webhooks": webhooks_section(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`onb_...`).",
                }
            },
            "schemas": component_schemas(),
        },
    }
