"""Benchmarks: hand-checked tables, and the demo's planted partners found with few false alarms."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import benchmarks as bm
from dashboard import metrics, queries, referrals
from dashboard.db import make_engine


def counts(rows):
    """Partner x contract x payment-group counts as queries.cohort_totals returns them."""
    cols = [
        "partner_id",
        "partner",
        "contract_id",
        "cpa_code",
        "cpa_name",
        "prime",
        "sector",
        "tier",
        "payment_group",
        "start_cohort",
        "job_starts",
        "outcome_cohort",
        "job_outcomes",
        "attached",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    # Every cell here reports attachment, so its denominator is the start cohort (queries.COHORT_MEASURES).
    return frame.assign(attach_cohort=frame["start_cohort"])


ROWS = [
    # partner A: 100 JSA 18-24 (30 outcomes) + 50 ESA (5 outcomes); partner B: 200 ESA (10 outcomes)
    (1, "A", "CPA01-x", 1, "One", "X", "vcs", "end_to_end", "PG1", 100, 50, 100, 30, 95),
    (1, "A", "CPA01-x", 1, "One", "X", "vcs", "end_to_end", "PG6", 50, 10, 50, 5, 45),
    (2, "B", "CPA02-y", 2, "Two", "Y", "private", "specialist", "PG6", 200, 40, 200, 10, 190),
]


def test_benchmark_table_pools_the_comparator_and_keeps_x_and_n():
    table = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate").set_index("partner")
    # pooled benchmark = (30 + 5 + 10) / (100 + 50 + 200) = 45 / 350
    assert table.loc["A", "benchmark"] == pytest.approx(45 / 350)
    assert (table.loc["A", "x"], table.loc["A", "n"]) == (35, 150)
    assert table.loc["A", "rate"] == pytest.approx(35 / 150)
    lower, upper = metrics.wilson_interval(35, 150)
    assert (table.loc["A", "lower"], table.loc["A", "upper"]) == (pytest.approx(lower), pytest.approx(upper))
    assert table.loc["A", "comparison"] == "Better" and table.loc["B", "comparison"] == "Worse"


def test_case_mix_expected_uses_each_payment_groups_rate():
    table = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate").set_index("partner")
    # PG1 rate 30/100 = 0.3; PG6 rate 15/250 = 0.06. A expects 100*0.3 + 50*0.06 = 33; B 200*0.06 = 12.
    assert table.loc["A", "expected"] == pytest.approx(33)
    assert table.loc["B", "expected"] == pytest.approx(12)
    assert table.loc["A", "ratio"] == pytest.approx(35 / 33)
    # B's raw rate is far below the benchmark, but for its all-ESA case mix it is about as expected.
    assert table.loc["B", "adjusted_comparison"] == "Similar"


def test_same_sector_comparator_benchmarks_each_partner_against_its_sector():
    table = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate", "sector").set_index("partner")
    assert table.loc["A", "benchmark"] == pytest.approx(35 / 150)
    assert table.loc["B", "benchmark"] == pytest.approx(10 / 200)


def test_comparator_that_does_not_apply_is_refused():
    with pytest.raises(bm.ComparatorUnavailable, match="does not apply at cpa level"):
        bm.benchmark_table(counts(ROWS), "cpa", "job_outcome_rate", "sector")


def test_minimum_performance_level_needs_one_group():
    mpls = pd.DataFrame(
        {"payment_group": ["PG1", "PG1"], "mpl": [0.33, 0.44], "year_end": ["2013-03-31", "2014-03-31"]}
    )
    assert bm.mpl_benchmark(mpls, ("PG1",), date(2013, 12, 31)) == 0.44
    assert bm.mpl_benchmark(mpls, ("PG1",), date(2012, 12, 31)) == 0.33
    with pytest.raises(bm.ComparatorUnavailable):
        bm.mpl_benchmark(mpls, ("PG1", "PG2"), None)


def test_variance_table_sorts_by_shortfall_and_ignores_months_after_the_last_return():
    frame = pd.DataFrame(
        {
            "partner_id": [1, 1, 1, 2, 2],
            "partner": ["A", "A", "A", "B", "B"],
            "contract_id": ["c"] * 5,
            "prime": ["P"] * 5,
            "cpa_code": [1] * 5,
            "sector": ["vcs"] * 5,
            "month": pd.to_datetime(["2013-01-01", "2013-02-01", "2013-03-01", "2013-01-01", "2013-02-01"]),
            "actual": [50, 40, None, 100, 110],
            "projected": [100, 100, 100, 100, 100],
        }
    )
    table = referrals.variance_table(frame, "partner")
    assert list(table["partner"]) == ["A", "B"]
    assert (table.loc[0, "actual"], table.loc[0, "projected"], table.loc[0, "status"]) == (90, 200, "Below tolerance")
    assert table.loc[1, "status"] == "Within tolerance"


def test_demo_planted_partners_are_flagged_and_few_others_are(demo_db):
    engine = make_engine(demo_db)
    truths = queries.demo_truths(engine)
    counts_ = queries.cohort_totals(engine, as_of=queries.latest_month(engine))
    table = bm.benchmark_table(counts_, "partner", "job_start_rate")
    planted = {(p["partner"], p["contract_id"]): p["direction"] for p in truths["planted"]}
    table["planted"] = [planted.get((r.partner, r.contract_id)) for r in table.itertuples()]
    found = table.dropna(subset=["planted"])
    assert (found["adjusted_comparison"] == found["planted"].str.capitalize()).all(), found[
        ["partner", "planted", "adjusted_comparison", "ratio"]
    ]
    others = table[table["planted"].isna() & (table["adjusted_comparison"] != metrics.NOT_COMPARED)]
    # "Similar" partners still differ a little by design (log-odds sd 0.08), so a handful may be flagged: with the
    # binomial interval of observed / expected (not Poisson's, which was too wide to flag them) about one in seven.
    false_alarms = others["adjusted_comparison"].isin(["Better", "Worse"]).sum()
    assert false_alarms <= 0.15 * len(others), f"{false_alarms} of {len(others)} unplanted partners flagged"


def test_prime_mpl_position_names_each_contracts_worst_group_against_the_latest_published_level():
    from dashboard import supply_chain

    totals = pd.DataFrame(
        {  # two partners of contract A, one of B; PG9 has no published level
            "contract_id": ["A", "A", "A", "B", "B"],
            "partner_id": [1, 2, 1, 3, 3],
            "payment_group": ["PG1", "PG1", "PG2", "PG1", "PG9"],
            "referrals": [100, 100, 50, 80, 40],
            "job_outcomes": [30, 10, 3, 40, 0],
        }
    )
    mpls = pd.DataFrame(
        {"contract_year": [1, 2, 2, 3], "payment_group": ["PG1", "PG1", "PG2", "PG1"], "mpl": [0.05, 0.25, 0.10, None]}
    )
    out = supply_chain.prime_mpl_position(totals, mpls).set_index("contract_id")
    # A: PG1 40/200 = 0.20 vs 0.25 (ratio 0.8, both partners summed); PG2 3/50 = 0.06 vs 0.10 (ratio 0.6): worst
    assert out.loc["A", "worst_group"] == "PG2" and out.loc["A", "ratio_to_mpl"] == pytest.approx(0.6)
    # B: only PG1 counts (PG9 has no level): 40/80 = 0.5 vs 0.25, the year-2 level (year 3 is not published)
    assert (out.loc["B", "worst_group"], out.loc["B", "in_year_rate"], out.loc["B", "mpl"]) == ("PG1", 0.5, 0.25)


def test_case_mix_follows_the_minimum_denominator_passed_in():
    # A has n = 150 and B n = 200: with a minimum of 160, A is too small to compare, adjusted or not.
    table = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate", min_n=160).set_index("partner")
    assert table.loc["A", "comparison"] == metrics.NOT_COMPARED
    assert table.loc["A", "adjusted_comparison"] == metrics.NOT_COMPARED
    assert table.loc["B", "adjusted_comparison"] == "Similar"


def test_case_mix_minimum_denominator_defaults_to_the_setting(monkeypatch):
    monkeypatch.setenv("WPMI_MIN_DENOMINATOR", "160")
    adjusted = bm.case_mix(counts(ROWS), "partner", bm.MEASURES["job_outcome_rate"]).set_index("unit")
    assert adjusted["adjusted_comparison"].to_dict() == {
        "A (X, CPA 1)": metrics.NOT_COMPARED,
        "B (Y, CPA 2)": "Similar",
    }
    table = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate").set_index("partner")
    assert table.loc["A", "comparison"] == table.loc["A", "adjusted_comparison"] == metrics.NOT_COMPARED


def series(rows):
    """Quarterly counts per partner contract, as queries.cohort_series returns them."""
    cols = [
        "cpa_code",
        "cpa_name",
        "contract_id",
        "prime",
        "partner_id",
        "partner",
        "sector",
        "period",
        "start_cohort",
        "job_starts",
        "outcome_cohort",
        "job_outcomes",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


SERIES = series(
    [
        # A holds two contracts; B one. The 2013-04 quarter of A's second contract has no cohort yet.
        (1, "One", "CPA01-x", "X", 1, "A", "vcs", "2013-01-01", 40, 10, 40, 4),
        (1, "One", "CPA01-x", "X", 1, "A", "vcs", "2013-04-01", 50, 20, 50, 5),
        (2, "Two", "CPA02-y", "Y", 1, "A", "vcs", "2013-01-01", 10, 5, 10, 1),
        (2, "Two", "CPA02-y", "Y", 1, "A", "vcs", "2013-04-01", 0, 0, 0, 0),
        (2, "Two", "CPA02-y", "Y", 2, "B", "private", "2013-01-01", 30, 3, 30, 3),
    ]
)


def test_quarterly_rates_pool_each_quarter_with_its_wilson_interval():
    rates = bm.quarterly_rates(SERIES[SERIES["partner_id"] == 1], "job_start_rate")
    assert list(rates["period"]) == list(pd.to_datetime(["2013-01-01", "2013-04-01"]))
    assert (list(rates["x"]), list(rates["n"])) == ([15, 20], [50, 50])  # both contracts summed
    assert list(rates["rate"]) == [pytest.approx(0.3), pytest.approx(0.4)]
    lower, upper = metrics.wilson_interval(15, 50)
    assert (rates.loc[0, "lower"], rates.loc[0, "upper"]) == (pytest.approx(lower), pytest.approx(upper))


def test_quarterly_rates_leave_out_quarters_without_a_cohort():
    rates = bm.quarterly_rates(SERIES[SERIES["contract_id"] == "CPA02-y"], "job_outcome_rate")
    assert list(rates["period"]) == [pd.Timestamp("2013-01-01")]
    assert (rates.loc[0, "x"], rates.loc[0, "n"]) == (4, 40)
    assert bm.quarterly_rates(SERIES.iloc[:0], "job_outcome_rate").empty


def test_unit_quarterly_rates_pick_the_unit_by_the_league_tables_name():
    rates = bm.unit_quarterly_rates(SERIES, "partner", "job_start_rate", "A (Y, CPA 2)")
    assert (list(rates["x"]), list(rates["n"])) == ([5], [10])
    cpa = bm.unit_quarterly_rates(SERIES, "cpa", "job_start_rate", "CPA 2: Two")
    assert (list(cpa["x"]), list(cpa["n"])) == ([8], [40])  # A's and B's contracts in CPA 2
    assert bm.unit_quarterly_rates(SERIES, "cpa", "job_start_rate", "CPA 9: Nowhere").empty


def test_trend_label_needs_five_quarters_and_names_a_rise():
    quarters = pd.DataFrame({"x": [10, 20, 30, 40, 50], "n": [100] * 5})
    assert bm.trend_label(quarters) == metrics.trend(quarters["x"], quarters["n"]).label
    assert bm.trend_label(quarters) not in (metrics.CANNOT_CALCULATE, metrics.NO_CHANGE)
    assert bm.trend_label(quarters.iloc[1:]) == metrics.CANNOT_CALCULATE


def test_mpl_comparator_names_the_groups_with_a_published_level():
    assert bm.mpl_groups_in_words() == "PG1, PG2 and PG6"
    with pytest.raises(bm.ComparatorUnavailable, match="exist for PG1, PG2 and PG6 only"):
        bm.mpl_benchmark(pd.DataFrame(columns=["payment_group", "mpl", "year_end"]), (), None)


def test_units_in_view_keeps_the_units_the_filters_select_and_leaves_the_rest_to_the_comparator():
    table = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d"],
            "cpa_code": [1, 1, 2, 1],
            "sector": ["vcs", "private", "vcs", "vcs"],
            "tier": ["specialist"] * 4,
            "prime": ["Ingeus", "Ingeus", "Ingeus", "A4e"],
        }
    )
    everyone = bm.units_in_view(table, queries.Filters(), {})
    assert everyone["unit"].tolist() == ["a", "b", "c", "d"]
    chosen = bm.units_in_view(table, queries.Filters(cpa=1, sector="vcs", prime="P7"), {"P7": "Ingeus"})
    assert chosen["unit"].tolist() == ["a"]


# --- publication (issue 10) -----------------------------------------------------------------------------------

from dashboard import publication  # noqa: E402
from dashboard.access import Access  # noqa: E402

PUBLIC = publication.Policy.for_access(Access("public"), environ={})
MEMBER_OF_1 = publication.Policy.for_access(Access("member", "partner", partner_ids=frozenset({1})), environ={})


def publisher(policy):
    return lambda raw, **spec: publication.publish_table(raw, policy=policy, **spec)


def league_rows():
    """A benchmark table of six partners, one with x = 3 (suppressed), one with n below 30 (Not compared)."""
    rows = []
    for pid, name, x, n in [
        (1, "A", 33, 151),
        (2, "B", 3, 120),
        (3, "C", 12, 23),
        (4, "D", 58, 212),
        (5, "E", 21, 97),
        (6, "F", 40, 131),
    ]:
        rows.append((pid, name, f"CPA0{pid}-x", 1, "One", "X", "vcs", "end_to_end", "PG1", n, 0, n, x, 0))
    return bm.benchmark_table(counts(rows), "partner", "job_outcome_rate")


def test_benchmark_table_keeps_the_comparators_pool_counts():
    table = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate", "sector").set_index("partner")
    assert (table.loc["A", "pool_x"], table.loc["A", "pool_n"]) == (35, 150)
    mpl = bm.benchmark_table(counts(ROWS), "partner", "job_outcome_rate", "mpl", target=0.3)
    assert mpl["pool_x"].isna().all() and (mpl["benchmark"] == 0.3).all()


def test_publish_league_in_public_mode_gives_only_published_figures():
    table = league_rows()
    league = bm.publish_league(table, None, publish=publisher(PUBLIC), policy=PUBLIC)
    frame = league.frame.set_index("unit")
    shown = frame[["x", "n"]].stack().dropna()
    assert (shown % 5 == 0).all()  # every shown count rounded
    assert league.status.set_index(league.frame["unit"]).loc["B (X, CPA 1)", "x"] == publication.PRIMARY
    # Rates, intervals and the ratio come from the published counts; whole percentages.
    a = frame.loc["A (X, CPA 1)"]
    assert (a["x"], a["n"], a["rate"]) == (35, 150, 0.23)
    assert frame["rate_low"].dropna().eq(frame["rate_low"].dropna().round(2)).all()
    # The benchmark is the comparator's published pool: 165 / 735 (167 / 734 raw) at whole percents.
    assert set(frame["benchmark"]) == {0.22}
    # Expected = published n x the expected rate at the policy's precision, shown rounded like a count.
    assert frame.loc["A (X, CPA 1)", "expected"] % 5 == 0
    assert frame.loc["A (X, CPA 1)", "ratio"] == round(35 / (150 * 0.23), 2)
    # The suppressed unit shows no rate, interval, expected or ratio.
    assert frame.loc["B (X, CPA 1)", ["rate", "rate_low", "expected", "ratio", "ratio_upper"]].isna().all()
    # Rows are ordered by published rate, hidden last; the column totals are published rounded.
    assert list(frame["rate"].dropna()) == sorted(frame["rate"].dropna(), reverse=True)
    assert list(frame.index[-2:]) == ["B (X, CPA 1)", "C (X, CPA 1)"]  # hidden (C: secondary), by name
    assert league.totals_display() == {"x": "165", "n": "735"}
    assert bm.league_view(league.display()).columns.tolist()[:6] == ["unit", "x", "n", "rate", "lower", "upper"]


def test_publish_league_in_member_mode_shows_the_viewers_own_unit_exact():
    table = league_rows()
    league = bm.publish_league(table, None, publish=publisher(MEMBER_OF_1), policy=MEMBER_OF_1)
    frame = league.frame.set_index("unit")
    assert (frame.loc["A (X, CPA 1)", "x"], frame.loc["A (X, CPA 1)", "n"]) == (33, 151)
    assert frame.loc["A (X, CPA 1)", "expected"] == pytest.approx(
        table.set_index("partner").loc["A", "expected"], abs=0.05
    )
    assert frame.loc["A (X, CPA 1)", "rate"] == round(33 / 151, 3)
    assert league.status.set_index(league.frame["unit"]).loc["B (X, CPA 1)", "x"] == publication.PRIMARY


def test_funnel_shows_the_leagues_units_at_their_published_values_around_the_leagues_benchmark():
    table = league_rows()
    league = bm.publish_league(table, None, publish=publisher(PUBLIC), policy=PUBLIC)
    fun = bm.funnel(table, league.frame, adjust=False)
    # C (n = 23) is Not compared in the league, so it is not in the funnel; B is in, but without a rate.
    assert fun.not_compared == 1 and "C (X, CPA 1)" not in set(fun.points["unit"])
    compared = league.frame[league.frame["comparison"] != metrics.NOT_COMPARED]
    assert set(fun.points["unit"]) == set(compared["unit"])
    merged = fun.points.merge(league.frame, on="unit", suffixes=("", "_league"))
    assert merged["n"].equals(merged["n_league"]) and merged["rate"].equals(merged["rate_league"])
    assert fun.baseline == 0.22
    # Limits on a round grid, never starting at a unit's exact size.
    assert (fun.curves["n"].iloc[0], fun.curves["n"].iloc[-1]) == (pytest.approx(50), pytest.approx(500))
    flags = fun.points.set_index("unit")["flag"]
    assert flags["D (X, CPA 1)"] == "Similar"


def test_funnel_refuses_units_compared_with_different_benchmarks():
    rows = [r for r in ROWS] + [(3, "C", "CPA02-z", 2, "Two", "Z", "vcs", "end_to_end", "PG6", 60, 0, 60, 9, 0)]
    table = bm.benchmark_table(counts(rows), "partner", "job_outcome_rate", "sector", min_n=1)
    league = bm.publish_league(table, None, publish=publisher(PUBLIC), policy=PUBLIC)
    with pytest.raises(bm.FunnelUnavailable, match="own comparator"):
        bm.funnel(table, league.frame)


def test_funnel_caption_gives_the_published_baseline_and_totals():
    table = league_rows()
    league = bm.publish_league(table, None, publish=publisher(PUBLIC), policy=PUBLIC)
    fun = bm.funnel(table, league.frame, adjust=True)
    text = bm.funnel_caption(fun, league.totals_display(), adjust=True, min_n=30, policy=PUBLIC)
    assert "Baseline 22%" in text and "x = 165, n = 735" in text and "1 'Not compared'" in text


def test_grid_ends_are_round_numbers_around_the_sizes():
    assert (bm._grid_end(23, False), bm._grid_end(212, True)) == (20, 500)
    assert (bm._grid_end(5, False), bm._grid_end(1000, True)) == (5, 1000)


def test_publish_quarters_rounds_and_protects_the_quarters_of_one_unit():
    quarters = bm.unit_quarterly_rates(SERIES, "partner", "job_outcome_rate", "A (X, CPA 1)")
    published = bm.publish_quarters(quarters, publish=publisher(PUBLIC))
    frame = bm.trend_rows(published.frame, "A")
    assert list(frame["x"].isna()) == [True, True]  # 4 is suppressed, and so its partner (column total shown)
    assert set(frame.columns) >= {"period", "x", "n", "rate", "lower", "upper", "series"}
    own = bm.publish_quarters(quarters, publish=publisher(MEMBER_OF_1), owner=1)
    assert list(own.frame["x"]) == [4, 5]


def test_trends_without_the_measure_in_the_series_are_empty_not_an_error():
    assert not bm.has_series(SERIES, "attachment_rate")
    assert bm.trends(SERIES, "partner", "attachment_rate").empty


def overdispersed_rows(units: int = 40, seed: int = 7):
    """Partners whose true rates scatter well beyond chance (log-odds sd 0.5), sizes 40 to 400, and one at 0%."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(1, units + 1):
        n = int(rng.integers(40, 400))
        p = 1 / (1 + np.exp(-(np.log(0.2 / 0.8) + rng.normal(0, 0.5))))
        x = 0 if pid == 1 else int(rng.binomial(n, p))
        rows.append((pid, f"P{pid:02d}", "CPA01-x", 1, "One", "X", "vcs", "end_to_end", "PG1", n, 0, n, x, 0))
    return counts(rows)


def test_the_league_table_and_the_funnel_give_one_verdict_with_widened_limits_too():
    rows = overdispersed_rows()
    table = bm.benchmark_table(rows, "partner", "job_outcome_rate", min_n=30, adjust=True)
    league = bm.publish_league(table, None, publish=publisher(MEMBER_OF_1), policy=MEMBER_OF_1)
    fun = bm.funnel(table, league.frame, adjust=True)
    assert fun.curves.attrs["limits"].startswith("overdispersion-adjusted")
    # The funnel says it in the table's own words (before: High / Low / Not significant, in other colours).
    flags = fun.points.set_index("unit")["flag"].map(lambda f: f.split(" (")[0])
    verdict = table.set_index("unit")["comparison"]
    assert (flags == verdict.loc[flags.index]).all()
    # The widening matters here: the plain limits would call more units Better or Worse.
    plain = bm.benchmark_table(rows, "partner", "job_outcome_rate", min_n=30)
    assert (plain["comparison"] != "Similar").sum() > (table["comparison"] != "Similar").sum()


def test_a_unit_at_0_percent_is_judged_by_its_size_under_widened_limits_and_the_caption_says_so():
    rows = overdispersed_rows()
    rows.loc[0, ["start_cohort", "outcome_cohort", "attach_cohort"]] = 35  # 0 of 35 against about 20%
    table = bm.benchmark_table(rows, "partner", "job_outcome_rate", min_n=30, adjust=True).set_index("unit")
    zero = table.loc["P01 (X, CPA 1)"]
    assert (zero["x"], zero["n"]) == (0, 35)
    # Plain limits at n = 35 and about 20%: 0/35 is below the 95% limit (0.067) but not the 99.8% one (0).
    assert (zero["comparison"], zero["comparison_998"]) == ("Worse", "Similar")
    league = bm.publish_league(table.reset_index(), None, publish=publisher(MEMBER_OF_1), policy=MEMBER_OF_1)
    fun = bm.funnel(table.reset_index(), league.frame, adjust=True)
    text = bm.funnel_caption(fun, league.totals_display(), adjust=True, min_n=30, policy=MEMBER_OF_1)
    assert fun.plain_edges == 1 and "1 unit(s) at 0% or 100% are judged against the plain limits" in text


def test_a_chart_of_many_units_can_show_the_lowest_and_says_how_many_it_leaves_out():
    rows = pd.DataFrame(
        {
            "unit": [f"U{i:03d}" for i in range(100)],
            "rate": [i / 100 for i in range(98)] + [np.nan, np.nan],
            "ratio": [1 + (i - 50) / 100 for i in range(100)],
        }
    )
    highest, said = bm.chart_slice(rows, adjusted=False, end="highest", size=40)
    assert highest["rate"].min() == 0.58 and len(highest) == 40
    assert "the 40 highest by rate of 98" in said and "2 with no rate shown" in said
    lowest, said = bm.chart_slice(rows, adjusted=False, end="lowest", size=40)
    assert lowest["rate"].max() == 0.39 and "'highest' or 'all'" in said
    worst, _ = bm.chart_slice(rows, adjusted=True, end="lowest", size=10)
    assert set(worst["unit"]) == {f"U{i:03d}" for i in range(10)}  # ordered by observed / expected, not the rate
    everything, said = bm.chart_slice(rows, adjusted=False, end="all")
    assert len(everything) == 98 and said.startswith("Chart shows all 98 units")
