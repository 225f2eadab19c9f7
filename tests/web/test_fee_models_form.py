"""Prepare the agreement takes each fee model's v2 fields: a retainer and time and
materials saved from the form, a bad value named beside its field."""

from __future__ import annotations

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake
from tests.factories import login, post


def stored_fee(app, public_id: str) -> dict:
    with app.app_context():
        intake = db.session.execute(select(Intake).filter_by(public_id=public_id)).scalar_one()
        from onboarding.services.agreement.terms import terms_of

        return terms_of(intake).as_dict().get("fee") or {}


def test_the_form_saves_a_retainer_and_a_time_and_materials_fee(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    page = client.get(url)
    for label in ("Monthly allowance", "Minimum term (months)", "Rate per", "Deposit (optional)"):
        assert label in page.text
    retainer = {
        "fee.model": "retainer",
        "fee.monthly": "3000",
        "fee.allowance": "7.5",
        "fee.allowance_unit": "hours",
        "fee.minimum_months": "6",
        "fee.rollover_percent": "0",
        "fee.amount": "999",  # another model's field, left on the form: ignored
        "start_date": "2099-02-01",
    }
    assert post(client, url, retainer, url).status_code == 302
    fee = stored_fee(app, submitted)
    assert fee["model"] == "retainer" and fee["allowance"] == "7.5"
    assert fee["minimum_months"] == "6" and "amount" not in fee
    preview = client.get(f"/workspace/intakes/{submitted}/agreement")
    assert preview.status_code == 200
    assert "7.5 hours of work a month" in preview.text
    assert "Each month of the retainer" in preview.text
    time = {
        "fee.model": "time_and_materials",
        "fee.rate": "110",
        "fee.rate_unit": "hour",
        "fee.estimate": "200",
        "fee.deposit": "4000",
        "start_date": "2099-02-01",
    }
    assert post(client, url, time, url).status_code == 302
    fee = stored_fee(app, submitted)
    assert fee == {"model": "time_and_materials", "rate": "110.00", "rate_unit": "hour",
                   "estimate": "200", "deposit": "4000.00"}  # fmt: skip


def test_a_bad_allowance_is_named_beside_its_field(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    form = {"fee.model": "retainer", "fee.monthly": "3000", "fee.allowance": "lots",
            "fee.minimum_months": "3"}  # fmt: skip
    response = post(client, url, form, url)
    assert response.status_code == 422
    assert "Monthly allowance: must be a number" in response.text
    assert 'value="3000"' in response.text  # nothing valid is lost
