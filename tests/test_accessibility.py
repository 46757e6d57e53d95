"""Every page against WCAG 2.2 A and AA with axe-core, in a real headless Chromium, as an auditor would check it.

axe-core comes bundled in the `axe-playwright-python` package (nothing is downloaded) and is injected into each
page once Streamlit has finished drawing it. Each page is checked at a desktop (1440 px) and a phone (390 px)
width, in member mode (the local default) and in public mode (a second app with WPMI_MODE=public, where there is
no Data page). Skips or fails on a missing browser exactly as tests/test_browser.py does.
"""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from dashboard import charts
from tests.conftest import ROOT
from tests.test_browser import PAGE_TIMEOUT_MS, PAGES, app_url, browser, running_app, wait_until_rendered

__all__ = ["app_url", "browser"]  # fixtures shared with the browser test, used here by name

# The WCAG 2.0, 2.1 and 2.2 level A and AA rules (axe-core has no separate wcag22a tag).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": 1440, "phone": 390}
# Public mode has no Data page (no uploads, no submission details: streamlit_app.py).
MODE_PAGES = {"member": list(PAGES), "public": [p for p in PAGES if p != "data"]}

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
