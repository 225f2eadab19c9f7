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
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{page.url} scrolls sideways at {width} px ({wide} px wide)"
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            target = Path(folder) / f"{Path(directory).name}-{name}-{width}.png"
            page.screenshot(path=str(target), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
