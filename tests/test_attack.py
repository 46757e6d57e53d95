"""Issue 10, "public mode gives back nothing it hides": the attack in tests/attack.py against every page.

Each page is rendered once in public mode (cut-off 31 March 2016, inside the demo, which runs to March 2017)
and everything sent to the browser is collected; `recover` must find nothing. Before the publication boundary
(dashboard/publication.py) every page but Standards leaked here (1,234 recoveries in all, at commit 80b3888);
a page that leaks again fails. The recovery attempts themselves are tested on hand-made records first.

Member mode: each page is rendered as a signed-in member of the demo's first partner with participant-level data
(`demo_member`), and no channel may show what the page hides about another organisation (`recover_member`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.attack import (
    Collected,
    Frame,
    Member,
    Text,
    collect,
    dates_after_cutoff,
    demo_member,
    exact_sums_in_text,
    hidden_shown_elsewhere,
    member_shares_times_totals,
    member_small_counts,
    member_wilson_backsolve,
    own_rows,
    recover,
    recover_member,
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


# --- member mode: the attempts on hand-made records ---------------------------------------------------------

ME = Member(7, "Tay Horizons Trust")


def test_own_rows_by_partner_id_name_or_unit_label_and_unlabelled_rows_are_others():
    table = pd.DataFrame({"partner_id": [7, 8, None], "unit": ["x", "Tay Horizons Trust (Ingeus, CPA 3)", "y"]})
    assert own_rows(table, ME).tolist() == [True, True, False]
    assert own_rows(pd.DataFrame({"partner": ["Tay Horizons Trust", "Tay Horizons Trustees"]}), ME).tolist() == [
        True,
        False,
    ]
    assert own_rows(pd.DataFrame({"x": [3]}), ME).tolist() == [False]


def test_member_small_counts_finds_1_to_4_about_others_and_in_unlabelled_rows_and_metrics():
    table = pd.DataFrame({"partner": ["Tay Horizons Trust", "Solent College"], "x": ["3", "2"], "n": [40, 41]})
    distribution = pd.DataFrame({"days": [0, 4], "participants": [11, 1]})
    found = member_small_counts(record(table, distribution, metrics=[("Referrals", "4")]), ME)
    assert [r.detail for r in found] == ["x = 2", "participants = 1", "Referrals = 4"]
    assert "Solent College" in found[0].location


def test_member_small_counts_passes_own_small_counts_hidden_cells_and_differences_of_shown_counts():
    table = pd.DataFrame({"unit": ["Tay Horizons Trust (CDG, CPA 4)", "Solent College (CDG, CPA 4)"], "x": [3, "*"]})
    variance = pd.DataFrame({"unit": ["a", "b"], "actual": ["74", "*"], "projected": [70, 1], "variance": [4, 2]})
    found = member_small_counts(record(table, variance), ME)
    assert [r.detail for r in found] == ["projected = 1", "variance = 2"]  # b's actual is hidden: variance gives it


def test_member_wilson_backsolve_recovers_a_hidden_count_of_another_organisation_only():
    hidden = {k: round(v, 4) for k, v in published_rates(3, 40).items()}
    rows = pd.DataFrame([hidden, hidden]).assign(partner=["Solent College", "Tay Horizons Trust"], x="*", n="40")
    found = member_wilson_backsolve(record(rows), ME)
    assert len(found) == 1 and "x = 3 (shown '*')" in found[0].detail and "Solent College" in found[0].location


def test_member_wilson_backsolve_passes_hidden_rates_shown_counts_and_rates_at_a_tenth_of_a_point():
    shown = pd.DataFrame([published_rates(3, 40)]).assign(unit="Solent College", x="3", n="40")
    hidden = pd.DataFrame({"unit": ["Solent College"], "x": ["*"], "n": ["40"]}).assign(rate="*", lower="*", upper="*")
    coarse = pd.DataFrame([{k: round(v, 3) for k, v in published_rates(30, 400).items()}]).assign(x="**", n="**")
    assert member_wilson_backsolve(record(shown, hidden, coarse), ME) == []


def test_member_shares_times_totals_recovers_hidden_counts_from_row_and_column_shares():
    rows = pd.DataFrame({"unit": ["Solent College", "Tay Horizons Trust"], "rate": [3 / 41, 3 / 41], "x": "*", "n": 41})
    found = member_shares_times_totals(record(rows), ME)
    assert [r.detail.split(": ")[1] for r in found] == ["x = 3 (shown '*')"]
    shares = pd.DataFrame(
        {
            "partner": ["Solent College", "Ribble College"],
            "referrals": ["105", "*"],
            "share_of_contract": [105 / 108, 3 / 108],
        }
    )
    found = member_shares_times_totals(record(shares), ME)
    assert len(found) == 1 and "total 108: referrals = 3" in found[0].detail


def test_member_shares_times_totals_passes_rates_at_a_tenth_of_a_point_and_shown_counts():
    rows = pd.DataFrame({"unit": ["Solent College"] * 2, "rate": [round(3 / 41, 3), 3 / 41], "x": ["*", "3"], "n": 41})
    shares = pd.DataFrame({"partner": ["a", "b"], "referrals": ["105", "*"], "share_of_contract": [0.972, 0.028]})
    assert member_shares_times_totals(record(rows, shares), ME) == []


def test_hidden_shown_elsewhere_finds_a_hidden_cell_in_chart_data_downloads_and_text():
    table = pd.DataFrame({"unit": ["Solent College", "Ribble College"], "x": ["*", "10"], "rate": ["*", "25.0%"]})
    chart = pd.DataFrame({"unit": ["Solent College", "Ribble College"], "x": [3.0, 10.0], "rate": [None, 0.25]})
    download = pd.DataFrame({"unit": ["Solent College"], "outcomes_x": ["3"], "detail": ["rate 7.5%, 3 x"]})
    collected = record(table, chart, download, texts=["Solent College: x = 3 of 40"])
    collected.frames[1].channel = "chart"
    found = hidden_shown_elsewhere(collected)
    assert [(r.channel, r.detail.split(",")[0]) for r in found] == [
        ("chart", "3"),
        ("dataframe", "3"),
        ("dataframe", "'3 x'"),
        ("caption", "'x = 3'"),
    ]


def test_hidden_shown_elsewhere_passes_nan_blank_and_other_units_and_figures():
    table = pd.DataFrame({"unit": ["Solent College", "Ribble College"], "x": ["*", "10"], "n": ["40", "**"]})
    chart = pd.DataFrame({"unit": ["Solent College", "Ribble College"], "x": [None, 10.0], "n": [40.0, None]})
    other = pd.DataFrame({"period": ["2015 Q1"], "x": [3]})  # no unit column in common: another breakdown
    collected = record(table, chart, other, texts=["All units: x = 3, n = 50", "Solent College: rate not shown"])
    assert hidden_shown_elsewhere(collected) == []
    # A per-stage roll-up shares the stage with a partner's cell but is a coarser unit, not the same one.
    cells = pd.DataFrame({"partner": ["Solent College"], "stage_label": ["Engagement"], "met": ["**"]})
    roll_up = pd.DataFrame({"prime": ["Ingeus"], "stage_label": ["Engagement"], "met": [346]})
    assert hidden_shown_elsewhere(record(cells, roll_up)) == []


# --- member mode: the pages -----------------------------------------------------------------------------------

MEMBER_PAGES = PAGES  # every page, in member mode too


@pytest.mark.parametrize(("page", "query"), MEMBER_PAGES)
def test_member_page_shows_nothing_it_hides_about_other_organisations(page, query, demo_db):
    member = demo_member(demo_db)
    collected = collect(page, demo_db, cutoff=CUTOFF, query=query, member_of=member.partner_id)
    assert "mode: **member**" in " ".join(t.text for t in collected.texts), "the page did not run in member mode"
    assert collected.frames, "nothing was collected: the attack saw no page"
    found = recover_member(collected, member)
    assert found == [], f"{len(found)} recoveries on {collected.page} as {member}:\n{summarise(found)}"
