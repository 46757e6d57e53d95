"""The Overview page's answers, without Streamlit."""

from datetime import date

import pandas as pd

from dashboard import overview


def test_flow_rate_counts_give_each_rates_numerator_and_denominator_unpublished():
    totals = pd.Series({"referrals": 200, "attachments": 151, "job_starts": 40, "job_outcomes": 10})
    rates = overview.flow_rate_counts(totals)
    assert rates["measure"].tolist() == [label for label, _, _ in overview.FLOW_RATES]
    assert rates[["numerator", "denominator"]].values.tolist() == [[151, 200], [10, 40]]


def test_a_rate_without_a_denominator_or_above_one_is_left_out_not_shown_wrong():
    totals = pd.Series({"referrals": 0, "attachments": 0, "job_starts": 5, "job_outcomes": 9})
    rates = overview.flow_rate_counts(totals)
    assert rates.empty and list(rates.columns) == overview.RATE_COUNTS


def test_coverage_by_cpa_marks_each_cpa_month_once():
    coverage = pd.DataFrame(
        {
            "cpa_code": [2, 2, 2, 10],
            "partner_id": [1, 2, 1, 3],
            "month": pd.to_datetime(["2013-01-01", "2013-01-01", "2013-02-01", "2013-01-01"]),
        }
    )
    grid = overview.coverage_by_cpa(coverage)
    assert grid.values.tolist() == [
        ["CPA 2", pd.Timestamp("2013-01-01"), True],
        ["CPA 2", pd.Timestamp("2013-02-01"), True],
        ["CPA 10", pd.Timestamp("2013-01-01"), True],
    ]


def test_missing_returns_lists_partner_contracts_whose_latest_month_is_before_as_of_oldest_first():
    coverage = pd.DataFrame(
        {
            "partner": ["A", "A", "B", "C"],
            "prime": ["P"] * 4,
            "cpa_code": [1] * 4,
            "month": pd.to_datetime(["2013-01-01", "2013-03-01", "2012-11-01", "2013-02-01"]),
        }
    )
    missing = overview.missing_returns(coverage, date(2013, 3, 1))
    assert missing[["partner", "month"]].values.tolist() == [
        ["B", pd.Timestamp("2012-11-01")],
        ["C", pd.Timestamp("2013-02-01")],
    ]
