"""The OpenAPI 3.1 document, built from the models of :mod:`onboarding.web.api.schema`.

- ``components.schemas``: the pydantic models' JSON Schemas, and the two answer
  schemas generated from the questionnaire (:mod:`onboarding.web.api.answers`);
- the ``paths`` are generated (spectree) from each view's declaration of its query,
  body and response models (``@operation`` in :mod:`onboarding.web.api.base`), and
  completed here by :func:`complete_paths` with what a declaration cannot say.

No Flask here: :func:`openapi_document` takes the settings and generated paths it
depends on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from onboarding.domain.resources import project_dir
from onboarding.services.notify.webhooks import EVENTS
from onboarding.web.api.answers import answers_schema
from onboarding.web.api.project_schema import MilestonePatch, ProjectOut, UpdateIn
from onboarding.web.api.schema import (
    API_VERSION,
    REF,
    Assessment,
    ErrorList,
    IntakeCreate,
    IntakeDetail,
    IntakeList,
    IntakePatch,
    IntakeSummary,
    QuestionnaireDef,
    Redline,
    SendRequest,
    Terms,
    TermsOut,
    VersionDetail,
    VersionList,
    VersionSent,
    WebhookEvent,
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
    ProjectOut,
    UpdateIn,
    MilestonePatch,
)


BODIES = (IntakeCreate, IntakePatch, UpdateIn, MilestonePatch)
"""Request bodies: their schemas say what the API accepts (validation mode)."""


def component_schemas() -> dict[str, Any]:
    """Every named schema: the pydantic models' and the two generated answer schemas."""
    _, top = models_json_schema(
        [(m, "validation") for m in MODELS if m in BODIES]
        + [(m, "serialization") for m in MODELS if m not in BODIES],
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
    422: "Invalid values: every problem, each naming its field or question; also what no "
    "schema can state (no active staff member has the owner's email, a cursor the list did "
    "not make for this sort, terms whose percents do not add up to 100).",
    429: "Too many requests for this token (`API_RATE_LIMIT`); see `Retry-After`.",
    503: "The PDF could not be produced just now; nothing was changed: try again after "
    "`Retry-After` seconds.",
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
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "401": AUTH_HEADER,
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "string"},
        }
    },
}
"""Headers of every response with this status."""

EVERY_OPERATION: dict[str, dict[str, Any]] = {
    "414": {
        "description": "The address (path and query) is longer than the HTTP server in front "
        "of the app reads (`onboarding serve`: 8190 bytes), so the app never sees it: its "
        "body is that server's, not JSON. Every request this document allows is shorter.",
    },
}
"""Responses any operation may give, whatever it declares."""

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "public_id": {
        "schema": {"type": "string", "maxLength": 64},
        "description": "The intake's `public_id`.",
    },
    "number": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "The version's number (1 for the first sent).",
    },
    "milestone_id": {
        "schema": {"type": "string", "maxLength": 8, "pattern": "^m[0-9]{1,3}$"},
        "description": "A milestone of the project's plan (`m1`, `m2`, ...; see getProject).",
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
    ("getProposalPdf", "200"): {
        "headers": {
            "Content-Disposition": {
                "description": '`attachment; filename="Proposal - <company> - <date>.pdf"`',
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
    if "default" in schema and schema["default"] is None:  # absent means none
        del schema["default"]
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
    for code, response in EVERY_OPERATION.items():
        out["responses"].setdefault(code, copy.deepcopy(response))
    out["responses"] = dict(sorted(out["responses"].items()))
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
