"""The rate card prices options in the agency's currency: an engagement billed in another
currency never shows the card's amounts under the wrong currency, and its agreement stays a
draft, naming the currency, until the two agree or no option is offered."""

from __future__ import annotations

import json

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.domain.proposal import compose_proposal
from onboarding.domain.terms import default_profile, parse_terms
from tests.factories import EXAMPLES, example

TERMS = json.loads((EXAMPLES / "burned-marketer.terms.json").read_text())


def build(currency: str):
    answers = example("burned-marketer")
    terms = parse_terms(TERMS | {"currency": currency})
    profile = default_profile()
    agreement = compose(answers, assess(answers), terms=terms, profile=profile, date="2026-12-01")
    return profile, agreement


def test_an_engagement_in_the_cards_currency_has_no_currency_problem():
    profile, agreement = build(default_profile().currency)
    assert agreement.options_offered  # the example wishes beyond the standard
    assert all(p.field != "currency" for p in agreement.problems)


def test_options_in_another_currency_keep_the_agreement_a_draft_naming_both():
    card = default_profile().currency
    other = "CHF" if card != "CHF" else "EUR"
    _, agreement = build(other)
    [problem] = [p for p in agreement.problems if p.field == "currency"]
    assert agreement.draft
    assert other in problem.message and card in problem.message


def test_the_proposal_prices_the_cards_options_in_the_cards_currency():
    card = default_profile().currency
    other = "CHF" if card != "CHF" else "EUR"
    answers = example("burned-marketer")
    letter = compose_proposal(
        answers, assess(answers), date="2026-12-01", terms=parse_terms(TERMS | {"currency": other})
    )
    texts = [o.price["text"] for o in letter.options]
    assert texts and all(other not in t for t in texts)
