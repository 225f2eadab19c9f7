"""Nobody loses their input, in a real browser: a draft survives Back and Start now, a
follow-up appears under its answer and says so, long text is counted not cut, a
refused override keeps the typed reason, and ticking an action keeps scroll and focus."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onboarding.services.people.accounts import create_user
from tests.browser.checks import no_serious_violations
from tests.browser.steps import PASSWORD, sign_in, submit_example

pytestmark = pytest.mark.browser


def test_a_draft_survives_back_on_step_one_and_start_now(browser, live_server, app):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/start")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url("**/step/about")
    first = page.url
    page.locator("#contact_name").fill("Daniel Okafor")
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/start")
    assert page.get_by_role("button", name="Start now").count() == 0
    no_serious_violations(page)
    page.get_by_role("button", name="Continue your answers").click()
    page.wait_for_url("**/step/about")
    assert page.url == first
    assert page.locator("#contact_name").input_value() == "Daniel Okafor"

    # Closing the tab and coming back to /start finds the same answers.
    page.close()
    page = context.new_page()
    page.goto(live_server + "/start")
    page.get_by_role("button", name="Continue your answers").click()
    page.wait_for_url("**/step/about")
    assert page.locator("#contact_name").input_value() == "Daniel Okafor"

    # "Not you? Start again" forgets it on this device only.
    page.goto(live_server + "/start")
    page.get_by_role("button", name="Not you? Start again").click()
    page.wait_for_url("**/start")
    assert page.get_by_role("button", name="Start now").is_visible()
    context.close()


def test_follow_ups_appear_under_yes_and_long_text_is_counted(browser, live_server, app):
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(live_server + "/start")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url("**/step/about")
    token = page.url.split("/intake/", 1)[1].split("/", 1)[0]

    page.goto(f"{live_server}/intake/{token}/step/history")
    reveal = page.locator("#worked_with_agency_before-yes-reveal")
    yes = page.locator("#worked_with_agency_before-0")
    assert reveal.is_hidden()
    assert yes.get_attribute("aria-controls") == "worked_with_agency_before-yes-reveal"
    page.locator("label[for='worked_with_agency_before-0']").click()
    assert reveal.is_visible()
    assert "more questions appeared" in page.locator("#reveal-status").inner_text()
    # The count of agencies is asked inside the reveal, right under "Yes".
    box = reveal.bounding_box()
    count = page.locator("#past_agencies_count").bounding_box()
    no = page.locator("#worked_with_agency_before-1").bounding_box()
    assert box["y"] < count["y"] < no["y"]
    page.locator("label[for='worked_with_agency_before-1']").click()
    assert reveal.is_hidden()
    no_serious_violations(page)

    page.goto(f"{live_server}/intake/{token}/step/goals")
    goal = "Grow the qualified leads from the website. " * 18  # 774 characters
    page.locator("#primary_goal").fill(goal)
    assert page.locator("#primary_goal").input_value() == goal  # nothing cut
    assert "274 characters too many" in page.locator("#primary_goal-count").inner_text()
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()
    assert "must be 500 characters or fewer" in page.locator(".error-summary").inner_text()
    assert page.locator("#primary_goal").input_value() == goal  # exactly as typed
    size = page.evaluate("document.documentElement.scrollWidth")
    assert size <= 320
    context.close()


def signed_in(browser, live_server, width: int):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, "sam@agency.example")
    page.wait_for_url("**/workspace/")
    return context, page


def submitted(app) -> str:
    with app.app_context():
        create_user("sam@agency.example", "manager", PASSWORD, "Sam Lee", settings=app.config)
        return submit_example(app, "burned-marketer").public_id


def test_a_refused_override_keeps_what_was_typed_at_the_field(browser, live_server, app):
    public_id = submitted(app)
    context, page = signed_in(browser, live_server, 390)
    page.goto(f"{live_server}/workspace/intakes/{public_id}")
    # On a phone the status and the agreement come before the assessment.
    status_y = page.locator("#status").bounding_box()["y"]
    assert status_y < page.locator("#fit").bounding_box()["y"]
    assert page.locator("#agreement").bounding_box()["y"] < page.locator("#fit").bounding_box()["y"]

    page.locator("#override-score").fill("150")
    page.locator("#override-reason").fill("Known to us for years")
    page.get_by_role("button", name="Save override").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert "from 0 to 100" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.locator("#override-score-error").is_visible()
    assert page.locator("#override-score").input_value() == "150"
    assert page.locator("#override-reason").input_value() == "Known to us for years"
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "override-score"
    no_serious_violations(page)
    context.close()


def test_ticking_an_action_keeps_the_scroll_and_the_focus(browser, live_server, app):
    public_id = submitted(app)
    context, page = signed_in(browser, live_server, 1280)
    page.goto(f"{live_server}/workspace/intakes/{public_id}")
    buttons = page.locator("#actions .check-button")
    name = buttons.nth(2).get_attribute("aria-labelledby")
    assert name and "-verb" in name  # named "Done: <the action>", not "Mark as done:"
    label = page.evaluate(
        """(ids) => ids.split(' ').map(id => document.getElementById(id).textContent).join(' ')""",
        name,
    )
    assert label.startswith("Done: ") and len(label) > 20
    buttons.nth(2).scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    buttons.nth(2).focus()
    page.keyboard.press("Enter")
    expect(buttons.nth(2)).to_have_attribute("aria-pressed", "true")  # no reload
    assert page.evaluate("window.scrollY") == before
    assert page.evaluate(
        "document.activeElement === document.querySelectorAll('#actions .check-button')[2]"
    )
    page.reload()
    assert page.locator("#actions .check-button").nth(2).get_attribute("aria-pressed") == "true"
    context.close()
