"""The JSON API, /api/v1 (contract: GET /api/v1/openapi.json, people: /api/docs).

Bearer tokens only (``Authorization: Bearer onb_...``): cookies are never read, so a
signed-in browser session is no API credential, and the blueprint is exempt from CSRF.
Every answer is JSON — errors as ``{"errors": [{"question" | "field", "message"}]}``
with a 4xx status — except the agreement PDF. Views parse and check their input,
call the services and workspace use cases (as the web views do), commit, and
serialise through the models of :mod:`onboarding.web.api.schema`.

Each view declares its operation with :func:`operation` (operationId, tag, query and
body models, responses); its docstring is the operation's summary, then (after a blank
line) its description. The OpenAPI document's ``paths`` are generated from those
declarations (spectree, documentation only: the views still read their own input).
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    request,
    send_file,
    url_for,
)
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import ApiToken, Intake, Note, User
from onboarding.domain.assessment import assess, to_json
from onboarding.domain.questionnaire import AnswersInvalid, FieldError, get_questionnaire
from onboarding.domain.terms import TermsInvalid
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement import send, versions
from onboarding.services.agreement import terms as contracts
from onboarding.services.intake import listing, workspace
from onboarding.services.intake.submission import (
    create_intake,
    submit_intake,
)
from onboarding.services.people import api_tokens
from onboarding.services.summaries import intake_summary, iso
from onboarding.web.api.schema import (
    DEFAULT_LIMIT,
    DEFAULT_SORT,
    ERROR_TEXT,
    JSON_BODY_ERRORS,
    MAX_LIMIT,
    SORT_KEYS,
    SORTS,
    AgreementQuery,
    Answers,
    Assessment,
    ErrorList,
    IntakeCreate,
    IntakeDetail,
    IntakeList,
    IntakeListQuery,
    IntakePatch,
    QuestionnaireDef,
    SendRequest,
    Terms,
    TermsOut,
    VersionDetail,
    VersionList,
    VersionSent,
    intake_detail,
    openapi_document,
)
from onboarding.web.extensions import app_playbooks, limiter
from onboarding.web.writing import renders_before_writing, start_writing

bp = Blueprint("api", __name__, url_prefix="/api/v1")

REALM = 'Bearer realm="onboarding"'
OPEN_ENDPOINTS = {"api.openapi"}
"""Never need a token (the contract is public)."""
PUBLIC_ENDPOINTS = {"api.questionnaire", "api.create_assessment"}
"""Need no token when API_PUBLIC is set (stateless: nothing stored, nothing read)."""
JSON_TYPES = ("application/json",)

MESSAGES = {
    400: "The request could not be read",
    401: "Send an API token: Authorization: Bearer <token>",
    403: "This token cannot do that",
    404: "Not found: check the address and the intake's public_id",
    405: "This address does not take that method (see /api/v1/openapi.json)",
    413: "The body is too large",
    415: "Send the body as JSON, with Content-Type: application/json",
    429: "Too many requests for this token: wait a moment (see Retry-After)",
}


class ApiError(Exception):
    """An error answer: status, ``{"errors": [...]}`` items, optional headers."""

    def __init__(
        self, status: int, errors: list[dict[str, str]], headers: dict[str, str] | None = None
    ):
        self.status = status
        self.errors = errors
        self.headers = headers or {}
        super().__init__(errors[0]["message"] if errors else str(status))


def fail(status: int, field: str, message: str, **headers: str) -> ApiError:
    return ApiError(status, [{"field": field, "message": message}], headers)


def answer_errors(errors: list[FieldError]) -> ApiError:
    """422 naming each question, exactly as ``onboarding assess --json`` prints it."""
    return ApiError(422, [e.as_dict() for e in errors])


def as_json(data: Any, status: int = 200):
    """A JSON response, keys in the order given (contract order, not sorted)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(text, status=status, mimetype="application/json")


def error_response(status: int, errors: list[dict[str, str]], headers=None):
    response = as_json({"errors": errors}, status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    db.session.rollback()
    return error_response(exc.status, exc.errors, exc.headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db.session.rollback()
    code = exc.code or 500
    message = MESSAGES.get(code, exc.name)
    if code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"The body is too large (at most {limit} bytes)" if limit else message
    response = error_response(code, [{"field": "request", "message": message}])
    if code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


# --- the operations' declarations (the OpenAPI paths are generated from them) ---------------------

spec = SpecTree(
    "flask",
    mode="strict",  # only the operations declared below
    naming_strategy=lambda model: model.__name__,  # the names of components.schemas
    nested_naming_strategy=lambda _parent, child: child,
    validation_error_model=ErrorList,
    page_templates={},  # no Swagger UI or Redoc (they load from a CDN); ours is /api/docs
)
"""Generates the paths from the declarations. Never registered on the app: it serves
no page or route of its own."""

QUESTIONNAIRE_TAG = "Questionnaire and assessments"
INTAKES_TAG = "Intakes"


def operation(
    operation_id: str,
    tag: str,
    ok: dict[int, tuple[type[BaseModel] | None, str]],
    errors: Iterable[int],
    *,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
):
    """Declare a view's operation for the OpenAPI document.

    ``ok``: ``{status: (response model or None, description)}``; ``errors``: the 4xx
    statuses it answers, each ``{"errors": [...]}`` (:class:`ErrorList`, described by
    ``ERROR_TEXT``); ``query``, ``body``: the models of its query parameters and JSON
    body. The view's docstring is the summary, then (after a blank line) the description.
    What a declaration cannot say (examples, headers, other media types) is added by
    operationId in ``schema.complete_paths``.

    Documentation only: the view reads and checks its own input (``json_body``,
    ``parse``), so errors keep this API's shape and order.
    """
    errors = tuple(errors)
    responses = {f"HTTP_{code}": answer for code, answer in ok.items()}
    responses |= {f"HTTP_{code}": (ErrorList, ERROR_TEXT[code]) for code in errors}
    return spec.validate(
        query=query,
        json=body,
        resp=Response(**responses),
        tags=[tag],
        operation_id=operation_id,
        skip_validation=True,
        # spectree documents a validation error at this status unless one is declared
        # there: name a declared one (we validate ourselves, with our error shape).
        validation_error_status=422 if 422 in errors else min(errors),
    )


@functools.lru_cache(maxsize=8)
def api_document(server_url: str, public: bool, rate_limit: str) -> dict[str, Any]:
    """The OpenAPI document (cached per arguments; every app has the same operations)."""
    public_operations = {
        spec.get_function_metadata(current_app.view_functions[endpoint]).operation_id
        for endpoint in PUBLIC_ENDPOINTS
    }
    return openapi_document(server_url, public, rate_limit, spec.spec["paths"], public_operations)


# --- authentication and rate limits ------------------------------------------------------------


def unauthorized(message: str, error: str | None = None) -> ApiError:
    challenge = REALM if error is None else f'{REALM}, error="{error}"'
    return fail(401, "authorization", message, **{"WWW-Authenticate": challenge})


@bp.before_request
def _authenticate() -> None:
    """Who is calling: ``g.api_token`` (a TokenInfo) or None on a public operation."""
    g.api_token = None
    if request.endpoint in OPEN_ENDPOINTS:
        return
    header = request.headers.get("Authorization")
    if header is None:
        if current_app.config.get("API_PUBLIC") and request.endpoint in PUBLIC_ENDPOINTS:
            return
        raise unauthorized("Send an API token: Authorization: Bearer <token>")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized(
            "Use the Bearer scheme: Authorization: Bearer <token>", "invalid_request"
        )
    info = api_tokens.find_token(token.strip())
    if info is None:
        raise unauthorized("The token is not valid: unknown, mistyped or revoked", "invalid_token")
    g.api_token = info
    if request.method == "PATCH":
        begin_write(db.session())  # as POSTs do (app.register_hooks): SQLite write lock first


@bp.after_request
def _after(response):
    info = getattr(g, "api_token", None)
    if request.endpoint != "api.openapi":
        response.headers.setdefault("Cache-Control", "no-store")
    if info is not None:
        try:
            db.session.rollback()  # the view committed what it meant to
            api_tokens.touch(info)
        except Exception:  # never fail an answer for a usage timestamp
            db.session.rollback()
            current_app.logger.exception("could not record the use of API token %s", info.id)
    return response


def _rate_key() -> str:
    info = getattr(g, "api_token", None)
    return f"token:{info.id}" if info is not None else f"address:{get_remote_address()}"


limited = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=_rate_key
)


# --- input ------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def json_body(*, refuse_nul: bool = True) -> Any:
    """The request's JSON body; ApiError 400/413/415 when there is none to read, 422
    naming the field that holds a NUL character (answer bodies pass
    ``refuse_nul=False``: the questionnaire refuses it naming the question)."""
    if request.mimetype not in JSON_TYPES:
        raise fail(415, "body", MESSAGES[415])
    raw = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        raise fail(400, "body", "The body is empty: send a JSON object")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise fail(400, "body", "The body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise fail(
            400,
            "body",
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        ) from None
    except RecursionError:
        raise fail(400, "body", "The body is nested too deeply to read") from None
    except ValueError as exc:
        # Python's own words (int digit limits, ...) say nothing to a caller.
        if "not a JSON value" in str(exc):
            raise fail(400, "body", f"The body is not valid JSON: {exc}"[:200]) from None
        raise fail(400, "body", "The body has a number too long to read") from None
    where = nul_path(data) if refuse_nul else None
    if where is not None:
        raise fail(422, where, "must not contain the NUL character (\\u0000)")
    return data


def nul_path(data: Any, path: str = "body", depth: int = 0) -> str | None:
    """The field of ``data`` (a parsed JSON body) holding a NUL character in a key or a
    text, or None: no person types one, and PostgreSQL refuses it in text."""
    if depth > 100:
        return None
    if isinstance(data, str):
        return path if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            here = key if path == "body" else f"{path}.{key}"
            if "\x00" in key:
                return path
            found = nul_path(value, here, depth + 1)
            if found:
                return found
    if isinstance(data, list):
        for index, value in enumerate(data):
            found = nul_path(value, f"{path}[{index}]", depth + 1)
            if found:
                return found
    return None


PYDANTIC_MESSAGES = {
    "extra_forbidden": "is not a field of this request",
    "missing": "is required",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "model_type": "the body must be a JSON object",
    # One wording for every error (issue 27): never pydantic's own sentences.
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must be at least {min_length} characters",
    "too_long": "must have at most {max_length} items",
    "too_short": "must have at least {min_length} items",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "string_pattern_mismatch": "is not in the expected form",
}


def pydantic_message(item: Mapping[str, Any]) -> str:
    """A validation error in the API's own words (with the limit it names), never
    pydantic's sentence."""
    kind, ctx = item.get("type", ""), dict(item.get("ctx") or {})
    if kind == "value_error":  # our validators' own sentences, without pydantic's prefix
        return str(item.get("msg", "")).removeprefix("Value error, ")
    template = PYDANTIC_MESSAGES.get(kind)
    if template is None:
        return "is not a valid value here"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split(" {", 1)[0]


def parse(model: type[BaseModel], data: Any) -> BaseModel:
    """``data`` as ``model``; ApiError 422 naming every field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        allowed = ", ".join(model.model_fields)
        for item in exc.errors(include_url=False):
            # The top-level field (a union's member tags are no use to a caller).
            field = str(item["loc"][0]) if item["loc"] else "body"
            if field in errors:
                continue
            message = pydantic_message(item)
            if item["type"] == "extra_forbidden":
                message += f" (fields: {allowed})"
            errors[field] = message
        errors_list = [{"field": f, "message": m} for f, m in errors.items()]
        raise ApiError(422, errors_list) from None


def load(public_id: str) -> Intake:
    intake = workspace.intake_by_public_id(public_id)
    if intake is None:
        raise fail(404, "public_id", "There is no intake with this public_id")
    return intake


def staff_by_email(email: str, field: str = "owner") -> User:
    """The active staff member with this email; ApiError 422 if none."""
    email = email.strip().lower()
    user = None
    if email:
        user = db.session.execute(
            select(User).where(func.lower(User.email) == email)
        ).scalar_one_or_none()
    if user is None or not user.active:
        raise fail(422, field, "No active staff member has this email address")
    return user


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
    owner = staff_by_email(data.owner) if data.owner else None
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
    elif owner is not None:
        user = db.session.execute(
            select(User).where(func.lower(User.email) == owner.strip().lower()[:254])
        ).scalar_one_or_none()
        if user is None:
            errors.append({"field": "owner", "message": "no staff member has this email"})
        else:
            values["owner"] = user.id
    q = listing.clean_search(_one(args, "q", errors))
    if len(q) > listing.MAX_SEARCH:
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
    sort = _one(args, "sort", errors) or DEFAULT_SORT
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
    errors=(401, 404, 409, 422, 429),
    query=AgreementQuery,
)
@limited
def agreement_pdf(public_id: str):
    """The engagement agreement (PDF)

    The tailored agreement of a submitted intake, dated the day it was submitted: the
    same intake and playbooks always give the same file.
    """
    intake = load(public_id)
    paper = request.args.get("paper", "a4")
    if paper not in ("a4", "letter"):
        raise fail(422, "paper", "must be a4 or letter")
    unknown = sorted(set(request.args) - set(AgreementQuery.model_fields))
    if unknown:
        params = ", ".join(AgreementQuery.model_fields)
        raise fail(422, unknown[0][:60], f"is not a parameter of this operation ({params})")
    if intake.status == "draft" or intake.assessment is None:
        raise fail(409, "status", "The intake is a draft: its agreement exists once submitted")
    rendered = agreements.agreement_pdf(  # the workspace's service (cached)
        intake, paper, agency=current_app.config["AGENCY_NAME"]
    )
    response = send_file(
        io.BytesIO(rendered.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=rendered.filename,
        etag=rendered.sha256,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    # spectree's wrapper reads the body to rebuild the response: not a passthrough file.
    response.direct_passthrough = False
    return response


# --- the agreement as a contract: terms, sending ------------------------------------------


def _terms_out(intake: Intake) -> dict[str, Any]:
    agency = current_app.config["AGENCY_NAME"]
    terms = contracts.terms_of(intake)
    agreement = contracts.agreement_of(intake, agency, terms)
    return {
        "terms": contracts.stored_terms(intake),
        "draft": agreement.draft,
        "problems": [p.as_dict() for p in contracts.problems_of(intake, agreement, terms)],
        "blockers": contracts.send_blockers(intake, agency, walk_away_reason="-"),
    }


def _submitted(intake: Intake) -> None:
    if intake.status == "draft" or intake.assessment is None:
        raise fail(409, "status", "The intake is a draft: its agreement exists once submitted")


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
    _submitted(intake)
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
    intake = load(public_id)
    _submitted(intake)
    begin_write(db.session())
    try:
        contracts.save_terms(intake, body, _token_user())
    except TermsInvalid as exc:
        raise ApiError(422, [e.as_dict() for e in exc.errors]) from None
    workspace.audit(intake, None, "api", None, f"terms by API token “{g.api_token.name}”")
    db.session.commit()
    return as_json(_terms_out(intake))


def _token_user() -> User | None:
    """The staff member who created the calling token (the API acts on their behalf)."""
    token = db.session.get(ApiToken, g.api_token.id)
    return token.created_by if token is not None else None


@bp.post("/intakes/<public_id>/agreement")
@operation(
    "sendAgreement", INTAKES_TAG, {201: (VersionSent, "The version sent and its link.")},
    errors=(*JSON_BODY_ERRORS, 404, 409), body=SendRequest,
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
    _submitted(intake)
    user = _token_user()
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
    return as_json(_version_out(version) | {"redline": version.redline})
