"""A prospect asks for a change about one clause; the manager finds it waiting (the count
in the navigation, the badge, the filter), reads the thread and answers it."""

from __future__ import annotations

import pytest

from tests.browser.checks import no_serious_violations, screenshots
from tests.browser.steps import sent_agreement, sign_in

pytestmark = pytest.mark.browser


def test_a_change_request_waits_for_the_manager(browser, live_server, app, tmp_path):
    sent = sent_agreement(app, "ines@agency.example", name="Ines Duarte")
    token, name = sent.token, sent.contact_name

    prospect = browser.new_context(viewport={"width": 320, "height": 640})
    page = prospect.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    # The clause's own "Comment on this clause" link (issue 26), not a dropdown.
    comment = page.locator(".clause-comment").first
    label = comment.get_attribute("href").rsplit("=", 1)[1]  # the clause's number
    comment.click()
    page.wait_for_url("**/comment?clause=**")
    page.get_by_label("Your comment or question about this clause").fill(
        "Updates twice a week, please"
    )
    page.get_by_role("button", name="Send my comment").click()
    page.wait_for_url("**#conversation")
    assert "Your comment is sent" in page.inner_text("main")
    no_serious_violations(page)
    prospect.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "ines@agency.example")
    page.wait_for_url("**/workspace/")
    nav = page.get_by_role("navigation", name="Workspace")
    link = nav.get_by_role("link", name="Needs your attention")
    assert link.locator(".nav-count").text_content() == "(1)"  # "(", ")" for screen readers
    row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
    assert row.locator(".attention-badge").is_visible()
    no_serious_violations(page)
    screenshots(page, tmp_path, "attention-dashboard")

    nav.get_by_role("link", name="Needs your attention").click()
    page.wait_for_url("**needs_attention=1**")
    assert page.get_by_label("Needs your attention").is_checked()
    assert page.locator("tbody tr").count() == 1
    row = page.locator("tbody tr").first
    row.locator(".attention-badge").click()
    page.wait_for_url("**/workspace/intakes/**")
    thread = page.locator("ol.thread")
    text = thread.inner_text()
    assert text.index("Version 1 sent") < text.index(f"About clause {label.split(' ', 1)[0]}")
    assert "is waiting for your answer" in page.inner_text("#agreement")
    no_serious_violations(page)
    screenshots(page, tmp_path, "attention-thread")

    page.get_by_label("Reply in the thread").fill(
        "Twice weekly is fine; I will send a new version."
    )
    page.get_by_role("button", name="Add reply").click()
    page.wait_for_load_state()
    assert "is waiting for your answer" not in page.inner_text("#agreement")
    assert nav.locator(".nav-count").text_content() == "(0)"
    context.close()
