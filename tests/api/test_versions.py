"""The versions of an agreement through the API: the list, one version with its redline
against the one before, and the refusal to send an unchanged agreement again."""

from __future__ import annotations

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion
from tests.factories import example_terms, seed_profile, user_token


def setup_sendable(api, client, headers, public_id, **service_levels):
    seed_profile(api)
    terms = example_terms("burned-marketer")
    if service_levels:
        terms["service_levels"] = terms.get("service_levels", {}) | service_levels
    saved = client.put(f"/api/v1/intakes/{public_id}/terms", headers=headers, json=terms)
    assert saved.status_code == 200, saved.json


def test_versions_list_and_one_with_its_redline(api, client, staff, submitted):
    headers = user_token(api, staff)
    base = f"/api/v1/intakes/{submitted}/agreement"
    empty = client.get(base + "/versions", headers=headers)
    assert empty.status_code == 200 and empty.json == {"items": []}

    setup_sendable(api, client, headers, submitted)
    first = client.post(base, headers=headers, json={})
    assert first.status_code == 201, first.json
    listed = client.get(base + "/versions", headers=headers)
    assert listed.status_code == 200
    [item] = listed.json["items"]
    assert set(item) == {"number", "status", "document_id", "sha256", "sent_at"}
    assert item["number"] == 1 and item["status"] == "sent"
    assert item["sha256"] == first.json["sha256"] and item["sent_at"].endswith("Z")
    one = client.get(base + "/versions/1", headers=headers)
    assert one.status_code == 200
    options = {"options_offered", "options_chosen"}
    # the first version changes nothing
    assert {k: v for k, v in one.json.items() if k not in options} == item | {"redline": None}
    offered = {o["id"]: o for o in one.json["options_offered"]}
    assert offered["priority_replies"]["price"] == "£450.00 a month"
    assert one.json["options_chosen"] is None  # not accepted yet

    # Nothing changed: refused, whatever the status (409 with the reason).
    again = client.post(base, headers=headers, json={})
    assert again.status_code == 409
    assert again.json["errors"][0]["message"].startswith("Nothing changed since version 1")
    back = client.patch(
        f"/api/v1/intakes/{submitted}", headers=headers, json={"status": "in_review"}
    )
    assert back.status_code == 200
    still = client.post(base, headers=headers, json={})
    assert still.status_code == 409 and "Nothing changed since version 1" in still.text

    # What the prospect asked for: twice-weekly updates and one more revision round.
    setup_sendable(
        api, client, headers, submitted, revision_rounds=4, update_cadence="few_per_week"
    )
    second = client.post(base, headers=headers, json={})
    assert second.status_code == 201 and second.json["number"] == 2
    detail = client.get(base + "/versions/2", headers=headers)
    assert detail.status_code == 200
    assert detail.json["status"] == "sent" and detail.json["sha256"] == second.json["sha256"]
    red = detail.json["redline"]
    assert {"term": "Revision rounds", "from": "3", "to": "4"} in red["values"]
    assert {"term": "Update cadence", "from": "Weekly", "to": "Twice a week"} in red["values"]
    cadence = next(c for c in red["clauses"] if c["id"] == "update_cadence")
    assert cadence["change"] == "changed" and cadence["title"] == "Update cadence"
    assert ["+", "update twice a week (Tuesday and Friday),"] in cadence["diff"]
    assert all(op in ("=", "-", "+") for c in red["clauses"] for op, _ in c["diff"])
    statuses = [v["status"] for v in client.get(base + "/versions", headers=headers).json["items"]]
    assert statuses == ["superseded", "sent"]
    with api.app_context():
        stored = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.number == 2)
        ).scalar_one()
        assert stored.redline == red and stored.content["sha256"] == stored.content_sha256


def test_unknown_intakes_and_versions_are_404_in_the_error_shape(api, client, auth, submitted):
    base = f"/api/v1/intakes/{submitted}/agreement/versions"
    for url in (
        "/api/v1/intakes/nope/agreement/versions",
        "/api/v1/intakes/nope/agreement/versions/1",
        base + "/1",
        base + "/0",
        base + "/-1",
        base + "/two",
        base + "/99999999999999999999999",
    ):
        response = client.get(url, headers=auth)
        assert response.status_code == 404, url
        assert response.json["errors"] and all(
            {"field", "message"} <= set(e) for e in response.json["errors"]
        ), url
    assert client.get(base + "/1", headers=auth).json["errors"][0]["field"] == "number"


def test_versions_need_a_token(api, client, submitted):
    base = f"/api/v1/intakes/{submitted}/agreement/versions"
    assert client.get(base).status_code == 401
    assert client.get(base + "/1").status_code == 401


def test_the_versions_are_in_the_openapi_document(api, client, auth):
    document = client.get("/api/v1/openapi.json", headers=auth).json
    versions = document["paths"]["/api/v1/intakes/{public_id}/agreement/versions"]["get"]
    one = document["paths"]["/api/v1/intakes/{public_id}/agreement/versions/{number}"]["get"]
    assert versions["operationId"] == "listAgreementVersions"
    assert one["operationId"] == "getAgreementVersion"
    assert set(one["responses"]) >= {"200", "401", "404", "429"}
    number = next(p for p in one["parameters"] if p["name"] == "number")
    assert number["in"] == "path" and number["schema"]["type"] == "integer"
    schemas = document["components"]["schemas"]
    assert {"Redline", "VersionList", "VersionDetail"} <= set(schemas)
    assert set(schemas["RedlineValue"]["properties"]) == {"term", "from", "to"}
