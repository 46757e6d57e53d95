"""Partner profile: the spine rows, the quarterly trends and the peers, checked by hand, as published to a public
reader and to a member (issue 10)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from dashboard import benchmarks as bm
from dashboard import metrics, profile
from dashboard.publication import PRIMARY, SECONDARY, Policy, publish_table
from tests.test_benchmarks import ROWS, SERIES, counts

COHORTS = counts(
    [
        *ROWS,
        # C: mostly JSA 18-24 like A, in A's sector; D: all ESA like B.
        (3, "C", "CPA01-x", 1, "One", "X", "vcs", "end_to_end", "PG1", 80, 40, 80, 20, 78),
        (3, "C", "CPA01-x", 1, "One", "X", "vcs", "end_to_end", "PG6", 20, 4, 20, 1, 19),
        (4, "D", "CPA02-y", 2, "Two", "Y", "private", "specialist", "PG6", 60, 12, 60, 6, 58),
    ]
)
# Pooled per partner (attached, job_starts, start_cohort, job_outcomes, outcome_cohort; attach_cohort = start_cohort):
# A 140, 60, 150, 35, 150; B 190, 40, 200, 10, 200; C 97, 44, 100, 21, 100; D 58, 12, 60, 6, 60.
PUBLIC = Policy("public", rounding_base=5, suppress_max=4, rate_decimals=2)
MEMBER_A = Policy("member", rounding_base=1, suppress_max=4, rate_decimals=3, partner_ids=frozenset({1}))
MEMBER_B = Policy("member", rounding_base=1, suppress_max=4, rate_decimals=3, partner_ids=frozenset({2}))
OUTCOME = bm.MEASURES["job_outcome_rate"].label
START = bm.MEASURES["job_start_rate"].label


def publisher(policy: Policy):
    return functools.partial(publish_table, policy=policy)


def quarters(job_outcomes, job_starts=None) -> pd.DataFrame:
    """A partner's cohort_series: one contract, quarters of 50 referrals each."""
    k = len(job_outcomes)
    return pd.DataFrame(
        {
            "partner_id": 1,
            "contract_id": "CPA01-x",
            "period": pd.date_range("2012-01-01", periods=k, freq="QS"),
            "start_cohort": [50] * k,
            "job_starts": job_starts or [20] * k,
            "outcome_cohort": [50] * k,
            "job_outcomes": job_outcomes,
        }
    )


def cohorts_of(series: pd.DataFrame) -> pd.DataFrame:
    """cohort_totals for partner A matching its `quarters` (one payment group), plus partner B."""
    total = series[["start_cohort", "job_starts", "outcome_cohort", "job_outcomes"]].sum()
    a = (1, "A", "CPA01-x", 1, "One", "X", "vcs", "end_to_end", "PG1", *total.tolist(), int(total["start_cohort"]))
    return counts([a, ROWS[2]])


# --- trend ---------------------------------------------------------------------------------------------------


def test_trend_lines_give_both_indicators_quarter_by_quarter():
    lines = profile.trend_lines(profile.publish_trend(SERIES[SERIES["partner_id"] == 1], 1, publisher(MEMBER_A)))
    starts, outcomes = lines[lines["series"] == START], lines[lines["series"] == OUTCOME]
    assert (list(starts["x"]), list(starts["n"])) == ([15, 20], [50, 50])
    assert (list(outcomes["x"]), list(outcomes["n"])) == ([5, 5], [50, 50])
    lower, upper = metrics.wilson_interval(5, 50)
    assert (outcomes["lower"].iloc[0], outcomes["upper"].iloc[0]) == (round(lower, 3), round(upper, 3))
    assert list(lines.columns) == ["period", "series", "x", "n", "rate", "lower", "upper"]


def test_trend_in_public_hides_small_quarters_and_protects_them_against_the_partners_total():
    trend = profile.publish_trend(quarters([3, 12, 20, 30]), 1, publisher(PUBLIC))
    status = trend.status
    assert list(status["job_outcomes"]) == [PRIMARY, SECONDARY, "", ""]  # 12: the smallest that hides the 3
    assert list(status["job_outcome_rate"]) == [PRIMARY, SECONDARY, "", ""]
    assert trend.totals["job_outcomes"] == 65  # published: 3 + 12 cannot be split
    outcomes = profile.trend_lines(trend).query("series == @OUTCOME")
    assert outcomes["x"].isna().tolist() == [True, True, False, False]
    assert list(outcomes["x"].dropna()) == [20, 30] and list(outcomes["rate"].dropna()) == [0.4, 0.6]


def test_trend_labels_name_each_indicator_in_order():
    labels = profile.trend_labels(profile.publish_trend(SERIES[SERIES["partner_id"] == 1], 1, publisher(MEMBER_A)))
    assert list(labels) == [START, OUTCOME]
    assert set(labels.values()) == {metrics.CANNOT_CALCULATE}  # two quarters, five needed


def test_trend_labels_come_from_published_counts():
    series = quarters([5, 10, 15, 20, 25], job_starts=[20, 20, 2, 20, 20])
    mine = profile.trend_labels(profile.publish_trend(series, 1, publisher(MEMBER_A)))
    public = profile.trend_labels(profile.publish_trend(series, 1, publisher(PUBLIC)))
    assert mine[OUTCOME] == public[OUTCOME] == metrics.trend([5, 10, 15, 20, 25], [50] * 5).label
    assert mine[START] != metrics.CANNOT_CALCULATE
    assert public[START] == metrics.CANNOT_CALCULATE  # a hidden quarter among the five


# --- spine ---------------------------------------------------------------------------------------------------


def test_spine_in_public_mode_is_built_from_rounded_counts():
    spine = profile.publish_spine(COHORTS, 1, publisher(PUBLIC), min_n=30)
    row = profile.spine_rows(spine).set_index("indicator").loc[OUTCOME]
    assert (row["x"], row["n"]) == (35, 150)
    assert row["value"] == 0.23
    lower, upper = metrics.wilson_interval(35, 150)
    assert (row["lower"], row["upper"]) == (round(lower, 2), round(upper, 2))
    # pooled published counts: A 35/150, B 10/200, C 20/100 (21 rounded), D 5/60 (6 rounded)
    assert row["benchmark"] == round(70 / 510, 2)
    # published rates: A .23, B .05, C .2, D .08
    assert (row["minimum"], row["median"], row["maximum"]) == (0.05, 0.14, 0.23)
    assert row["partners_compared"] == 4
    assert row["comparison"] == metrics.compare_to_benchmark(35, 150, round(70 / 510, 2), min_n=30)
    shown = spine.display().set_index("indicator").loc[OUTCOME]
    assert (shown["x"], shown["n"], shown["value"]) == ("35", "150", "23%")


def test_spine_for_a_member_is_exact_for_their_own_partner():
    row = profile.spine_rows(profile.publish_spine(COHORTS, 3, publisher(MEMBER_B), min_n=30)).iloc[2]
    assert (row["x"], row["n"], row["value"]) == (21, 100, 0.21)  # C is not B's, but 21 is not small
    row = profile.spine_rows(profile.publish_spine(COHORTS, 1, publisher(MEMBER_A), min_n=30)).iloc[2]
    assert (row["x"], row["n"], row["value"]) == (35, 150, 0.233)
    assert row["benchmark"] == round(72 / 510, 3)  # exact: nothing hidden


def test_spine_hides_a_partners_small_count_and_every_figure_built_on_it():
    cohorts = COHORTS.copy()
    cohorts.loc[cohorts["partner_id"] == 1, "job_outcomes"] = [3, 0]
    spine = profile.publish_spine(cohorts, 1, publisher(MEMBER_B), min_n=30)
    assert spine.status.set_index(spine.frame["indicator"]).loc[OUTCOME, "value"] == PRIMARY
    row = profile.spine_rows(spine).set_index("indicator").loc[OUTCOME]
    assert np.isnan(row["x"]) and np.isnan(row["value"]) and row["comparison"] == metrics.NOT_COMPARED
    assert row["partners_compared"] == 3  # the hidden rate is in no spread
    assert row["benchmark"] == round(37 / 360, 3)  # B, C, D only


def test_spine_withholds_a_count_the_trend_withholds():
    series = quarters([4, 4, 0])  # no cell can hide the two 4s: the trend withholds the total, 8
    trend = profile.publish_trend(series, 1, publisher(PUBLIC))
    assert trend.totals_status["job_outcomes"] == SECONDARY
    spine = profile.publish_spine(cohorts_of(series), 1, publisher(PUBLIC), trend=trend, min_n=30)
    row = profile.spine_rows(spine).set_index("indicator").loc[OUTCOME]
    assert np.isnan(row["x"]) and row["n"] == 150 and np.isnan(row["value"])
    without = profile.spine_rows(profile.publish_spine(cohorts_of(series), 1, publisher(PUBLIC), min_n=30))
    assert without.set_index("indicator").loc[OUTCOME, "x"] == 10  # what the trend keeps back


def test_spine_counts_match_the_trend_totals():
    series = quarters([3, 12, 20, 30])
    for policy in (PUBLIC, MEMBER_A, MEMBER_B):
        trend = profile.publish_trend(series, 1, publisher(policy))
        spine = profile.publish_spine(cohorts_of(series), 1, publisher(policy), trend=trend, min_n=30)
        row = spine.frame.set_index("indicator").loc[OUTCOME]
        assert (row["x"], row["n"]) == (trend.totals["job_outcomes"], trend.totals["outcome_cohort"])


def test_spine_minimum_denominator_defaults_to_the_setting(monkeypatch):
    def compared(**kwargs):
        spine = profile.publish_spine(COHORTS, 1, publisher(MEMBER_A), **kwargs)
        return spine.frame.set_index("indicator").loc[OUTCOME]

    assert compared()["partners_compared"] == 4
    monkeypatch.setenv("WPMI_MIN_DENOMINATOR", "120")
    row = compared()
    assert row["partners_compared"] == 2  # A (150) and B (200); C (100) and D (60) are too small
    assert row["comparison"] == "Better"
    assert compared(min_n=30)["partners_compared"] == 4


def test_spine_is_empty_for_a_partner_without_cohorts():
    spine = profile.publish_spine(COHORTS, 99, publisher(PUBLIC))
    assert spine.frame.empty and isinstance(profile.spine_rows(spine), pd.DataFrame)


# --- peers ---------------------------------------------------------------------------------------------------


def test_peers_rank_by_mix_and_carry_each_peers_outcome_interval():
    peers = profile.publish_peers(COHORTS, 1, publisher(MEMBER_A))
    frame = peers.frame.set_index("partner")
    assert list(frame.index[:1]) == ["C"]  # C's mix (80% PG1) is closest to A's (67% PG1)
    assert 1 not in set(frame["partner_id"])
    assert (frame.loc["C", "x"], frame.loc["C", "n"]) == (21, 100)
    assert frame.loc["C", "outcome_rate"] == 0.21
    lower, upper = metrics.wilson_interval(21, 100)
    assert (frame.loc["C", "outcome_rate_low"], frame.loc["C", "outcome_rate_high"]) == (
        round(lower, 3),
        round(upper, 3),
    )
    shown = peers.display().rename(columns=profile.PEER_NAMES)
    assert {"similarity", "outcome_rate", "outcome_lower", "outcome_upper"} <= set(shown.columns)


def test_peers_in_public_mode_are_rounded_and_ranked_by_published_similarity():
    peers = profile.publish_peers(COHORTS, 1, publisher(PUBLIC)).frame.set_index("partner")
    assert (peers.loc["C", "x"], peers.loc["C", "n"], peers.loc["C", "outcome_rate"]) == (20, 100, 0.2)
    assert (peers.loc["D", "x"], peers.loc["D", "outcome_rate"]) == (5, 0.08)
    assert list(peers["similarity"]) == sorted(peers["similarity"], reverse=True)
    assert all(s == round(s, 2) for s in peers["similarity"])


def test_peer_similarity_uses_the_published_mix():
    cohorts = COHORTS.copy()
    c_esa = (cohorts["partner_id"] == 3) & (cohorts["payment_group"] == "PG6")
    cohorts.loc[c_esa, "start_cohort"] = 3  # hidden in public mode: C's mix is all PG1 there
    public = profile.peer_similarities(cohorts, 1, publisher(PUBLIC)).set_index("partner")
    a = np.array([100, 50]) / 150
    assert public.loc["C", "similarity"] == round(a[0] / np.linalg.norm(a), 2)
    assert profile.peer_similarities(cohorts, 1, publisher(MEMBER_B)).set_index("partner").loc[
        "C", "similarity"
    ] == round(a[0] / np.linalg.norm(a), 3)  # C is not B's: its 3 is hidden from B too
    member_c = Policy("member", rounding_base=1, suppress_max=4, rate_decimals=3, partner_ids=frozenset({3}))
    exact = profile.peer_similarities(cohorts, 1, publisher(member_c)).set_index("partner")
    c = np.array([80, 3]) / 83
    assert exact.loc["C", "similarity"] == round(float(a @ c / np.linalg.norm(a) / np.linalg.norm(c)), 3)


def test_partner_counts_pool_contracts_and_payment_groups():
    table = profile.partner_counts(COHORTS).set_index("partner_id")
    assert table.loc[1, list(profile.COUNTS)].tolist() == [140, 150, 60, 150, 35, 150]
    assert (table.loc[3, "partner"], table.loc[3, "sector"]) == ("C", "vcs")
    assert pytest.approx(profile.publish_partners(COHORTS, publisher(PUBLIC)).frame.loc[0, "job_outcome_rate"]) == 0.23
