"""The project's API and webhooks (issue 30): 404 before the countersignature, the plan
with states and dates, updates, milestone moves, and the project.* events."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import ProjectEntry
from tests.api.conftest import deliveries, register
from tests.factories import STAND_IN, answer, countersign, grant, login, send

EVENTS = (
    "project.update_posted",
    "project.milestone_moved",
    "project.signoff_requested",
    "project.signed_off",
)


@pytest.fixture
def signed(api, client, staff, submitted):
    """The submitted intake's agreement sent, accepted and countersigned in the browser
    (``client`` signed in as its manager); its public id."""
    login(client, staff["manager"])
    token = send(client, submitted)
    _, accepted = answer(api, f"/agreement/{token}/accept", STAND_IN)
    assert accepted.status_code == 302
    grant(api, staff["manager"])
    assert countersign(client, submitted).status_code == 302
    return submitted


def test_no_project_before_the_countersignature(client, auth, submitted):
    response = client.get(f"/api/v1/intakes/{submitted}/project", headers=auth)
    assert response.status_code == 404
    assert response.json["errors"][0]["field"] == "public_id"


def test_the_plan_updates_and_moves_through_the_api(api, client, auth, signed, receiver):
    api.config["WEBHOOK_ALLOW_PRIVATE"] = True
    register(api, receiver.url, EVENTS)
    url = f"/api/v1/intakes/{signed}/project"
    plan = client.get(url, headers=auth)
    assert plan.status_code == 200
    milestones = plan.json["milestones"]
    assert [m["name"] for m in milestones][:2] == ["Discovery", "Strategy"]
    assert all(m["state"] == "planned" and not m["moved"] for m in milestones)
    assert plan.json["updates"] == [] and plan.json["next_update_due"]

    refused = client.post(url + "/updates", headers=auth, json={"done": "", "next": "x"})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "done"
    posted = client.post(
        url + "/updates",
        headers=auth,
        json={
            "done": "Workshop held.",
            "next": "Strategy draft.",
            "decisions": [{"text": "Tone: warm", "area": "copy", "by": "client"}],
        },
    )
    assert posted.status_code == 201
    (update,) = posted.json["updates"]
    assert update["done"] == "Workshop held." and update["decisions"][0]["area"] == "copy"

    impossible = client.patch(
        url + "/milestones/m2",
        headers=auth,
        json={"due": "9999-01-01", "reason": "A long enough reason."},
    )
    assert impossible.status_code == 422 and impossible.json["errors"][0]["field"] == "due"
    unknown = client.patch(url + "/milestones/m99", headers=auth, json={"state": "done"})
    assert unknown.status_code == 404
    no_reason = client.patch(url + "/milestones/m2", headers=auth, json={"due": "2031-03-07"})
    assert no_reason.status_code == 422, no_reason.json
    assert no_reason.json["errors"][0]["field"] == "reason", no_reason.json
    moved = client.patch(
        url + "/milestones/m2",
        headers=auth,
        json={
            "due": "2031-03-07",
            "reason": "The client's board meets later.",
            "state": "in_progress",
        },
    )
    assert moved.status_code == 200
    m2 = next(m for m in moved.json["milestones"] if m["id"] == "m2")
    assert m2["moved"] and m2["due"] == "2031-03-07" and m2["agreed_date"] != "2031-03-07"
    assert m2["state"] == "in_progress" and "board" in m2["reason"]

    with api.app_context():
        kinds = [e.kind for e in db.session.scalars(select(ProjectEntry))]
    assert kinds == ["update", "milestone"]
    events = [d.event for d in deliveries(api)]
    assert events == ["project.update_posted", "project.milestone_moved"]
    body = json.loads(deliveries(api)[1].payload)
    assert body["data"]["entry"]["due"] == "2031-03-07"
    assert body["data"]["intake"]["public_id"] == signed


def test_the_openapi_document_covers_the_project_and_validates(client):
    document = client.get("/api/v1/openapi.json").json
    validate(document)
    paths = document["paths"]
    assert "get" in paths["/api/v1/intakes/{public_id}/project"]
    assert "post" in paths["/api/v1/intakes/{public_id}/project/updates"]
    assert "patch" in paths["/api/v1/intakes/{public_id}/project/milestones/{milestone_id}"]
    events = json.dumps(document)
    for event in EVENTS:
        assert event in events
