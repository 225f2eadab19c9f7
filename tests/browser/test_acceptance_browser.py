"""A prospect opens their agreement link, reads it and accepts it in under a minute."""

from __future__ import annotations

import io
import re
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion
from tests.browser.checks import no_serious_violations, screenshots
from tests.browser.steps import accept, sent_agreement

pytestmark = pytest.mark.browser


def test_a_prospect_reads_and_accepts_their_agreement(browser, live_server, app, tmp_path):
    token = sent_agreement(app, "sam@agency.example").token

    started = time.monotonic()
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    assert "Lumen Bakery" in page.inner_text("main")
    assert page.locator("svg").first.is_visible()  # the roadmap
    no_serious_violations(page)
    screenshots(page, tmp_path, "agreement")

    page.get_by_role("button", name="Accept the agreement").click()
    page.wait_for_load_state()
    assert "Type your full name" in page.inner_text(".error-summary")
    accept(page, "Priya Raman")
    assert "accepted by Priya Raman" in page.inner_text(".signing-banner")
    no_serious_violations(page)
    screenshots(page, tmp_path, "accepted")
    # The page confirmed at once; the worker makes the file, and the page says so.
    # (A fast worker may have made it before the page loaded: then it shows it.)
    if "We are preparing your signed copy" in page.inner_text("main"):
        page.get_by_text("Your signed copy is ready").wait_for(timeout=45_000)
    assert re.search(r"fingerprint[^\n]*[0-9a-f]{64}", page.inner_text("main"))
    with page.expect_download() as info:
        page.locator(".signing-banner a").first.click()
    with open(info.value.path(), "rb") as file:
        theirs = file.read()
    elapsed = time.monotonic() - started
    context.close()

    assert elapsed < 60
    last_page = PdfReader(io.BytesIO(theirs)).pages[-1].extract_text()
    assert "Certificate of acceptance" in last_page and "Priya Raman" in last_page
    with app.app_context():
        stored = db.session.execute(select(AgreementVersion)).scalar_one()
        assert stored.final_pdf == theirs  # both sides hold the same verifiable PDF
