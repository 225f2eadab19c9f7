"""The agreement PDF as a contract: with terms a complete contract, without a draft."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from onboarding.cli import main
from tests.factories import EXAMPLES

NAMES = ("calm-founder", "burned-marketer", "hands-on-director")


def text_of(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


@pytest.mark.parametrize("name", NAMES)
def test_with_terms_it_is_a_contract_both_sides_sign(tmp_path, name):
    out = tmp_path / "a.pdf"
    result = CliRunner().invoke(
        main,
        ["agreement", str(EXAMPLES / f"{name}.json"), "--terms",
         str(EXAMPLES / f"{name}.terms.json"), "-o", str(out), "--date", "2026-12-01"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Contradiction" not in result.output and "draft" not in result.output
    pages = text_of(out)
    text = " ".join(pages)
    for heading in ("Scope and fees", "Payment schedule", "Standard terms", "Intellectual property",
                    "Limitation of liability", "Termination", "Signatures"):  # fmt: skip
        assert heading in text, heading
    assert "£" in text and "Brightline Studio Ltd" in text and "Alex Moreno" in text
    # The scope-and-fees table shows its values (not only its labels).
    terms = json.loads((EXAMPLES / f"{name}.terms.json").read_text())
    for item in terms["deliverables"] + terms.get("exclusions", []):
        assert " ".join(item.split()) in text, item
    assert "DRAFT" not in text and "statement of work" not in text.lower()
    # No ratings of the client ("5 of 5") or answer-by-answer trace in the client's copy
    # (a five-page agreement's footer, "Page 1 of 5", is no rating).
    assert "Because you told us" not in text and not re.search(r"(?<!Page )\b[1-5] of 5\b", text)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_without_terms_every_page_says_draft(tmp_path):
    out = tmp_path / "d.pdf"
    result = CliRunner().invoke(
        main, ["agreement", str(EXAMPLES / "calm-founder.json"), "-o", str(out)]
    )
    assert result.exit_code == 0 and "draft" in result.output
    pages = text_of(out)
    assert all("DRAFT" in page for page in pages)
