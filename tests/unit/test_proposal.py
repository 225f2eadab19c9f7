"""The proposal letter (domain/proposal.py, ``onboarding proposal --json``): warm, in
the second person, an option with a price for each wish beyond the standard, what the
agency does instead where its card has none, and never the assessment's language."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from onboarding.cli import main
from onboarding.domain.assessment import assess
from onboarding.domain.proposal import assessment_words, compose_proposal
from onboarding.domain.terms import load_profile
from tests.factories import EXAMPLES

HIDDEN_AGENCY = {
    "legal_name": "Quayside Works Ltd",
    "trading_name": "Quayside",
    "currency": "EUR",
    "service_levels": {"response_hours": 24, "revision_rounds": 3, "update_cadence": "weekly"},
    "options": [
        {"id": "rush_response", "title": "Rush response", "description": "Answers in 4 hours.",
         "price": {"amount": "800.00", "per": "month"}, "sets": {"response_hours": 4}},
        {"id": "bonus_revisions", "title": "Bonus revision round", "description": "One more.",
         "price": {"amount": "450.00", "per": "unit"}, "unit": "round", "max_quantity": 5},
    ],
}  # fmt: skip
"""An agency whose card names its options its own way, with no out-of-hours option."""

HIDDEN_CLIENT = json.loads((EXAMPLES / "calm-founder.json").read_text()) | {
    "company": "Northfield Rowing Club",
    "contact_name": "Priya Raman",
    "expected_response_hours": "1",
    "revision_rounds": 9,
    "after_hours_contact": True,
    "primary_goal": "Double our junior membership before the spring regatta",
}


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_the_json_lists_options_with_why_and_the_sections(tmp_path):
    result = run("proposal", str(EXAMPLES / "burned-marketer.json"), "--terms",
                 str(EXAMPLES / "burned-marketer.terms.json"), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_id = {o["id"]: o for o in data["options"]}
    assert set(by_id) >= {"priority_replies", "extra_revision_round"}
    for option in data["options"]:
        assert set(option) >= {"id", "title", "price", "offered_because", "included"}
    assert (
        by_id["priority_replies"]["offered_because"] == "You would like replies within four hours."
    )
    assert by_id["priority_replies"]["price"]["text"] == "£450.00 a month"
    ids = [s["id"] for s in data["sections"]]
    assert ids[0] == "heard" and ids[-1] == "next"
    assert {"together", "worries", "fee", "options"} <= set(ids)


def test_a_hidden_clients_wishes_meet_a_hidden_agencys_card(tmp_path):
    agency = tmp_path / "agency.yaml"
    agency.write_text(yaml.safe_dump(HIDDEN_AGENCY))
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(HIDDEN_CLIENT))
    result = run("proposal", str(answers), "--agency", str(agency), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_id = {o["id"]: o for o in data["options"]}
    assert by_id["rush_response"]["offered_because"] == "You would like replies within an hour."
    assert by_id["rush_response"]["price"]["text"] == "€800.00 a month"
    assert "9 rounds" in by_id["bonus_revisions"]["offered_because"]
    # No out-of-hours option on this card: the letter says what the agency does instead.
    instead = " ".join(i["instead"] for i in data["instead"])
    assert "outside those hours is answered on the next working day" in instead
    text = json.dumps(data["sections"])
    assert "Double our junior membership" in text  # the client's goal, quoted
    assert "next working day" in text


def test_a_wish_the_standard_already_meets_is_not_sold_back():
    answers = HIDDEN_CLIENT | {"expected_response_hours": "24", "revision_rounds": 2}
    profile = load_profile(HIDDEN_AGENCY)
    letter = compose_proposal(answers, assess(answers), date="2027-02-01", profile=profile)
    assert [o.id for o in letter.options] == []
    generous = load_profile(HIDDEN_AGENCY | {"service_levels": {"response_hours": 1}})
    letter = compose_proposal(HIDDEN_CLIENT, assess(HIDDEN_CLIENT), date="2027-02-01",
                              profile=generous)  # fmt: skip
    assert "rush_response" not in [o.id for o in letter.options]


def test_the_letter_never_speaks_the_assessments_language():
    for path in sorted(EXAMPLES.glob("*.json")):
        if path.name.endswith(".terms.json"):
            continue
        answers = json.loads(path.read_text())
        terms_path = path.with_suffix(".terms.json")
        from onboarding.domain.terms import parse_terms

        terms = parse_terms(json.loads(terms_path.read_text())) if terms_path.exists() else None
        letter = compose_proposal(answers, assess(answers), date="2027-01-04", terms=terms)
        assert assessment_words(letter.text()) == [], path.name
        assert letter.greeting.startswith("Dear ") and " you" in letter.text()


def test_the_offer_stands_until_valid_until_or_thirty_days():
    answers = json.loads((EXAMPLES / "calm-founder.json").read_text())
    letter = compose_proposal(answers, assess(answers), date="2027-01-04")
    assert letter.valid_until == "2027-02-03"
    assert "This offer stands until 3 February 2027" in letter.text()


def test_bad_agency_options_exit_2_naming_the_field(tmp_path):
    agency = tmp_path / "agency.yaml"
    bad = HIDDEN_AGENCY | {"options": [HIDDEN_AGENCY["options"][0] | {"price": {"per": "year"}}]}
    agency.write_text(yaml.safe_dump(bad))
    result = run("proposal", str(EXAMPLES / "calm-founder.json"), "--agency", str(agency),
                 "--json")  # fmt: skip
    assert result.exit_code == 2
    fields = {e["field"] for e in json.loads(result.output)["errors"]}
    assert {"options[0].price.amount", "options[0].price.per"} <= fields
