"""The JSON API's blueprint, /api/v1 (contract: GET /api/v1/openapi.json, people: /api/docs).

Bearer tokens only (``Authorization: Bearer onb_...``): cookies are never read, so a
signed-in browser session is no API credential, and the blueprint is exempt from CSRF.
Every answer is JSON — errors as ``{"errors": [{"question" | "field", "message"}]}``
with a 4xx status — except the agreement PDF.

What every operation shares: the blueprint and its error answers, the declaration of
an operation (:func:`operation`), authentication and rate limits, and reading input
(:func:`json_body`, :func:`parse`, :func:`load`). The operations themselves are in
:mod:`onboarding.web.api.views` (questionnaire, assessments, intakes) and
:mod:`onboarding.web.api.agreement` (terms, sending, versions).
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    request,
    send_file,
)
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from onboarding.db import db
from onboarding.db.models import Intake, User
from onboarding.domain.questionnaire import FieldError
from onboarding.services.intake import workspace
from onboarding.services.people import api_tokens
from onboarding.web.api.document import (
    ERROR_TEXT,
    openapi_document,
)
from onboarding.web.api.schema import (
    AgreementQuery,
    ErrorList,
)
from onboarding.web.extensions import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

REALM = 'Bearer realm="onboarding"'
OPEN_ENDPOINTS = {"api.openapi"}
"""Never need a token (the contract is public)."""
PUBLIC_ENDPOINTS = {"api.questionnaire", "api.create_assessment"}
"""Need no token when API_PUBLIC is set (stateless: nothing stored, nothing read)."""
JSON_TYPES = ("application/json",)
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a public id can be (URL-safe base64)."""

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
    # A PUT or PATCH already holds SQLite's write lock: app.register_hooks takes it for
    # every writing method before any read (a PUT of terms once answered 500 without it).


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
    """The intake with this public id; ApiError 404 if none (an id no token could be,
    one with a NUL character say, is never looked up: PostgreSQL refuses NUL in text)."""
    intake = workspace.intake_by_public_id(public_id) if PUBLIC_ID.fullmatch(public_id) else None
    if intake is None:
        raise fail(404, "public_id", "There is no intake with this public_id")
    return intake


def require_submitted(intake: Intake) -> None:
    """ApiError 409 if the intake is a draft: its agreement (and letter) exist once it
    is submitted."""
    if intake.status == "draft" or intake.assessment is None:
        raise fail(409, "status", "The intake is a draft: its agreement exists once submitted")


def pdf_paper() -> str:
    """The paper a PDF operation's query asks for (:class:`AgreementQuery`: a4, the
    default, or letter); ApiError 422 for another, or for a parameter it does not take."""
    paper = request.args.get("paper", "a4")
    if paper not in ("a4", "letter"):
        raise fail(422, "paper", "must be a4 or letter")
    unknown = sorted(set(request.args) - set(AgreementQuery.model_fields))
    if unknown:
        params = ", ".join(AgreementQuery.model_fields)
        raise fail(422, unknown[0][:60], f"is not a parameter of this operation ({params})")
    return paper


def pdf_attachment(data: bytes, name: str, etag: str | bool = True):
    """``data`` sent as the PDF attachment ``name`` (with ``etag`` if one is given),
    never cached on the way."""
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=name,
        etag=etag,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    # spectree's wrapper reads the body to rebuild the response: not a passthrough file.
    response.direct_passthrough = False
    return response


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
