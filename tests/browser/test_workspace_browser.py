"""A manager signs in, finds a new prospect, reads why, acts, and downloads the agreement."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import ActionCheck, Intake
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.browser.checks import no_serious_violations, screenshots
from tests.factories import example

pytestmark = pytest.mark.browser
PASSWORD = "a long pass phrase 42"


def test_a_manager_reviews_acts_and_downloads_the_agreement(browser, live_server, app, tmp_path):
    with app.app_context():
        create_user("sam@agency.example", "manager", PASSWORD, "Sam Lee", settings=app.config)
        intake = create_intake(example("burned-marketer"))
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        db.session.commit()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(live_server + "/workspace/")
    page.wait_for_url("**/login**")
    page.get_by_label("Email address").fill("sam@agency.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/workspace/")
    no_serious_violations(page)
    screenshots(page, tmp_path, "dashboard")

    page.get_by_role("link", name="Daniel Okafor").click()
    page.wait_for_url("**/workspace/intakes/**")
    chart = page.locator("svg.risk-chart")
    assert "Trust deficit" in chart.text_content()
    assert "Proceed with guardrails" in page.inner_text("#fit")
    no_serious_violations(page)
    screenshots(page, tmp_path, "detail")

    button = page.locator("#actions .check-button").first
    button.click()  # no reload: the button keeps the focus
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.activeElement.classList.contains('check-button')")
    page.get_by_label("Move to").select_option("in_review")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state()
    assert "Now: In review" in page.inner_text("#status")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF (A4)").click()
    download = info.value
    assert "Harbour Freight Logistics" in download.suggested_filename
    with open(download.path(), "rb") as file:
        data = file.read()
    assert data.startswith(b"%PDF-")
    assert "Harbour Freight Logistics" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    context.close()

    with app.app_context():
        stored = db.session.execute(select(Intake)).scalar_one()
        assert stored.status == "in_review"
        assert db.session.execute(select(ActionCheck)).scalar_one().done
