"""Agency profile, engagement terms and the one resolved set of values (terms.md)."""

from __future__ import annotations

import json
import shutil

import pytest

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.domain.consistency import check_agreement, check_playbooks
from onboarding.domain.playbooks import load_playbooks
from onboarding.domain.terms import (
    TermsInvalid,
    default_profile,
    load_profile,
    parse_terms,
)
from tests.factories import EXAMPLES, ROOT

DAY = "2026-11-27"
NAMES = ("calm-founder", "burned-marketer", "hands-on-director")


def load(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def terms_of(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.terms.json").read_text())


# --- validation: every error at once, with a field path ------------------------------


def test_every_error_comes_at_once_with_its_field_path():
    with pytest.raises(TermsInvalid) as info:
        parse_terms(
            {
                "fee": {"model": "fixed", "amount": 24000.5},
                "payment_schedule": [
                    {"when": "on_signing", "percent": 30},
                    {"when": "whenever", "percent": "forty"},
                ],
                "start_date": "11/01/2027",
                "ip_option": "ours",
                "service_levels": {"response_hours": 2, "colour": "red"},
                "clauses": {"remove": [{"id": "open_books"}]},
                "budget": 3,
            }
        )
    fields = {e.field for e in info.value.errors}
    assert {
        "fee.amount",
        "payment_schedule[1].when",
        "payment_schedule[1].percent",
        "start_date",
        "ip_option",
        "service_levels.response_hours",
        "service_levels.colour",
        "clauses.remove[0].reason",
        "budget",
    } <= fields
    assert info.value.as_dict()["errors"][0].keys() == {"field", "message"}


def test_percents_must_add_up_to_100():
    with pytest.raises(TermsInvalid) as info:
        parse_terms({"payment_schedule": [{"when": "on_signing", "percent": 30}]})
    assert [e.field for e in info.value.errors] == ["payment_schedule"]
    assert "100" in info.value.errors[0].message


def test_money_is_a_decimal_string_and_round_trips():
    terms = parse_terms(terms_of("calm-founder"))
    assert terms.as_dict()["fee"] == {"model": "fixed", "amount": "18500.00"}
    assert parse_terms(terms.as_dict()) == terms


def test_a_profile_file_may_leave_out_what_the_shipped_defaults_fill():
    profile = load_profile({"legal_name": "Northwind Design LLP", "currency": "EUR"})
    assert profile.trading_name == "Northwind Design LLP"
    assert profile.service_levels == default_profile().service_levels
    assert profile.standard_clauses == default_profile().standard_clauses
    assert not profile.demo and default_profile().demo
    with pytest.raises(TermsInvalid) as info:
        load_profile({"currency": "pounds", "service_levels": {"revision_rounds": -1}})
    assert {"legal_name", "currency", "service_levels.revision_rounds"} <= {
        e.field for e in info.value.errors
    }


# --- draft or sendable; one value everywhere -------------------------------------------


def test_without_fee_schedule_and_start_date_it_is_a_draft():
    answers = load("calm-founder")
    draft = compose(answers, assess(answers), date=DAY)
    assert draft.draft
    sendable = compose(
        answers, assess(answers), date=DAY, terms=parse_terms(terms_of("calm-founder"))
    )
    assert not sendable.draft
    fee = next(r for r in sendable.scope if r.label == "Fee")
    assert fee.lines == ("£18,500.00, a fixed fee for the deliverables listed",)
    schedule = next(r for r in sendable.scope if r.label == "Payment schedule")
    assert schedule.lines[0] == "On signing: 40% (£7,400.00)"
    assert "At the end of the Strategy phase: 30% (£5,550.00)" in schedule.lines


def test_the_clients_wish_is_never_the_agencys_promise():
    # The client asks for replies within the hour; the agency's level is a working day.
    answers = dict(load("hands-on-director"), expected_response_hours="1")
    agreement = compose(answers, assess(answers), date=DAY)
    text = " ".join(c.text for c in agreement.clauses)
    assert "answered within one working hour" not in text
    assert agreement.terms["service_levels"]["response_hours"] == 24


def test_an_engagement_value_wins_and_is_stated_the_same_way_everywhere():
    answers = load("burned-marketer")
    assessment = assess(answers)
    terms = parse_terms({"service_levels": {"revision_rounds": 3}})
    agreement = compose(answers, assessment, date=DAY, terms=terms)
    assert agreement.terms["service_levels"]["revision_rounds"] == 3
    revisions = next(i for i in agreement.summary if i.label == "Revisions")
    assert "three rounds" in revisions.text
    included = next(c for c in agreement.clauses if c.id == "included_revisions")
    assert "includes three rounds of revisions" in included.text
    # Stated once: the standard terms' review clause refers to it by title.
    text = " ".join(c.text for c in agreement.clauses)
    assert "two rounds" not in text and text.count("three rounds") == 1
    acceptance = " ".join(
        c.text for s in agreement.standard_sections for c in s.clauses if s.id == "terms_acceptance"
    )
    assert "rounds of revisions in Revisions and change requests" in acceptance


def test_the_manager_adds_removes_and_replaces_clauses():
    answers = load("calm-founder")
    assessment = assess(answers)
    first = assessment["clauses"][1]["id"]
    terms = parse_terms(
        {
            "clauses": {
                "add": [
                    {"section": "scope", "title": "Launch event", "text": "The Agency hosts it."}
                ],
                "remove": [{"id": "confidentiality", "reason": "A separate NDA is signed"}],
                "replace": [{"id": first, "text": "New wording.", "reason": "Agreed on a call"}],
            }
        }
    )
    agreement = compose(answers, assessment, date=DAY, terms=terms)
    by_id = {c.id: c for c in agreement.clauses}
    assert "confidentiality" not in by_id
    assert by_id[first].text == "New wording." and by_id[first].source == "manager"
    added = [c for c in agreement.clauses if c.title == "Launch event"]
    assert added and added[0].source == "manager"
    assert all(c.source == "standard" for s in agreement.standard_sections for c in s.clauses
               if c.id not in by_id or by_id[c.id].source != "manager")  # fmt: skip


def test_the_ip_option_and_supplements_choose_the_standard_clauses():
    answers = load("calm-founder")  # branding: print terms by default
    assessment = assess(answers)
    ids = {c.id for c in compose(answers, assessment, date=DAY).clauses}
    assert "ip_assignment_on_payment" in ids and "ip_limited_license" not in ids
    assert "supplement_print" in ids and "supplement_interactive_build" not in ids
    terms = parse_terms({"ip_option": "limited_license", "supplements": ["interactive"]})
    ids = {c.id for c in compose(answers, assessment, date=DAY, terms=terms).clauses}
    assert "ip_limited_license" in ids and "ip_assignment_on_payment" not in ids
    assert "supplement_interactive_build" in ids and "supplement_print" not in ids


# --- the consistency check ----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_shipped_examples_are_consistent_with_and_without_terms(name):
    answers = load(name)
    assessment = assess(answers)
    for terms in (None, parse_terms(terms_of(name))):
        agreement = compose(answers, assessment, date=DAY, terms=terms)
        assert check_agreement(agreement, answers, assessment, terms) == []


def test_a_plan_that_misses_the_launch_date_is_a_contradiction():
    answers = load("burned-marketer")  # 16 weeks
    assessment = assess(answers)
    shipped = check_agreement(compose(answers, assessment, date=DAY), answers, assessment)

    def new_problems(terms):
        agreement = compose(answers, assessment, date=DAY, terms=terms)
        return [
            p for p in check_agreement(agreement, answers, assessment, terms) if p not in shipped
        ]

    terms = parse_terms(dict(terms_of("burned-marketer"), launch_date="2027-03-01"))
    assert [p.clauses for p in new_problems(terms)] == [("the roadmap", "the launch date")]
    terms = parse_terms({"payment_schedule": [{"when": "phase:Testing", "percent": 100}]})
    assert [p.clauses for p in new_problems(terms)] == [("payment_schedule[0]",)]


@pytest.mark.slow
def test_the_shipped_playbooks_state_no_wish_as_a_value():
    assert check_playbooks(load_playbooks(ROOT / "playbooks")) == []


@pytest.mark.slow
def test_a_contradiction_introduced_into_a_playbook_is_reported(tmp_path):
    folder = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", folder)
    path = folder / "set_boundaries.yaml"
    text = path.read_text()
    # A clause that promises the client's own wish as the agency's revision rounds.
    marker = "rules:\n"
    clause = (
        "rules:\n"
        "  - id: promise_their_rounds\n"
        "    when: revision_rounds >= 1\n"
        "    clauses:\n"
        "      - id: promised_rounds\n"
        "        section: revisions\n"
        "        title: Rounds\n"
        "        text: Each deliverable includes {revision_rounds} of revisions.\n"
    )
    path.write_text(text.replace(marker, clause, 1))
    shipped = check_playbooks(load_playbooks(ROOT / "playbooks"))
    problems = [p for p in check_playbooks(load_playbooks(folder)) if p not in shipped]
    assert [p.clauses for p in problems] == [("set_boundaries/promised_rounds",)]
    assert "asked_revisions" in problems[0].message


def test_standard_clauses_state_each_value_once_with_its_unit():
    answers = load("calm-founder")
    terms = parse_terms({"service_levels": {"revision_rounds": 1, "acceptance_days": 5}})
    agreement = compose(answers, assess(answers), date=DAY, terms=terms)
    text = " ".join(c.text for s in agreement.standard_sections for c in s.clauses)
    for doubled in ("days days", "days' days", "rounds rounds", "round rounds", "%%",
                    "hours working hours", "months months", "working days working"):  # fmt: skip
        assert doubled not in text, doubled
    # Numbers up to ten in words, from 11 on in figures: each written one way (the
    # rounds in the project clause, which the review clause refers to).
    rounds = next(c for c in agreement.clauses if c.id == "included_revisions").text
    assert "includes one round of revisions" in rounds and "five working days" in text
    assert "30 days' written notice" in text
    assert "10%" in text


def test_a_clause_change_list_given_as_an_empty_object_is_refused():
    """`"replace": {}` is not a list (Schemathesis found it accepted as none)."""
    import pytest as _pytest

    from onboarding.domain.terms import TermsInvalid, parse_terms

    for kind in ("add", "remove", "replace"):
        with _pytest.raises(TermsInvalid) as caught:
            parse_terms({"clauses": {kind: {}}})
        assert [e.field for e in caught.value.errors] == [f"clauses.{kind}"]
    assert parse_terms({"clauses": {"add": None, "remove": [], "replace": None}})
