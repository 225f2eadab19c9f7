"""The proposal PDF for clients and agencies unlike the examples (tests/fixtures/proposal),
read as the client reads it: 2 to 4 pages; each option's line with its price under the
wish it answers; the sentence saying what the agency does instead where its card has
no option; no assessment language; no page holding only the sign-off (issue 24)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from onboarding.cli import main
from onboarding.domain.proposal import assessment_words

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "proposal"
CURRENCY = {"demo": "GBP", "agency-two-options": "USD", "agency-no-options": "CHF",
            "agency-look-alikes": "AUD"}  # fmt: skip

CASES = [
    # client, agency, {option title: price as printed}, [wish answered by what we do instead]
    ("tidewater-saas", "agency-two-options",
     {"Express answers": "$1,200.00 a month", "Additional design round": "$750.00 per round"},
     ["You would like an update every day.", "You would like to see the work as it progresses.",
      "You may need us outside working hours."]),
    ("tidewater-saas", "agency-no-options", {},
     ["You would like an update every day.", "You would like to see the work as it progresses.",
      "You expect up to 10 rounds of revisions per deliverable.",
      "You would like replies within an hour.", "You may need us outside working hours."]),
    ("tidewater-saas", "demo",
     {"Priority replies": "£450.00 a month", "Extra revision round": "£600.00 per round",
      "Daily status note": "£350.00 a month", "Shared task board": "£150.00 for the project",
      "Out-of-hours cover": "£400.00 a month"}, []),
    ("maison-vigne", "agency-two-options", {"Additional design round": "$750.00 per round"},
     ["You would like updates a few times a week."]),
    ("kookaburra-dental", "agency-look-alikes", {}, []),
    ("prairie-literacy", "agency-look-alikes", {"Producer hotline": "A$950.00 a month"},
     ["You would like an update every day.", "You would like replies within four hours."]),
    ("alpen-ledger", "agency-no-options", {},
     ["You would like to see the work as it progresses.",
      "You expect up to 10 rounds of revisions per deliverable.",
      "You would like replies within a working day."]),
    ("taniwha-brewing", "demo",
     {"Priority replies": "£450.00 a month", "Extra revision round": "£600.00 per round"}, []),
    ("osaka-draft", "agency-look-alikes", {"Producer hotline": "A$950.00 a month"},
     ["You would like to see the work as it progresses."]),
]  # fmt: skip


def run(tmp_path: Path, client: str, agency: str, *extra: str):
    args = ["proposal", str(FIXTURES / f"{client}.json"), "--date", "2027-01-04"]
    if agency != "demo":
        args += ["--agency", str(FIXTURES / f"{agency}.yaml")]
    terms_path = FIXTURES / f"{client}.terms.json"
    if terms_path.exists():
        terms = json.loads(terms_path.read_text())
        if terms.get("currency") != CURRENCY[agency]:
            terms.pop("currency", None)  # the card's prices are in the agency's currency
        (tmp_path / "terms.json").write_text(json.dumps(terms))
        args += ["--terms", str(tmp_path / "terms.json")]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(("client", "agency", "priced", "instead"), CASES,
                         ids=[f"{c}-{a}" for c, a, _, _ in CASES])  # fmt: skip
def test_the_letter_prices_each_wish_or_says_what_we_do_instead(
    tmp_path, client, agency, priced, instead
):
    out = tmp_path / "p.pdf"
    run(tmp_path, client, agency, "-o", str(out))
    pages = [" ".join((pg.extract_text() or "").split()) for pg in PdfReader(out).pages]
    assert 2 <= len(pages) <= 4, len(pages)
    text = " ".join(pages)
    assert assessment_words(text) == []
    for title, price in priced.items():  # the option's line: its title, then its price
        assert f"{title} " in text and price in text, (title, price)
        assert text.index(price) > text.index(title) > text.index("Options")
    for wish in instead:  # the wish, in bold, and the sentence after it
        assert wish in text, wish
    if instead:
        assert "here is what we do instead" in text
    if not priced:
        assert "tick any options" not in text and "Choose any of them" not in text
        if instead:
            assert "Beyond our standard way of working" in text
    # The sign-off never stands alone on the last page.
    assert "This offer stands until" in pages[-1] and "With best wishes" in pages[-1]
    data = json.loads(run(tmp_path, client, agency, "--json").output)
    assert {o["title"]: o["price"]["text"] for o in data["options"]} == priced
    assert all(o["offered_because"] for o in data["options"])
    for wish in instead:
        assert any(wish in i["wish"] for i in data["instead"]), wish
