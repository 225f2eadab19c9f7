"""Stateless endpoints: the questionnaire, and assessments exactly as the CLI gives them;
no 500 and no HTML on bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from onboarding.cli import main
from onboarding.domain.assessment import assess, to_json
from onboarding.domain.questionnaire import get_questionnaire
from tests.factories import example


def test_the_questionnaire_is_its_definition(client, auth):
    response = client.get("/api/v1/questionnaire", headers=auth)
    assert response.status_code == 200
    assert response.json == get_questionnaire().as_dict()
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", ["calm-founder", "burned-marketer", "hands-on-director"])
def test_an_assessment_is_the_cli_json_byte_for_byte(client, auth, name, tmp_path):
    response = client.post("/api/v1/assessments", json=example(name), headers=auth)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data(as_text=True) == to_json(assess(example(name)))
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(example(name)))
    cli = CliRunner().invoke(main, ["assess", str(path), "--json"])
    assert response.get_data(as_text=True) == cli.output


def test_invalid_answers_give_every_error_as_the_cli_prints_them(client, auth, tmp_path):
    answers = {**example(), "timeline_weeks": 200, "fears": ["sharks"], "shoe_size": 42}
    del answers["company"]
    response = client.post("/api/v1/assessments", json=answers, headers=auth)
    assert response.status_code == 422
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    cli = CliRunner().invoke(main, ["assess", str(path), "--json"])
    assert cli.exit_code == 2
    assert response.get_data(as_text=True) == cli.output
    named = [e["question"] for e in response.json["errors"]]
    assert named == ["shoe_size", "company", "timeline_weeks", "fears"]
    assert all(set(e) == {"question", "message"} for e in response.json["errors"])


def test_a_shown_conditional_question_is_required(client, auth):
    answers = {**example(), "worked_with_agency_before": True}
    del answers["past_problems"]
    response = client.post("/api/v1/assessments", json=answers, headers=auth)
    assert response.status_code == 422
    assert [e["question"] for e in response.json["errors"]] == ["past_problems"]
    answers["worked_with_agency_before"] = False  # hidden: not required, ignored
    assert client.post("/api/v1/assessments", json=answers, headers=auth).status_code == 200


def test_nothing_is_stored(api, client, auth):
    from sqlalchemy import func, select

    from onboarding.db import db
    from onboarding.db.models import Assessment, Intake

    assert client.post("/api/v1/assessments", json=example(), headers=auth).status_code == 200
    with api.app_context():
        assert db.session.execute(select(func.count()).select_from(Intake)).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(Assessment)).scalar_one() == 0


BAD_BODIES = [
    # (body, content type, status, field)
    (b'{"contact_name": ', "application/json", 400, "body"),
    (b"", "application/json", 400, "body"),
    (b"\xff\xfe{}", "application/json", 400, "body"),
    (b'{"timeline_weeks": NaN}', "application/json", 400, "body"),
    (b'{"timeline_weeks": Infinity}', "application/json", 400, "body"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "body"),
    (b'{"timeline_weeks": 1' + b"0" * 5000 + b"}", "application/json", 400, "body"),
    (b"contact_name=Ada", "application/x-www-form-urlencoded", 415, "body"),
    (b'{"contact_name": "Ada"}', "text/plain", 415, "body"),
    (b'{"contact_name": "Ada"}', None, 415, "body"),
]


@pytest.mark.parametrize(("body", "kind", "status", "field"), BAD_BODIES)
@pytest.mark.parametrize("url", ["/api/v1/assessments", "/api/v1/intakes"])
def test_malformed_bodies_get_a_json_4xx(client, auth, url, body, kind, status, field):
    headers = dict(auth)
    if kind:
        headers["Content-Type"] = kind
    response = client.post(url, data=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.is_json and response.json["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "text",
    ['[]', '"answers"', '42', 'null', 'true', '{"timeline_weeks": "16"}',
     '{"fears": "failure"}', '{"fears": ["failure", "failure"]}',
     '{"after_hours_contact": "yes"}', '{"timeline_weeks": 1e400}',
     '{"timeline_weeks": 16.5}', '{"contact_name": "' + "x" * 10_000 + '"}',
     '{"contact_name": "Ada\\u0000"}', '{"timeline_weeks": true}', '{"": 1}'],
)  # fmt: skip
def test_wrong_types_are_422_never_500(client, auth, text):
    headers = {**auth, "Content-Type": "application/json"}
    response = client.post("/api/v1/assessments", data=text, headers=headers)
    assert response.status_code == 422 and response.is_json, response.text
    assert all("question" in e for e in response.json["errors"])


def test_a_huge_body_is_413_in_json(api, client, auth):
    size = api.config["MAX_CONTENT_LENGTH"] + 1
    body = b'{"contact_name": "' + b"x" * size + b'"}'
    for url in ("/api/v1/assessments", "/api/v1/intakes"):
        response = client.post(url, data=body, headers={**auth, "Content-Type": "application/json"})
        assert response.status_code == 413 and response.is_json


def test_unknown_addresses_and_methods_answer_json(client, auth):
    missing = client.get("/api/v1/nothing-here", headers=auth)
    assert missing.status_code == 404 and missing.is_json
    wrong = client.delete("/api/v1/intakes", headers=auth)
    assert wrong.status_code == 405 and wrong.is_json
