"""What every browser test checks on a page: axe-core's verdict, and screenshots at a
phone's and a laptop's width."""

from __future__ import annotations

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
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(directory / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
