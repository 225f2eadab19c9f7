"""The OpenAPI paths are generated from the views' declarations (spectree): they keep
every operation of the hand-written document they replaced.

``fixtures/openapi-before*.json`` are that document (as the API served it before the
paths were generated, without and with ``API_PUBLIC``). Every path and method it had is
still served with the same operationId, tags and security, the same parameters, request
bodies, response codes, response media types, schemas and headers (a parameter's list
of values may grow: the statuses come from the workflow; an optional parameter named in
ADDED_PARAMETERS may be added). Operations may be added (new endpoints); none may go or
change shape without this test saying so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_submitted

FIXTURES = Path(__file__).with_name("fixtures")
ADDED_PARAMETERS = {("/api/v1/intakes", "get"): {("needs_attention", "query")}}
"""Optional parameters added since (an old client never sends them)."""
ADDED_RESPONSES = {
    ("/api/v1/intakes/{public_id}/agreement.pdf", "get"): {"503"},
    ("/api/v1/intakes/{public_id}/agreement", "post"): {"503"},
}
"""Statuses documented since, which the server always answered (issue 22): a PDF that
could not be rendered (503, on these), an address too long for the HTTP server (414, on
every operation)."""
EXACT_PARAMETERS = {
    ("/api/v1/intakes", "get"): {
        ("owner", "query"), ("cursor", "query"), ("submitted_from", "query"),
        ("submitted_to", "query"),
    },
}  # fmt: skip
"""Parameters whose schema now says what the server always checked (issue 22: an
owner's email or ``none``, a cursor's characters, the years of a day)."""
METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(path, method): operation}``, path-level parameters moved into each operation
    (where they are declared is no part of the contract)."""
    out = {}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                op = dict(item[method])
                op["parameters"] = [*shared, *op.get("parameters", [])]
                out[(path, method)] = op
    return out


def without_enum(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "enum"}


def enums(op: dict[str, Any]) -> dict[tuple[str, str], list]:
    """The values a parameter takes from a list that may grow (statuses, sort keys)."""
    return {(p["name"], p["in"]): p["schema"]["enum"] for p in op["parameters"]
            if "enum" in p["schema"]}  # fmt: skip


def shape(op: dict[str, Any]) -> dict[str, Any]:
    """What a client relies on: everything but the prose (summaries, descriptions)."""
    return {
        "operationId": op["operationId"],
        "tags": op.get("tags"),
        "security": op.get("security"),
        "parameters": {
            (p["name"], p["in"]): (p.get("required", False), without_enum(p["schema"]))
            for p in op["parameters"]
        },
        "requestBody": op.get("requestBody") and {
            "required": op["requestBody"].get("required", False),
            "content": {
                media: body["schema"] for media, body in op["requestBody"]["content"].items()
            },
        },
        "responses": {
            code: {
                "content": {
                    media: body.get("schema") for media, body in r.get("content", {}).items()
                },
                "headers": {
                    name: header["schema"] for name, header in r.get("headers", {}).items()
                },
            }
            for code, r in op["responses"].items()
        },
    }  # fmt: skip


@pytest.mark.parametrize("public", [False, True], ids=["with-token", "api-public"])
def test_the_generated_paths_keep_every_operation_of_the_hand_written_ones(api, public):
    name = "openapi-before-public.json" if public else "openapi-before.json"
    before = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    api.config["API_PUBLIC"] = public
    now = api.test_client().get("/api/v1/openapi.json").json
    old_ops, new_ops = operations(before), operations(now)
    assert set(old_ops) <= set(new_ops), sorted(set(old_ops) - set(new_ops))
    for key, op in old_ops.items():
        new_shape, old_shape = shape(new_ops[key]), shape(op)
        added = new_shape["parameters"].keys() - old_shape["parameters"].keys()
        assert added <= ADDED_PARAMETERS.get(key, set()), (key, added)
        for param in added:  # optional: a client that never sends it is served as before
            assert new_shape["parameters"].pop(param)[0] is False, (key, param)
        for code in {"414"} | ADDED_RESPONSES.get(key, set()):
            assert code not in old_shape["responses"], (key, code)
            assert new_shape["responses"].pop(code), (key, code)
        for param in EXACT_PARAMETERS.get(key, set()):  # required or not, as before
            assert new_shape["parameters"].pop(param)[0] == old_shape["parameters"].pop(param)[0]
        assert new_shape == old_shape, key
        new_enums = enums(new_ops[key])
        assert new_enums.keys() == enums(op).keys(), key
        for param, values in enums(op).items():  # values may be added, none removed
            assert set(values) <= set(new_enums[param]), (key, param)
        # Every parameter, body and response still says what it is.
        new = new_ops[key]
        assert new["summary"] and new["description"], key
        assert all(p.get("description") for p in new["parameters"]), key
        assert all(r["description"] for r in new["responses"].values()), key
    for part in ("openapi", "security", "tags"):
        assert now[part] == before[part], part
    # Webhook events may be added (the agreement's); none may go or change.
    assert {k: now["webhooks"][k] for k in before["webhooks"]} == before["webhooks"]
    assert now["components"]["securitySchemes"] == before["components"]["securitySchemes"]
    assert set(now["components"]["schemas"]) >= set(before["components"]["schemas"])


def test_every_reference_in_the_document_resolves(client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    prefix = "#/components/schemas/"
    assert refs and all(ref.startswith(prefix) for ref in refs), refs
    assert {ref.removeprefix(prefix) for ref in refs} <= set(schemas)


def test_the_library_serves_no_page_or_route_of_its_own(api, client):
    """spectree only generates the paths: no Swagger UI or Redoc (CDN assets), no
    second document; /api/docs stays the reference."""
    rules = [r.rule for r in api.url_map.iter_rules()]
    assert not [r for r in rules if any(w in r for w in ("apidoc", "swagger", "redoc"))], rules
    assert client.get("/apidoc/swagger/").status_code == 404
    assert client.get("/apidoc/openapi.json").status_code == 404
    assert "cdn" not in client.get("/api/v1/openapi.json").text.lower()


def test_declared_views_answer_as_before(api, client, auth):
    """The declarations wrap the views (spectree rebuilds each answer): the PDF still
    answers conditional and range requests, JSON answers keep their bytes and headers."""
    public_id = make_submitted(api)
    url = f"/api/v1/intakes/{public_id}/agreement.pdf"
    full = client.get(url, headers=auth)
    assert full.status_code == 200 and full.data.startswith(b"%PDF-")
    assert full.headers["Content-Length"] == str(len(full.data))
    assert full.headers["Cache-Control"] == "private, no-store"
    same = client.get(url, headers={**auth, "If-None-Match": full.headers["ETag"]})
    assert same.status_code == 304 and same.data == b""
    part = client.get(url, headers={**auth, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == full.data[:10]
    created = client.post("/api/v1/intakes", json={"answers": {"company": "Acme"}}, headers=auth)
    assert created.status_code == 201 and created.mimetype == "application/json"
    assert created.headers["Location"].endswith(created.json["public_id"])
    assert created.headers["Cache-Control"] == "no-store"
    assert b": " not in created.data  # compact, in contract order, as as_json writes it
