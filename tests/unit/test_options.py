"""The rate card (the agency profile's ``options``), the offer and the client's choice
(``onboarding/domain/options.py``; contract ``shared/spec/proposal.md``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onboarding.domain import options
from onboarding.domain.terms import TermsInvalid, default_profile, load_profile

CARD = [
    {"id": "priority_replies", "title": "Priority replies", "description": "Within 4 hours.",
     "price": {"amount": "450.00", "per": "month"}, "sets": {"response_hours": 4}},
    {"id": "extra_revision_round", "title": "Extra revision round", "description": "One more.",
     "price": {"amount": "600", "per": "unit"}, "unit": "round", "max_quantity": 6},
]  # fmt: skip


def profile(card):
    return load_profile({"legal_name": "Hidden Agency Ltd", "options": card})


def test_the_demo_profile_carries_a_card_for_the_usual_wishes():
    card = {o.id: o for o in default_profile().options}
    assert {"priority_replies", "extra_revision_round", "weekly_call", "shared_task_board",
            "out_of_hours_cover"} <= set(card)  # fmt: skip
    assert card["priority_replies"].sets == {"response_hours": 4}
    assert card["extra_revision_round"].per == "unit" and card["extra_revision_round"].unit
    assert all(o.amount > 0 for o in card.values())


def test_a_card_loads_and_round_trips_in_contract_form():
    p = profile(CARD)
    assert [o.id for o in p.options] == ["priority_replies", "extra_revision_round"]
    assert p.options[1].amount == Decimal("600") and p.options[1].max_quantity == 6
    again = load_profile(p.as_dict() | {"legal_name": "Hidden Agency Ltd"})
    assert again.options == p.options
    assert p.as_dict()["options"][0]["price"] == {"amount": "450.00", "per": "month"}


def test_a_profile_without_options_has_an_empty_card():
    assert load_profile({"legal_name": "Plain Ltd"}).options == ()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"price": {"amount": "lots", "per": "month"}}, "options[0].price.amount", "amount"),
        ({"price": {"amount": "10.00", "per": "week"}}, "options[0].price.per", "project, month"),
        ({"price": "450"}, "options[0].price", "object"),
        ({"id": "Priority Replies"}, "options[0].id", "identifier"),
        ({"title": ""}, "options[0].title", "required"),
        ({"sets": {"response_hours": 3}}, "options[0].sets.response_hours", "1, 4, 24, 48"),
        ({"sets": {"coffee": 1}}, "options[0].sets.coffee", ""),
        ({"unit": "call"}, "options[0].unit", "per unit"),
        ({"colour": "red"}, "options[0].colour", "not a key"),
    ],
)
def test_a_bad_option_names_its_field(change, field, words):
    bad = [CARD[0] | change, CARD[1]]
    with pytest.raises(TermsInvalid) as caught:
        profile(bad)
    fields = {e.field: e.message for e in caught.value.errors}
    assert field in fields and words in fields[field]


def test_per_unit_needs_a_unit_and_ids_are_unique():
    with pytest.raises(TermsInvalid) as caught:
        profile([CARD[1] | {"unit": "", "max_quantity": 500}, CARD[1]])
    fields = {e.field for e in caught.value.errors}
    assert {"options[0].unit", "options[0].max_quantity", "options[1].id"} <= fields


def test_offers_follow_the_playbooks_and_the_managers_changes():
    card = profile(CARD).options
    wishes = [
        {"id": "priority_replies", "playbook": "set_boundaries", "rule": "fast", "because": "w"},
        {"id": "out_of_hours_cover", "playbook": "set_boundaries", "rule": "late", "because": "x"},
    ]
    offers, unpriced = options.offered(card, wishes)
    assert [o.option.id for o in offers] == ["priority_replies"]
    assert offers[0].offered_because == "w" and not offers[0].included
    assert [u["id"] for u in unpriced] == ["out_of_hours_cover"]
    changes, problems = options.parse_changes(
        {
            "withdraw": ["priority_replies"],
            "include": [{"id": "extra_revision_round", "reason": "Goodwill"}],
        }  # fmt: skip
    )
    assert not problems and changes.reasons == {"extra_revision_round": "Goodwill"}
    offers, _ = options.offered(card, wishes, changes)
    assert [(o.option.id, o.included) for o in offers] == [("extra_revision_round", True)]
    assert changes.as_dict()["include"] == [{"id": "extra_revision_round", "reason": "Goodwill"}]


def test_bad_changes_name_the_field():
    _, problems = options.parse_changes({"offer": "weekly_call", "drop": [], "include": [3]})
    fields = {f for f, _ in problems}
    assert fields == {"options.offer", "options.drop", "options.include[0]"}
    _, problems = options.parse_changes({"offer": ["a"], "withdraw": ["a"]})
    assert problems and "both" in problems[0][1]


def test_the_client_chooses_quantities_within_the_limits():
    card = profile(CARD).options
    offers = [options.Offer(o, "") for o in card]
    choice, problems = options.parse_choice("priority_replies,extra_revision_round:2")
    assert not problems and choice == {"priority_replies": 1, "extra_revision_round": 2}
    chosen, problems = options.choose(offers, choice)
    assert not problems
    assert [(c.option.id, c.quantity, c.total) for c in chosen] == [
        ("priority_replies", 1, Decimal("450.00")), ("extra_revision_round", 2, Decimal("1200"))
    ]  # fmt: skip
    assert options.totals(chosen) == {"once": Decimal("1200"), "monthly": Decimal("450.00")}
    assert options.levels_set(chosen) == {"response_hours": 4}
    assert chosen[1].as_dict("GBP")["total_text"] == "2 rounds at £600.00 each: £1,200.00"
    _, problems = options.choose(offers, {"extra_revision_round": 9, "coffee": 1})
    assert {f for f, _ in problems} == {"options.extra_revision_round", "options.coffee"}
    assert options.choose(offers, {}) == ([], [])
    _, problems = options.parse_choice("priority replies")
    assert problems


def test_the_agreement_as_it_reads_once_options_are_chosen():
    import json

    from click.testing import CliRunner

    from onboarding.cli import main
    from tests.factories import EXAMPLES

    args = ["agreement", str(EXAMPLES / "burned-marketer.json"), "--terms",
            str(EXAMPLES / "burned-marketer.terms.json"), "--json"]  # fmt: skip
    before = json.loads(CliRunner().invoke(main, args).output)
    assert before["options_chosen"] == [] and before["options_offered"]
    assert before["resolved_terms"]["service_levels"]["response_hours"] == 24
    result = CliRunner().invoke(
        main, [*args, "--options", "priority_replies,extra_revision_round:2"]
    )
    assert result.exit_code == 0, result.output
    after = json.loads(result.output)
    chosen = {o["id"]: o for o in after["options_chosen"]}
    assert chosen["extra_revision_round"]["quantity"] == 2
    assert after["resolved_terms"]["service_levels"]["response_hours"] == 4  # the level it sets
    assert after["resolved_terms"]["options_chosen"][0] == (
        "Priority replies: £450.00 a month (replies within four working hours)"
    )
    assert after["problems"] == []
    refused = CliRunner().invoke(main, [*args, "--options", "weekly_call:3,teleport"])
    assert refused.exit_code == 2
    fields = {e["field"] for e in json.loads(refused.output)["errors"]}
    assert fields == {"options.weekly_call", "options.teleport"}
