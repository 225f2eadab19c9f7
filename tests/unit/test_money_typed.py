"""Money as people type it (issue 26, point 8), and a sentence's one full stop
(point 11): pure functions of the domain."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onboarding.domain.terms import TermsInvalid, parse_terms, read_money
from onboarding.domain.text import full_stop


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("24000", "24000.00"),
        ("24000.5", "24000.50"),
        ("£24,000", "24000.00"),
        ("24 000", "24000.00"),
        ("24\u00a0000", "24000.00"),
        ("24,000.50", "24000.50"),
        ("1,234,567.89", "1234567.89"),
        ("24000 GBP", "24000.00"),
        ("€ 950", "950.00"),
    ],
)
def test_amounts_typed_as_people_type_them(typed, amount):
    assert read_money(typed) == Decimal(amount)
    assert str(read_money(typed)) == amount


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("€1.234,50", "must use a point for the decimals, not a comma"),
        ("24,5", "must use a point for the decimals, not a comma"),
        ("1.234", "is ambiguous"),
        ("2,40,000", "must group its thousands in threes"),
        ("1,000 000", "must group its thousands in threes"),
        ("24000.123", "up to two decimals"),
        ("lots", "must be an amount"),
        ("-5", "must be an amount"),
    ],
)
def test_ambiguous_or_wrong_amounts_are_refused_never_guessed(typed, says):
    with pytest.raises(ValueError, match=says):
        read_money(typed)


def test_the_terms_name_the_field_of_a_refused_amount():
    with pytest.raises(TermsInvalid) as info:
        parse_terms({"fee": {"model": "fixed", "amount": "€1.234,50"}})
    [error] = [e for e in info.value.errors if e.field == "fee.amount"]
    assert "comma" in error.message
    parsed = parse_terms({"fee": {"model": "fixed", "amount": "£24,000"}})
    assert parsed.as_dict()["fee"] == {"model": "fixed", "amount": "24000.00"}


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Northwind Tea Co.", "Northwind Tea Co."),
        ("Harbour Freight Logistics", "Harbour Freight Logistics."),
        ("Yes!", "Yes!"),
        ("Really?", "Really?"),
        ("Acme Ltd ", "Acme Ltd."),
        ("", ""),
    ],
)
def test_a_sentence_ends_with_one_full_stop(text, sentence):
    assert full_stop(text) == sentence
