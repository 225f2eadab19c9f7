"""Every page of both sides, with the longest data the forms accept: no sideways scroll
at 320 px (WCAG 1.4.10, the width of 1280 px at 400 % zoom) nor at 640 px (200 %), no
axe violation at 390 and 1280 px (no rule disabled), and a title and an h1 on each."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.steps import sign_in
from tests.browser.worst_case import PASSWORD, seed
from tests.factories import empty_tables

pytestmark = pytest.mark.browser
AXE = Axe()

WORKSPACE = [
    "dashboard", "attention", "drafts", "detail", "detail-sent", "detail-walk", "terms",
    "decline", "preview", "changes", "agency", "invites", "users", "api", "webhooks",
    "outbox", "outbox-message", "verify", "reassess", "outcomes", "account", "security",
]  # fmt: skip
WORKSPACE += ["send", "send-walk"]  # the send pages (issue 26)
PUBLIC = [
    "start", "login", "invite", "invite-gone", "step-about", "step-time", "step-control",
    "step-goals", "step-fears", "step-history", "step-process", "review", "thanks", "signing",
    "not-found", "api-docs", "stop-reminders", "signing-comment", "signing-old",
]  # fmt: skip

SIZE = """() => ({scroll: document.documentElement.scrollWidth,
                 client: document.documentElement.clientWidth,
                 h1: document.querySelectorAll('h1').length,
                 title: document.title.trim()})"""
WIDEST = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > document.documentElement.clientWidth + 1 && r.width > 0) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' ' +
               Math.round(r.right));
    }
  }
  return out.slice(0, 6);
}"""


@pytest.fixture(scope="module")
def seeded(session_app, live_server):
    empty_tables(session_app)
    data = seed(session_app)
    yield data
    empty_tables(session_app)


@pytest.fixture(scope="module")
def staff(browser, live_server, seeded):
    """A signed-in admin's browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if sign_in(page, live_server, seeded.admin_email, PASSWORD):  # set up an authenticator
        page.goto(live_server + "/workspace/")
    page.wait_for_url("**/workspace/")
    page.close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def visitor(browser, live_server, seeded):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def problems_on(page, url: str) -> list[str]:
    """What is wrong with the page at ``url`` at 320, 390 and 1280 px."""
    found = []
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(url)
    size = page.evaluate(SIZE)
    if size["scroll"] > 320:
        found.append(f"320 px: scrolls sideways ({size['scroll']} px): {page.evaluate(WIDEST)}")
    if size["h1"] != 1:
        found.append(f"{size['h1']} h1 elements")
    if not size["title"]:
        found.append("no title")
    page.set_viewport_size({"width": 640, "height": 800})  # 1280 px at 200 % zoom
    if (wide := page.evaluate(SIZE)["scroll"]) > 640:
        found.append(f"640 px (200 % zoom): scrolls sideways ({wide} px)")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        if (wide := page.evaluate(SIZE)["scroll"]) > width:
            found.append(f"{width} px: scrolls sideways ({wide} px)")
        for v in AXE.run(page).response["violations"]:
            targets = [n["target"] for n in v["nodes"]][:3]
            found.append(f"{width} px: axe {v['id']} ({v['impact']}): {v['help']} {targets}")
    return found


@pytest.mark.parametrize("name", WORKSPACE)
def test_workspace_page_reflows_and_passes_axe(staff, seeded, live_server, name):
    page = staff.new_page()
    try:
        problems = problems_on(page, live_server + seeded.pages[name])
    finally:
        page.close()
    assert not problems, f"{name}: " + "\n".join(problems)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_page_reflows_and_passes_axe(visitor, seeded, live_server, name):
    page = visitor.new_page()
    try:
        problems = problems_on(page, live_server + seeded.public_pages[name])
    finally:
        page.close()
    assert not problems, f"{name}: " + "\n".join(problems)


# --- ux2 --- issue 26: the two pages that scrolled sideways, checked with axe at 320 px
# and at 200 % zoom too; the workspace's menu folded on a phone.

ZOOMED = [("security", "staff"), ("changes", "staff"), ("signing-comment", "visitor")]


@pytest.mark.parametrize(("name", "who"), ZOOMED)
def test_reflowed_at_320_px_and_200_percent_zoom_with_no_axe_violation(
    staff, visitor, seeded, live_server, name, who
):
    pages = seeded.pages if who == "staff" else seeded.public_pages
    context = staff if who == "staff" else visitor
    found = []
    for width, scale in ((320, 1), (640, 2)):  # 1280 px at 400 % and at 200 % zoom
        zoomed = context.browser.new_context(
            viewport={"width": width, "height": 800},
            device_scale_factor=scale,
            storage_state=context.storage_state(),
        )
        try:
            view = zoomed.new_page()
            # The last pages of a long module wait behind the server's renders on a busy
            # machine: a longer wait, never a shorter check.
            view.goto(live_server + pages[name], timeout=90_000)
            if view.evaluate(SIZE)["scroll"] > width:
                found.append(f"{width} px: scrolls sideways: {view.evaluate(WIDEST)}")
            for v in AXE.run(view).response["violations"]:
                found.append(f"{width} px: axe {v['id']}: {v['help']}")
        finally:
            zoomed.close()
    assert not found, f"{name}: " + "\n".join(found)


def test_the_workspace_menu_folds_on_a_phone(staff, seeded, live_server):
    # A phone of its own, signed in as the staff context is (the module's long-lived
    # context has held forty pages by now).
    phone = staff.browser.new_context(
        viewport={"width": 320, "height": 700}, storage_state=staff.storage_state()
    )
    try:
        page = phone.new_page()
        page.goto(live_server + seeded.pages["dashboard"], timeout=90_000)
        page.wait_for_selector(".site-header", state="attached", timeout=60_000)
        height = page.evaluate("document.querySelector('.site-header').offsetHeight")
        assert height < 140, page.url  # was about 290 px of links
        assert not page.get_by_role("link", name="Drafts").is_visible()
        page.locator(".site-menu__toggle").click()
        assert page.get_by_role("link", name="Drafts").is_visible()
    finally:
        phone.close()
