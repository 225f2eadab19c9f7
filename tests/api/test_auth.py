"""API authentication: bearer tokens only, 401 with WWW-Authenticate, public mode, limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import ApiToken
from onboarding.services.people.api_tokens import hash_token, revoke_token
from tests.factories import PASSWORD, csrf_of, example, new_token

ENDPOINTS = [
    ("get", "/api/v1/questionnaire"),
    ("post", "/api/v1/assessments"),
    ("get", "/api/v1/intakes"),
    ("post", "/api/v1/intakes"),
    ("get", "/api/v1/intakes/{id}"),
    ("patch", "/api/v1/intakes/{id}"),
    ("get", "/api/v1/intakes/{id}/agreement.pdf"),
    ("get", "/api/v1/intakes/{id}/proposal.pdf"),
    ("get", "/api/v1/intakes/{id}/terms"),
    ("put", "/api/v1/intakes/{id}/terms"),
    ("post", "/api/v1/intakes/{id}/agreement"),
    ("get", "/api/v1/intakes/{id}/agreement/versions"),
    ("get", "/api/v1/intakes/{id}/agreement/versions/1"),
    ("get", "/api/v1/intakes/{id}/project"),
    ("post", "/api/v1/intakes/{id}/project/updates"),
    ("patch", "/api/v1/intakes/{id}/project/milestones/m1"),
]


def call(client, method, url, submitted, **kw):
    return getattr(client, method)(url.replace("{id}", submitted), **kw)


def assert_401(response, error=None):
    assert response.status_code == 401
    assert response.is_json
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="onboarding"')
    if error:
        assert f'error="{error}"' in challenge
    assert response.json["errors"][0]["field"] == "authorization"


def test_every_api_route_is_covered_here(api):
    routes = {
        (
            m.lower(),
            r.rule.replace("<public_id>", "{id}")
            .replace("<int:number>", "1")
            .replace("<milestone_id>", "m1"),
        )
        for r in api.url_map.iter_rules()
        if r.rule.startswith("/api/v1")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - {("get", "/api/v1/openapi.json")} == set(ENDPOINTS)


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_needs_a_token(client, submitted, method, url):
    assert_401(call(client, method, url, submitted, json={}))


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_a_bad_token_is_refused(client, submitted, token, method, url):
    for header in (
        f"Bearer {token[:-1]}x",  # one character off
        "Bearer onb_" + "A" * 43,  # the right shape, unknown
        "Bearer not-a-token",
        f"Bearer {hash_token(token)}",  # the stored hash is no credential
    ):
        response = call(client, method, url, submitted, headers={"Authorization": header})
        assert_401(response, "invalid_token")


def test_a_token_in_another_scheme_is_refused(client, token):
    for header in (f"Basic {token}", f"Token {token}", "Bearer", "Bearer ", token):
        response = client.get("/api/v1/questionnaire", headers={"Authorization": header})
        assert_401(response, "invalid_request")


def test_a_revoked_token_is_refused(api, client, submitted, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/intakes", headers=headers).status_code == 200
    with api.app_context():
        row = db.session.execute(select(ApiToken)).scalar_one()
        revoke_token(row.id)
        db.session.commit()
    for method, url in ENDPOINTS:
        assert_401(call(client, method, url, submitted, headers=headers), "invalid_token")


def test_only_the_hash_and_a_short_prefix_are_stored(api, token):
    with api.app_context():
        row = db.session.execute(select(ApiToken)).scalar_one()
        assert row.token_hash == hash_token(token) and token not in row.token_hash
        assert token.startswith(row.prefix) and len(row.prefix) == 12
        assert len(token) == 47  # onb_ + 43 characters: 256 bits


def test_the_last_use_is_recorded(api, client, auth):
    with api.app_context():
        assert db.session.execute(select(ApiToken.last_used_at)).scalar_one() is None
    assert client.get("/api/v1/questionnaire", headers=auth).status_code == 200
    with api.app_context():
        assert db.session.execute(select(ApiToken.last_used_at)).scalar_one() is not None


def test_a_signed_in_session_is_not_an_api_credential(client, staff):
    page = client.get("/login")
    client.post(
        "/login",
        data={"email": staff["admin"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert client.get("/workspace/").status_code == 200  # signed in
    assert_401(client.get("/api/v1/intakes"))
    assert_401(client.post("/api/v1/intakes", json={"answers": {}}))


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(client, auth):
    response = client.post("/api/v1/intakes", json={"answers": {"company": "Acme"}}, headers=auth)
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_the_openapi_document_is_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json["openapi"] == "3.1.0"
    assert client.get("/api/docs").status_code == 200


def test_public_mode_opens_only_the_stateless_operations(api, client, submitted):
    api.config["API_PUBLIC"] = True
    assert client.get("/api/v1/questionnaire").status_code == 200
    assert client.post("/api/v1/assessments", json=example()).status_code == 200
    assert_401(client.get("/api/v1/intakes"))
    assert_401(client.post("/api/v1/intakes", json={"answers": {}}))
    assert_401(client.get(f"/api/v1/intakes/{submitted}"))
    # A token that is sent must still be a valid one.
    bad = {"Authorization": "Bearer onb_" + "B" * 43}
    assert_401(client.get("/api/v1/questionnaire", headers=bad), "invalid_token")
    # The document says which operations need no token.
    doc = client.get("/api/v1/openapi.json").json
    assert doc["paths"]["/api/v1/questionnaire"]["get"]["security"] == [{"bearerAuth": []}, {}]
    assert "security" not in doc["paths"]["/api/v1/intakes"]["get"]


def test_public_mode_is_off_by_default(api, client):
    assert api.config["API_PUBLIC"] is False
    assert_401(client.get("/api/v1/questionnaire"))
    assert_401(client.post("/api/v1/assessments", json=example()))


def test_the_rate_limit_is_per_token_and_answers_429_in_json(api, client):
    api.config["API_RATE_LIMIT"] = "3 per minute"
    first = {"Authorization": f"Bearer {new_token(api, 'First')}"}
    second = {"Authorization": f"Bearer {new_token(api, 'Second')}"}
    codes = [client.get("/api/v1/questionnaire", headers=first).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/intakes", headers=first)  # one budget for the whole API
    assert refused.status_code == 429 and refused.is_json
    assert refused.json["errors"][0]["field"] == "request"
    assert "Retry-After" in refused.headers
    # Another token has its own budget, even from the same address.
    assert client.get("/api/v1/questionnaire", headers=second).status_code == 200
    ok = client.get("/api/v1/questionnaire", headers=second)
    assert ok.headers["X-RateLimit-Limit"] == "3"


def test_without_a_token_the_limit_falls_back_to_the_address(api, client):
    api.config.update(API_RATE_LIMIT="2 per minute", API_PUBLIC=True)
    one = {"REMOTE_ADDR": "192.0.2.1"}
    two = {"REMOTE_ADDR": "192.0.2.2"}
    codes = [client.get("/api/v1/questionnaire", environ_base=one).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/questionnaire", environ_base=two).status_code == 200
