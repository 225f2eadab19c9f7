"""The proposal as a PDF: a letter of 2 to 4 pages, with the options and their prices,
and none of the assessment's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from onboarding.cli import main
from onboarding.domain.proposal import assessment_words
from tests.factories import EXAMPLES

NAMES = ("calm-founder", "burned-marketer", "hands-on-director")


def text_of(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


@pytest.mark.parametrize("name", NAMES)
def test_the_proposal_is_a_letter_of_two_to_four_pages(tmp_path, name):
    out = tmp_path / "p.pdf"
    terms = str(EXAMPLES / f"{name}.terms.json")
    args = ["proposal", str(EXAMPLES / f"{name}.json"), "--terms", terms, "-o", str(out),
            "--date", "2027-01-04"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    pages = text_of(out)
    assert 2 <= len(pages) <= 4, len(pages)
    text = " ".join(pages)
    assert assessment_words(text) == []
    assert "What we heard" in text and "What happens next" in text
    assert "This offer stands until" in text
    data = json.loads(CliRunner().invoke(main, [*args[:4], "--json"]).output)
    for option in data["options"]:
        assert option["title"] in text and option["price"]["text"] in text
