"""WCAG 2.2 AA: every page checked with axe-core in a real headless Chromium, as an auditor would, and by keyboard.

- axe-core comes bundled in the `axe-playwright-python` package (nothing is downloaded) and is injected into each
  page once Streamlit has finished drawing it. Each page is checked at a desktop (1440 px) and a phone (390 px)
  width, in member mode (the local default) and in public mode (a second app with WPMI_MODE=public, where there is
  no Data page), with its own browser-tab title and one main heading.
- The three user goals are walked with the keyboard alone (Tab, Shift+Tab, arrow keys, Enter), checking that every
  element Tab reaches shows where focus is.
- Without a browser: the contrast of the theme's and the charts' colours, computed; the words that explain
  suppressed and rounded cells beside every table that shows them.

Skips or fails on a missing browser exactly as tests/test_browser.py does.
"""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from dashboard import charts
from tests.conftest import ROOT
from tests.test_browser import PAGE_TIMEOUT_MS, PAGES, app_url, browser, running_app, wait_until_rendered
from tests.test_charts import _views as all_views

__all__ = ["app_url", "browser"]  # fixtures shared with the browser test, used here by name

# The WCAG 2.0, 2.1 and 2.2 level A and AA rules (axe-core has no separate wcag22a tag).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": 1440, "phone": 390}
# Each page's name: its link, its browser-tab title (before the app's name) and its one main heading.
TITLES = {
    "overview": "Overview",
    "benchmarks": "Benchmarks",
    "referrals": "Referrals vs projections",
    "standards": "Standards compliance",
    "supply_chain": "Supply chain",
    "partner": "Partner profile",
    "risk": "Contract risk",
    "data": "Data",
    "scorecard": "Partner scorecard",
    "feedback": "Feedback",
}
# Every page of the router (the browser test's list).
ROUTES = PAGES
# Public mode has no Data page (no uploads, no submission details: streamlit_app.py).
MODE_PAGES = {"member": list(ROUTES), "public": [p for p in ROUTES if p != "data"]}

# WCAG 2.2 AA minimum contrast ratios: text (1.4.3) and graphical objects that carry meaning (1.4.11).
TEXT, GRAPHICS = 4.5, 3.0
WHITE = "#ffffff"
# Streamlit 1.6x's light theme: the sidebar's background (secondaryBg), and the opacity of secondary text
# (captions, widget help, the "as of" line: fadedText60 is the body text colour at 60% opacity).
SIDEBAR_BACKGROUND = "#f8f8f7"
CAPTION_OPACITY = 0.6
THEME = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]


# -- contrast arithmetic (WCAG 2.2's definitions), then the theme's and the charts' colours ------------------


def rgb(colour: str) -> tuple[float, float, float]:
    named = {"white": WHITE, "black": "#000000"}
    hex_ = named.get(colour, colour).lstrip("#")
    return tuple(int(hex_[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def luminance(colour: str | tuple[float, float, float]) -> float:
    """WCAG relative luminance of an sRGB colour."""
    channels = rgb(colour) if isinstance(colour, str) else colour
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: str, background: str, opacity: float) -> tuple[float, float, float]:
    """A colour drawn at `opacity` over `background`, as the reader sees it."""
    return tuple(opacity * f + (1 - opacity) * b for f, b in zip(rgb(colour), rgb(background)))  # type: ignore[return-value]


def test_contrast_arithmetic_matches_wcag_reference_values():
    assert contrast("#000000", WHITE) == pytest.approx(21.0)
    assert contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)  # the lightest grey passing 4.5:1 on white
    assert contrast("#2f2d2b", WHITE) > contrast(over("#2f2d2b", WHITE, CAPTION_OPACITY), WHITE)


@pytest.mark.parametrize("background", [WHITE, SIDEBAR_BACKGROUND])
def test_theme_text_and_captions_meet_aa_on_the_page_and_in_the_sidebar(background):
    assert contrast(THEME["textColor"], background) >= TEXT
    # Streamlit's default body text (#2f2d2b) gave captions 3.9:1: axe-core's colour-contrast failures on every page.
    assert contrast(over(THEME["textColor"], background, CAPTION_OPACITY), background) >= TEXT
    assert contrast(THEME["primaryColor"], background) >= TEXT  # links, the selected tab, focus rings


def chart_marks() -> dict[str, str]:
    """Every colour a chart draws a meaningful mark in, by where it is used."""
    palettes = {
        "comparison": charts.COMPARISON_COLOURS,
        "neutral comparison": charts.NEUTRAL_COMPARISON_COLOURS,
        "funnel": charts.FUNNEL_COLOURS,
        "status": charts.STATUS_COLOURS,
        "submission": charts.SUBMISSION_COLOURS,
        "referrals": charts.REFERRAL_COLOURS,
    }
    marks = {f"{name}: {key}": colour for name, palette in palettes.items() for key, colour in palette.items()}
    marks |= {f"theme series {i}": colour for i, colour in enumerate(THEME["chartCategoricalColors"])}
    marks |= {
        "control limits": charts.LIMIT_LINE_COLOUR,
        "interval": charts.INTERVAL_COLOUR,
        "histogram": charts.HISTOGRAM_COLOUR,
        "limit rule": charts.LIMIT_RULE_COLOUR,
    }
    return marks


@pytest.mark.parametrize(("mark", "colour"), chart_marks().items())
def test_every_meaningful_chart_mark_is_3_to_1_against_white(mark, colour):
    assert contrast(colour, WHITE) >= GRAPHICS, f"{mark} {colour}: {contrast(colour, WHITE):.2f}:1"


@pytest.mark.parametrize(
    ("what", "colour"), [("limit label", charts.LIMIT_RULE_COLOUR), ("message", charts.MESSAGE_COLOUR)]
)
def test_chart_text_is_4_5_to_1_against_white(what, colour):
    assert contrast(colour, WHITE) >= TEXT, f"{what} {colour}"


@pytest.mark.parametrize(("status", "colour"), charts.STATUS_COLOURS.items())
def test_heatmap_figures_read_at_4_5_to_1_on_every_status_colour(status, colour):
    assert contrast(charts.STATUS_TEXT_COLOUR, colour) >= TEXT, f"{status} {colour}"


@pytest.fixture(scope="module")
def public_url(demo_db, app_url):
    # app_url first: it has already skipped (or failed) where there is no browser.
    with running_app(demo_db, WPMI_MODE="public") as url:
        yield url


@pytest.fixture(scope="module")
def apps(app_url, public_url, browser) -> dict[str, str]:
    """Each mode's app, visited once at its root first, so every page below opens with the caches warm (a deep link
    as the first visit works too: tests/test_browser.py checks it)."""
    urls = {"member": app_url, "public": public_url}
    for url in urls.values():
        page = browser.new_page()
        page.goto(url, timeout=PAGE_TIMEOUT_MS)
        wait_until_rendered(page)
        page.close()
    return urls


def axe_violations(page) -> list[dict]:
    """The WCAG A/AA violations axe-core finds on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return results.response["violations"]


def describe(violations: list[dict], where: str) -> list[str]:
    """One line per violated rule: where, rule, impact, how many elements, the first selectors and the first element."""
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"]]
        first = " ".join(v["nodes"][0]["html"].split())[:160] if v["nodes"] else ""
        lines.append(
            f"{where}: {v['id']} ({v['impact']}) x{len(targets)}: {v['help']}; "
            + " | ".join(targets[:6])
            + f"; {first}"
        )
    return lines


# Every chart on view has been drawn (Vega draws after the script has finished).
CHARTS_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
  .filter(chart => chart.offsetParent !== null).every(chart => chart.querySelector("canvas, svg"))"""


def open_page(browser, base_url: str, name: str, width: int):
    """The page as a reader sees it: its heading drawn, the script run finished, every chart on view drawn."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base_url}/{ROUTES[name]}", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=PAGE_TIMEOUT_MS)
    # Streamlit shows its running indicator a moment after a run starts: settled means still idle a second later.
    for _ in range(10):
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(CHARTS_DRAWN_JS, timeout=PAGE_TIMEOUT_MS)
        page.wait_for_timeout(1000)
        if not page.locator('[data-testid="stStatusWidget"], [data-stale="true"]').count():
            break
    return page


# What sticks out past the right edge of the main column (WCAG 1.4.10, Reflow): the page itself scrolling
# sideways, or any drawn chart, image, heading or text wider than the column. A data grid scrolls inside its own
# frame (a table may, under 1.4.10), so only the frame is measured, not the cells behind it; so does Streamlit's
# row of tabs, which has arrow buttons.
OVERFLOW_JS = """() => {
  const column = document.querySelector('[data-testid="stMainBlockContainer"]');
  const edge = column.getBoundingClientRect().right - parseFloat(getComputedStyle(column).paddingRight) + 2;
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide in ${window.innerWidth}`);
  }
  const parts = column.querySelectorAll(
    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks, [data-testid="stDataFrame"],'
    + ' [data-testid="stImage"] img, [data-testid="stMarkdownContainer"], [data-testid="stMetric"], h1, h2, h3');
  for (const el of parts) {
    const r = el.getBoundingClientRect();
    if (el.closest('[role="tablist"]')) continue;  // a row of tabs scrolls in its own frame, with arrow buttons
    if (r.width > 0 && r.right > edge) {
      const chart = el.closest('[data-testid="stVegaLiteChart"]');
      const what = chart ? 'chart ' + (chart.getAttribute('aria-label') || '').slice(0, 60) : el.tagName + ' '
        + (el.getAttribute('data-testid') || '') + ' ' + (el.innerText || '').slice(0, 40);
      out.push(`${what.trim()}: ${Math.round(r.right - edge)} px past the column`);
    }
  }
  return out;
}"""

CASES = [(mode, name, w) for mode, names in MODE_PAGES.items() for name in names for w in WIDTHS]


@pytest.mark.parametrize(("mode", "name", "width"), CASES)
def test_page_meets_wcag_22_aa_and_reflows_with_its_own_title_and_one_main_heading(mode, name, width, browser, apps):
    page = open_page(browser, apps[mode], name, WIDTHS[width])
    try:
        problems = describe(axe_violations(page), f"{name} at {WIDTHS[width]} px, {mode} mode")
        overflow = page.evaluate(OVERFLOW_JS)
        title, headings = page.title(), page.locator("h1").all_inner_texts()
    finally:
        page.close()
    assert not problems, "\n".join(problems)
    assert not overflow, f"{name} at {WIDTHS[width]} px, {mode} mode: " + "; ".join(overflow)
    assert title.startswith(f"{TITLES[name]} · "), f"{name}: the browser tab says {title!r}"
    assert [h.strip() for h in headings] == [TITLES[name]], f"{name}: main headings {headings}"


# -- suppressed and rounded cells are explained in words beside every table that shows them --------------------


def published(policy, counts: list[int]):
    from dashboard.publication import publish_table

    frame = pd.DataFrame({"unit": [f"P{i}" for i in range(len(counts))], "partner_id": range(1, len(counts) + 1)})
    frame["x"] = counts
    return publish_table(frame, policy=policy, counts=["x"], totals=("x",), owner="partner_id", keep=["unit"])


def member_policy(suppress_max: int = 4):
    from dashboard.publication import Policy

    return Policy("member", rounding_base=1, suppress_max=suppress_max, rate_decimals=4)


def test_a_table_with_suppressed_counts_says_what_each_mark_means_with_the_viewers_threshold():
    from dashboard import ui

    shown = published(member_policy(), [3, 40, 52, 61])  # 3 is hidden, and one more so it cannot be derived
    assert set(shown.display()["x"]) >= {"*", "**"}
    legend = ui.marks_legend(shown)
    assert "`*` = suppressed: fewer than 5 (a count from 1 to 4)" in legend
    assert "`**` = suppressed so that a `*` cannot be worked out from a total" in legend
    assert "rounded" not in legend  # member mode: exact counts
    wider = ui.marks_legend(published(member_policy(suppress_max=9), [7, 40, 52, 61]))
    assert "fewer than 10 (a count from 1 to 9)" in wider


def test_a_table_without_marks_has_no_legend_and_a_public_one_says_counts_are_rounded():
    from dashboard import ui
    from dashboard.publication import Policy

    assert ui.marks_legend(published(member_policy(), [40, 52, 61])) == ""
    public = Policy("public", rounding_base=5, suppress_max=4, rate_decimals=2)
    assert ui.marks_legend(published(public, [40, 52, 61])) == "In this table: counts are rounded to the nearest 5."


def elements_in_order(node):
    """Every element of an AppTest tree, top to bottom as the page draws them."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from elements_in_order(children[key])


def test_every_table_showing_a_mark_on_a_page_has_the_legend_directly_below_it(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.element_tree import Caption, Dataframe

    # Public mode on the demo: the Standards matrix hides counts of 1-4 about partners (and more to protect them).
    monkeypatch.setenv("WPMI_DB_URL", demo_db)
    monkeypatch.setenv("WPMI_MODE", "public")
    monkeypatch.setenv("WPMI_SUPPRESS_MAX", "6")  # the legend's threshold comes from the settings, not a constant
    at = AppTest.from_file(str(ROOT / "pages" / "standards.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    elements = list(elements_in_order(at.main))
    marked = [
        i
        for i, e in enumerate(elements)
        if isinstance(e, Dataframe) and e.value.astype("string").isin(["*", "**"]).any().any()
    ]
    assert marked, "the demo's public Standards page shows no suppressed cell: the test checks nothing"
    for i in marked:
        below = elements[i + 1]
        assert isinstance(below, Caption), f"table {i} has no caption directly below it"
        assert "`*` = suppressed: fewer than 7 (a count from 1 to 6)" in below.value


# -- keyboard only: the three user goals, with visible focus on everything Tab reaches --------------------------

# The focused element and its nearest ancestors (a select draws its focus ring on its container).
FOCUS_CHAIN_JS = """() => { const chain = []; let e = document.activeElement;
  for (let i = 0; i < 4 && e; i++) { chain.push(e); e = e.parentElement; } return chain; }"""
# What shows focus, as drawn: an outline or a border only where it has a width (a border's colour follows the text
# colour even where no border is drawn), or a ring drawn as a box shadow. A change of text colour or a faint tint of
# the background (Streamlit's page links: 15% grey, about 1.1:1) is not a focus indicator anyone can rely on.
FOCUS_STYLE_JS = """(chain) => chain.map(e => { const s = getComputedStyle(e);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 ? s.outlineStyle + s.outlineColor : "";
  const border = s.borderTopStyle !== "none" && parseFloat(s.borderTopWidth) > 0 ? s.borderTopColor : "";
  return [outline, border, s.boxShadow].join(" | "); })"""
# Streamlit animates some focus styles (a border colour, a background): read them once they have settled.
FOCUS_SETTLE_MS = 150
# A table's cells (its canvas, or the cell elements behind it for screen readers), not the buttons over the table.
GRID_JS = """() => { const e = document.activeElement;
  return e.tagName === "CANVAS" || e.id.startsWith("glide-cell") ? e.closest('[data-testid="stDataFrame"]') : null; }"""
FOCUSED_JS = """() => { const e = document.activeElement;
  return [e.tagName, e.getAttribute("data-testid") || "", e.getAttribute("aria-label") || "",
          (e.innerText || "").trim().split("\\n").pop().slice(0, 60)]; }"""


class KeyboardWalk:
    """Moves through a page with the keyboard alone, checking that each element Tab reaches shows its focus.

    An element's focus is visible when it looks different while it has focus from once focus has moved on: its
    outline, box shadow or border, or those of its three nearest ancestors (a select draws its ring on its
    container); inside a table, which Streamlit draws on a canvas with its focus ring, the table's pixels.
    Focus moves with Tab (and Shift+Tab back), never the mouse.
    """

    def __init__(self, page, where: str):
        self.page, self.where = page, where
        self.invisible: list[str] = []
        self.path: list[str] = []

    def focused(self) -> list[str]:
        return self.page.evaluate(FOCUSED_JS)

    def _look(self, kind: str, handle):
        return handle.screenshot() if kind == "pixels" else handle.evaluate(FOCUS_STYLE_JS)

    def _snapshot(self, name: str) -> tuple:
        grid = self.page.evaluate_handle(GRID_JS).as_element()
        kind, handle = ("pixels", grid) if grid else ("styles", self.page.evaluate_handle(FOCUS_CHAIN_JS))
        return name, kind, handle, self._look(kind, handle)

    def _unchanged(self, snapshot: tuple) -> None:
        name, kind, handle, focused_look = snapshot
        if self._look(kind, handle) == focused_look:
            self.invisible.append(f"{self.where}: no visible focus on {name}")

    def _press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.page.wait_for_timeout(FOCUS_SETTLE_MS)

    def tab_to(self, wanted, limit: int = 80) -> list[str]:
        """Tab forward until `wanted(focused)` holds, checking focus on every element passed on the way."""
        previous = None
        for _ in range(limit):
            self._press("Tab")
            if previous:
                self._unchanged(previous)
            focused = self.focused()
            name = " ".join(filter(None, focused))
            self.path.append(name)
            if wanted(focused):
                # Tab away and Shift+Tab back: its look changed with focus, and focus comes back to it.
                here = self._snapshot(name)
                self._press("Tab")
                self._unchanged(here)
                self._press("Shift+Tab")
                assert self.focused() == focused, f"{self.where}: Shift+Tab did not come back to {name}"
                return focused
            previous = self._snapshot(name)
        raise AssertionError(f"{self.where}: Tab never reached the element; went through {self.path}")

    def choose_next_option(self) -> None:
        """In the focused select: open it, move one option down, choose it (arrow keys and Enter only)."""
        self.page.keyboard.press("ArrowDown")
        self.page.wait_for_selector('[role="listbox"]', timeout=PAGE_TIMEOUT_MS)
        self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Enter")
        self.page.wait_for_timeout(500)
        wait_until_rendered(self.page)


def page_link(title: str):
    return lambda focused: focused[1] == "stSidebarNavLink" and focused[3] == title


def labelled(label: str):
    return lambda focused: focused[0] == "INPUT" and focused[2] == label


def select_value(page, label: str) -> str:
    """The option a select shows: its combobox input's value, as a screen reader announces it."""
    return page.locator(f'input[aria-label="{label}"]').input_value()


def walk_to_page(browser, base_url: str, title: str) -> tuple:
    """From the Overview, the page link Tab reaches, then Enter: the page `title` with its own tab title and h1."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(base_url, timeout=PAGE_TIMEOUT_MS)
    wait_until_rendered(page)
    walk = KeyboardWalk(page, title)
    walk.tab_to(page_link(title))
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.title.startsWith({title!r})", timeout=PAGE_TIMEOUT_MS)
    wait_until_rendered(page)
    assert page.locator("h1").inner_text().strip() == title
    return page, walk


def test_partner_goal_by_keyboard_alone_how_am_i_doing(app_url, browser):
    page, walk = walk_to_page(browser, app_url, "Partner profile")
    walk.tab_to(labelled("Partner"))
    before = select_value(page, "Partner")
    walk.choose_next_option()
    chosen = select_value(page, "Partner")
    assert chosen != before, "the arrow keys and Enter did not choose another partner"
    main = page.locator('[data-testid="stMain"]')
    assert chosen in main.locator('[data-testid="stMarkdownContainer"] strong').all_inner_texts()
    assert main.get_by_role("heading", name="All indicators against all partners").is_visible()
    assert main.locator('[data-testid="stVegaLiteChart"]').first.is_visible()
    assert "partner=" in page.url  # the answer is a link that reproduces it
    assert not walk.invisible, walk.invisible
    page.close()


def test_prime_goal_by_keyboard_alone_which_partners_need_attention(app_url, browser):
    page, walk = walk_to_page(browser, app_url, "Supply chain")
    walk.tab_to(labelled("Prime contract"))
    before = select_value(page, "Prime contract")
    walk.choose_next_option()
    chosen = select_value(page, "Prime contract")
    assert chosen != before, "the arrow keys and Enter did not choose another prime contract"
    main = page.locator('[data-testid="stMain"]')
    flagged = main.locator('[data-testid="stMetric"]:has-text("Partners flagged")')
    assert flagged.is_visible() and flagged.locator('[data-testid="stMetricValue"]').inner_text().strip().isdigit()
    assert main.locator('[data-testid="stDataFrame"]').first.is_visible()
    assert "contract=" in page.url
    assert not walk.invisible, walk.invisible
    page.close()


def test_voluntary_sector_goal_by_keyboard_alone_which_partners_are_at_risk(app_url, browser):
    page, walk = walk_to_page(browser, app_url, "Contract risk")
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_role("heading", name="Components per partner contract").is_visible()
    walk.tab_to(labelled("Explain one partner contract"))
    before = select_value(page, "Explain one partner contract")
    walk.choose_next_option()
    chosen = select_value(page, "Explain one partner contract")
    assert chosen != before, "the arrow keys and Enter did not choose another partner contract"
    assert main.get_by_role("heading", name="High performers to protect").is_visible()
    assert main.locator('[data-testid="stDataFrame"]').count() >= 3  # components, the one explained, performers
    assert not walk.invisible, walk.invisible
    page.close()


# -- every chart has a text alternative: a sentence under it, and its figures in a table ------------------------


def test_chart_summaries_count_the_verdicts_the_chart_colours():
    values = pd.Series(["Better", "Similar", "Similar", "Worse", "Not compared"])
    assert (
        charts.comparison_summary(values, plural="indicators")
        == "Of 5 indicators compared with the benchmark: 1 better, 2 similar, 1 worse and 1 not compared."
    )
    from dashboard.compliance import BELOW_SIGNIFICANT, MEETS

    statuses = pd.Series([BELOW_SIGNIFICANT, MEETS, MEETS])  # said in the legend's order, whatever the rows'
    assert charts.status_summary(statuses, plural="pairs") == (
        f"Of 3 pairs: {MEETS[0].lower()}{MEETS[1:]} 2, {BELOW_SIGNIFICANT[0].lower()}{BELOW_SIGNIFICANT[1:]} 1."
    )
    risk_rows = pd.DataFrame({"unit": ["a", "a", "b", "c"], "component": ["x", "y", "x", "y"], "score": [1, 0.2, 1, 0]})
    assert charts.risk_summary(risk_rows) == (
        "Of 3 partner contracts shown, 2 score the highest risk (1) on at least one component, most often x (2)."
    )
    days = pd.DataFrame({"days": [3, 10, 20], "participants": [5, 2, 3]})
    assert charts.distribution_summary(days, 10, label="Days to first contact") == (
        "Days to first contact: 3 of 10 cases took longer than the limit of 10 days."
    )


def test_referrals_summary_says_in_how_many_months_actuals_fell_below_within_or_above_the_band():
    months = pd.to_datetime(["2014-01-01", "2014-02-01", "2014-03-01", "2014-04-01"])
    frame = pd.DataFrame(
        {
            "month": months,
            "actual": [80, 100, 130, float("nan")],
            "projected": [100, 100, 100, float("nan")],
            "kind": ["actual", "actual", "actual", "forecast"],
            "forecast": [float("nan")] * 3 + [105],
            "forecast_low": [float("nan")] * 3 + [90],
            "forecast_high": [float("nan")] * 3 + [120],
        }
    )
    frame["band_low"], frame["band_high"] = frame["projected"] * 0.9, frame["projected"] * 1.1
    assert charts.referrals_summary(frame) == (
        "In 3 months with a projection, actual referrals were below the tolerance band in 1, within it in 1 and "
        "above it in 1; a forecast runs 1 months ahead."
    )
    assert charts.referrals_summary(frame, cumulative=True).startswith(
        "Cumulative referrals to March 2014: 310 against 300 projected"
    )


@pytest.mark.parametrize(
    ("page", "query"),
    [("partner", {}), ("referrals", {}), ("standards", {}), ("supply_chain", {}), ("risk", {})],
)
def test_every_chart_on_a_page_is_followed_by_a_sentence_saying_what_it_shows(page, query, demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.element_tree import Caption

    monkeypatch.setenv("WPMI_DB_URL", demo_db)
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    elements = list(elements_in_order(at.main))
    drawn = [i for i, e in enumerate(elements) if getattr(e, "type", "") == "vega_lite_chart"]
    assert drawn, f"{page}: no chart drawn on the demo: the test checks nothing"
    for i in drawn:
        below = elements[i + 1]
        assert isinstance(below, Caption) and below.value.endswith("."), f"{page}: chart {i} has no summary below it"
        assert any(ch.isdigit() for ch in below.value) or "quarter" in below.value, below.value
    if page in ("partner", "referrals"):  # charts whose figures are in no other table on the page
        tables = [e for e in at.expander if e.label == "The chart's figures as a table"]
        assert tables and all(len(e.dataframe) == 1 and len(e.dataframe[0].value) for e in tables)


def test_league_and_ratio_charts_write_each_verdict_beside_its_interval_not_colour_alone():
    table = pd.DataFrame(
        {
            "unit": ["A", "B"],
            "x": [30, 5],
            "n": [100, 100],
            "rate": [0.3, 0.05],
            "lower": [0.22, 0.02],
            "upper": [0.4, 0.11],
            "comparison": ["Better", "Worse"],
        }
    )
    spec = charts.league_chart(table, 0.15).to_dict()
    words = [layer for layer in spec["layer"] if layer["mark"].get("type") == "text"]
    assert [w["encoding"]["text"]["field"] for w in words] == ["comparison"]
    assert words[0]["encoding"]["x"]["field"] == "upper"  # just right of the interval


def test_spine_chart_writes_each_indicators_verdict_on_whichever_side_leaves_room():
    rows = pd.DataFrame(
        {
            "indicator": ["Low rate", "High rate"],
            "value": [0.2, 0.9],
            "lower": [0.15, 0.85],
            "upper": [0.25, 0.95],
            "minimum": [0.05, 0.7],
            "q25": [0.1, 0.8],
            "median": [0.15, 0.85],
            "q75": [0.2, 0.9],
            "maximum": [0.3, 0.97],
            "comparison": ["Better", "Worse"],
            "x": [20, 90],
            "n": [100, 100],
        }
    )
    spec = charts.spine_chart(rows).to_dict()
    words = [view for view in all_views(spec) if view["mark"].get("type") == "text"]
    assert {w["encoding"]["text"]["field"] for w in words} == {"comparison"}
    assert sorted(w["mark"]["align"] for w in words) == ["left", "right"]
