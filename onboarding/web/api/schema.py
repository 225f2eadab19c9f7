"""The JSON API's models: pydantic v2 models, one source per shape.

Request bodies and responses are pydantic models: the views validate bodies with them
and serialise responses through them, and the OpenAPI ``components.schemas`` are their
JSON Schemas (:mod:`onboarding.web.api.document`). The ``answers`` object's schema is
generated from the questionnaire data (:mod:`onboarding.web.api.answers`); the
assessment's follows ``shared/spec/assessment.md`` (keys may be added).

No Flask here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from onboarding.db.models import Intake
from onboarding.domain.playbooks import CAUSES, DUE, SECTIONS
from onboarding.domain.workflow import RECOMMENDATIONS, SET_BY_ACTION, STATUS_LABELS, TRANSITIONS
from onboarding.services.intake.listing import MAX_SEARCH
from onboarding.services.notify.webhooks import EVENTS
from onboarding.services.summaries import intake_fields
from onboarding.web.api.answers import EMAIL, text_pattern
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
(:data:`onboarding.services.listing.CURSOR_SORTS`)."""
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
# Documented as the server checks them (pydantic checks the length; the views the rest).
Email = Annotated[str, Field(max_length=254, json_schema_extra={"pattern": f"^{EMAIL}$"})]
"""A staff member's email address (an active one's, or the view answers 422)."""
NoteText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=5000,
        json_schema_extra={"pattern": text_pattern(multiline=True, required=True)},
    ),
]
OwnerFilter = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": 254, "pattern": f"^{EMAIL}$"},
                {"const": "none"},
            ]
        }
    ),
]
"""The list's ``owner``: a staff member's email, or ``none``."""
Day = Annotated[
    date,
    WithJsonSchema(
        {"type": "string", "format": "date", "pattern": "^(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"}
    ),
]
"""A day of the list's filters, years 1900 to 2999 (``services.listing.parse_day``)."""
Cursor = Annotated[
    str, Field(min_length=1, max_length=500, json_schema_extra={"pattern": "^[A-Za-z0-9_-]+$"})
]
"""A ``next_cursor``: base64url, opaque."""
NO_NUL = "^[^\\u0000]*$"
"""No NUL character (refused in every JSON body: PostgreSQL cannot store it)."""

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

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

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
    owner: OwnerFilter | SkipJsonSchema[None] = Field(
        None,
        description="Only intakes this staff member owns (their email), or `none` for intakes "
        "nobody owns.",
    )
    q: Annotated[str, Field(max_length=MAX_SEARCH)] | SkipJsonSchema[None] = Field(
        None, description="Search: a case-insensitive part of the name, company or email."
    )
    submitted_from: Day | SkipJsonSchema[None] = Field(
        None, description="Submitted on or after this day (YYYY-MM-DD, UTC)."
    )
    submitted_to: Day | SkipJsonSchema[None] = Field(
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
    cursor: Cursor | SkipJsonSchema[None] = Field(
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
    entry: dict[str, Any] | SkipJsonSchema[None] = Field(
        None,
        description="project.* events only: what was posted, moved or signed off (`id`, "
        "`kind`, `author`, `created_at` and its fields).",
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


# --- the agreement: terms, sending, versions ----------------------------------------


class Problem(Model):
    """Why the agreement cannot be sent yet: a draft item, naming the term's ``field``
    (``client.legal_name``, ``start_date``), or a contradiction, naming the
    ``clauses`` involved."""

    field: str | None = None
    clauses: list[str] | None = None
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
        json_schema_extra={"pattern": NO_NUL},
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


class VersionOption(Model):
    """An option of the proposal sent with a version (proposal.md): its price, the
    service levels it sets and, once chosen, how many and what they cost."""

    id: str = Field(examples=["priority_replies"])
    title: str
    description: str
    price: str = Field(examples=["£450.00 a month"])
    amount: str = Field(description="Money, a decimal string.", examples=["450.00"])
    per: str = Field(description="project, month or unit")
    unit: str = Field(description='What one unit is ("round"), per unit only.')
    max_quantity: int
    included: bool = Field(description="Included in the fee (always chosen).")
    levels: str = Field(description="The service levels it sets, in words.")
    quantity: int = Field(description="How many were chosen (0 in options_offered).")
    total: str = Field(description="What the quantity chosen costs, in words.")


class VersionDetail(VersionOut):
    """One version, with what it changed since the version before."""

    options_offered: list[VersionOption] = Field(
        default_factory=list, description="The options the proposal offered with it."
    )
    options_chosen: list[VersionOption] | None = Field(
        None, description="The options the client chose on accepting (null until accepted)."
    )

    redline: Redline | None = Field(
        description="Against version n-1; null for version 1 (and for a version sent "
        "before versions kept their content)."
    )
