"""A prospect reads the proposal, picks two options on the agreement page, sees the
total change and accepts (390 px and 1280 px); the same without JavaScript."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, User
from onboarding.services.agreement import files
from onboarding.services.people.accounts import create_user
from tests.browser.checks import no_serious_violations, screenshots
from tests.browser.steps import PASSWORD, accept, send_to_prospect, submit_example

pytestmark = pytest.mark.browser


def sent_token(app, email: str) -> str:
    with app.app_context():
        manager = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if manager is None:
            manager, _ = create_user(email, "manager", PASSWORD, settings=app.config)
        intake = submit_example(app, "burned-marketer")
        public_id, manager_id = intake.public_id, manager.id
    return send_to_prospect(app, public_id, manager_id, "burned-marketer").token


def accepted_pdf_text(app, token: str) -> str:
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == token)
        ).scalar_one()
        files.ensure_file(version.id, "accepted")
        db.session.refresh(version)
        pages = PdfReader(io.BytesIO(version.final_pdf)).pages
        return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_prospect_picks_two_options_sees_the_total_and_accepts(
    browser, live_server, app, tmp_path, width
):
    token = sent_token(app, "opt@agency.example")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    main = page.inner_text("main")
    assert main.index("What we heard") < main.index("Scope and fees")  # the letter first
    totals = page.locator(".signing-total")
    assert "£0.00 once and £0.00 a month" in totals.inner_text()
    page.get_by_label("Priority replies").check()
    assert "£0.00 once and £450.00 a month" in totals.inner_text()
    page.get_by_label("Extra revision round").check()
    page.get_by_label("How many rounds?").fill("2")
    assert "£1,200.00 once and £450.00 a month" in totals.inner_text()
    no_serious_violations(page)
    screenshots(page, tmp_path, f"options-{width}")
    accept(page, "Daniel Okafor")
    assert "accepted by Daniel Okafor" in page.inner_text(".signing-banner")
    context.close()
    text = accepted_pdf_text(app, token)
    assert "Priority replies: £450.00 a month (replies within four working hours)" in text
    assert "Extra revision round: 2 rounds at £600.00 each: £1,200.00" in text


def test_without_javascript_the_total_comes_back_from_the_server(
    browser, live_server, app, tmp_path
):
    token = sent_token(app, "opt@agency.example")
    context = browser.new_context(viewport={"width": 390, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    page.get_by_label("Weekly progress call").check()
    page.get_by_role("button", name="Update the total").click()
    page.wait_for_load_state()
    assert "£0.00 once and £300.00 a month" in page.locator(".signing-total").inner_text()
    assert page.get_by_label("Weekly progress call").is_checked()
    accept(page, "Daniel Okafor")
    assert "accepted by Daniel Okafor" in page.inner_text(".signing-banner")
    context.close()
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == token)
        ).scalar_one()
        assert version.options_chosen == [{"id": "weekly_call", "quantity": 1}]
