"""Pages for people about the API: the reference at /api/docs, and the admins' pages
that make API tokens (/workspace/api) and register webhooks (/workspace/webhooks).

The reference is rendered by our own template from the OpenAPI document the API
serves (no Swagger UI, no CDN): every operation with its method, path, auth,
parameters, request and response schemas and a curl example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import WebhookDelivery, WebhookEndpoint
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.text import bounded_id
from onboarding.integrations import webhooks
from onboarding.services.people import api_tokens, security_log
from onboarding.web.api.base import api_document
from onboarding.web.api.document import example_answers
from onboarding.web.api.schema import PREFIX
from onboarding.web.extensions import login_manager
from onboarding.web.workspace.auth import PostForm, client_address

bp = Blueprint("api_docs", __name__, url_prefix="/api")
admin = Blueprint("integrations", __name__, url_prefix="/workspace")

METHODS = ("get", "post", "put", "patch", "delete")
VERIFY_SOURCE = Path(webhooks.__file__).with_name("webhook_verify.py")


# --- the reference ------------------------------------------------------------------------------


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def type_text(schema: dict[str, Any]) -> dict[str, Any]:
    """How a schema reads in a table: ``{"text", "ref", "nullable"}``."""
    if not schema:
        return {"text": "any", "ref": None}
    name = _ref_name(schema)
    if name:
        return {"text": name, "ref": name}
    if "anyOf" in schema:
        parts = [type_text(s) for s in schema["anyOf"]]
        refs = [p["ref"] for p in parts if p["ref"]]
        text = " or ".join(p["text"] for p in parts)
        return {"text": text, "ref": refs[0] if refs else None}
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for k in kinds:
        if k == "array":
            inner = type_text(schema.get("items", {}))
            words.append(f"array of {inner['text']}")
            if inner["ref"]:
                return {"text": " or ".join(words + [w for w in kinds if w == "null"]),
                        "ref": inner["ref"]}  # fmt: skip
        elif k == "string" and schema.get("format"):
            words.append(f"string ({schema['format']})")
        else:
            words.append(k)
    return {"text": " or ".join(words), "ref": None}


def constraints(schema: dict[str, Any]) -> list[str]:
    """The limits a schema puts on a value, as short phrases."""
    out = []
    if "enum" in schema:
        out.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
    if "minimum" in schema and "maximum" in schema:
        out.append(f"{schema['minimum']} to {schema['maximum']}")
    elif "minimum" in schema:
        out.append(f"at least {schema['minimum']}")
    elif "maximum" in schema:
        out.append(f"at most {schema['maximum']}")
    if "minLength" in schema:
        out.append(f"at least {schema['minLength']} characters")
    if "maxLength" in schema:
        out.append(f"at most {schema['maxLength']} characters")
    items = schema.get("items") or {}
    if "enum" in items:
        out.append("items from " + ", ".join(json.dumps(v) for v in items["enum"]))
    if schema.get("uniqueItems"):
        out.append("no repeats")
    if "default" in schema:
        out.append(f"default {json.dumps(schema['default'])}")
    for sub in schema.get("anyOf", []):
        out += constraints(sub)
    return out


def schema_rows(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """An object schema's properties as rows: name, type, required, limits, description."""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in (schema.get("properties") or {}).items():
        rows.append(
            {
                "name": name,
                "type": type_text(prop),
                "required": name in required,
                "constraints": constraints(prop),
                "description": prop.get("description", ""),
            }
        )
    return rows


def _media(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": media, "schema": type_text(spec.get("schema", {}))}
        for media, spec in (content or {}).items()
    ]


EXAMPLE_QUERIES = {
    "listIntakes": "?status=new&sort=-score&limit=50",
    "getAgreementPdf": "",
    "getProposalPdf": "",
}


def curl_for(op_id: str, method: str, path: str, op: dict, base: str, public: bool) -> str:
    """A curl command that works as it stands (with $ONBOARDING_TOKEN set)."""
    url = base.rstrip("/") + path.replace("{public_id}", "$INTAKE_ID").replace("{number}", "1")
    url += EXAMPLE_QUERIES.get(op_id, "")
    lines = ["curl --fail-with-body"]
    if method != "get":
        lines.append(f"-X {method.upper()}")
    secured = op.get("security") != [{"bearerAuth": []}, {}] or not public
    if secured:
        lines.append('-H "Authorization: Bearer $ONBOARDING_TOKEN"')
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        lines.append('-H "Content-Type: application/json"')
        example = body.get("example")
        if op_id == "createAssessment":
            lines.append("--data @answers.json")
        elif example is not None:
            text = json.dumps(example, ensure_ascii=False)
            lines.append("--data '" + text.replace("'", "'\\''") + "'")
    if op_id == "getAgreementPdf":
        lines.append("-o agreement.pdf")
    if op_id == "getProposalPdf":
        lines.append("-o proposal.pdf")
    lines.append(f'"{url}"')
    return " \\\n  ".join(lines)


def operations(document: dict[str, Any], base: str, public: bool) -> list[dict[str, Any]]:
    """Every operation of the document, ready for the template."""
    out = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            security = op.get("security", document.get("security"))
            if security == [{"bearerAuth": []}, {}]:
                auth = "None needed on this server (API_PUBLIC); a token may be sent."
            else:
                auth = "Bearer token (Authorization: Bearer onb_…)."
            params = [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": p.get("required", False),
                    "type": type_text(p.get("schema", {})),
                    "constraints": constraints(p.get("schema", {})),
                    "description": p.get("description", ""),
                }
                for p in [*shared, *op.get("parameters", [])]
            ]
            body = op.get("requestBody")
            out.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "auth": auth,
                    "parameters": params,
                    "body": _media(body["content"]) if body else [],
                    "responses": [
                        {
                            "code": code,
                            "description": r.get("description", ""),
                            "media": _media(r.get("content", {})),
                            "headers": list((r.get("headers") or {}).keys()),
                        }
                        for code, r in op.get("responses", {}).items()
                    ],
                    "curl": curl_for(op["operationId"], method, path, op, base, public),
                }
            )
    return out


PUBLIC_SETTINGS = (
    "API_PUBLIC",
    "MAX_CONTENT_LENGTH",
    "API_RATE_LIMIT",
    "WEBHOOK_TIMEOUT",
    "WEBHOOK_MAX_ATTEMPTS",
)
"""The settings the API reference quotes (the page is handed these and no others)."""


@bp.get("/docs")
def docs():
    """The API reference, from the OpenAPI document."""
    public = bool(current_app.config.get("API_PUBLIC"))
    base = request.host_url
    document = api_document(base, public, str(current_app.config.get("API_RATE_LIMIT")))
    schemas = document["components"]["schemas"]
    return render_template(
        "api/docs.html",
        document=document,
        operations=operations(document, base, public),
        schemas=[
            {"name": name, "description": s.get("description", ""), "rows": schema_rows(s)}
            for name, s in schemas.items()
        ],
        webhook_events=list(webhooks.EVENTS.items()),
        verify_source=VERIFY_SOURCE.read_text(encoding="utf-8"),
        example_error=example_error(),
        base=base.rstrip("/"),
        prefix=PREFIX,
        # Only what the page prints: never the whole config (it holds the secrets).
        settings={key: current_app.config.get(key) for key in PUBLIC_SETTINGS},
        backoff=[
            webhooks.backoff(n, float(current_app.config["WEBHOOK_BACKOFF"]))
            for n in range(1, int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]))
        ],
    )


@bp.get("/docs.css")
def stylesheet():
    """The few rules the reference adds to app.css (code blocks, method badges)."""
    response = current_app.response_class(render_template("api/docs.css"), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


CODE = re.compile(r"`([^`]+)`")
STRONG = re.compile(r"\*\*([^*]+)\*\*")


@bp.app_template_filter("inline_md")
def inline_md(text: str) -> Markup:
    """The little Markdown the descriptions use: `code` and **bold**, escaped first."""
    html = str(escape(text or ""))
    html = CODE.sub(r"<code>\1</code>", html)
    html = STRONG.sub(r"<strong>\1</strong>", html)
    return Markup(html)  # noqa: S704 - built from escaped text


def example_error() -> str:
    """A real 422 body: the example answers with a value out of range and one missing."""
    answers = dict(example_answers() or {})
    answers["timeline_weeks"] = 200
    answers.pop("fears", None)
    _, errors = get_questionnaire().validate(answers)
    return json.dumps({"errors": [e.as_dict() for e in errors]}, indent=2, ensure_ascii=False)


@bp.app_template_filter("duration")
def duration(seconds: float) -> str:
    """``10`` -> ``10 s``; ``3840`` -> ``64 min``; ``15360`` -> ``4.3 h``."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{round(seconds / 60):g} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")


# --- the admins' pages: tokens and webhooks ---------------------------------------------------


@admin.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        current_app.logger.warning("forbidden: %s tried %s", current_user.email, request.path)
        abort(403)
    return None


def checked_post() -> None:
    if not PostForm().validate_on_submit():
        abort(400)


def _no_store(response_and_status):
    body, status = response_and_status
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@admin.route("/api", methods=["GET", "POST"])
def api_tokens_page():
    """Make API tokens (each shown once), list them, revoke them."""
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        checked_post()
        try:
            row, token = api_tokens.create_token(request.form.get("name", ""), current_user)
            security_log.record(
                "api_token_created",
                actor=current_user,
                subject=row.name,
                address=client_address(),
                detail=f"starts {row.prefix}",
            )
            db.session.commit()
            created = {"name": row.name, "token": token}
        except api_tokens.TokenError as exc:
            db.session.rollback()
            errors[exc.field] = str(exc)
    return _no_store(
        (
            render_template(
                "manager/api_tokens.html",
                tokens=api_tokens.list_tokens(),
                created=created,
                errors=errors,
                values=request.form if errors else {},
                form=PostForm(),
                api_base=request.host_url.rstrip("/") + PREFIX,
            ),
            422 if errors else 200,
        )
    )


@admin.post("/api/revoke")
def revoke_api_token():
    checked_post()
    token_id = request.form.get("token_id", "")
    number = bounded_id(token_id)
    row = api_tokens.revoke_token(number) if number else None
    if row is None:
        abort(404)
    security_log.record(
        "api_token_revoked",
        actor=current_user,
        subject=row.name,
        address=client_address(),
        detail=f"starts {row.prefix}",
    )
    db.session.commit()
    flash(f"The token “{row.name}” ({row.prefix}…) is revoked: it no longer opens the API.")
    return redirect(url_for(".api_tokens_page"))


DELIVERY_STATUSES = ("pending", "delivered", "failed")


@admin.route("/webhooks", methods=["GET", "POST"])
def webhooks_page():
    """Register endpoints (secret shown once), list them and their recent deliveries."""
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        checked_post()
        try:
            endpoint, secret = webhooks.create_endpoint(
                request.form.get("url", ""),
                request.form.getlist("events"),
                request.form.get("description"),
                current_user,
                bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")),
            )
            security_log.record(
                "webhook_added",
                actor=current_user,
                subject=endpoint.url[:254],
                address=client_address(),
                detail="events: " + ", ".join(endpoint.events or []),
            )
            db.session.commit()
            created = {"url": endpoint.url, "secret": secret, "rolled": False}
        except webhooks.WebhookError as exc:
            db.session.rollback()
            errors[exc.field] = str(exc)
    return render_webhooks(created, errors)


def render_webhooks(created: dict | None = None, errors: dict[str, str] | None = None):
    errors = errors or {}
    endpoints = db.session.execute(
        select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())
    ).scalars().all()  # fmt: skip
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(50)
    shown_endpoint = request.args.get("endpoint_id", "")
    if bounded_id(shown_endpoint):
        query = query.where(WebhookDelivery.endpoint_id == int(shown_endpoint))
    shown_status = request.args.get("status", "")
    if shown_status in DELIVERY_STATUSES:
        query = query.where(WebhookDelivery.status == shown_status)
    return _no_store(
        (
            render_template(
                "manager/webhooks.html",
                endpoints=endpoints,
                deliveries=db.session.execute(query).scalars().all(),
                events=webhooks.EVENTS,
                created=created,
                errors=errors,
                values=request.form if errors else {},
                chosen=request.form.getlist("events") if errors else list(webhooks.EVENTS),
                form=PostForm(),
                shown_endpoint=shown_endpoint,
                shown_status=shown_status,
                statuses=DELIVERY_STATUSES,
                allow_private=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")),
                max_attempts=int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]),
                legacy_until=webhooks.legacy_until_words(),
            ),
            422 if errors else 200,
        )
    )


@admin.post("/webhooks/endpoint")
def webhook_endpoint_action():
    """Disable, enable, delete an endpoint, or roll its secret (shown once)."""
    checked_post()
    endpoint_id = request.form.get("endpoint_id", "")
    number = bounded_id(endpoint_id)
    endpoint = db.session.get(WebhookEndpoint, number) if number else None
    if endpoint is None:
        abort(404)
    action = request.form.get("action")
    if action in ("disable", "enable", "delete", "roll"):
        security_log.record(
            "webhook_removed" if action == "delete" else "webhook_changed",
            actor=current_user,
            subject=endpoint.url[:254],
            address=client_address(),
            detail={"roll": "secret rolled"}.get(action, f"{action}d"),
        )
    if action == "disable":
        endpoint.active = False
        flash(f"{endpoint.url} is disabled: it receives no more events.")
    elif action == "enable":
        endpoint.active = True
        flash(f"{endpoint.url} is enabled.")
    elif action == "delete":
        db.session.delete(endpoint)
        flash(f"{endpoint.url} is deleted, with its deliveries.")
    elif action == "roll":  # shown on the page, never put in the session cookie
        secret = webhooks.roll_secret(endpoint)
        db.session.commit()
        return render_webhooks({"url": endpoint.url, "secret": secret, "rolled": True})
    else:
        abort(400)
    db.session.commit()
    return redirect(url_for(".webhooks_page"))


@admin.post("/webhooks/resend")
def resend_delivery():
    """Send a delivery again (a new delivery of the same event: same id, same body)."""
    checked_post()
    delivery_id = request.form.get("delivery_id", "")
    number = bounded_id(delivery_id)
    delivery = db.session.get(WebhookDelivery, number) if number else None
    if delivery is None:
        abort(404)
    copy = webhooks.resend(delivery)
    db.session.commit()
    flash(f"Delivery #{delivery.id} is being sent again as #{copy.id}.")
    return redirect(url_for(".webhooks_page"))
