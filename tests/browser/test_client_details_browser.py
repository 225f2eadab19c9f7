"""The prospect confirms their company's legal name and address before accepting
(issue 23, "The client as a party"), in Chromium: prefilled, required, the error
named and focused, what was typed kept, and the confirmed details kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion
from onboarding.services.people.accounts import create_user
from tests.browser.checks import no_serious_violations, picture
from tests.browser.steps import PASSWORD, accept, sent_agreement, submit_example, submit_sign_in

pytestmark = pytest.mark.browser


def test_the_prospect_confirms_the_client_as_a_party(browser, live_server, app, tmp_path):
    token = sent_agreement(app, "sam@agency.example").token

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    name = page.get_by_label("Registered legal name")
    address = page.get_by_label("Registered address")
    assert name.input_value() == "Lumen Bakery Ltd"  # prefilled from the terms
    assert address.input_value().startswith("21 Queen Street, Edinburgh")

    name.fill("")
    address.fill("3 Canal Wharf\nEdinburgh EH3 9QG")
    accept(page, "Priya Raman")
    summary = page.locator(".error-summary")
    assert "Give your company's registered legal name" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label("Registered address").input_value() == (
        "3 Canal Wharf\nEdinburgh EH3 9QG"
    )  # kept
    no_serious_violations(page)
    page.evaluate("document.getElementById('answer').scrollIntoView()")
    picture(page, tmp_path, "client-details-refused")

    page.get_by_label("Registered legal name").fill("Lumen Bakery Limited")
    accept(page, "Priya Raman")
    assert "accepted by Priya Raman" in page.inner_text(".signing-banner")
    context.close()
    with app.app_context():
        stored = db.session.execute(select(AgreementVersion)).scalar_one()
        assert (stored.accepted_legal_name, stored.accepted_address) == (
            "Lumen Bakery Limited",
            "3 Canal Wharf, Edinburgh EH3 9QG",
        )


def test_a_manager_fills_in_the_client_as_a_party(browser, live_server, app, tmp_path):
    with app.app_context():
        create_user("sam@agency.example", "manager", PASSWORD, "Sam Lee", settings=app.config)
        public_id = submit_example(app, "burned-marketer").public_id

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/workspace/intakes/{public_id}/terms")
    page.wait_for_url("**/login**")
    submit_sign_in(page, "sam@agency.example")
    page.wait_for_url("**/terms")
    card = page.locator("section", has=page.get_by_role("heading", name="The client as a party"))
    card.get_by_label("Client's legal name").fill("Harbour Freight Logistics Ltd")
    card.get_by_label("Client's registered address").fill("Unit 4, Dockside Park\nSouthampton")
    card.get_by_label("Email").fill("daniel@")
    page.get_by_role("button", name="Save the terms").click()
    page.wait_for_load_state()
    assert "Who signs for the client: email: must be an email address" in page.inner_text(
        ".error-summary"
    )
    assert card.get_by_label("Client's legal name").input_value() == (
        "Harbour Freight Logistics Ltd"
    )  # kept
    no_serious_violations(page)
    card.scroll_into_view_if_needed()
    picture(page, tmp_path, "client-card")
    context.close()
