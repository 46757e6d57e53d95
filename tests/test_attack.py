"""Issue 10, "public mode gives back nothing it hides": the attack in tests/attack.py against every page.

Each page is rendered once in public mode (cut-off 31 March 2016, inside the demo, which runs to March 2017)
and everything sent to the browser is collected; `recover` must find nothing. Before the publication boundary
(dashboard/publication.py) every page but Standards leaked here (1,234 recoveries in all, at commit 80b3888);
a page that leaks again fails. The recovery attempts themselves are tested on hand-made records first.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.attack import (
    Collected,
    Frame,
    Text,
    collect,
    dates_after_cutoff,
    exact_sums_in_text,
    recover,
    shares_times_totals,
    small_counts,
    solve_wilson,
    summarise,
    unrounded_counts,
    wilson,
    wilson_backsolve,
)

CUTOFF = date(2016, 3, 31)


def record(*frames: pd.DataFrame, texts: list[str] = (), metrics=(), channel="dataframe", titles=None) -> Collected:
    out = Collected("hand-made")
    out.frames = [Frame(channel, f"{channel}[{i}]", f, titles or {}) for i, f in enumerate(frames)]
    out.texts = [Text("caption", f"caption[{i}]", t) for i, t in enumerate(texts)]
    out.metrics = [(f"metric[{i}]", label, value) for i, (label, value) in enumerate(metrics)]
    return out


def published_rates(x: int, n: int) -> dict:
    lower, upper = wilson(x, n)
    return {"rate": x / n, "lower": float(lower), "upper": float(upper)}


# --- attempt 1: small counts ------------------------------------------------------------------------------


def test_small_counts_finds_1_to_4_in_count_columns_chart_titles_and_metrics():
    table = pd.DataFrame({"unit": ["a", "b"], "x": ["*", "3"], "n": [25, 40]})
    chart = pd.DataFrame({"value": [2, 10], "month": ["2015-01", "2015-02"]})
    found = small_counts(record(table, metrics=[("Referrals", "4")]))
    found += small_counts(record(chart, channel="chart", titles={"value": "Referrals"}))
    assert [r.detail for r in found] == ["x = 3", "Referrals = 4", "value = 2"]
    assert "row 1 (unit='b')" in found[0].location


def test_small_counts_ignores_suppressed_zero_rates_scores_and_non_counts():
    table = pd.DataFrame({"x": ["*", "0", "10"], "rate": [0.2, 1.0, 3.0], "Referrals below projection": [1.0, 0, 1]})
    assert small_counts(record(table, metrics=[("Partners", "3")])) == []


# --- attempt 2: unrounded counts --------------------------------------------------------------------------


def test_unrounded_counts_finds_counts_off_the_base():
    table = pd.DataFrame({"referrals": ["1,234", "1,235", "*"], "expected": [12.0, 12.37, 15.0]})
    found = unrounded_counts(record(table, metrics=[("Job starts", "2,131")]))
    assert [r.detail for r in found] == ["referrals = 1234", "expected = 12", "Job starts = 2131"]


def test_unrounded_counts_passes_rounded_counts():
    table = pd.DataFrame({"n": ["1,235", "0", "*", ""], "actual": [10, 15, 20, 25]})
    assert unrounded_counts(record(table, metrics=[("Referrals", "6,240")])) == []


# --- attempt 3: exact figures in text ---------------------------------------------------------------------


def test_exact_sums_in_text_finds_ratios_and_counted_words():
    found = exact_sums_in_text(record(texts=["Baseline 16.4% = 640 / 3,906.", "**12 of 31** attached"]))
    assert ["[3906]" in r.detail for r in found] == [True, False]
    assert "[12, 31]" in found[1].detail
    cells = pd.DataFrame({"detail": ["286 actual vs 406 projected", "20.1 complaints per 100 attached"]})
    found = exact_sums_in_text(record(cells))
    assert [r.detail.split(" in ")[0] for r in found] == ["'286 actual'", "'406 projected'"]


def test_exact_sums_in_text_passes_rounded_figures_and_counts_of_listed_units():
    table = pd.DataFrame({"unit": list("abcdefg")})  # 7 rows: "3 of 7" counts listed units, not people
    texts = ["Baseline 16.4% = 640 / 3,905.", "3 of 7 below the tolerance band", "A rate of 23.5%, 2.5 / 10.0"]
    assert exact_sums_in_text(record(table, texts=texts)) == []


# --- attempt 4: Wilson back-solve -------------------------------------------------------------------------


def test_solve_wilson_recovers_x_and_n_from_full_precision_and_from_4_decimals():
    assert solve_wilson(**published_rates(1271, 2131)) == [(1271, 2131)]
    rounded = {k: round(v, 4) for k, v in published_rates(8, 23).items()}
    assert solve_wilson(**rounded) == [(8, 23)]


def test_solve_wilson_finds_nothing_for_bounds_that_are_not_wilson_and_many_for_coarse_rounding():
    assert solve_wilson(0.123456789012, 0.234567890123, 0.345678901234) == []
    coarse = {k: round(v, 1) for k, v in published_rates(50, 200).items()}
    assert len(solve_wilson(**coarse)) > 3


def test_wilson_backsolve_reports_suppressed_and_unrounded_cells():
    rows = [published_rates(3, 40), published_rates(10, 40), published_rates(12, 62)]
    table = pd.DataFrame(rows).assign(x=["*", "10", "10"], n=["40", "40", "60"])
    found = wilson_backsolve(record(table))
    assert len(found) == 2  # (10, 40) is what is shown: nothing hidden
    assert "(3, 40)" in found[0].detail and "'x': '*'" in found[0].detail
    assert "(12, 62)" in found[1].detail


def test_wilson_backsolve_passes_rates_from_rounded_counts():
    table = pd.DataFrame([published_rates(10, 60), published_rates(0, 25)]).assign(x=["10", "0"], n=["60", "25"])
    assert wilson_backsolve(record(table)) == []


# --- attempt 5: shares times totals -----------------------------------------------------------------------


def test_shares_times_totals_recovers_counts_behind_rounded_denominators_and_column_shares():
    rows = pd.DataFrame({"outcome_rate": [12 / 62, 1 / 3], "outcomes_n": ["60", "*"], "outcomes_x": ["10", "*"]})
    found = shares_times_totals(record(rows))
    assert [r.detail.split(": ")[1] for r in found] == ["x = 12, n = 62", "x = 1, n = 3"]
    shares = pd.DataFrame({"referrals": ["105", "80"], "share_of_contract": [105 / 186, 81 / 186]})
    found = shares_times_totals(record(shares))
    assert len(found) == 1 and "referrals = 81" in found[0].detail


def test_shares_times_totals_passes_rounded_shares_and_ambiguous_totals():
    rows = pd.DataFrame({"outcome_rate": [round(12 / 62, 3), 0.5], "outcomes_n": ["60", "60"]})
    assert shares_times_totals(record(rows)) == []  # 3 decimals: not a full-precision share; 0.5: several n
    shares = pd.DataFrame({"referrals": ["50", "50"], "share_of_contract": [0.5, 0.5]})
    assert shares_times_totals(record(shares)) == []


# --- attempt 6: dates -------------------------------------------------------------------------------------


def test_dates_after_cutoff_finds_dates_months_and_quarters_in_values_and_text():
    frame = pd.DataFrame({"month": pd.to_datetime(["2016-03-01", "2016-04-01"]), "period": ["2016 Q1", "2016 Q2"]})
    found = dates_after_cutoff(record(frame, texts=["Data as of **April 2016**", "cut-off, 31 March 2016"]), CUTOFF)
    assert [r.location for r in found] == ["dataframe[0] month", "dataframe[0] period", "caption[0]"]


def test_dates_after_cutoff_allows_forecast_rows_only_when_asked():
    frame = pd.DataFrame({"month": pd.to_datetime(["2016-03-01", "2016-06-01"]), "series": ["Actual", "Forecast"]})
    assert dates_after_cutoff(record(frame), CUTOFF) == []
    assert len(dates_after_cutoff(record(frame), CUTOFF, allow_forecast=False)) == 1


# --- the pages --------------------------------------------------------------------------------------------


PAGES = [
    pytest.param("overview", None),
    pytest.param("benchmarks", None, id="benchmarks"),
    pytest.param("benchmarks", {"level": "CPAs"}, id="benchmarks-cpa"),
    pytest.param("referrals", None),
    pytest.param("standards", None),
    pytest.param("supply_chain", None),
    pytest.param("partner", None),
    pytest.param("risk", None),
]


_RUNS: dict[tuple, Collected] = {}


def collected_page(page: str, query: dict | None, url: str) -> Collected:
    """One AppTest run per page and query for the whole session (the leak and date tests share it)."""
    key = (url, page, tuple(sorted((query or {}).items())))
    if key not in _RUNS:
        _RUNS[key] = collect(page, url, cutoff=CUTOFF, query=query)
    return _RUNS[key]


@pytest.mark.parametrize(("page", "query"), PAGES)
def test_public_page_gives_back_nothing_it_hides(page, query, demo_db):
    collected = collected_page(page, query, demo_db)
    assert collected.frames or collected.texts, "nothing was collected: the attack saw no page"
    found = recover(collected)
    assert found == [], f"{len(found)} recoveries on {collected.page}:\n{summarise(found)}"


DATE_PAGES = [
    pytest.param(p, None)
    for p in ("overview", "benchmarks", "referrals", "standards", "supply_chain", "partner", "risk")
]


@pytest.mark.parametrize(("page", "query"), DATE_PAGES)
def test_public_page_shows_no_date_after_the_cutoff(page, query, demo_db):
    collected = collected_page(page, query, demo_db)
    found = dates_after_cutoff(collected, CUTOFF)
    assert found == [], f"{len(found)} dates after {CUTOFF} on {page}:\n{summarise(found)}"
