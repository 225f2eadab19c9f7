"""The agreement as a contract in the workspace: the agency profile, Prepare the
agreement, what blocks a send, walking away (send anyway with a reason, or decline)."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.contracts import AgencyProfileVersion
from onboarding.db.models import AgreementVersion, AuditEvent
from onboarding.domain.terms import default_profile
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.web.extensions import app_playbooks
from tests.factories import EXAMPLES, example, login, post


def terms_form(name: str = "burned-marketer") -> dict:
    """The Prepare form's fields for an example's terms file."""
    terms = json.loads((EXAMPLES / f"{name}.terms.json").read_text())
    form = {
        "currency": terms.get("currency", ""),
        "fee.model": terms["fee"]["model"],
        "fee.amount": terms["fee"].get("amount", ""),
        "start_date": terms["start_date"],
        "launch_date": terms.get("launch_date", ""),
        "deliverables": "\n".join(terms.get("deliverables", [])),
        "safeguard": terms.get("safeguard", ""),
        # The client as a party: needed to send (terms.md, v2 additions).
        "client.legal_name": terms["client"]["legal_name"],
        "client.address": terms["client"]["address"],
    }
    for i, row in enumerate(terms["payment_schedule"]):
        form[f"payment_schedule[{i}].when"] = row["when"]
        form[f"payment_schedule[{i}].percent"] = str(row["percent"])
    return form


def save_profile_as_admin(client, admin):
    login(client, admin)
    profile = default_profile().as_dict()
    data = {
        "legal_name": "Northwind Design Ltd",
        "trading_name": "Northwind",
        "address": "1 Quay Street, Bristol",
        "company_number": "01234567",
        "signatory.name": "Jo Bloggs",
        "signatory.title": "Director",
        "signatory.email": "jo@northwind.example",
        "currency": "GBP",
        "governing_law": "England and Wales",
        "payment_days": "30",
        "change_margin_percent": "10",
        "non_solicitation_months": "12",
        "late_interest": "the statutory rate",
        "liability_cap": "the fees paid",
        "ip_option": "assignment_on_payment",
        "expenses": "at_cost_with_approval",
        "clause_count": str(len(profile["standard_clauses"])),
    }
    for key, value in profile["service_levels"].items():
        data[f"service_levels.{key}"] = str(value)
    for i, clause in enumerate(profile["standard_clauses"]):
        for key, value in clause.items():
            data[f"standard_clauses[{i}].{key}"] = "1" if value is True else value
    return post(client, "/workspace/agency", data, "/workspace/agency")


def test_a_manager_reads_the_agency_profile_and_only_admins_save_it(app, client, staff):
    login(client, staff["manager"])
    page = client.get("/workspace/agency")
    assert page.status_code == 200
    assert "starting point to review with the agency" in page.text
    assert "No profile has been saved yet" in page.text
    refused = post(client, "/workspace/agency", {"legal_name": "X"}, "/workspace/agency")
    assert refused.status_code == 403
    post(client, "/logout")
    saved = save_profile_as_admin(client, staff["admin"])
    assert saved.status_code == 302
    page = client.get("/workspace/agency")
    assert "Version 1 is in force" in page.text and "Northwind Design Ltd" in page.text
    with app.app_context():
        row = db.session.execute(select(AgencyProfileVersion)).scalar_one()
        assert row.data["trading_name"] == "Northwind" and row.data["standard_clauses"]


def test_a_bad_profile_names_every_field_and_keeps_what_was_typed(app, client, staff):
    login(client, staff["admin"])
    response = post(
        client,
        "/workspace/agency",
        {
            "legal_name": "",
            "address": "1 Quay Street",
            "currency": "pounds",
            "payment_days": "x",
            "clause_count": "0",
        },  # fmt: skip
        "/workspace/agency",
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert "Legal name: is required" in response.text
    assert "Currency: must be an ISO 4217 code" in response.text
    assert 'value="1 Quay Street"' in response.text  # nothing valid is lost


def test_prepare_the_agreement_shows_errors_beside_fields_and_keeps_input(
    app, client, staff, submitted
):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    page = client.get(url)
    assert page.status_code == 200 and "Prepare the agreement" in page.text
    form = terms_form() | {"fee.amount": "lots", "payment_schedule[0].percent": "90"}
    response = post(client, url, form, url)
    assert response.status_code == 422
    assert 'href="#f-fee-amount"' in response.text  # the summary links to the field
    assert "Fixed fee: must be an amount" in response.text
    assert "percents must add up to 100" in response.text
    assert "Website strategy, information architecture" in response.text  # kept


def test_a_send_is_refused_until_the_agreement_is_a_contract(app, client, staff, submitted):
    login(client, staff["manager"])
    intake_url = f"/workspace/intakes/{submitted}"
    page = client.get(intake_url)
    assert "Not ready to send" in page.text
    assert "agency profile has not been saved" in page.text
    assert "The agreement is a draft" in page.text
    refused = post(client, intake_url + "/agreement/send", {"paper": "a4"}, intake_url)
    assert refused.status_code in (302, 422)
    with app.app_context():
        assert db.session.execute(select(AgreementVersion)).first() is None
    post(client, "/logout")
    save_profile_as_admin(client, staff["admin"])
    url = intake_url + "/terms"
    saved = post(client, url, terms_form(), url)
    assert saved.status_code == 302
    sent = post(client, intake_url + "/agreement/send", {"paper": "a4"}, intake_url)
    assert sent.status_code == 302
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.profile_version == 1
        assert version.terms["fee"] == {"model": "fixed", "amount": "84000.00"}
        assert "Northwind Design Ltd" in version.html and "£84,000.00" in version.html


def test_a_walk_away_client_needs_send_anyway_with_a_reason(app, client, staff):
    with app.app_context():
        intake = create_intake(example("hands-on-director"))
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        db.session.commit()
        public_id = intake.public_id
        assert intake.recommendation == "walk_away"
    save_profile_as_admin(client, staff["admin"])
    url = f"/workspace/intakes/{public_id}"
    post(client, url + "/terms", terms_form("hands-on-director"), url + "/terms")
    page = client.get(url)
    assert "Send anyway…" in page.text and "Write a polite decline instead" in page.text
    assert "Send anyway: why" in client.get(url + "/agreement/send").text  # the send page
    refused = post(client, url + "/agreement/send", {"paper": "a4"}, url)
    assert refused.status_code == 422 and 'id="walk-away-reason-error"' in refused.text
    with app.app_context():
        assert db.session.execute(select(AgreementVersion)).first() is None
    reason = "Director agreed to a single point of contact on the call"
    sent = post(client, url + "/agreement/send", {"paper": "a4", "walk_away_reason": reason}, url)
    assert sent.status_code == 302
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.walk_away_reason == reason
        kinds = db.session.execute(select(AuditEvent.kind, AuditEvent.detail)).all()
        assert ("walk_away_overridden", reason) in kinds


def test_the_decline_letter_does_not_quote_the_client_back(app, client, staff):
    answers = example("hands-on-director")
    with app.app_context():
        intake = create_intake(answers)
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        db.session.commit()
        public_id = intake.public_id
    login(client, staff["manager"])
    page = client.get(f"/workspace/intakes/{public_id}/decline")
    assert page.status_code == 200
    assert "Dear Margot," in page.text and "right agency for this project" in page.text
    assert answers["biggest_worry"] not in page.text
    assert "score" not in page.text.split("<textarea", 1)[1].split("</textarea>")[0].lower()


def test_admins_edit_the_rate_card_like_the_rest_of_the_profile(app, client, staff):
    saved = save_profile_as_admin(client, staff["admin"])
    assert saved.status_code == 302
    page = client.get("/workspace/agency")
    assert "Rate card" in page.text and 'name="option_count"' in page.text
    form = _profile_fields() | {
        "option_count": "2",
        "options[0].id": "priority_replies",
        "options[0].title": "Priority replies",
        "options[0].description": "Replies within 4 working hours.",
        "options[0].price.amount": "500.00",
        "options[0].price.per": "month",
        "options[0].sets": "response_hours: 4",
        "options[1].id": "site_visit",
        "options[1].title": "Site visit",
        "options[1].description": "A day at your office.",
        "options[1].price.amount": "lots",
        "options[1].price.per": "visit",
    }
    bad = post(client, "/workspace/agency", form, "/workspace/agency")
    assert bad.status_code == 422
    assert "Option 2: price amount" in bad.text and "Option 2: price per" in bad.text
    assert 'value="Site visit"' in bad.text  # nothing valid is lost
    form |= {"options[1].price.amount": "750", "options[1].price.per": "unit",
             "options[1].unit": "visit", "options[1].max_quantity": "3"}  # fmt: skip
    good = post(client, "/workspace/agency", form, "/workspace/agency")
    assert good.status_code == 302
    with app.app_context():
        rows = db.session.execute(select(AgencyProfileVersion)).scalars().all()
        latest = max(rows, key=lambda r: r.version)
        assert latest.version == 2
        card = {o["id"]: o for o in latest.data["options"]}
        assert card["priority_replies"]["sets"] == {"response_hours": 4}
        assert card["site_visit"]["price"] == {"amount": "750.00", "per": "unit"}
    page = client.get("/workspace/agency")
    assert "Site visit" in page.text and "response_hours: 4" in page.text


def _profile_fields() -> dict:
    profile = default_profile().as_dict()
    data = {
        "legal_name": "Northwind Design Ltd", "address": "1 Quay Street, Bristol",
        "signatory.name": "Jo Bloggs", "signatory.title": "Director",
        "signatory.email": "jo@northwind.example", "currency": "GBP",
        "governing_law": "England and Wales", "payment_days": "30",
        "change_margin_percent": "10", "non_solicitation_months": "12",
        "ip_option": "assignment_on_payment", "expenses": "at_cost_with_approval",
        "clause_count": "0",
    }  # fmt: skip
    for key, value in profile["service_levels"].items():
        data[f"service_levels.{key}"] = str(value)
    return data


def test_the_manager_withdraws_and_includes_offered_options_with_a_reason(
    app, client, staff, submitted
):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    page = client.get(url)
    assert "Options offered in the proposal" in page.text
    assert 'name="option.priority_replies"' in page.text
    form = terms_form() | {
        "option.priority_replies": "withdraw",
        "option.weekly_call": "include",
        "option_reason.weekly_call": "Goodwill after the pitch",
        "option.shared_task_board": "offer",
    }
    saved = post(client, url, form, url)
    assert saved.status_code == 302
    with app.app_context():
        from onboarding.db.contracts import EngagementTermsRow

        row = db.session.execute(select(EngagementTermsRow)).scalar_one()
        assert row.data["options"] == {
            "offer": ["shared_task_board"],
            "withdraw": ["priority_replies"],
            "include": [{"id": "weekly_call", "reason": "Goodwill after the pitch"}],
        }
        kinds = {(e.kind, e.to_value, e.detail) for e in db.session.execute(
            select(AuditEvent)).scalars()}  # fmt: skip
        assert ("option_include", "weekly_call", "Goodwill after the pitch") in kinds
        assert ("option_withdraw", "priority_replies", None) in kinds
    page = client.get(url)
    assert 'value="Goodwill after the pitch"' in page.text
    letter = client.get(f"/workspace/intakes/{submitted}/proposal.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(letter.data)).pages)
    assert "Weekly progress call" in text and "Included in the fee" in text
    assert "Priority replies" not in text  # withdrawn: the letter says what we do instead
    assert "Anything that cannot wait is best raised by phone" in " ".join(text.split())


def test_prepare_refuses_an_option_the_rate_card_lacks(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    form = terms_form() | {"option.teleportation": "offer"}
    response = post(client, url, form, url)
    assert response.status_code == 422
    assert "teleportation is not an option of the rate card" in response.text
