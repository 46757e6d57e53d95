"""Every page against WCAG 2.2 A and AA with axe-core, in a real headless Chromium, as an auditor would check it.

axe-core comes bundled in the `axe-playwright-python` package (nothing is downloaded) and is injected into each
page once Streamlit has finished drawing it. Each page is checked at a desktop (1440 px) and a phone (390 px)
width, in member mode (the local default) and in public mode (a second app with WPMI_MODE=public, where there is
no Data page). Skips or fails on a missing browser exactly as tests/test_browser.py does.
"""

from __future__ import annotations

import pytest

from tests.test_browser import PAGE_TIMEOUT_MS, PAGES, app_url, browser, running_app, wait_until_rendered

__all__ = ["app_url", "browser"]  # fixtures shared with the browser test, used here by name

# The WCAG 2.0, 2.1 and 2.2 level A and AA rules (axe-core has no separate wcag22a tag).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": 1440, "phone": 390}
# Public mode has no Data page (no uploads, no submission details: streamlit_app.py).
MODE_PAGES = {"member": list(PAGES), "public": [p for p in PAGES if p != "data"]}


@pytest.fixture(scope="module")
def public_url(demo_db, app_url):
    # app_url first: it has already skipped (or failed) where there is no browser.
    with running_app(demo_db, WPMI_MODE="public") as url:
        yield url


def axe_violations(page) -> list[dict]:
    """The WCAG A/AA violations axe-core finds on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return results.response["violations"]


def describe(violations: list[dict], where: str) -> list[str]:
    """One line per violated rule: where, rule, impact, how many elements, and the first few selectors."""
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"]]
        lines.append(f"{where}: {v['id']} ({v['impact']}) x{len(targets)}: {v['help']}; " + " | ".join(targets[:6]))
    return lines


def open_page(browser, base_url: str, name: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base_url}/{PAGES[name]}", timeout=PAGE_TIMEOUT_MS)
    wait_until_rendered(page)
    return page


CASES = [(mode, name, w) for mode, names in MODE_PAGES.items() for name in names for w in WIDTHS]


@pytest.mark.parametrize(("mode", "name", "width"), CASES)
def test_page_has_no_wcag_22_aa_violations(mode, name, width, browser, request):
    base_url = request.getfixturevalue("app_url" if mode == "member" else "public_url")
    page = open_page(browser, base_url, name, WIDTHS[width])
    try:
        problems = describe(axe_violations(page), f"{name} at {WIDTHS[width]} px, {mode} mode")
    finally:
        page.close()
    assert not problems, "\n".join(problems)
