"""The agreement as a contract through the API: its terms, and sending it (with every
refusal a 409 or 422 in the API's error shape)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import AgreementVersion, AuditEvent
from tests.factories import example_terms, make_submitted, seed_profile, user_token


def test_terms_round_trip_and_errors_name_each_field(api, client, auth, submitted):
    url = f"/api/v1/intakes/{submitted}/terms"
    empty = client.get(url, headers=auth)
    assert empty.status_code == 200
    assert empty.json["terms"] == {} and empty.json["draft"] is True
    assert any("draft" in b for b in empty.json["blockers"])
    bad = client.put(
        url,
        headers=auth,
        json={
            "fee": {"model": "fixed", "amount": 24000.5},  # money is text, never a float
            "payment_schedule": [{"when": "x", "percent": 10}],
        },
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json["errors"]}
    assert {"fee.amount", "payment_schedule[0].when"} <= fields
    saved = client.put(url, headers=auth, json=example_terms("burned-marketer"))
    assert saved.status_code == 200, saved.json
    assert saved.json["draft"] is False and saved.json["problems"] == []
    assert saved.json["terms"]["fee"] == {
        "model": "fixed",
        "amount": "84000.00",
        "discovery": "9500.00",
    }
    assert client.get(url, headers=auth).json["terms"] == saved.json["terms"]


def test_terms_of_a_draft_intake_are_a_409(api, client, auth):
    response = client.post("/api/v1/intakes", headers=auth, json={"answers": {"company": "X"}})
    public_id = response.json["public_id"]
    assert client.get(f"/api/v1/intakes/{public_id}/terms", headers=auth).status_code == 409


def test_send_is_refused_with_every_reason_then_sends(api, client, staff, submitted):
    headers = user_token(api, staff)
    url = f"/api/v1/intakes/{submitted}/agreement"
    refused = client.post(url, headers=headers, json={})
    assert refused.status_code == 409
    messages = " ".join(e["message"] for e in refused.json["errors"])
    assert "agency profile has not been saved" in messages and "draft" in messages
    seed_profile(api)
    client.put(
        f"/api/v1/intakes/{submitted}/terms", headers=headers, json=example_terms("burned-marketer")
    )
    sent = client.post(url, headers=headers, json={"paper": "letter"})
    assert sent.status_code == 201, sent.json
    assert sent.json["number"] == 1 and "/agreement/" in sent.json["url"]
    with api.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.paper == "letter" and version.pdf_sha256 == sent.json["sha256"]
        assert version.sent_by.email == staff["manager"]


def test_a_walk_away_client_needs_override_walk_away(api, client, staff):
    public_id = make_submitted(api, "hands-on-director")
    headers = user_token(api, staff)
    seed_profile(api)
    client.put(
        f"/api/v1/intakes/{public_id}/terms",
        headers=headers,
        json=example_terms("hands-on-director"),
    )
    url = f"/api/v1/intakes/{public_id}/agreement"
    refused = client.post(url, headers=headers, json={})
    assert refused.status_code == 409
    assert any("walking away" in e["message"] for e in refused.json["errors"])
    reason = "The director agreed to one point of contact on our call"
    sent = client.post(url, headers=headers, json={"override_walk_away": reason})
    assert sent.status_code == 201
    with api.app_context():
        kinds = db.session.execute(select(AuditEvent.kind, AuditEvent.detail)).all()
        assert ("walk_away_overridden", reason) in kinds


def test_send_checks_its_body(api, client, staff, submitted):
    headers = user_token(api, staff)
    url = f"/api/v1/intakes/{submitted}/agreement"
    response = client.post(url, headers=headers, json={"paper": "a3", "colour": "red"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} >= {"paper", "colour"}


def test_send_refuses_a_contradiction_and_an_identical_version(api, client, staff, submitted):
    headers = user_token(api, staff)
    seed_profile(api)
    url = f"/api/v1/intakes/{submitted}"
    late = dict(example_terms("burned-marketer"), launch_date="2027-02-01")  # before the plan ends
    assert client.put(url + "/terms", headers=headers, json=late).json["problems"]
    refused = client.post(url + "/agreement", headers=headers, json={})
    assert refused.status_code == 409
    assert any("launch date" in e["message"] for e in refused.json["errors"])
    client.put(url + "/terms", headers=headers, json=example_terms("burned-marketer"))
    assert client.post(url + "/agreement", headers=headers, json={}).status_code == 201
    again = client.post(url + "/agreement", headers=headers, json={})
    assert again.status_code == 409
    assert any("Nothing changed" in e["message"] for e in again.json["errors"])


def test_a_date_from_2100_on_is_refused_and_nothing_is_stored(api, client, auth, submitted):
    """The probe's year-9999 start date: a 422 naming the field, the saved terms unchanged
    (issues 23 and 27)."""
    url = f"/api/v1/intakes/{submitted}/terms"
    saved = client.put(url, headers=auth, json=example_terms("burned-marketer"))
    assert saved.status_code == 200, saved.json
    for field, value in (("start_date", "9999-01-12"), ("valid_until", "2100-01-01")):
        far = client.put(url, headers=auth, json={**example_terms("burned-marketer"), field: value})
        assert far.status_code == 422, far.json
        assert [e["field"] for e in far.json["errors"]] == [field]
        assert "2099" in far.json["errors"][0]["message"]
    assert client.get(url, headers=auth).json["terms"] == saved.json["terms"]


def test_an_intake_whose_stored_terms_no_longer_validate_still_shows_its_pages(
    api, client, staff, submitted
):
    """Terms stored before today's checks (a year-9999 start date written straight to the
    database): the intake's pages answer, and the send is refused naming what is missing,
    never a 500."""
    from onboarding.db.contracts import EngagementTermsRow
    from onboarding.services.intake import workspace
    from tests.factories import login

    with api.app_context():
        intake = workspace.intake_by_public_id(submitted)
        terms = {**example_terms("burned-marketer"), "start_date": "9999-01-12"}
        db.session.add(EngagementTermsRow(intake_id=intake.id, data=terms))
        db.session.commit()
    login(client, staff["manager"])
    for page in ("", "/terms", "/agreement.pdf"):
        response = client.get(f"/workspace/intakes/{submitted}{page}")
        assert response.status_code in (200, 302), (page, response.status_code)
    body = client.get(f"/workspace/intakes/{submitted}").text
    assert "Start date" in body or "start date" in body


def test_a_put_waits_for_another_writer_instead_of_failing(api, client, auth, submitted):
    """A PUT takes SQLite's write lock before it reads, as POSTs and PATCHes do: while
    another connection is writing, it waits (the busy timeout), then saves. Before, its
    read began first and its write then failed at once: a 500 (schemathesis found it)."""
    if api.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's write lock: PostgreSQL locks rows")
    locked, release = threading.Event(), threading.Event()

    def other_writer():
        with api.app_context(), Session(db.engine) as session:
            begin_write(session)
            session.execute(text("UPDATE users SET active = active"))
            locked.set()
            release.wait(10)
            session.commit()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    response = client.put(
        f"/api/v1/intakes/{submitted}/terms", json=example_terms("burned-marketer"), headers=auth
    )
    thread.join()
    assert response.status_code == 200, response.json
    assert response.json["terms"]["fee"] == example_terms("burned-marketer")["fee"]
