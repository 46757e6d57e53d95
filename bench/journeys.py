"""User journeys: interactions and render seconds from the landing page (the Overview) to each user's answer.

`python -m bench.journeys [--code DIR] [--runs 3] [--db URL] [--json FILE]` builds the tiny demo with DIR's own
builder, starts `streamlit run streamlit_app.py` from DIR and walks issue 14's three journeys in headless Chromium
(/usr/bin/chromium; Playwright never downloads a browser): partner ("how am I doing, fairly, and do I meet my
prime's standards?"), prime ("which of my partners need attention?"), vcs ("which VCS partners carry contract risk?").

A step is one deliberate action: open a page from the sidebar, choose an option in a select (opening it and typing
to narrow it are part of the one choice), click a tab. A step that would change nothing (the select shows the option
already, or a narrowing step whose answer is on screen already) is not taken and not counted; after every step,
checks assert that what it was for is on screen. A step's render time runs from the action to the page's last DOM
change once the status widget is gone, nothing is stale and every visible chart has a canvas or svg (still so a
second later). Where pages differ the journey does: without pages/scorecard.py the partner goes Partner profile,
Benchmarks, Standards compliance. The server helper repeats tests/test_browser.py's: bench may not import tests
(pyproject.toml's import contracts). Not part of the test suite; results in docs/journeys.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT
from bench.pgserver import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHROMIUM_ARGS += ["--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
TIMEOUT_S, QUIET_MS = 120, 1000
# The tiny demo, as tests/conftest.py's demo_db builds it, by the checkout's own builder (its own schema).
BUILD_DEMO = (
    "import sys; from loaders.demo.build import build_demo as b; b(sys.argv[1], scale='tiny', seed=7, quiet=True)"
)
# Every DOM change stamps the time (performance.now(), whose origin is the navigation to the landing page).
WATCH_JS = """window.__changed = 0; new MutationObserver(() => { window.__changed = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});"""
STATE_JS = """(title) => ({now: performance.now(), changed: window.__changed,
  ready: !document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"]')
    && [...document.querySelectorAll('[data-testid="stMain"] h1')].some(h => !title || h.innerText.trim() === title)
    && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].filter(c => c.offsetParent !== null)
         .every(c => c.querySelector("canvas, svg"))})"""
Check = Callable[..., None]
# The headings and table header that show each answer is on screen.
OUTCOMES = "Outcomes: raw and case-mix adjusted, against every partner in every CPA"
STANDARDS, PROTECT = "Standards: each prime's minimum service levels", "High performers to protect"
RISK_HEADING = "Components per partner contract (0 = no concern, 1 = highest)"
EXPLAINED = "what the score is built from"


@dataclass(frozen=True)
class Step:
    kind: str  # "page" (a sidebar link), "select", "tab"
    target: str  # the page's title, the select's label, the tab's name
    option: str = ""  # a select's option, exactly as shown
    sidebar: bool = False  # a select in the sidebar, not the main area
    shows: tuple[Check, ...] = ()  # each asserts that something the step was for is on screen
    optional: bool = False  # a narrowing step, not taken when what it shows is on screen already

    def __str__(self) -> str:
        return f"{self.target} = {self.option}" if self.option else f"{self.kind} {self.target}"


@dataclass
class Subject:
    partner: str
    prime: str
    cpa: int
    vcs_unit: str  # a VCS partner contract, as the Contract risk page names it


def pick_subject(db_path: Path) -> Subject:
    """The middle one alphabetically of the partner contracts with participant cohorts and measured standards, and
    of the VCS ones: not the first, which every alphabetical select opens on (no choice to make)."""
    sql = """SELECT DISTINCT p.partner_name, pr.prime_name, c.cpa_code
      FROM compliance_summary s JOIN partner p USING (partner_id) JOIN contract c USING (contract_id)
      JOIN prime pr USING (prime_id)
      WHERE s.met + s.missed > 0 AND p.partner_id IN (SELECT partner_id FROM cohort_summary) {}
      ORDER BY p.partner_name, c.contract_id"""
    with contextlib.closing(sqlite3.connect(db_path)) as con:
        every = con.execute(sql.format("")).fetchall()
        vcs = con.execute(sql.format("AND p.sector = 'vcs'")).fetchall()
    (name, prime, cpa), unit = every[len(every) // 2], vcs[len(vcs) // 2]
    return Subject(name, prime, int(cpa), f"{unit[0]} ({unit[1]}, CPA {unit[2]})")


# -- what each step shows ------------------------------------------------------------------------------------------


def heading(text: str) -> Check:
    def check(page) -> None:
        assert page.locator('[data-testid="stMain"]').get_by_role("heading", name=text).is_visible(), text

    return check


def row(text: str) -> Check:
    """A table row containing `text` is drawn on screen (the grid renders only the rows in view)."""

    def check(page) -> None:
        rows = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"] [role="row"]').all_inner_texts()
        assert any(text in r for r in rows), f"no table row on screen contains {text!r}"

    return check


def chart(page) -> None:
    """At least one chart is drawn on screen (settle() has waited for every visible chart to draw)."""
    assert page.locator('[data-testid="stMain"] [data-testid="stVegaLiteChart"]:visible').count(), "no chart"


def metric(label: str) -> Check:
    def check(page) -> None:
        value = page.locator(f'[data-testid="stMetric"]:has-text("{label}") [data-testid="stMetricValue"]')
        assert value.inner_text().strip().isdigit(), f"metric {label!r} shows no count"

    return check


def journeys(s: Subject, code: Path) -> dict[str, list[Step]]:
    """Each user's steps on this code version (the partner's differ where there is no Partner scorecard page)."""
    contract, mine = f"{s.prime}, CPA {s.cpa}", f"{s.partner} ({s.prime}, CPA {s.cpa})"
    if (code / "pages" / "scorecard.py").exists():
        partner = [
            Step("page", "Partner scorecard"),
            Step("select", "Partner", s.partner, shows=(heading(OUTCOMES), heading(STANDARDS), row(s.prime))),
        ]
    else:
        partner = [
            Step("page", "Partner profile"),
            Step("select", "Partner", s.partner, shows=(heading("All indicators against all partners"),)),
            Step("page", "Benchmarks"),  # opens on the job outcome rate, case-mix adjusted, all partners
            Step("select", "Prime", s.prime, sidebar=True, shows=(row(mine),), optional=True),
            Step("select", "Measure", "Job start rate (12 months)", shows=(row(mine),)),
            Step("page", "Standards compliance"),  # each partner x standard: share, target and status
            Step("select", "Prime", s.prime),
            Step("select", "CPA", f"CPA {s.cpa}", shows=(chart, row(f"{s.partner} (CPA {s.cpa})")), optional=True),
        ]
    return {
        "partner": partner,
        "prime": [
            Step("page", "Supply chain"),
            Step("select", "Prime contract", contract, shows=(metric("Partners flagged"), row(s.partner))),
            Step("page", "Standards compliance"),
            Step("select", "Prime", s.prime, shows=(chart, row(" (CPA "))),
        ],
        "vcs": [
            Step("page", "Contract risk", shows=(heading(RISK_HEADING),)),
            Step("select", "Explain one partner contract", s.vcs_unit, shows=(row(EXPLAINED), heading(PROTECT))),
        ],
    }


# -- driving the browser ---------------------------------------------------------------------------------------------


def settle(page, started_ms: float, title: str | None = None) -> float:
    """Seconds from `started_ms` to the page's last change, once it is drawn (with main heading `title`, if given)
    and has stayed still for QUIET_MS."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS, title)
        if state["ready"] and state["now"] - state["changed"] >= QUIET_MS:
            return max(state["changed"] - started_ms, 0.0) / 1000
        page.wait_for_timeout(100)
    raise TimeoutError(f"the page did not settle within {TIMEOUT_S} s")


def on_screen(page, checks: tuple[Check, ...]) -> bool:
    try:
        return bool(checks) and all(check(page) is None for check in checks)
    except AssertionError:
        return False


def take(page, step: Step) -> float | None:
    """Do one step; its render seconds, or None when it would change nothing (not taken, not counted)."""
    main = page.locator('[data-testid="stMain"]')
    if step.kind == "page":
        target = page.locator('[data-testid="stSidebarNavLink"]').filter(has=page.get_by_text(step.target, exact=True))
    elif step.kind == "tab":
        target = main.get_by_role("tab", name=step.target, exact=True)
    else:
        scope = page.locator('[data-testid="stSidebar"]') if step.sidebar else main
        box = scope.locator(f'input[aria-label="{step.target}"]:visible')
        if box.input_value() == step.option or (step.optional and on_screen(page, step.shows)):
            for check in step.shows:  # what it would show must be on screen all the same
                check(page)
            return None
        box.click()
        page.keyboard.type(step.option)
        target = page.get_by_role("option", name=step.option, exact=True)
        target.wait_for()
    started = page.evaluate("performance.now()")
    target.click()
    seconds = settle(page, started, step.target if step.kind == "page" else None)
    if step.kind == "select":
        assert box.input_value() == step.option, f"{step}: the select shows {box.input_value()!r}"
    for check in step.shows:
        check(page)
    return seconds


def walk(browser, url: str, steps: list[Step]) -> dict:
    """One journey in a fresh browser context (a new Streamlit session): the landing, then each step."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(WATCH_JS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url, timeout=TIMEOUT_S * 1000)
        landing = settle(page, 0.0)
        taken = [(str(step), step.kind, take(page, step)) for step in steps]
        exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
        assert not exceptions and not errors, (exceptions, errors)
    finally:
        context.close()
    done = [(name, kind, s) for name, kind, s in taken if s is not None]
    return {
        "landing": landing,
        "steps": [(name, s) for name, _, s in done],
        "skipped": [name for name, _, s in taken if s is None],
        "interactions": len(done),
        "pages": sum(kind == "page" for _, kind, _ in done),
        "seconds": sum(s for _, _, s in done),
    }


@contextlib.contextmanager
def running_app(code: Path, db_url: str, log: Path):
    """`streamlit run streamlit_app.py` from `code` on a free port (as tests/test_browser.py starts it); its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "streamlit", "run", str(code / "streamlit_app.py"), "--server.port", str(port)]
    argv += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    argv += ["--server.fileWatcherType", "none"]
    env = {**os.environ, "WPMI_DB_URL": db_url, "PYTHONPATH": str(code)}
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start: " + log.read_text(errors="replace")[-2000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def summary(runs: list[dict]) -> dict:
    """Medians over the runs (the steps taken are the same in every run)."""
    steps = [name for name, _ in runs[0]["steps"]]
    assert all([name for name, _ in r["steps"]] == steps for r in runs), "the runs took different steps"
    return {
        "interactions": runs[0]["interactions"],
        "pages": runs[0]["pages"],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "first_run_seconds": runs[0]["seconds"],
        "landing": statistics.median(r["landing"] for r in runs),
        "steps": [(name, statistics.median(r["steps"][i][1] for r in runs)) for i, name in enumerate(steps)],
        "skipped": runs[0]["skipped"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.journeys", description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose app is run (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="a SQLite URL of a demo database (default: build the tiny demo with --code)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    code = args.code.resolve()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="wpmi-journeys-") as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        if not args.db:
            print(f"building the tiny demo with {code}'s builder ...", file=sys.stderr)
            env = {**os.environ, "PYTHONPATH": str(code)}
            subprocess.run([sys.executable, "-c", BUILD_DEMO, db_url], cwd=code, env=env, check=True)
        subject = pick_subject(Path(db_url.removeprefix("sqlite:///")))
        plan = journeys(subject, code)
        runs: dict[str, list[dict]] = {user: [] for user in plan}
        with running_app(code, db_url, Path(tmp) / "streamlit.log") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for n in range(args.runs):
                for user, steps in plan.items():
                    runs[user].append(walk(browser, url, steps))
                    print(f"run {n + 1} {user}: {runs[user][-1]['seconds']:.2f} s", file=sys.stderr)
            browser.close()
    commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    results = {"code": str(code), "commit": commit.stdout.strip(), "subject": subject.__dict__, "runs": args.runs}
    results["journeys"] = {user: summary(r) for user, r in runs.items()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{code} at {results['commit']}: {subject}\n")
    print(
        f"| journey | interactions | pages | seconds (median of {args.runs}) | first run | landing |\n|---|"
        + "---:|" * 5
    )
    for user, j in results["journeys"].items():
        figures = (j["interactions"], j["pages"], f"{j['seconds']:.2f}", f"{j['first_run_seconds']:.2f}")
        print(f"| {user} | " + " | ".join(map(str, figures)) + f" | {j['landing']:.2f} |")
    for user, j in results["journeys"].items():
        print(f"\n{user}: " + "; ".join(f"{name} {s:.2f} s" for name, s in j["steps"]))
        if j["skipped"]:
            print(f"  not taken (already showing): {', '.join(j['skipped'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
