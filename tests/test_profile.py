"""Partner profile: the spine rows, the quarterly trends and the peers, checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import benchmarks as bm
from dashboard import metrics, profile
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


def test_trend_lines_give_both_indicators_quarter_by_quarter():
    lines = profile.trend_lines(SERIES[SERIES["partner_id"] == 1])
    starts = lines[lines["series"] == bm.MEASURES["job_start_rate"].label]
    outcomes = lines[lines["series"] == bm.MEASURES["job_outcome_rate"].label]
    assert (list(starts["x"]), list(starts["n"])) == ([15, 20], [50, 50])
    assert (list(outcomes["x"]), list(outcomes["n"])) == ([5, 5], [50, 50])
    lower, upper = metrics.wilson_interval(5, 50)
    assert (outcomes["lower"].iloc[0], outcomes["upper"].iloc[0]) == (pytest.approx(lower), pytest.approx(upper))
    assert set(lines.columns) >= {"period", "rate", "lower", "upper", "x", "n", "series"}


def test_trend_labels_name_each_indicator_in_order():
    labels = profile.trend_labels(SERIES[SERIES["partner_id"] == 1])
    assert list(labels) == [bm.MEASURES["job_start_rate"].label, bm.MEASURES["job_outcome_rate"].label]
    assert set(labels.values()) == {metrics.CANNOT_CALCULATE}  # two quarters, five needed


def test_peer_outcomes_rank_by_mix_and_carry_each_peers_outcome_interval():
    peers = profile.peer_outcomes(COHORTS, 1).set_index("partner")
    assert list(peers.index[:1]) == ["C"]  # C's mix (80% PG1) is closest to A's (67% PG1)
    assert 1 not in set(peers["partner_id"])
    assert (peers.loc["C", "x"], peers.loc["C", "n"]) == (21, 100)
    assert peers.loc["C", "outcome_rate"] == pytest.approx(0.21)
    lower, upper = metrics.wilson_interval(21, 100)
    assert (peers.loc["C", "outcome_lower"], peers.loc["C", "outcome_upper"]) == (
        pytest.approx(lower),
        pytest.approx(upper),
    )


def test_spine_rows_minimum_denominator_defaults_to_the_setting(monkeypatch):
    assert (
        profile.spine_rows(COHORTS, 1)
        .set_index("indicator")
        .loc[bm.MEASURES["job_outcome_rate"].label, "partners_compared"]
        == 4
    )
    monkeypatch.setenv("WPMI_MIN_DENOMINATOR", "120")
    row = profile.spine_rows(COHORTS, 1).set_index("indicator").loc[bm.MEASURES["job_outcome_rate"].label]
    assert row["partners_compared"] == 2  # A (150) and B (200); C (100) and D (60) are too small
    assert row["comparison"] == "Better"
    assert (
        profile.spine_rows(COHORTS, 1, min_n=30)
        .set_index("indicator")
        .loc[bm.MEASURES["job_outcome_rate"].label, "partners_compared"]
        == 4
    )


def test_spine_rows_are_empty_for_a_partner_without_cohorts():
    assert profile.spine_rows(COHORTS, 99).empty
    assert isinstance(profile.spine_rows(COHORTS, 99), pd.DataFrame)
