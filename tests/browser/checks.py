"""What every browser test checks on a page: axe-core's verdict, and that it reads at a
phone's and a laptop's width (screenshots of both when ``BROWSER_SCREENSHOTS`` names a
folder)."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

AXE = Axe()


def no_serious_violations(page) -> None:
    """axe-core finds no serious or critical violation on the page."""
    results = AXE.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def screenshots(page, directory, name: str) -> None:
    """At a phone's and a laptop's width the page never scrolls sideways; with
    ``BROWSER_SCREENSHOTS=<folder>`` each width is also saved there as a full-page image
    for a person to look at. (Only then: a full-page image of a long page takes seconds
    of a busy machine and checks nothing.)"""
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{page.url} scrolls sideways at {width} px ({wide} px wide)"
        picture(page, directory, f"{name}-{width}", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def picture(page, directory, name: str, *, full_page: bool = False, of: str | None = None) -> None:
    """A screenshot for a person to look at, saved only when ``BROWSER_SCREENSHOTS`` names
    a folder: the view, all of the page, or the view scrolled to the element ``of``
    selects. (Chromium 156 can take longer than Playwright's 30 s over a full-page image
    of a 20,000 px page, and never finds a 1,800 px element "stable" for an element
    image: those fall back to the view, a picture being no check.)"""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if not folder:
        return
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    Path(folder).mkdir(parents=True, exist_ok=True)
    target = str(Path(folder) / f"{Path(directory).name}-{name}.png")
    if of is not None:
        page.locator(of).scroll_into_view_if_needed()
    try:
        page.screenshot(path=target, full_page=full_page, timeout=15_000)
    except PlaywrightTimeout:
        page.screenshot(path=target, timeout=15_000)
