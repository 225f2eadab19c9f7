"""GET /api/v1/intakes?needs_attention=true: the workspace's "needs your attention"
queue through the API (the same filter: services.intake.attention.attention_condition)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import User
from onboarding.services.agreement import change_requests, send
from onboarding.services.intake import workspace
from tests.factories import make_submitted
from tests.web.helpers import make_sendable


@pytest.fixture
def waiting(api, staff):
    """Two submitted intakes, the first with a change request awaiting an answer."""
    asked, quiet = make_submitted(api), make_submitted(api, "calm-founder")
    make_sendable(api, asked)
    with api.app_context():
        intake = workspace.intake_by_public_id(asked)
        manager = db.session.execute(
            select(User).where(User.email == staff["manager"])
        ).scalar_one()
        version = send.send_agreement(intake, manager)
        db.session.flush()
        change_requests.request_changes(version, "Updates twice a week, please")
        db.session.commit()
    return {"asked": asked, "quiet": quiet}


def ids(client, auth, query: str = "") -> set[str]:
    response = client.get(f"/api/v1/intakes?limit=100{query}", headers=auth)
    assert response.status_code == 200, response.json
    return {item["public_id"] for item in response.json["items"]}


def test_the_list_filters_on_needs_attention(client, auth, waiting):
    everyone = {waiting["asked"], waiting["quiet"]}
    assert ids(client, auth) == everyone
    assert ids(client, auth, "&needs_attention=true") == {waiting["asked"]}
    assert ids(client, auth, "&needs_attention=false") == everyone
    # beside the other parameters, and with a cursor's sort
    assert ids(client, auth, "&needs_attention=true&status=agreement_sent&sort=-submitted_at") == {
        waiting["asked"]
    }
    assert ids(client, auth, "&needs_attention=true&status=new") == set()


@pytest.mark.parametrize("value", ["maybe", "", "2"])
def test_a_bad_value_is_named(client, auth, value):
    response = client.get(f"/api/v1/intakes?needs_attention={value}", headers=auth)
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "needs_attention", "message": "must be true or false"}
    ]


def test_the_parameter_is_documented(client):
    document = client.get("/api/v1/openapi.json").json
    params = {p["name"]: p for p in document["paths"]["/api/v1/intakes"]["get"]["parameters"]}
    assert params["needs_attention"]["schema"]["type"] == "boolean"
    assert not params["needs_attention"].get("required", False)
