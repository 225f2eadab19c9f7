"""The client as a party, from the manager's and the prospect's side (issue 23; issue
26 point 6): the send refused naming each draft item, an intake whose stored terms do
not read still showing its pages, the prospect confirming the client's legal name and
address before accepting, kept and shown in the accepted and signed PDFs, dated the
day it is sent and signed by the person the party block names."""

from __future__ import annotations

import datetime
import io
import json

from pypdf import PdfReader
from sqlalchemy import select, text

from onboarding.db import db
from onboarding.db.contracts import EngagementTermsRow
from onboarding.db.models import AgreementVersion, Intake, utcnow
from onboarding.domain.agreement import display_date
from onboarding.services.agreement import terms as contracts
from onboarding.services.intake import workspace
from tests.factories import EXAMPLES, answer, countersign, csrf_of, grant, login, post
from tests.web.helpers import make_sendable


def _pages(data: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages]


def _save_terms(app, public_id: str, **changes) -> None:
    """The example's terms with ``changes`` (None drops a key), saved as the manager would."""
    terms = json.loads((EXAMPLES / "burned-marketer.terms.json").read_text())
    terms = {k: v for k, v in (terms | changes).items() if v is not None}
    with app.app_context():
        contracts.save_terms(workspace.intake_by_public_id(public_id), terms, None)
        db.session.commit()


def _version(app) -> AgreementVersion:
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        db.session.expunge(version)
        return version


# --- the manager's side ------------------------------------------------------------------


def test_the_send_is_refused_naming_each_missing_item(app, client, staff, submitted):
    make_sendable(app, submitted)
    _save_terms(app, submitted, client=None, safeguard=None, start_date="2026-01-12",
                launch_date=None, valid_until=None)  # fmt: skip
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    page = client.get(url).text
    assert "Not ready to send" in page
    refused = post(client, url + "/agreement/send", {"paper": "a4"}, url)
    assert refused.status_code in (302, 422)
    shown = client.get(url).text if refused.status_code == 302 else refused.text
    for named in (
        "Client&#39;s legal name (client.legal_name) is not set",
        "Client&#39;s registered address (client.address) is not set",
        "Start date (start_date) is in the past (12 January 2026",
        "The safeguard (safeguard) is not written",
    ):
        assert named in shown, named
    with app.app_context():
        assert db.session.execute(select(AgreementVersion)).first() is None
    # The preview says it is a draft, naming each item.
    preview = client.get(url + "/agreement").text
    assert "Draft, not for signature." in preview
    assert "the Client&#39;s legal name; the Client&#39;s registered address" in preview

    # Completed in the form, it goes.
    terms_url = url + "/terms"
    form = client.get(terms_url).text
    assert 'name="client.legal_name"' in form and 'name="client.signatory.email"' in form
    _save_terms(app, submitted)
    with app.app_context():  # submitted weeks before it is sent
        db.session.execute(
            text("UPDATE intakes SET submitted_at = :at"),
            {"at": datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC)},
        )
        db.session.commit()
    sent = post(client, url + "/agreement/send", {"paper": "a4"}, url)
    assert sent.status_code == 302
    version = _version(app)
    assert "Harbour Freight Logistics Ltd" in version.html
    # Dated the day it is sent (not the day the intake was submitted).
    today = display_date(utcnow().date())
    assert today in _pages(version.pdf)[0] and "2 November 2026" not in _pages(version.pdf)[0]


def test_the_form_takes_the_client_as_a_party_and_names_its_errors(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    page = client.get(url)
    form = {
        "client.legal_name": "Harbour Freight Logistics Ltd",
        "client.address": "Unit 4, Dockside Park\nSouthampton SO14 3GG",
        "client.vat_number": "GB 284 5521 90",
        "client.signatory.name": "Daniel Okafor",
        "client.signatory.email": "not an email",
        "csrf_token": csrf_of(page.text),
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "Who signs for the client: email: must be an email address" in refused.text
    assert 'value="GB 284 5521 90"' in refused.text and 'value="not an email"' in refused.text
    saved = client.post(url, data=form | {"client.signatory.email": "daniel@harbour.example"})
    assert saved.status_code == 302
    with app.app_context():
        intake = workspace.intake_by_public_id(submitted)
        assert contracts.stored_terms(intake)["client"] == {
            "legal_name": "Harbour Freight Logistics Ltd",
            "address": "Unit 4, Dockside Park, Southampton SO14 3GG",
            "vat_number": "GB 284 5521 90",
            "signatory": {"name": "Daniel Okafor", "email": "daniel@harbour.example"},
        }


def test_an_intake_whose_stored_terms_do_not_read_still_shows_its_pages(
    app, client, staff, submitted
):
    make_sendable(app, submitted)
    with app.app_context():
        intake_id = db.session.execute(select(Intake.id)).scalar_one()
        row = db.session.execute(
            select(EngagementTermsRow).where(EngagementTermsRow.intake_id == intake_id)
        ).scalar_one()
        bad = dict(row.data) | {"start_date": "9999-12-31", "fee": {"model": "barter"}}
        db.session.execute(
            text("UPDATE engagement_terms SET data = :d WHERE id = :i"),
            {"d": json.dumps(bad), "i": row.id},
        )
        db.session.commit()
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    for path in ("", "/terms", "/agreement"):
        page = client.get(url + path)
        assert page.status_code == 200, path
    shown = client.get(url).text
    assert "start_date" in shown and "the stored value could not be read" in shown
    assert "fee.model" in shown
    pdf = client.get(url + "/agreement.pdf")
    assert pdf.status_code == 200 and "DRAFT" in _pages(pdf.data)[0]


# --- the prospect's side -------------------------------------------------------------------


def test_the_prospect_confirms_the_legal_name_and_address_before_accepting(
    app, client, staff, sent
):
    token = sent["token"]
    page = client.get(f"/agreement/{token}").text
    # Prefilled from the terms the version was sent with.
    assert 'name="legal_name"' in page and 'value="Harbour Freight Logistics Ltd"' in page
    assert "Unit 4, Dockside Park, Southampton SO14 3GG, United Kingdom</textarea>" in page

    # Required: a blank is refused naming the field, and what was typed is kept.
    typed = {"name": "Daniel Okafor", "consent": "yes", "legal_name": " ",
             "address": "Dock 9, Harbour Road\nSouthampton SO14 3QN"}  # fmt: skip
    _, refused = answer(app, f"/agreement/{token}/accept", typed)
    assert refused.status_code == 422
    assert "Give your company&#39;s registered legal name" in refused.text
    assert 'href="#accept-legal_name"' in refused.text
    assert "Dock 9, Harbour Road\nSouthampton SO14 3QN</textarea>" in refused.text
    assert _version(app).accepted_at is None

    # Corrected and accepted: kept with the acceptance, shown in the accepted PDF.
    confirmed = typed | {"legal_name": "Harbour Freight Logistics Limited"}
    _, accepted = answer(app, f"/agreement/{token}/accept", confirmed)
    assert accepted.status_code == 302
    version = _version(app)
    assert (version.accepted_legal_name, version.accepted_address) == (
        "Harbour Freight Logistics Limited",
        "Dock 9, Harbour Road, Southampton SO14 3QN",
    )
    prospect = app.test_client()
    final = prospect.get(f"/agreement/{token}/pdf")
    assert final.status_code == 200
    text_ = " ".join(_pages(final.data))
    assert "Harbour Freight Logistics Limited" in text_
    assert "Registered address: Dock 9, Harbour Road, Southampton SO14 3QN" in text_
    assert "Unit 4, Dockside Park" not in text_  # the party block as confirmed
    assert "Client's legal name (as the signer gave it) Harbour Freight Logistics Limited" in (
        text_
    )

    # The manager sees what the client confirmed, and that it differs from the terms.
    intake_page = client.get(f"/workspace/intakes/{sent['public_id']}").text
    assert "as confirmed: Harbour Freight Logistics Limited, Dock 9, Harbour Road" in intake_page
    assert "corrected by the client" in intake_page

    # Countersigned: the signed PDF keeps the confirmed details, and its party block
    # names the person who countersigned for the agency.
    grant(app, "manager@example.com")
    assert countersign(client, sent["public_id"]).status_code == 302
    signed = " ".join(_pages(prospect.get(f"/agreement/{token}/pdf").data))
    assert "Registered address: Dock 9, Harbour Road, Southampton SO14 3QN" in signed
    assert "Represented by Max Manager, Account Director" in signed
    assert "Represented by Alex Moreno" not in signed and "alex@brightline.example" not in signed
    assert "manager@example.com" in signed


def test_a_scottish_llp_agency_is_labelled_by_its_llp_number(app, client, staff, submitted):
    make_sendable(app, submitted)
    with app.app_context():
        from onboarding.domain.terms import default_profile

        profile = default_profile().as_dict() | {
            "legal_name": "Thistle & Finch LLP",
            "trading_name": "Thistle & Finch",
            "company_number": "SO305214",
            "address": "40 Bath Street, Glasgow G2 1HG",
            "governing_law": "Scotland",
        }
        contracts.save_profile(profile, None, "a Scottish LLP")
        db.session.commit()
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/agreement"
    preview = client.get(url).text
    assert "LLP number SO305214" in preview and "Company number SO305214" not in preview
    assert "Company number 11223344" in preview  # the client: a private limited company
    assert 'name="registration_label"' in client.get("/workspace/agency").text
