"""Every page of the running app in a real headless Chromium: no exception box, no empty chart.

Starts `streamlit run streamlit_app.py` on a free port against the tiny demo, drives the system Chromium
(/usr/bin/chromium) with Playwright, and saves a screenshot of each page under docs/screenshots/ for the
README. Skips, saying why, only where Chromium or Playwright is not installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = {
    "overview": "",
    "benchmarks": "benchmarks",
    "referrals": "referrals",
    "standards": "standards",
    "feedback": "feedback",
    "supply_chain": "supply_chain",
    "partner": "partner",
    "scorecard": "scorecard",
    "risk": "risk",
    "data": "data",
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Screenshots for the README are refreshed only when asked (WPMI_UPDATE_SCREENSHOTS=1), so a test run
# never leaves the working tree dirty; otherwise they go to pytest's temporary directory.
SCREENSHOTS = ROOT / "docs" / "screenshots"
PAGE_TIMEOUT_MS = 90_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_browser() -> None:
    """Skip (or, in CI, fail) saying why, where Chromium or Playwright is not installed."""
    # CI sets WPMI_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM}: install the Debian package `chromium` to run browser tests"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("WPMI_REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)


@contextlib.contextmanager
def running_app(db_url: str, **environ: str):
    """`streamlit run streamlit_app.py` on a free port against `db_url`, with extra environment; its URL."""
    port = free_port()
    env = {**os.environ, "WPMI_DB_URL": db_url, **environ}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            # A source file edited while the tests run would pin "Source file changed" in the status widget.
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start: " + proc.stdout.read1(4000).decode(errors="replace"))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a busy machine: a script run still going
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def app_url(demo_db):
    require_browser()
    with running_app(demo_db) as url:
        yield url


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_until_rendered(page) -> None:
    """Wait for the script run to finish: the app container is there and no element is still stale."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMain"]', timeout=PAGE_TIMEOUT_MS)
    deadline = time.time() + PAGE_TIMEOUT_MS / 1000
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count()
        if not running and page.locator('[data-testid="stMarkdownContainer"]').count():
            break
        time.sleep(0.5)
    page.wait_for_timeout(2500)  # charts draw after the script finishes


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_in_chromium_without_errors_or_empty_charts(name, app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app_url}/{PAGES[name]}", timeout=PAGE_TIMEOUT_MS)
    wait_until_rendered(page)
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()
    assert not errors, errors
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "No data for this selection" not in body
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    if name not in ("data",):
        # On a loaded machine charts can arrive a while after the script finishes: wait for the first.
        page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=PAGE_TIMEOUT_MS)
        assert charts.count() > 0, f"{name}: no chart rendered"
    for i in range(charts.count()):
        chart = charts.nth(i)
        if not chart.is_visible():
            continue  # inside a tab that is not open: the browser does not draw it
        drawn = chart.locator("canvas, svg").first
        drawn.wait_for(state="attached", timeout=PAGE_TIMEOUT_MS)
        assert chart.locator("canvas, svg").count() > 0, f"{name}: chart {i} is empty"
    folder = SCREENSHOTS if os.environ.get("WPMI_UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.close()


def test_a_deep_link_is_the_first_visit_after_a_restart_and_opens_under_the_router(demo_db, browser):
    # Streamlit 1.6x runs pages/x.py by itself, with a menu of raw file names, until the entry script has run once
    # in that server process; ui.through_router hands such a run over to the router (streamlit_app.py).
    with running_app(demo_db) as fresh:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{fresh}/standards?std_cpa=9&std_tab=Drill+down", timeout=PAGE_TIMEOUT_MS)
        wait_until_rendered(page)
        title, address = page.title(), page.url
        tab = page.get_by_role("tab", name="Drill down").get_attribute("aria-selected")
        links = [" ".join(t.split()[1:]) for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]
        cpa = page.locator('input[aria-label="CPA"]').input_value()
        page.close()
    assert title == "Standards compliance · wpmi: Work Programme MI"
    assert links[:2] == ["Overview", "Benchmarks"] and "data" not in links and "streamlit app" not in links
    assert cpa == "CPA 9" and "std_cpa=9" in address  # the link's own setting, kept as a code
    assert tab == "true"  # and the tab it was shared from


def test_the_scorecard_pdf_is_built_when_clicked_and_names_the_partner(app_url, browser, tmp_path):
    # The PDF is made only when asked for (a deferred download), not on every rerun of the page.
    from pypdf import PdfReader

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{app_url}/scorecard", timeout=PAGE_TIMEOUT_MS)
    wait_until_rendered(page)
    partner = page.locator('input[aria-label="Partner"]').input_value()
    with page.expect_download(timeout=PAGE_TIMEOUT_MS) as download:
        page.get_by_role("button", name="Download this scorecard (PDF)").click()
    saved = tmp_path / "scorecard.pdf"
    download.value.save_as(saved)
    page.close()
    reader = PdfReader(saved)
    assert 1 <= len(reader.pages) <= 2
    assert partner in " ".join(p.extract_text() for p in reader.pages).replace("\n", " ")
