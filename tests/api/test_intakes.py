"""Intakes over the API: create (submitted or draft), list with cursors, read, change, PDF."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AuditEvent, Intake, Note, WebhookDelivery, WebhookEndpoint, utcnow
from tests.factories import example, login, make_submitted, post

PARTIAL = {
    "contact_name": "Ada Lovelace",
    "contact_email": "ada@analytical.example",
    "company": "Analytical Engines Ltd",
}


# --- create --------------------------------------------------------------------------------


def test_complete_answers_are_submitted_and_assessed(api, client, auth):
    response = client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    assert response.status_code == 201, response.text
    body = response.json
    assert body["status"] == "new" and body["submitted_at"]
    assert body["assessment"]["score"] == body["score"] and body["band"] == "guarded"
    assert body["resume_url"] is None
    assert response.headers["Location"] == f"/api/v1/intakes/{body['public_id']}"
    with api.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "new" and len(intake.assessments) == 1
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert event.kind == "api" and "Website" in event.to_value


def test_an_api_submission_fires_intake_submitted(api, client, auth):
    with api.app_context():
        db.session.add(
            WebhookEndpoint(
                url="https://hooks.example/x", events=["intake.submitted"], secret="whsec_x"
            )
        )
        db.session.commit()
    api.extensions["outbox"].stop()
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    client.post("/api/v1/intakes", json={"answers": PARTIAL}, headers=auth)  # a draft: no
    with api.app_context():
        deliveries = db.session.execute(select(WebhookDelivery)).scalars().all()
        assert [d.event for d in deliveries] == ["intake.submitted"]
        assert deliveries[0].intake.company == "Harbour Freight Logistics"


def test_partial_answers_make_a_draft_with_a_resume_link(api, client, auth):
    response = client.post("/api/v1/intakes", json={"answers": PARTIAL}, headers=auth)
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "draft" and body["assessment"] is None and body["score"] is None
    assert body["answers"] == PARTIAL
    link = body["resume_url"]
    assert link.startswith("http://localhost/intake/")
    # The prospect's link opens their intake where the API left it: after "about",
    # which is not complete yet, so at "about".
    opened = client.get(link.removeprefix("http://localhost"))
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/step/about")
    assert "Analytical Engines Ltd" in client.get(opened.headers["Location"]).text


def test_a_draft_resumes_after_its_complete_sections(client, auth):
    about = {k: v for k, v in example().items() if k in {
        "contact_name", "contact_email", "company", "role", "project_type", "budget_band",
        "timeline_weeks", "decision_makers", "deliverables", "content_per_week"}}  # fmt: skip
    body = client.post("/api/v1/intakes", json={"answers": about}, headers=auth).json
    opened = client.get(body["resume_url"].removeprefix("http://localhost"))
    assert opened.headers["Location"].endswith("/step/time")
    # v1 answers leave out the scope questions the web form asks on the first step: the
    # prospect is sent there to answer them.
    v1 = {k: v for k, v in about.items() if k not in {"deliverables", "content_per_week"}}
    body = client.post("/api/v1/intakes", json={"answers": v1}, headers=auth).json
    opened = client.get(body["resume_url"].removeprefix("http://localhost"))
    assert opened.headers["Location"].endswith("/step/about")


def test_submit_false_keeps_complete_answers_as_a_draft(client, auth):
    response = client.post(
        "/api/v1/intakes", json={"answers": example(), "submit": False}, headers=auth
    )
    assert response.status_code == 201 and response.json["status"] == "draft"
    opened = client.get(response.json["resume_url"].removeprefix("http://localhost"))
    assert opened.headers["Location"].endswith("/review")


def test_invalid_values_name_each_question_and_store_nothing(api, client, auth):
    answers = {**PARTIAL, "timeline_weeks": 0, "fears": ["sharks"], "contact_email": "nope"}
    response = client.post("/api/v1/intakes", json={"answers": answers}, headers=auth)
    assert response.status_code == 422
    assert [e["question"] for e in response.json["errors"]] == [
        "contact_email",
        "timeline_weeks",
        "fears",
    ]
    with api.app_context():
        assert db.session.execute(select(Intake)).first() is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": PARTIAL, "colour": "blue"}, "colour"),
        ({}, "answers"),
        ({"answers": PARTIAL, "submit": "yes"}, "submit"),
        ({"answers": PARTIAL, "owner": 7}, "owner"),
        ([PARTIAL], "body"),
    ],
)
def test_unknown_or_wrong_fields_are_422(client, auth, body, field):
    response = client.post("/api/v1/intakes", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == field


def test_answers_that_are_not_an_object_are_named(client, auth):
    response = client.post("/api/v1/intakes", json={"answers": [1]}, headers=auth)
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"question": "answers", "message": "must be a JSON object of question ids"}
    ]


def test_an_owner_is_given_by_email(client, auth, staff):
    body = {"answers": PARTIAL, "owner": "Manager@Example.com"}
    response = client.post("/api/v1/intakes", json=body, headers=auth)
    assert response.status_code == 201 and response.json["owner"] == staff["manager"]
    body["owner"] = "nobody@example.com"
    refused = client.post("/api/v1/intakes", json=body, headers=auth)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "owner"


# --- list ----------------------------------------------------------------------------------


@pytest.fixture
def many(api, staff):
    """23 submitted intakes with repeated scores and companies, some owned, over 3 days."""
    ids = []
    names = ["calm-founder", "burned-marketer", "hands-on-director"]
    for i in range(23):
        ids.append(
            make_submitted(
                api,
                names[i % 3],
                company=f"Company {i % 5}",
                contact_name=f"Person {i:02d}",
                contact_email=f"person{i}@example.com",
            )
        )
    with api.app_context():
        from onboarding.db.models import User

        manager = db.session.execute(select(User).where(User.role == "manager")).scalar_one()
        start = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
        for i, intake in enumerate(db.session.execute(select(Intake).order_by(Intake.id))
                                   .scalars()):  # fmt: skip
            intake.submitted_at = start - timedelta(days=i % 3)
            if i % 4 == 0:
                intake.owner_id = manager.id
        db.session.commit()
    return ids


def walk(client, auth, **params):
    """Every item of a list, following next_cursor; and the number of pages."""
    items, pages, cursor = [], 0, None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        response = client.get("/api/v1/intakes", query_string=query, headers=auth)
        assert response.status_code == 200, response.text
        pages += 1
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 100


@pytest.mark.parametrize(
    "sort",
    ["-submitted_at", "submitted_at", "score", "-score", "company", "-company", "name",
     "-created_at", "updated_at"],
)  # fmt: skip
def test_the_cursor_walks_every_item_exactly_once_in_order(client, auth, many, sort):
    items, pages = walk(client, auth, sort=sort, limit=4)
    assert sorted(i["public_id"] for i in items) == sorted(many)
    assert len(items) == len(set(i["public_id"] for i in items)) == 23
    assert pages == 6
    key = {"name": "contact_name"}.get(sort.lstrip("-"), sort.lstrip("-"))
    values = [i[key] for i in items]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_drafts_are_listed_on_request_with_missing_keys_last(client, auth, many):
    for i in range(5):
        answers = {"contact_name": f"Draft {i}"} if i % 2 else {}
        client.post("/api/v1/intakes", json={"answers": answers}, headers=auth)
    for sort in ("score", "-score", "company", "-submitted_at", "name", "-name"):
        items, _ = walk(client, auth, status="draft", sort=sort, limit=2)
        assert len(items) == 5 and all(i["status"] == "draft" for i in items)
    items, _ = walk(client, auth, status="draft", sort="name", limit=2)
    assert [i["contact_name"] for i in items] == ["Draft 1", "Draft 3", None, None, None]
    everything, _ = walk(client, auth, limit=100)
    assert all(i["status"] != "draft" for i in everything) and len(everything) == 23


def test_a_page_holds_limit_items(client, auth, many):
    response = client.get("/api/v1/intakes?limit=100", headers=auth)
    assert len(response.json["items"]) == 23 and response.json["next_cursor"] is None
    response = client.get("/api/v1/intakes", headers=auth)
    assert len(response.json["items"]) == 23  # default 25
    response = client.get("/api/v1/intakes?limit=1", headers=auth)
    assert len(response.json["items"]) == 1 and response.json["next_cursor"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", ""])
def test_limit_bounds(client, auth, limit):
    response = client.get(f"/api/v1/intakes?limit={limit}", headers=auth)
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "limit", "message": "must be a whole number from 1 to 100"}
    ]


def test_a_cursor_is_refused_with_another_sort_or_when_garbled(client, auth, many):
    cursor = client.get("/api/v1/intakes?limit=2", headers=auth).json["next_cursor"]
    for query in (
        {"cursor": cursor, "sort": "score"},
        {"cursor": "not-a-cursor"},
        {"cursor": cursor[:-3]},
        {"cursor": "eyJzIjoiLXN1Ym1pdHRlZF9hdCIsInYiOlsxXSwiaSI6MX0"},  # v: [1]
        {"cursor": "x" * 600},
    ):
        response = client.get("/api/v1/intakes", query_string=query, headers=auth)
        assert response.status_code == 422, query
        assert response.json["errors"][0]["field"] == "cursor"


def test_filters(client, auth, many, staff):
    def ids(**params):
        items, _ = walk(client, auth, limit=7, **params)
        return {i["public_id"] for i in items}, items

    _, everything = ids()
    found, items = ids(band="strong")
    assert found and all(i["band"] == "strong" for i in items)
    assert found == {i["public_id"] for i in everything if i["band"] == "strong"}
    found, items = ids(owner=staff["manager"])
    assert len(found) == 6 and all(i["owner"] == staff["manager"] for i in items)
    found, items = ids(owner="none")
    assert len(found) == 17 and all(i["owner"] is None for i in items)
    found, items = ids(q="company 3")
    assert all(i["company"] == "Company 3" for i in items) and len(found) == 4
    found, _ = ids(q="PERSON7@EXAMPLE")
    assert len(found) == 1
    found, _ = ids(q="%")
    assert not found
    day = everything[0]["submitted_at"][:10]
    found, items = ids(submitted_from=day, submitted_to=day)
    assert len(found) == 8 and all(i["submitted_at"].startswith(day) for i in items)
    found, _ = ids(submitted_from=day)
    assert len(found) == 8
    found, _ = ids(status="new", band="poor")
    assert found == {i["public_id"] for i in everything if i["band"] == "poor"}
    found, _ = ids(status="in_review")
    assert not found


@pytest.mark.parametrize(
    ("query", "field"),
    [("band=great", "band"), ("status=lost", "status"), ("owner=ghost@example.com", "owner"),
     ("submitted_from=2026-13-01", "submitted_from"), ("submitted_to=yesterday", "submitted_to"),
     ("submitted_from=2026-03-02&submitted_to=2026-03-01", "submitted_from"),
     ("sort=-colour", "sort"), ("q=" + "x" * 101, "q"), ("page=2", "page"),
     ("band=strong&band=poor", "band"), ("sort=", "sort"), ("cursor=", "cursor"),
     ("owner=" + "x" * 255, "owner"), ("q=" + " " * 101, "q")],
)  # fmt: skip
def test_bad_list_parameters_are_named(client, auth, query, field):
    response = client.get(f"/api/v1/intakes?{query}", headers=auth)
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == [field]


# --- read ----------------------------------------------------------------------------------


def test_one_intake_in_detail(client, auth, submitted):
    response = client.get(f"/api/v1/intakes/{submitted}", headers=auth)
    assert response.status_code == 200
    body = response.json
    assert body["public_id"] == submitted and body["answers"]["company"] == example()["company"]
    assert body["assessment"]["playbook_version"] and body["notes"] == []
    assert client.get("/api/v1/intakes/unknown", headers=auth).status_code == 404


# --- change --------------------------------------------------------------------------------


def patch(client, auth, public_id, body):
    return client.patch(f"/api/v1/intakes/{public_id}", json=body, headers=auth)


def test_status_follows_the_workflow(api, client, auth, submitted):
    ok = patch(client, auth, submitted, {"status": "in_review"})
    assert ok.status_code == 200 and ok.json["status"] == "in_review"
    same = patch(client, auth, submitted, {"status": "in_review"})  # a repeat is a no-op
    assert same.status_code == 200
    refused = patch(client, auth, submitted, {"status": "new"})
    assert refused.status_code == 409
    assert refused.json["errors"][0]["field"] == "status"
    assert "cannot move to new" in refused.json["errors"][0]["message"]
    by_action = patch(client, auth, submitted, {"status": "accepted"})
    assert by_action.status_code == 409 and "accepting it" in by_action.json["errors"][0]["message"]
    unknown = patch(client, auth, submitted, {"status": "won"})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "status"
    declined = patch(client, auth, submitted, {"status": "declined"})
    assert declined.json["status"] == "declined"
    with api.app_context():
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        assert [(e.kind, e.to_value) for e in events if e.kind == "status"] == [
            ("status", "in_review"),
            ("status", "declined"),
        ]
        assert all(e.user_id is None for e in events)


def test_a_draft_cannot_change_status(client, auth):
    draft = client.post("/api/v1/intakes", json={"answers": PARTIAL}, headers=auth).json
    response = patch(client, auth, draft["public_id"], {"status": "in_review"})
    assert response.status_code == 409


def test_owner_by_email_or_null_and_a_note(api, client, auth, submitted, staff):
    response = patch(client, auth, submitted, {"owner": staff["manager"], "note": " Called. "})
    assert response.status_code == 200
    assert response.json["owner"] == staff["manager"]
    assert [n["text"] for n in response.json["notes"]] == ["Called."]
    assert response.json["notes"][0]["author"] is None
    response = patch(client, auth, submitted, {"owner": None})
    assert response.json["owner"] is None
    with api.app_context():
        assert db.session.execute(select(Note.text)).scalar_one() == "Called."


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"status": "in_review", "colour": "red"}, 422, "colour"),
        ({}, 422, "body"),
        ({"status": None}, 422, "status"),
        ({"note": None}, 422, "note"),
        ({"note": "   "}, 422, "note"),
        ({"note": "x" * 5001}, 422, "note"),
        ({"owner": "ghost@example.com"}, 422, "owner"),
        ({"owner": 12}, 422, "owner"),
        (["status"], 422, "body"),
    ],
)
def test_refused_changes_change_nothing(api, client, auth, submitted, staff, body, status, field):
    response = patch(client, auth, submitted, body)
    assert response.status_code == status, response.text
    assert field in [e["field"] for e in response.json["errors"]]
    with api.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "new" and intake.owner_id is None
        assert db.session.execute(select(Note)).first() is None


def test_all_or_nothing(api, client, auth, submitted, staff):
    response = patch(client, auth, submitted, {"owner": staff["manager"], "status": "accepted"})
    assert response.status_code == 409
    with api.app_context():
        assert db.session.execute(select(Intake.owner_id)).scalar_one() is None


def test_patch_needs_json(client, auth, submitted):
    response = client.patch(f"/api/v1/intakes/{submitted}", data="status=in_review", headers=auth)
    assert response.status_code == 415


# --- the agreement ---------------------------------------------------------------------------


def test_the_agreement_pdf(client, auth, submitted):
    response = client.get(f"/api/v1/intakes/{submitted}/agreement.pdf", headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "Agreement - Harbour Freight Logistics - " in disposition
    letter = client.get(f"/api/v1/intakes/{submitted}/agreement.pdf?paper=letter", headers=auth)
    assert letter.status_code == 200 and letter.data != response.data
    bad = client.get(f"/api/v1/intakes/{submitted}/agreement.pdf?paper=a3", headers=auth)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "paper"


def test_no_agreement_before_submission(client, auth):
    draft = client.post("/api/v1/intakes", json={"answers": PARTIAL}, headers=auth).json
    response = client.get(f"/api/v1/intakes/{draft['public_id']}/agreement.pdf", headers=auth)
    assert response.status_code == 409 and response.is_json
    missing = client.get("/api/v1/intakes/nope/agreement.pdf", headers=auth)
    assert missing.status_code == 404 and missing.is_json


# --- one query model and one change_status for the workspace and the API ----------------------


def workspace_ids(client, **params) -> set[str]:
    """The public ids the workspace's prospects list shows for these parameters."""
    page = client.get("/workspace/", query_string=params)
    assert page.status_code == 200
    return set(re.findall(r'<a href="/workspace/intakes/([^"/]+)">', page.text))


def api_ids(client, auth, **params) -> set[str]:
    response = client.get("/api/v1/intakes", query_string={**params, "limit": 100}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json["next_cursor"] is None
    return {i["public_id"] for i in response.json["items"]}


def test_a_search_finds_the_same_intakes_in_the_workspace_and_the_api(api, client, auth, staff):
    """LIKE wildcards typed as text, letters beyond ASCII, mixed case and a date range
    select the same intakes through both, because both call the one query model."""
    people = {
        "emile": ("Émile Ørsted", "Société Générale", "emile@example.com"),
        "zoe": ("Zoë Müller", "100% Natural Ltd", "zoe_m@example.com"),
        "bo": ("Bo Young", "Under_Score Co", "Bo.Young@Example.COM"),
        "cy": ("Cy Xu", "Plain Co", "cy@example.com"),
    }
    ids = {}
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for day, (key, (name, company, email)) in enumerate(people.items()):
        ids[key] = make_submitted(
            api, "calm-founder", contact_name=name, company=company, contact_email=email
        )
        with api.app_context():
            intake = db.session.execute(
                select(Intake).where(Intake.public_id == ids[key])
            ).scalar_one()
            intake.submitted_at = start + timedelta(days=day)
            db.session.commit()
    login(client, staff["manager"])
    expected = {
        "ÉMILE": {"emile"},  # mixed case, beyond ASCII
        "Ørsted": {"emile"},
        "müller": {"zoe"},
        "100%": {"zoe"},  # a wildcard is a plain character
        "%": {"zoe"},
        "_": {"zoe", "bo"},
        "R_SC": {"bo"},
        "bo.young@example.com": {"bo"},
        "émile": None,  # PostgreSQL folds É to é; SQLite only ASCII letters: either way, alike
    }
    for q, keys in expected.items():
        found = workspace_ids(client, q=q)
        assert api_ids(client, auth, q=q) == found, q
        if keys is not None:
            assert found == {ids[k] for k in keys}, q
    # A date range (inclusive days, UTC), alone and with a search.
    found = workspace_ids(client, q="o", **{"from": "2026-03-03", "to": "2026-03-04"})
    assert found == {ids["zoe"], ids["bo"]}
    assert api_ids(client, auth, q="o", submitted_from="2026-03-03", submitted_to="2026-03-04") == (
        found
    )
    assert workspace_ids(client, to="2026-03-02") == api_ids(
        client, auth, submitted_to="2026-03-02"
    ) == {ids["emile"]}  # fmt: skip


def test_a_day_outside_the_years_the_lists_take_is_a_422_not_an_error(client, auth):
    for name, value in (("submitted_to", "9999-12-31"), ("submitted_from", "0001-01-01")):
        response = client.get(f"/api/v1/intakes?{name}={value}", headers=auth)
        assert response.status_code == 422, (name, response.status_code)
        assert [e["field"] for e in response.json["errors"]] == [name]


def test_the_workspace_and_the_api_refuse_a_status_change_with_the_same_words(
    api, client, auth, staff, submitted
):
    """One change_status holds the workflow's rules for every caller."""
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    moves = [("new", "accepted"), ("new", "agreement_sent"), ("new", "draft"), ("in_review", "new")]
    for status, target in moves:
        if status == "in_review":
            assert patch(client, auth, submitted, {"status": "in_review"}).status_code == 200
        refused = patch(client, auth, submitted, {"status": target})
        assert refused.status_code == 409
        message = refused.json["errors"][0]["message"]
        shown = post(client, url + "/status", {"status": target}, url)  # the page again, 422
        assert html.escape(message, quote=False) in shown.text, target
    with api.app_context():
        assert db.session.execute(select(Intake.status)).scalar_one() == "in_review"
        changes = db.session.execute(select(AuditEvent).where(AuditEvent.kind == "status"))
        assert [e.to_value for e in changes.scalars()] == ["in_review"]
