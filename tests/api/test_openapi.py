"""The OpenAPI document: generated from the code's schemas, and the API keeps to it
(schemathesis, a bounded number of examples per operation)."""

from __future__ import annotations

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from onboarding.domain.questionnaire import get_questionnaire
from onboarding.web.api.answers import answers_schema
from onboarding.web.api.schema import IntakePatch
from tests.factories import example, make_submitted


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


def kinds(prop) -> set:
    """The JSON types a property schema allows (its ``anyOf`` members' too)."""
    if "anyOf" in prop:
        return set().union(*(kinds(p) for p in prop["anyOf"]))
    kind = prop.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def test_the_answers_schema_is_the_questionnaire(document):
    schema = document["components"]["schemas"]["Answers"]
    questionnaire = get_questionnaire()
    assert list(schema["properties"]) == list(questionnaire.questions)
    assert schema["additionalProperties"] is False
    # A question shown only under a condition is checked (and required) in its `then`.
    shown = {}
    for rule in schema["allOf"]:
        assert rule["if"] == {
            "properties": {"worked_with_agency_before": {"const": True}},
            "required": ["worked_with_agency_before"],
        }
        shown |= {
            q: (p, q in rule["then"].get("required", []))
            for q, p in rule["then"]["properties"].items()
        }
    assert set(shown) == {q.id for q in questionnaire.questions.values() if q.show_if}
    for q in questionnaire.questions.values():
        prop, required = shown.get(q.id, (schema["properties"][q.id], q.id in schema["required"]))
        if q.type == "choice":
            assert [v for v in prop["enum"] if v is not None] == list(q.values)
        if q.type == "multi":
            assert prop["items"]["enum"] == list(q.values) and prop["uniqueItems"]
        if q.type in ("integer", "scale"):
            assert (prop["minimum"], prop["maximum"]) == q.bounds()
        if q.max_length:  # of the trimmed text: in the pattern
            assert f"{{0,{q.max_length - 2}}}" in prop["pattern"] and "maxLength" not in prop
        assert required is q.required
        assert ("null" in kinds(prop)) is (not required)
    past = schema["properties"]["past_problems"]
    assert (
        "worked_with_agency_before" in past["description"]
        and "required when shown" in (past["description"])
    )
    draft = document["components"]["schemas"]["DraftAnswers"]
    assert "required" not in draft and list(draft["properties"]) == list(questionnaire.questions)
    assert all("required" not in rule["then"] for rule in draft["allOf"])


def test_the_answers_schema_agrees_with_validation():
    complete = jsonschema_rs.Draft202012Validator(answers_schema(partial=False))
    draft = jsonschema_rs.Draft202012Validator(answers_schema(partial=True))
    for name in ("calm-founder", "burned-marketer", "hands-on-director"):
        assert complete.is_valid(example(name)) and draft.is_valid(example(name))
        assert not get_questionnaire().validate(example(name))[1]
    assert draft.is_valid({"company": "Acme", "fears": None}) and not complete.is_valid({})
    for change in ({"timeline_weeks": 0}, {"fears": ["sharks"]}, {"fears": ["failure"] * 2},
                   {"shoe_size": 1}, {"company": " "}, {"after_hours_contact": "no"}):  # fmt: skip
        answers = {**example(), **change}
        assert not complete.is_valid(answers), change
        assert get_questionnaire().validate(answers)[1]
        if change != {"company": " "}:  # in a draft, a blank text is just unanswered
            assert not draft.is_valid(answers), change
            assert get_questionnaire().validate(answers, partial=True)[1]


def test_body_schemas_are_the_models_the_api_validates_with(document):
    schemas = document["components"]["schemas"]
    patch = schemas["IntakePatch"]
    assert set(patch["properties"]) == set(IntakePatch.model_fields)
    assert patch["additionalProperties"] is False
    create = schemas["IntakeCreate"]
    assert create["properties"]["answers"]["$ref"] == "#/components/schemas/DraftAnswers"
    assessment = schemas["Assessment"]
    assert set(assessment["required"]) >= {
        "score", "band", "recommendation", "risks", "red_flags", "contributions", "clauses",
        "actions", "playbook_version"}  # fmt: skip
    assert set(schemas["Risks"]["required"]) == {
        "excess_free_time", "trust_deficit", "process_transparency", "frustrated_creative",
        "tactical_focus", "fear"}  # fmt: skip


def test_every_route_is_documented(api, document):
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = {
        (
            m,
            r.rule.replace("<public_id>", "{public_id}")
            .replace("<int:number>", "{number}")
            .replace("<milestone_id>", "{milestone_id}"),
        )
        for r in api.url_map.iter_rules()
        if r.rule.startswith("/api/v1/") and r.endpoint != "api.openapi"
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served
    assert set(document["webhooks"]) == {
        "intake.submitted",
        "intake.status_changed",
        "agreement.sent",
        "agreement.changes_requested",
        "agreement.accepted",
        "agreement.signed",
        "project.update_posted",
        "project.milestone_moved",
        "project.signoff_requested",
        "project.signed_off",
    }


def test_the_docs_page_lists_every_operation_with_a_curl_example(client, document):
    page = client.get("/api/docs")
    assert page.status_code == 200
    text = page.text
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert f'id="op-{op["operationId"]}"' in text
            assert path in text
    operations = sum(1 for item in document["paths"].values() for m in item if m != "parameters")
    assert operations >= 10
    assert text.count("curl --fail-with-body") == operations + 1  # one per operation, one to start
    assert "def verify(secret, body, header, tolerance=300, now=None):" in text
    assert "cdn" not in text.lower() and "swagger" not in text.lower()
    css = client.get("/api/docs.css")
    assert css.status_code == 200 and css.mimetype == "text/css"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_api_keeps_to_its_openapi_document(api, auth, staff):
    """schemathesis: generated requests for every operation; no 5xx, documented status
    codes, content types, headers and bodies."""
    public_id = make_submitted(api)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10  # every operation of the document is exercised
    calls: list[tuple[str, int]] = []
    for operation in operations:
        # The PDF's only input is `paper` (three values) and a render takes ~0.7 s.
        examples = 5 if operation.path.endswith("agreement.pdf") else 25

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            if case.path_parameters:  # a real intake, not only 404s
                case.path_parameters = {**case.path_parameters, "public_id": public_id}
            response = case.call(headers=auth)
            calls.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS, headers=auth)

        check()
    by_code = sorted({code for _, code in calls})
    assert len(calls) >= 7 * 20, len(calls)
    assert {200, 201, 409, 422} <= set(by_code), by_code
