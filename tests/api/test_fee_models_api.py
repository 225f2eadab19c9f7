"""The API takes each fee model's v2 keys (terms.md "v2 additions") and refuses a bad
one with a 422 naming its field; nothing refused is stored."""

from __future__ import annotations

RETAINER = {
    "model": "retainer",
    "monthly": "4200.00",
    "allowance": 7.5,
    "allowance_unit": "hours",
    "minimum_months": 6,
    "rollover_percent": 25,
}
TIME = {
    "model": "time_and_materials",
    "rate": "95.00",
    "rate_unit": "hour",
    "estimate": 120,
    "cap": "12000.00",
    "deposit": "2000.00",
}


def test_the_api_takes_the_v2_fee_keys(api, client, auth, submitted):
    url = f"/api/v1/intakes/{submitted}/terms"
    for fee in (RETAINER, TIME):
        saved = client.put(url, headers=auth, json={"fee": fee, "start_date": "2099-01-04"})
        assert saved.status_code == 200, saved.json
        stored = client.get(url, headers=auth).json["terms"]["fee"]
        assert stored["model"] == fee["model"]
        assert {k for k in fee} <= set(stored)
    assert stored["rate"] == "95.00" and stored["rate_unit"] == "hour"
    # The v1 keys are still taken, read as their v2 names.
    v1 = {"model": "retainer", "monthly": "900", "months": 3, "allowance": 2}
    saved = client.put(url, headers=auth, json={"fee": v1})
    assert saved.status_code == 200, saved.json
    assert saved.json["terms"]["fee"]["minimum_months"] == "3"


def test_the_api_refuses_a_bad_fee_naming_the_field(api, client, auth, submitted):
    url = f"/api/v1/intakes/{submitted}/terms"
    before = client.get(url, headers=auth).json["terms"]
    cases = [
        ({"fee": dict(RETAINER, rollover_percent=150)}, "fee.rollover_percent"),
        ({"fee": dict(RETAINER, allowance_unit="weeks")}, "fee.allowance_unit"),
        ({"fee": dict(TIME, rate_unit="week")}, "fee.rate_unit"),
        ({"fee": dict(TIME, cap="100.00")}, "fee.cap"),
        (
            {"fee": TIME, "payment_schedule": [{"when": "on_signing", "percent": 100}]},
            "payment_schedule",
        ),
        (
            {"fee": RETAINER, "payment_schedule": [{"when": "monthly", "percent": 100}]},
            "payment_schedule",
        ),
    ]
    for body, field in cases:
        refused = client.put(url, headers=auth, json=body)
        assert refused.status_code == 422, (body, refused.json)
        assert field in {e["field"] for e in refused.json["errors"]}, refused.json
    assert client.get(url, headers=auth).json["terms"] == before
