"""The signing page on a small phone: errors summarised at the top and focused, fields
that fit 320 px, then the confirmation page; the document's font throughout."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.checks import no_serious_violations, picture
from tests.browser.steps import sent_agreement
from tests.factories import example

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = """() => {
  const root = document.documentElement;
  return {scroll: root.scrollWidth, client: root.clientWidth};
}"""
FONTS_IN_USE = """async (selectors) => {
  await document.fonts.ready;
  const families = selectors.map(s => getComputedStyle(document.querySelector(s)).fontFamily);
  const loaded = [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family);
  return {families, loaded, inter: document.fonts.check('16px Inter')};
}"""


def sent_token(app, email: str) -> str:
    """An agreement sent to the calm founder by its owner; returns the link's token."""
    return sent_agreement(app, email, owner=True).token


def fits(page, width: int) -> None:
    size = page.evaluate(NO_SIDEWAYS_SCROLL)
    assert size["scroll"] <= size["client"] <= width, f"{page.url} scrolls sideways: {size}"


def uses_inter(page, *selectors: str) -> None:
    fonts = page.evaluate(FONTS_IN_USE, list(selectors))
    assert fonts["inter"] and "Inter" in fonts["loaded"], fonts
    for family in fonts["families"]:
        assert family.split(",")[0].strip().strip('"') == "Inter", fonts


def test_errors_at_the_top_then_the_confirmation_at_320_px(browser, live_server, app, tmp_path):
    token = sent_token(app, "rosa@agency.example")
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_server, "data:")) else elsewhere.append(r.url),
    )
    page.goto(f"{live_server}/agreement/{token}")
    fits(page, 320)
    for field in ("#accept-name", "#changes-comment", ".clause-comment >> nth=0"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, (field, box)
    uses_inter(
        page, ".signing-banner", ".doc", "#accept-name", ".clause-comment", ".signing-button"
    )
    picture(page, tmp_path, "signing-320")

    page.get_by_role("button", name="Accept the agreement").click()
    page.wait_for_url("**/accept#answer")
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert page.title().startswith("Error: ")
    expect(summary).to_be_focused()
    # At the top of the answer panel, by the button pressed, and in view (issue 16).
    assert page.locator("#answer .error-summary").count() == 1
    box = summary.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]
    links = summary.locator("a")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "#accept-name" in targets and "#accept-consent" in targets
    assert "Type your full name" in summary.inner_text()
    fits(page, 320)
    no_serious_violations(page)
    picture(page, tmp_path, "signing-errors-320")
    picture(page, tmp_path, "signing-answer-320", of="#answer")
    page.set_viewport_size({"width": 1280, "height": 800})
    picture(page, tmp_path, "signing-errors-1280")
    picture(page, tmp_path, "signing-answer-1280", of="#answer")
    page.set_viewport_size({"width": 320, "height": 640})

    page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1280, "height": 800})
    picture(page, tmp_path, "signing-top-1280")
    page.set_viewport_size({"width": 320, "height": 640})
    summary.get_by_role("link", name="Type your full name").click()
    assert page.evaluate("document.activeElement.id") == "accept-name"
    contact = example("calm-founder")["contact_name"]  # signing for themselves
    page.keyboard.type(contact)
    page.get_by_role("button", name="Accept the agreement").click()
    expect(page.locator(".error-summary a")).to_have_count(1)  # the page came back
    assert page.input_value("#accept-name") == contact  # kept
    targets = page.locator(".error-summary a").evaluate_all("as => as.map(a => a.hash)")
    assert targets == ["#accept-consent"]
    expect(page.locator(".error-summary")).to_be_focused()

    page.locator(".error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == "accept-consent"
    page.keyboard.press("Space")
    page.get_by_role("button", name="Accept the agreement").click()
    page.wait_for_url(f"{live_server}/agreement/{token}/accepted*")  # (keeps #answer)
    assert page.locator("h1").inner_text() == "Agreement accepted"
    main = page.inner_text("main")
    assert "What happens next" in main and "countersigns" in main
    assert "Rosa" in main or "rosa@agency.example" in main  # the owner will be in touch
    assert "within one working day" in main or "working days" in main
    assert page.locator("main a", has_text="Download the accepted agreement").count() == 1
    fits(page, 320)
    uses_inter(page, "h1", "main p")
    no_serious_violations(page)
    picture(page, tmp_path, "accepted-320", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    picture(page, tmp_path, "accepted-1280", full_page=True)
    page.set_viewport_size({"width": 320, "height": 640})

    page.reload()  # its own URL: a reload shows it again, posts nothing
    assert page.locator("h1").inner_text() == "Agreement accepted"
    context.close()
    assert not elsewhere, f"requests outside the app: {elsewhere}"


def test_the_page_reflows_at_200_percent_zoom(browser, live_server, app, tmp_path):
    """1280 px at 200% zoom: a 640 px wide layout, two device pixels each."""
    token = sent_token(app, "zoe@agency.example")
    context = browser.new_context(viewport={"width": 640, "height": 450}, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    fits(page, 640)
    page.get_by_role("button", name="Send my comment").click()
    page.wait_for_url("**/changes#answer")
    expect(page.locator(".error-summary")).to_be_focused()
    fits(page, 640)
    picture(page, tmp_path, "signing-zoom-200")
    context.close()
