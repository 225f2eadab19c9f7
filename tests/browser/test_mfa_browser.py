"""An admin sets up an authenticator app at their first sign-in (STAFF_MFA=admins, the
policy the live server runs with), then signs in with their password and a TOTP code."""

from __future__ import annotations

import time

import pyotp
import pytest

from onboarding.db import db
from onboarding.services.people.accounts import create_user
from tests.browser.checks import no_serious_violations, screenshots

pytestmark = pytest.mark.browser
PASSWORD = "a long pass phrase 42"


def sign_in(page, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email address").fill("ada@agency.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_an_admin_signs_in_with_a_password_and_a_totp_code(browser, live_server, app, tmp_path):
    with app.app_context():
        create_user("ada@agency.example", "admin", PASSWORD, "Ada Admin", settings=app.config)
        db.session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    sign_in(page, live_server)
    page.wait_for_url("**/workspace/account/mfa")
    assert page.locator("#mfa-qr svg").count() == 1  # the QR code, drawn by the server
    no_serious_violations(page)
    screenshots(page, tmp_path, "mfa-setup")
    page.goto(live_server + "/workspace/users")  # nothing else opens until it is set up
    page.wait_for_url("**/workspace/account/mfa")
    secret = page.inner_text("#mfa-secret").replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    sign_in(page, live_server)
    page.wait_for_url("**/login/code")
    no_serious_violations(page)
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "The code is not right" in page.inner_text(".error-summary")
    # A code is accepted once: wait for the next time step after the one used to enrol.
    used = int(time.time() // 30)
    while int(time.time() // 30) == used:
        time.sleep(0.5)
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/workspace/")
    page.goto(live_server + "/workspace/users")
    assert page.locator("td[id^=mfa-]").first.inner_text().startswith("On")
    page.goto(live_server + "/workspace/security")
    text = page.inner_text("table")
    assert "Authenticator app set up" in text and "Signed in" in text
    context.close()
