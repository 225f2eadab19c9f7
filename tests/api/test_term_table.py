"""Engagement terms as data: a term added to a copy of the term table (and a clause
naming it) goes through the workspace form, the API, the redline and the PDF with no
other change (issue 22)."""

from __future__ import annotations

import io
import json
import re

import pypdf
import pytest
import yaml

from onboarding.db import db
from onboarding.db.models import Intake
from onboarding.domain.agreement import agreement_json
from onboarding.domain.redline import redline
from onboarding.domain.term_fields import TABLE_FILE, TableInvalid, load_table, use_table
from onboarding.domain.terms import TermsInvalid, default_profile, parse_terms
from onboarding.services.agreement import terms as contracts
from onboarding.web.api.terms_model import terms_model
from tests.api.conftest import EXAMPLES, PASSWORD
from tests.conftest import csrf_of

KILL_FEE = """
  - key: kill_fee_percent
    type: whole
    min: 0
    max: 100
    label: Kill fee
    help: "Percent of the fees not yet invoiced, due if the Client stops the work early."
    widget: number
    form: {section: fees, rank: 55}
    resolve: true
    redline: {label: Kill fee, format: percent, rank: 35}
    document: {format: percent}
"""
CLAUSE = {
    "id": "kill_fee",
    "section": "termination",
    "title": "Stopping early",
    "text": "If the Client stops the work early, a kill fee of {kill_fee_percent} of the "
    "fees not yet invoiced is due.",
}


def copy_with(tmp_path, row: str):
    """A copy of the shipped term table with one more row."""
    data = yaml.safe_load(TABLE_FILE.read_text(encoding="utf-8"))
    data["fields"] += yaml.safe_load(row)
    path = tmp_path / "terms.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def kill_fee_table(tmp_path):
    """The term table with a kill fee: nothing else changes."""
    with use_table(copy_with(tmp_path, KILL_FEE)) as table:
        yield table


def _example_terms(**changes) -> dict:
    terms = json.loads((EXAMPLES / "burned-marketer.terms.json").read_text())
    return terms | changes


def _login(client, email: str) -> None:
    page = client.get("/login")
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    assert client.post("/login", data=data).status_code == 302


def _pdf_text(client, public_id: str, auth: dict) -> str:
    response = client.get(f"/api/v1/intakes/{public_id}/agreement.pdf", headers=auth)
    assert response.status_code == 200, response.data[:200]
    pages = pypdf.PdfReader(io.BytesIO(response.data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_a_term_added_to_the_table_round_trips_everywhere(
    kill_fee_table, api, client, auth, staff, submitted
):
    with api.app_context():
        profile = default_profile().as_dict()
        profile["standard_clauses"].append(CLAUSE)
        contracts.save_profile(profile, None, "with a kill fee clause")
        db.session.commit()

    # The workspace form shows the new field, keeps what was typed, names it in errors.
    _login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="kill_fee_percent"' in page.text and ">Kill fee</label>" in page.text
    form = {
        "fee.model": "fixed",
        "fee.amount": "84000.00",
        "start_date": "2027-01-18",
        "payment_schedule[0].when": "on_signing",
        "payment_schedule[0].percent": "100",
        "kill_fee_percent": "150",
        "csrf_token": csrf_of(page.text),
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "Kill fee: must be a whole number from 0 to 100" in refused.text
    assert 'value="150"' in refused.text  # what was typed is kept
    saved = client.post(url, data=form | {"kill_fee_percent": "15"})
    assert saved.status_code == 302
    assert 'value="15"' in client.get(url).text

    # The API reads and writes it, and refuses a bad value naming the field.
    api_url = f"/api/v1/intakes/{submitted}/terms"
    assert client.get(api_url, headers=auth).json["terms"]["kill_fee_percent"] == 15
    bad = client.put(api_url, headers=auth, json=_example_terms(kill_fee_percent="most"))
    assert bad.status_code == 422
    assert {"field": "kill_fee_percent", "message": "must be a whole number from 0 to 100"} in (
        bad.json["errors"]
    )
    before_pdf = _pdf_text(client, submitted, auth)
    with api.app_context():
        before = contracts.agreement_of(db.session.get(Intake, _id(submitted)))
        before_json = agreement_json(before)
    put = client.put(api_url, headers=auth, json=_example_terms(kill_fee_percent=20))
    assert put.status_code == 200, put.json
    assert put.json["terms"]["kill_fee_percent"] == 20
    # ... and its OpenAPI model documents it, with its bounds.
    schema = terms_model(kill_fee_table).model_json_schema()
    field = schema["properties"]["kill_fee_percent"]["anyOf"][0]
    assert (field["minimum"], field["maximum"]) == (0, 100)

    # The agreement states it where the clause names it, in the resolved terms and PDF.
    with api.app_context():
        after = contracts.agreement_of(db.session.get(Intake, _id(submitted)))
        after_json = agreement_json(after)
    assert after_json["resolved_terms"]["kill_fee_percent"] == 20
    assert "a kill fee of 15% of the fees not yet invoiced is due" in before_pdf
    assert "a kill fee of 20% of the fees not yet invoiced is due" in _pdf_text(
        client, submitted, auth
    )

    # The redline names the change in a client's words.
    changes = redline(before_json, after_json)
    assert {"term": "Kill fee", "from": "15%", "to": "20%"} in changes["values"]
    assert "kill_fee" in {c["id"] for c in changes["clauses"]}


def _id(public_id: str) -> int:
    return db.session.query(Intake.id).filter_by(public_id=public_id).scalar()


def test_a_table_applies_inside_its_block_only(kill_fee_table):
    with use_table(TABLE_FILE), pytest.raises(TermsInvalid, match="kill_fee_percent: is not"):
        parse_terms({"kill_fee_percent": 10})
    assert parse_terms({"kill_fee_percent": 10}).by_key["kill_fee_percent"] == 10


def test_a_broken_row_is_refused_when_the_table_loads(tmp_path):
    path = copy_with(tmp_path, KILL_FEE.replace("type: whole", "type: percentage"))
    with pytest.raises(TableInvalid, match=re.escape("kill_fee_percent: unknown type")):
        load_table(path)


def test_an_object_term_in_a_card_of_its_own_needs_only_the_table(
    api, client, auth, staff, submitted
):
    """Issue 23's client party block is rows of the shipped table: a group of members,
    in a card of its own, through the form and the API."""
    _login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    page = client.get(url)
    assert ">The client as a party</h2>" in page.text
    form = {"client.legal_name": "Reyes Cosmetics S.L.", "csrf_token": csrf_of(page.text)}
    assert client.post(url, data=form).status_code == 302
    api_url = f"/api/v1/intakes/{submitted}/terms"
    assert client.get(api_url, headers=auth).json["terms"]["client"] == {
        "legal_name": "Reyes Cosmetics S.L."
    }
    bad = client.put(api_url, headers=auth, json={"client": {"vat": "x"}})
    assert bad.json["errors"] == [
        {
            "field": "client.vat",
            "message": "is not a client detail (legal_name, legal_form, address, "
            "company_number, vat_number, po_number, signatory)",
        }
    ]
