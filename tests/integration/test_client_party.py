"""Both parties' legal details, and what keeps an agreement a draft (issue 23: "The
client as a party", "Gates"), through the command line as an agency would run it for
a client that is not one of the examples."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from onboarding.cli import main
from tests.factories import EXAMPLES

REYES = {
    "legal_name": "Reyes Cosmetica S.L.",
    "legal_form": "Sociedad de responsabilidad limitada",
    "address": "Calle de Serrano 41, 28001 Madrid, Spain",
    "company_number": "B-87654321",
    "vat_number": "ESB87654321",
    "po_number": "PO-7781",
    "signatory": {
        "name": "Lucía Reyes",
        "title": "Directora General",
        "email": "lucia@reyes.example",
    },
}
THISTLE = {
    "legal_name": "Thistle & Finch LLP",
    "trading_name": "Thistle & Finch",
    "address": "40 Bath Street, Glasgow G2 1HG, United Kingdom",
    "company_number": "SO305214",
    "signatory": {"name": "Morag Finch", "title": "Designated Member",
                  "email": "morag@thistlefinch.example"},
    "currency": "GBP",
    "governing_law": "Scotland",
}  # fmt: skip


def _files(tmp_path, *, client=REYES, **changes):
    """Answers of a client that is not in the examples, its terms (with ``client``
    and ``changes``) and a Scottish LLP's agency profile."""
    answers = json.loads((EXAMPLES / "calm-founder.json").read_text())
    answers |= {"company": "Reyes Cosmetica", "contact_name": "Lucía Reyes",
                "contact_email": "lucia@reyes.example", "role": "Directora General"}  # fmt: skip
    terms = json.loads((EXAMPLES / "calm-founder.terms.json").read_text())
    terms["client"] = client
    terms |= changes
    terms = {k: v for k, v in terms.items() if v is not None}
    paths = {}
    for name, data in (("answers", answers), ("terms", terms), ("agency", THISTLE)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return paths


def _run(paths, *extra):
    args = ["agreement", str(paths["answers"]), "--terms", str(paths["terms"]),
            "--agency", str(paths["agency"]), "--date", "2026-12-07", *extra]  # fmt: skip
    result = CliRunner().invoke(main, args)
    return result


def _json(paths) -> dict:
    result = _run(paths, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_both_parties_legal_details_in_the_json_and_the_pdf(tmp_path):
    paths = _files(tmp_path)
    data = _json(paths)
    assert data["draft"] is False and data["problems"] == []
    assert data["resolved_terms"]["client"] == REYES
    agency = data["resolved_terms"]["agency"]
    assert (agency["legal_name"], agency["company_number"], agency["number_label"]) == (
        "Thistle & Finch LLP", "SO305214", "LLP number"
    )  # fmt: skip

    out = tmp_path / "a.pdf"
    result = _run(paths, "-o", str(out))
    assert result.exit_code == 0, result.output
    # The two parties sit side by side: pdftotext reads their lines in turn, so each
    # detail is looked for as the lines it wraps into.
    lines = [
        " ".join(line.split())
        for line in subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                   check=True, text=True).stdout.splitlines()
    ]  # fmt: skip
    text = " ".join(lines)
    for detail in (
        "Reyes Cosmetica S.L.",
        "Sociedad de responsabilidad limitada",
        "Registered address: Calle de Serrano 41,",
        "28001 Madrid, Spain",
        "Registered number B-87654321",
        "VAT number ESB87654321",
        "Purchase order PO-7781",
        "Represented by Lucía Reyes, Directora",
        # The agency: a Scottish LLP's number is an LLP number, not a company number.
        "Thistle & Finch LLP",
        "LLP number SO305214",
        "Registered address: 40 Bath Street, Glasgow",
        "Represented by Morag Finch, Designated",
    ):
        assert detail in text, detail
    assert "Company number SO305214" not in text
    assert "7 December 2026" in text  # dated the day given (the day it is sent)


@pytest.mark.parametrize(
    ("client", "changes", "field"),
    [
        ({k: v for k, v in REYES.items() if k != "legal_name"}, {}, "client.legal_name"),
        ({k: v for k, v in REYES.items() if k != "address"}, {}, "client.address"),
        (REYES, {"start_date": "2026-01-12", "launch_date": None}, "start_date"),
        (REYES, {"start_date": None}, "start_date"),
    ],
    ids=["no legal name", "no address", "start in the past", "no start date"],
)
def test_each_missing_item_makes_a_draft_naming_its_field(tmp_path, client, changes, field):
    data = _json(_files(tmp_path, client=client, **changes))
    assert data["draft"] is True
    assert [p["field"] for p in data["problems"] if "field" in p] == [field]


def test_a_worry_without_a_safeguard_is_never_sendable(tmp_path):
    paths = _files(tmp_path)
    answers = json.loads(paths["answers"].read_text())
    answers["biggest_worry"] = "That the launch slips past our trade fair in March."
    paths["answers"].write_text(json.dumps(answers), encoding="utf-8")
    data = _json(paths)
    assert data["draft"] is True
    assert [p["field"] for p in data["problems"] if "field" in p] == ["safeguard"]
    concern = [c for s in data["sections"] for c in s["clauses"] if c["id"] == "biggest_worry"]
    assert "to be agreed with the Client and written here before signing" in concern[0]["text"]
    out = tmp_path / "d.pdf"
    result = _run(paths, "-o", str(out))
    assert result.exit_code == 0 and "Draft: safeguard" in result.output
    pages = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True,
                           text=True).stdout.split("\f")  # fmt: skip
    pages = [p for p in pages if p.strip()]
    assert pages and all("DRAFT" in page for page in pages)  # every page says so
    assert "the safeguard for the Client's main concern" in " ".join(pages[0].split())


def test_a_date_from_2100_is_refused_naming_its_field(tmp_path):
    result = _run(_files(tmp_path, valid_until="2100-01-01"), "--json")
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"] == [
        {"field": "valid_until", "message": "must be a date from 1900-01-01 to 2099-12-31"}
    ]
