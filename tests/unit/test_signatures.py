"""Signatures filled into the agreement's frozen signature block, and names compared."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from onboarding import assess
from onboarding.domain.agreement import compose
from onboarding.domain.terms import parse_terms
from onboarding.rendering import documents
from onboarding.services.agreement.versions import normalised_name
from tests.factories import EXAMPLES


@pytest.fixture(scope="module")
def frozen() -> str:
    """The agreement's content as a version freezes it (``block="document"``)."""
    answers = json.loads((EXAMPLES / "burned-marketer.json").read_text())
    terms = json.loads((EXAMPLES / "burned-marketer.terms.json").read_text())
    result = assess(answers)
    agreement = compose(answers, result, date=dt.date(2026, 11, 27), terms=parse_terms(terms))
    return documents.html_for(agreement, trace="appendix", block="document")


def mark(party, name, title="", when="2026-11-27 14:03:07 UTC"):
    return documents.SignatureMark(party, "", name, title, when)


def block_of(html: str, organisation: str) -> str:
    section = html.split('<section class="signatures"', 1)[1].split("</section>", 1)[0]
    return section.split(f"For {organisation}", 1)[1].split('<div class="signature">', 1)[0]


def test_the_client_signature_fills_the_client_block_only(frozen):
    filled = documents.fill_signatures(frozen, [mark(0, "Grace Hopper", "COO")])
    assert filled is not None and filled != frozen
    client = block_of(filled, "Harbour Freight Logistics")
    assert '<em class="signature__mark">Grace Hopper</em>' in client
    assert "<strong>Grace Hopper</strong>" in client and "<strong>COO</strong>" in client
    assert "<strong>2026-11-27 14:03:07 UTC</strong>" in client
    assert "Daniel Okafor" not in client  # the signer replaces the contact printed
    agency = block_of(filled, "Brightline Studio Ltd")
    assert "signature__mark" not in agency and "Alex Moreno" in agency  # untouched
    # Everything outside the signature block is the frozen page, byte for byte.
    before, after = frozen.split('<section class="signatures"', 1)
    assert filled.startswith(before)
    assert filled.endswith(after.split("</section>", 1)[1])


def test_a_title_left_empty_keeps_the_one_printed(frozen):
    filled = documents.fill_signatures(frozen, [mark(0, "Daniel Okafor")])
    assert "<strong>Head of Marketing</strong>" in block_of(filled, "Harbour Freight Logistics")


def test_both_signatures(frozen):
    filled = documents.fill_signatures(
        frozen, [mark(0, "Daniel Okafor"), mark(1, "Max Manager", "Account Director")]
    )
    agency = block_of(filled, "Brightline Studio Ltd")
    assert '<em class="signature__mark">Max Manager</em>' in agency
    assert "<strong>Account Director</strong>" in agency and "Alex Moreno" not in agency
    assert filled.count("Signed electronically") == 1


def test_what_is_filled_in_is_escaped(frozen):
    filled = documents.fill_signatures(frozen, [mark(0, '<script>x</script> & "Co"')])
    assert "<script>" not in filled and "&lt;script&gt;x&lt;/script&gt; &amp;" in filled


def test_markup_it_does_not_know_is_left_to_the_caller(frozen):
    assert documents.fill_signatures("<p>No signature block</p>", [mark(0, "A")]) is None
    twice = frozen.replace("</main>", "") + frozen
    assert documents.fill_signatures(twice, [mark(0, "A")]) is None
    three = frozen.replace(
        '<div class="signatures__grid">', '<div class="signatures__grid"><div class="signature">'
    )
    assert documents.fill_signatures(three, [mark(0, "A")]) is None
    assert documents.fill_signatures(frozen, [mark(2, "A")]) is None


def test_a_signed_copy_inlines_the_frozen_stylesheet_after_checking_it(frozen):
    certificate = documents.Certificate(
        "Certificate of acceptance", ("Lead.",), (documents.CertificatePart("Part", {"A": "b"}),)
    )
    common = dict(
        title="T", body=frozen, paper="letter", marks=[mark(0, "A")], certificate=certificate
    )
    html = documents.signed_html(stylesheet=".doc { color: red }", meta={"author": "X"}, **common)
    assert html is not None
    # The frozen CSS first, then the paper size (the frozen CSS sets A4 in its own @page).
    assert html.index(".doc { color: red }") < html.index("@page { size: letter; }")
    assert '<meta name="author" content="X">' in html
    assert html.index('class="signatures"') < html.index('id="certificate"')
    assert documents.signed_html(stylesheet="</style><script>", meta={}, **common) is None


@pytest.mark.parametrize(
    ("typed", "contact", "same"),
    [
        ("daniel   OKAFOR", "Daniel Okafor", True),
        ("José Núñez-Smith", "Jose Nunez Smith", True),
        ("  Ada\tLovelace ", "Ada Lovelace", True),
        ("Grace Hopper", "Daniel Okafor", False),
        ("Daniel", "Daniel Okafor", False),
    ],
)
def test_names_compare_without_case_accents_or_punctuation(typed, contact, same):
    assert (normalised_name(typed) == normalised_name(contact)) is same
