"""The details of issue 26 (points 7, 8 and 11), as the manager meets them: a refused
signing save says why by the field and keeps the box; the countersign notice sends an
admin to the Users page; money typed as people type it; only the fee model's fields
(a note without JavaScript); a permanently failed email not "attempt 1 of 6"; one
full stop after "Co."; rule titles on Outcomes; the header as wide as the page."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import User
from onboarding.db.outbox import OutboxMessage
from onboarding.services.agreement import terms as contracts
from onboarding.services.intake import workspace
from tests.factories import EXAMPLES, STAND_IN, answer, countersign, grant, login, post, text_of


def terms_form(**changes: str) -> dict:
    """The Prepare form's fields for the burned marketer's terms file."""
    terms = json.loads((EXAMPLES / "burned-marketer.terms.json").read_text())
    form = {
        "currency": terms.get("currency", ""),
        "fee.model": terms["fee"]["model"],
        "fee.amount": terms["fee"].get("amount", ""),
        "start_date": terms["start_date"],
        "deliverables": "\n".join(terms.get("deliverables", [])),
    }
    for i, row in enumerate(terms["payment_schedule"]):
        form[f"payment_schedule[{i}].when"] = row["when"]
        form[f"payment_schedule[{i}].percent"] = str(row["percent"])
    return form | changes


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.execute(select(User.id).where(User.email == email)).scalar_one()


def test_may_countersign_without_a_title_says_why_by_the_field_and_keeps_the_box(
    app, client, staff
):
    login(client, staff["admin"])
    uid = user_id(app, staff["manager"])
    refused = post(
        client,
        f"/workspace/users/{uid}/signing",
        {"name": "Max Manager", "title": "", "can_sign": "1"},
        "/workspace/users",
    )
    assert refused.status_code == 422
    html = refused.text
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'href="#signing-title-{uid}"' in summary and "before granting signing rights" in summary
    assert "data-autofocus" in html.split('class="error-summary"', 1)[0][-200:] + summary
    assert f'id="signing-title-error-{uid}"' in html  # beside the field
    assert re.search(rf'id="signing-can-{uid}" name="can_sign" value="1" checked', html)
    assert html.startswith("<!doctype html>") and "<title>Error: Users" in html
    with app.app_context():
        assert not db.session.get(User, uid).can_sign


def test_an_admin_who_cannot_countersign_is_sent_to_the_users_page(app, client, staff, sent):
    _, accepted = answer(app, f"/agreement/{sent['token']}/accept", STAND_IN)
    assert accepted.status_code == 302
    post(client, "/logout")
    login(client, staff["admin"])
    page = client.get(f"/workspace/intakes/{sent['public_id']}").text
    assert "You cannot countersign this agreement." in page
    assert "You are an admin" in text_of(page)
    assert f'href="/workspace/users#signing-{user_id(app, staff["admin"])}"' in page


def test_money_is_understood_as_people_type_it(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/terms"
    for typed, stored in (
        ("£24,000", "24000.00"),
        ("24 000", "24000.00"),
        ("24,000.50", "24000.50"),
    ):
        saved = post(client, url, terms_form(**{"fee.amount": typed}), url)
        assert saved.status_code == 302, typed
        with app.app_context():
            terms = contracts.stored_terms(workspace.intake_by_public_id(submitted))
            assert terms["fee"] == {"model": "fixed", "amount": stored}
    refused = post(client, url, terms_form(**{"fee.amount": "€1.234,50"}), url)
    assert refused.status_code == 422
    assert "Fixed fee: must use a point for the decimals, not a comma" in text_of(refused.text)
    assert 'value="€1.234,50"' in refused.text  # kept as typed
    assert "data-autofocus" in refused.text.split("There is a problem", 1)[0][-300:]


def test_the_terms_form_marks_each_fee_field_with_its_model(app, client, staff, submitted):
    login(client, staff["manager"])
    page = client.get(f"/workspace/intakes/{submitted}/terms").text
    assert 'data-fee-models="fixed"' in page
    assert 'data-fee-models="time_and_materials"' in page and 'data-fee-models="retainer"' in page
    assert "the others are ignored" in text_of(page)  # what a reader without JavaScript sees


def test_a_permanently_failed_email_says_so(app, client, staff, submitted):
    with app.app_context():
        intake = workspace.intake_by_public_id(submitted)
        row = OutboxMessage(
            channel="email",
            kind="receipt",
            to_address="nobody@example.com",
            from_address="onboarding@example.com",
            subject="Your answers",
            text="Hello",
            html="<p>Hello</p>",
            headers={},
            message_id="<x@example.com>",
            status="failed",
            attempts=1,
            last_answer="550 5.1.1 User unknown",
        )
        row.intake = intake
        db.session.add(row)
        db.session.commit()
        message_id = row.id
    login(client, staff["admin"])
    page = text_of(client.get(f"/workspace/outbox/{message_id}").text)
    assert "Failed — after 1 attempt; no more tries" in page
    assert "attempt 1 of" not in page


def test_one_full_stop_after_a_company_ending_co(app, client, submitted):
    with app.app_context():
        intake = workspace.intake_by_public_id(submitted)
        intake.company = "Northwind Tea Co."
        db.session.commit()
        token = intake.token
    page = text_of(client.get(f"/intake/{token}/thanks").text)
    assert "We have your answers for Northwind Tea Co." in page
    assert "Co.." not in page


def test_workspace_header_is_as_wide_as_its_pages(app, client, staff):
    login(client, staff["admin"])
    page = client.get("/workspace/").text
    assert 'class="container site-header__inner container--wide"' in page
    assert '<summary class="site-menu__toggle">Menu' in page


def test_after_signing_the_version_is_signed_and_outcomes_name_their_rules(
    app, client, staff, sent
):
    _, accepted = answer(app, f"/agreement/{sent['token']}/accept", STAND_IN)
    assert accepted.status_code == 302
    grant(app, staff["manager"])
    url = f"/workspace/intakes/{sent['public_id']}"
    assert countersign(client, sent["public_id"]).status_code == 302
    thread = text_of(client.get(url).text).split("Messages with the prospect", 1)[1]
    assert "now signed by both parties" in thread and "now accepted" not in thread
    changes = text_of(client.get(url + "/versions/1/changes").text)
    assert "now signed by both parties" in changes
    assert post(client, url + "/outcome", {"outcome": "micromanaged"}, url).status_code == 302
    post(client, "/logout")
    login(client, staff["admin"])
    page = client.get("/workspace/outcomes").text
    rules = page.split("Per rule", 1)[1]
    assert "<code>" not in rules  # no raw "playbook/rule_id"
    assert re.search(r'<th scope="row">[A-Z][a-z]+ [a-z ]+<div class="meta">', rules)
