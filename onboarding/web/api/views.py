"""The JSON API, /api/v1 (contract: GET /api/v1/openapi.json, people: /api/docs): the
operations on the questionnaire, assessments and intakes.

Bearer tokens only (``Authorization: Bearer onb_...``): cookies are never read, so a
signed-in browser session is no API credential, and the blueprint is exempt from CSRF.
Every answer is JSON — errors as ``{"errors": [{"question" | "field", "message"}]}``
with a 4xx status — except the agreement PDF. Views parse and check their input,
call the services and workspace use cases (as the web views do), commit, and
serialise through the models of :mod:`onboarding.web.api.schema`.

Each view declares its operation with :func:`onboarding.web.api.base.operation`
(operationId, tag, query and body models, responses); its docstring is the operation's
summary, then (after a blank line) its description. The OpenAPI document's ``paths``
are generated from those declarations (spectree, documentation only: the views still
read their own input).
"""

from __future__ import annotations

import json
import re
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask import (
    current_app,
    g,
    request,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from onboarding.db import db
from onboarding.db.models import Intake, Note, User
from onboarding.domain.assessment import assess, to_json
from onboarding.domain.questionnaire import AnswersInvalid, get_questionnaire
from onboarding.services.agreement import compose as agreements
from onboarding.services.intake import listing, workspace
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.summaries import intake_summary
from onboarding.web.api.base import (
    INTAKES_TAG,
    QUESTIONNAIRE_TAG,
    ApiError,
    answer_errors,
    api_document,
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
    staff_by_email,
)
from onboarding.web.api.document import (
    JSON_BODY_ERRORS,
)
from onboarding.web.api.schema import (
    DEFAULT_LIMIT,
    DEFAULT_SORT,
    MAX_LIMIT,
    SORT_KEYS,
    SORTS,
    AgreementQuery,
    Answers,
    Assessment,
    IntakeCreate,
    IntakeDetail,
    IntakeList,
    IntakeListQuery,
    IntakePatch,
    QuestionnaireDef,
    intake_detail,
)
from onboarding.web.extensions import app_playbooks

# --- the questionnaire and stateless assessments -------------------------------------------------


@bp.get("/openapi.json")
@limited
def openapi():
    """The OpenAPI 3.1 document of this API."""
    # Never the request's Host header (this answer is cached publicly): BASE_URL, else
    # "/" (the server the document came from).
    document = api_document(
        current_app.config.get("BASE_URL") or "/",
        bool(current_app.config.get("API_PUBLIC")),
        str(current_app.config.get("API_RATE_LIMIT")),
    )
    response = as_json(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/questionnaire")
@operation(
    "getQuestionnaire",
    QUESTIONNAIRE_TAG,
    {200: (QuestionnaireDef, "The questionnaire.")},
    errors=(401, 429),
)
@limited
def questionnaire():
    """The questionnaire definition

    Every section and question with its id, type, label, values, range and condition:
    what to build a form from.
    """
    return as_json(get_questionnaire().as_dict())


@bp.post("/assessments")
@operation(
    "createAssessment",
    QUESTIONNAIRE_TAG,
    {200: (Assessment, "The assessment (assessment.md contract).")},
    errors=JSON_BODY_ERRORS,
    body=Answers,
)
@limited
def create_assessment():
    """Assess answers (nothing is stored)

    The answers object in, the assessment out: the same as `onboarding assess
    ANSWERS.json --json`. Invalid answers give 422 with every problem, each naming its
    question, as the command line prints them.
    """
    db.session.rollback()  # stateless: give back the write transaction POSTs start with
    answers = json_body(refuse_nul=False)
    try:
        result = assess(answers, app_playbooks())
    except AnswersInvalid as exc:  # the same bytes as `onboarding assess FILE --json`
        text = json.dumps(exc.as_dict(), indent=2, ensure_ascii=False) + "\n"
        return current_app.response_class(text, status=422, mimetype="application/json")
    return current_app.response_class(to_json(result), mimetype="application/json")


# --- intakes ----------------------------------------------------------------------------------


def resume_url(intake: Intake) -> str | None:
    if intake.status != "draft":
        return None
    return url_for("intake.resume", token=intake.token, _external=True)


def detail(intake: Intake) -> dict[str, Any]:
    notes = db.session.execute(
        select(Note)
        .where(Note.intake_id == intake.id)
        .options(selectinload(Note.user))
        .order_by(Note.id.desc())
    ).scalars().all()  # fmt: skip
    return intake_detail(intake, list(notes), resume_url(intake))


def last_complete_step(clean: dict[str, Any]) -> str | None:
    """The last section of an unbroken run of complete sections from the start."""
    questionnaire = get_questionnaire()
    last = None
    for section in questionnaire.sections:
        _, errors = questionnaire.validate_step(section.id, clean, clean)
        if errors:
            break
        last = section.id
    return last


@bp.post("/intakes")
@operation(
    "createIntake",
    INTAKES_TAG,
    {
        201: (
            IntakeDetail,
            "Created: submitted (with its assessment) or a draft (with its `resume_url`).",
        )
    },
    errors=JSON_BODY_ERRORS,
    body=IntakeCreate,
)
@limited
def create_intake_view():
    """Create an intake

    Complete, valid answers are submitted and assessed as if the prospect pressed Submit
    (status `new`; `intake.submitted` fires). A partial set makes a draft: send the
    prospect to its `resume_url` to finish it.
    """
    data = parse(IntakeCreate, json_body(refuse_nul=False))
    questionnaire = get_questionnaire()
    clean, errors = questionnaire.validate(data.answers, partial=True)
    if errors:
        raise answer_errors(errors)
    owner = staff_by_email(data.owner) if data.owner is not None else None  # "": refused
    _, missing = questionnaire.validate(data.answers)
    values = {k: v for k, v in clean.items() if v is not None}
    intake = create_intake(values)
    intake.owner_id = owner.id if owner else None
    intake.current_step = last_complete_step(values)
    db.session.flush()
    if not missing and data.submit:
        # Fires intake.submitted; writes the receipt and the staff's notice (outbox).
        _, errors = submit_intake(intake, playbooks=app_playbooks())
        if errors:  # pragma: no cover - the same validation passed above
            raise answer_errors(errors)
    token = g.api_token
    if token is not None:
        workspace.audit(intake, None, "api", None, f"created by API token “{token.name}”")
    db.session.commit()
    response = as_json(detail(intake), 201)
    response.headers["Location"] = url_for(".get_intake", public_id=intake.public_id)
    return response


LIST_PARAMS = set(IntakeListQuery.model_fields)
NUMBER = re.compile(r"\d{1,4}", re.ASCII)


def _one(args, name: str, errors: list[dict[str, str]]) -> str | None:
    values = args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        errors.append({"field": name, "message": "give this parameter once"})
        return None
    return values[0]


def _day(args, name: str, errors: list[dict[str, str]]) -> date | None:
    raw = _one(args, name, errors)
    if raw is None:
        return None
    try:
        return listing.parse_day(raw)
    except ValueError:
        years = f"{listing.FIRST_DAY.year} to {listing.LAST_DAY.year}"
        errors.append(
            {"field": name, "message": f"must be a day, YYYY-MM-DD (2026-03-31), years {years}"}
        )
        return None


def list_query(args) -> tuple[listing.Filters, int, tuple | None, str]:
    """The list's parameters as the shared query model: ``(filters, limit, after,
    sort)``, ``after`` the cursor's position and ``sort`` the parameter (cursors carry it).

    ApiError 422 naming every parameter at fault (the workspace ignores what it cannot
    use; the API refuses it).
    """
    errors: list[dict[str, str]] = []
    for name in sorted(set(args) - LIST_PARAMS):
        errors.append(
            {
                "field": name[:60],
                "message": f"is not a parameter of this list ({', '.join(sorted(LIST_PARAMS))})",
            }
        )
    values: dict = {}
    status = _one(args, "status", errors)
    if status is not None:
        if status in listing.STATUSES:
            values["status"] = status
        else:
            errors.append(
                {"field": "status", "message": f"must be one of {', '.join(listing.STATUSES)}"}
            )
    band = _one(args, "band", errors)
    if band is not None:
        if band in listing.BANDS:
            values["band"] = band
        else:
            errors.append(
                {"field": "band", "message": "must be one of " + ", ".join(listing.BANDS)}
            )
    owner = _one(args, "owner", errors)
    if owner == listing.NOBODY:
        values["owner"] = listing.NOBODY
    elif owner is not None and len(owner) > 254:
        errors.append({"field": "owner", "message": "must be at most 254 characters"})
    elif owner is not None and "\x00" in owner:  # no email has one (nor may PostgreSQL text)
        errors.append({"field": "owner", "message": "no staff member has this email"})
    elif owner is not None:
        user = db.session.execute(
            select(User).where(func.lower(User.email) == owner.strip().lower())
        ).scalar_one_or_none()
        if user is None:
            errors.append({"field": "owner", "message": "no staff member has this email"})
        else:
            values["owner"] = user.id
    raw_q = _one(args, "q", errors) or ""
    q = listing.clean_search(raw_q)
    if len(raw_q) > listing.MAX_SEARCH:  # as given (the document's maxLength)
        errors.append({"field": "q", "message": f"must be at most {listing.MAX_SEARCH} characters"})
    else:
        values["q"] = q
    day_from = _day(args, "submitted_from", errors)
    day_to = _day(args, "submitted_to", errors)
    if day_from and day_to and day_from > day_to:
        errors.append({"field": "submitted_from", "message": "is after submitted_to"})
    values["date_from"], values["date_to"] = day_from, day_to
    attention = _one(args, "needs_attention", errors)
    if attention is not None:
        try:
            values["needs_attention"] = listing.parse_flag(attention)
        except ValueError:
            errors.append({"field": "needs_attention", "message": "must be true or false"})
    sort = _one(args, "sort", errors)
    sort = DEFAULT_SORT if sort is None else sort  # given empty: refused, as the enum says
    if sort not in SORTS:
        errors.append({"field": "sort", "message": f"must be one of {', '.join(SORTS)}"})
        sort = DEFAULT_SORT
    values["sort"] = SORT_KEYS[sort.lstrip("-")]
    values["direction"] = "desc" if sort.startswith("-") else "asc"
    raw_limit = _one(args, "limit", errors)
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if NUMBER.fullmatch(raw_limit) and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            errors.append(
                {"field": "limit", "message": f"must be a whole number from 1 to {MAX_LIMIT}"}
            )
    cursor = _one(args, "cursor", errors)
    after = None
    if cursor is not None:
        try:
            after = listing.decode_cursor(cursor, sort, values["sort"])
        except ValueError:
            errors.append(
                {
                    "field": "cursor",
                    "message": "is not a cursor of this list: pass the next_cursor of the "
                    "previous page, with the same sort",
                }
            )
    if errors:
        raise ApiError(422, errors)
    return listing.Filters(**values), limit, after, sort


@bp.get("/intakes")
@operation(
    "listIntakes",
    INTAKES_TAG,
    {200: (IntakeList, "One page.")},
    errors=(401, 422, 429),
    query=IntakeListQuery,
)
@limited
def list_intakes():
    """List intakes

    Submitted intakes (or drafts), filtered and sorted, a page at a time. Pages are cut
    by the sort key and the intake, not by offset: walking `next_cursor` until it is
    null returns every matching intake exactly once, even while intakes are added.
    """
    # Keyset pagination on the sort key and the id.
    filters, limit, after, sort = list_query(request.args)
    page = listing.cursor_page(db.session, filters, limit, after)
    next_cursor = listing.encode_cursor(sort, page.after) if page.after else None
    return as_json({"items": [intake_summary(i) for i in page.items], "next_cursor": next_cursor})


@bp.get("/intakes/<public_id>")
@operation("getIntake", INTAKES_TAG, {200: (IntakeDetail, "The intake.")}, errors=(401, 404, 429))
@limited
def get_intake(public_id: str):
    """One intake

    The intake with its answers, latest assessment and notes.
    """
    return as_json(detail(load(public_id)))


@bp.patch("/intakes/<public_id>")
@operation(
    "updateIntake",
    INTAKES_TAG,
    {200: (IntakeDetail, "The intake after the change.")},
    errors=(400, 401, 404, 409, 413, 415, 422, 429),
    body=IntakePatch,
)
@limited
def update_intake(public_id: str):
    """Change status or owner, add a note

    All or nothing: if any change is refused, none is made. Every change is in the
    intake's history, as made through the API with the token's name; a status change
    fires `intake.status_changed`.
    """
    # Status (workflow rules), owner (email or null), a note.
    body = json_body()
    intake = load(public_id)
    patch = parse(IntakePatch, body)
    given = patch.model_fields_set
    if not given:
        raise fail(422, "body", "Give at least one of: status, owner, note")
    errors = []
    for name in ("status", "note"):
        if name in given and getattr(patch, name) is None:
            errors.append({"field": name, "message": "cannot be null"})
    new_owner = None
    if "owner" in given and patch.owner is not None:
        try:
            new_owner = staff_by_email(patch.owner)
        except ApiError as exc:
            errors += exc.errors
    if errors:
        raise ApiError(422, errors)
    token = g.api_token
    actor = SimpleNamespace(id=None)  # changes by the API are not a staff member's
    done = []
    try:
        if "owner" in given and (new_owner.id if new_owner else None) != intake.owner_id:
            workspace.assign_owner(intake, new_owner, None)
            done.append("owner")
        if patch.status is not None and patch.status != intake.status:  # the same: a no-op
            # The workflow's rules, as in the workspace; fires intake.status_changed.
            workspace.change_status(intake, patch.status, None, by_hand=True)
            done.append("status")
        if patch.note is not None:
            workspace.add_note(intake, actor, patch.note)
            done.append("note")
    except workspace.WorkspaceError as exc:
        status = 409 if exc.field == "status" else 422
        raise ApiError(
            status, [{"field": f, "message": m} for f, m in exc.errors.items()]
        ) from None
    if done:
        workspace.audit(intake, None, "api", None, f"{', '.join(done)} by API token “{token.name}”")
    db.session.commit()
    return as_json(detail(intake))


@bp.get("/intakes/<public_id>/agreement.pdf")
@operation(
    "getAgreementPdf",
    INTAKES_TAG,
    {200: (None, "The PDF, as an attachment with a file name.")},  # schema.RESPONSES: media
    errors=(401, 404, 409, 422, 429, 503),
    query=AgreementQuery,
)
@limited
def agreement_pdf(public_id: str):
    """The engagement agreement (PDF)

    The tailored agreement of a submitted intake, dated the day it was submitted: the
    same intake and playbooks always give the same file.
    """
    intake = load(public_id)
    paper = pdf_paper()
    require_submitted(intake)
    rendered = agreements.agreement_pdf(  # the workspace's service (cached)
        intake, paper, agency=current_app.config["AGENCY_NAME"]
    )
    return pdf_attachment(rendered.pdf, rendered.filename, etag=rendered.sha256)


# The agreement's operations, on the same blueprint.
from onboarding.web.api import agreement, project  # noqa: E402, F401 - register their routes
