"""Judgement v2 over the API: band_note and a manager's band on intakes, assessments
and the questionnaire's added (optional) questions."""

from __future__ import annotations

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake
from tests.factories import example

CREATIVE = {
    **example("calm-founder"),
    "worked_with_agency_before": True,
    "past_agencies_count": 1,
    "past_experience_rating": 4,
    "past_problems": [],
    "control_level": 4,
    "in_house_creative": "strong",
    "brainstorm_involvement": "every_session",
    "decisions_owned": ["brand_direction", "copy", "visual_design"],
    "revision_rounds": 4,
    "goal_clarity": 4,
    "tactics_flexibility": 4,
    "process_familiarity": 4,
}


def test_a_capped_band_and_its_note_reach_the_api(api, client, auth):
    created = client.post("/api/v1/intakes", json={"answers": CREATIVE}, headers=auth).json
    assert created["score"] >= 70
    assert created["band"] == "guarded" and created["band_note"].startswith("Guarded rather")
    assert created["assessment"]["band_note"] == created["band_note"]
    assert created["override_band"] is None
    with api.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        intake.override_band, intake.override_reason = "strong", "Known to us"
        db.session.commit()
    listed = client.get("/api/v1/intakes?band=guarded", headers=auth).json
    row = listed["items"][0] if "items" in listed else listed["intakes"][0]
    assert (row["band"], row["override_band"]) == ("guarded", "strong")
    assert row["band_note"] == created["band_note"]


def test_v1_answers_without_the_scope_questions_are_assessed(client, auth):
    answers = example()
    for qid in ("deliverables", "content_per_week", "launch_date"):
        answers.pop(qid, None)
    response = client.post("/api/v1/assessments", json=answers, headers=auth)
    assert response.status_code == 200, response.text
    assert "ask_for_scope" in {a["id"] for a in response.json["actions"]}
    assert "band_note" in response.json


def test_the_questionnaire_marks_what_the_web_form_asks(client, auth):
    body = client.get("/api/v1/questionnaire", headers=auth).json
    about = next(s for s in body["sections"] if s["id"] == "about")["questions"]
    by_id = {q["id"]: q for q in about}
    assert by_id["deliverables"]["required"] is False
    assert by_id["deliverables"]["form_required"] is True
    assert by_id["launch_date"]["type"] == "date" and "form_required" not in by_id["launch_date"]
