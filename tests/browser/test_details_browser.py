"""Issue 26's details where a browser is needed (points 7, 8, 9): the error summary takes
the focus and the box stays ticked on the Users page; the terms form shows only the
chosen fee model's fields and understands "£24,000"; an invite's link has a copy button
and stays listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onboarding.services.people.accounts import create_user
from tests.browser.checks import no_serious_violations
from tests.browser.steps import PASSWORD, sign_in, submit_example

pytestmark = pytest.mark.browser


def people(app) -> str:
    """An admin, a manager and a submitted intake; returns its public id."""
    with app.app_context():
        create_user("ada@agency.example", "admin", PASSWORD, "Ada Admin", settings=app.config)
        create_user("sam@agency.example", "manager", PASSWORD, "Sam Lee", settings=app.config)
        return submit_example(app, "burned-marketer").public_id


def signed_in(browser, live_server, email: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, live_server, email)  # admins set up an authenticator first
    return context, page


def test_a_signer_without_a_title_is_told_at_the_field_with_the_box_kept(browser, live_server, app):
    people(app)
    context, page = signed_in(browser, live_server, "ada@agency.example", 390)
    page.goto(live_server + "/workspace/users")
    form = page.locator("form[action$='/signing']").filter(
        has=page.locator("button", has_text="of sam@agency.example")
    )
    form.locator("input[name=title]").fill("")
    form.locator("input[name=can_sign]").check()
    form.get_by_role("button").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert "title before granting signing rights" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    form = page.locator("form[action$='/signing']").filter(
        has=page.locator("button", has_text="of sam@agency.example")
    )
    expect(form.locator("input[name=can_sign]")).to_be_checked()
    expect(form.locator(".error-message")).to_contain_text("title before granting")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.name") == "title"
    no_serious_violations(page)
    context.close()


def test_the_terms_form_shows_the_chosen_fee_model_and_reads_pounds(browser, live_server, app):
    public_id = people(app)
    context, page = signed_in(browser, live_server, "sam@agency.example")
    page.goto(f"{live_server}/workspace/intakes/{public_id}/terms")
    model = page.get_by_label("Fee model")
    model.select_option("fixed")
    expect(page.get_by_label("Fixed fee")).to_be_visible()
    expect(page.get_by_label("Day rate")).to_be_hidden()
    expect(page.get_by_label("Monthly fee")).to_be_hidden()
    expect(page.locator("#fee-note")).to_be_hidden()  # the no-JavaScript note
    model.select_option("retainer")
    expect(page.get_by_label("Monthly fee")).to_be_visible()
    expect(page.get_by_label("Fixed fee")).to_be_hidden()
    model.select_option("fixed")

    group = page.locator("[data-fee-models='fixed']").first  # the fee (then a paid discovery)
    before = group.bounding_box()["width"]
    page.get_by_label("Fixed fee").fill("€1.234,50")
    page.get_by_role("button", name="Save the terms").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert "Fixed fee: must use a point for the decimals" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label("Fixed fee").input_value() == "€1.234,50"
    # The error wraps within its field's width: the fee row is not pushed apart.
    error = page.locator(".form-inline .error-message").first.bounding_box()
    after = group.bounding_box()["width"]
    assert error["width"] <= after + 1 and after <= before + 20  # its left border
    no_serious_violations(page)

    page.get_by_label("Fixed fee").fill("£24,000")
    page.get_by_role("button", name="Save the terms").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 0
    page.goto(f"{live_server}/workspace/intakes/{public_id}/terms")
    assert page.get_by_label("Fixed fee").input_value() == "24000.00"
    context.close()


def test_an_invite_link_is_copied_and_found_again(browser, live_server, app):
    people(app)
    context, page = signed_in(browser, live_server, "sam@agency.example", 390)
    page.goto(live_server + "/workspace/invites")
    page.get_by_label("Prospect's name").fill("Priya Shah")
    page.get_by_label("Email address").fill("priya@northwind.example")
    page.get_by_role("button", name="Create and email the invite").click()
    page.wait_for_load_state()
    assert "Invite emailed to Priya Shah" in page.locator(".notice").first.inner_text()
    link = page.locator("#invite-link").inner_text().strip()
    page.get_by_role("button", name="Copy link").first.click()
    expect(page.locator(".notice .copy-status")).to_have_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.goto(live_server + "/workspace/invites")  # later: the link is still there
    page.get_by_text("Their invite link").first.click()
    assert link in page.locator("code[id^='invite-link-']").first.inner_text()
    no_serious_violations(page)
    context.close()


def test_at_1280_px_the_header_lines_up_and_chart_labels_read_as_body_text(
    browser, live_server, app
):
    public_id = people(app)
    context, page = signed_in(browser, live_server, "sam@agency.example")
    page.goto(f"{live_server}/workspace/intakes/{public_id}")
    brand = page.locator(".brand").bounding_box()
    heading = page.locator("main h1").bounding_box()
    assert abs(brand["x"] - heading["x"]) <= 2  # was 120 px against 20 px
    sizes = page.evaluate(
        """() => {
          const svg = document.querySelector('svg.risk-chart');
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          const label = svg.querySelector('text');
          return {label: parseFloat(label.getAttribute('font-size')) * scale,
                  body: parseFloat(getComputedStyle(document.body).fontSize)};
        }"""
    )
    assert abs(sizes["label"] - sizes["body"]) <= 1, sizes  # was 27 px against 17 px
    context.close()
