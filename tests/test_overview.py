"""The Overview page's answers, without Streamlit."""

from datetime import date

import pandas as pd

from dashboard import overview


def test_flow_rate_counts_give_each_rates_numerator_and_denominator_unpublished():
    flows = pd.DataFrame({"referrals": [200], "attachments": [151], "job_starts": [40], "job_outcomes": [10]})
    rates = overview.flow_rate_counts(flows)
    assert rates["measure"].tolist() == [label for label, _, _ in overview.FLOW_RATES]
    assert rates[["numerator", "denominator"]].values.tolist() == [[151, 200], [10, 40]]


def test_a_rate_without_a_denominator_or_above_one_is_left_out_not_shown_wrong():
    flows = pd.DataFrame({"referrals": [0], "attachments": [0], "job_starts": [5], "job_outcomes": [9]})
    rates = overview.flow_rate_counts(flows)
    assert rates.empty and list(rates.columns) == overview.RATE_COUNTS


def _flows(rows):
    columns = ["partner_id", "contract_id", "referrals", "attachments", "job_starts", "job_outcomes"]
    return pd.DataFrame(rows, columns=columns)


def test_an_unknown_count_is_left_out_of_totals_and_rates_never_added_as_zero():
    # Partner 2's return has no job outcome column: its outcomes are unknown (NaN), not 0.
    flows = _flows([[1, "c1", 100, 80, 20, 10], [2, "c1", 50, 40, 10, None]])
    totals = overview.flow_totals_of(flows)
    assert totals["job_outcomes"] == 10 and totals["referrals"] == 150
    assert overview.not_reporting(flows).to_dict() == {
        "referrals": 0,
        "attachments": 0,
        "job_starts": 0,
        "job_outcomes": 1,
    }
    rates = overview.flow_rate_counts(flows).set_index("measure")
    # Job outcomes per job start: partner 2's starts leave the denominator with its unknown outcomes.
    assert rates.loc["Job outcomes per job start"].tolist() == [10, 20]
    assert rates.loc["Attachment rate (attachments / referrals)"].tolist() == [120, 150]


def test_a_measure_nobody_reports_has_no_total_rather_than_zero():
    flows = _flows([[1, "c1", 100, 80, 20, None], [2, "c1", 50, 40, 10, None]])
    assert pd.isna(overview.flow_totals_of(flows)["job_outcomes"])
    assert "Job outcomes per job start" not in overview.flow_rate_counts(flows)["measure"].tolist()


def test_the_coverage_grid_marks_a_cpa_month_missing_when_any_partner_contract_due_sent_nothing():
    coverage = pd.DataFrame(
        {
            "cpa_code": [2, 2, 2, 10, 10],
            "partner_id": [1, 2, 1, 3, 3],
            "contract_id": ["CPA02-a", "CPA02-a", "CPA02-a", "CPA10-b", "CPA10-b"],
            "month": pd.to_datetime(["2013-01-01", "2013-01-01", "2013-02-01", "2013-01-01", "2013-03-01"]),
        }
    )
    grid = overview.coverage_by_cpa(coverage, date(2013, 3, 1))
    # Partner 2's MI stops in January and partner 1's in February, both due to March: CPA 2 misses one of two in
    # February and both in March. Partner 3 had a quiet February between January and March: covered. CPAs in
    # number order, not text order.
    assert grid.values.tolist() == [
        ["CPA 2", pd.Timestamp("2013-01-01"), True, 0, 2],
        ["CPA 2", pd.Timestamp("2013-02-01"), False, 1, 2],
        ["CPA 2", pd.Timestamp("2013-03-01"), False, 2, 2],
        ["CPA 10", pd.Timestamp("2013-01-01"), True, 0, 1],
        ["CPA 10", pd.Timestamp("2013-02-01"), True, 0, 1],
        ["CPA 10", pd.Timestamp("2013-03-01"), True, 0, 1],
    ]
    ended = overview.coverage_by_cpa(coverage, date(2013, 2, 1), {"CPA02-a": date(2013, 1, 31)})
    assert ended[ended["unit"] == "CPA 2"]["submitted"].all()  # its contract ended in January: nothing due after


def test_missing_returns_lists_partner_contracts_whose_latest_month_is_before_as_of_oldest_first():
    coverage = pd.DataFrame(
        {
            "contract_id": ["k1"] * 4,
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


def test_partners_of_a_contract_that_ended_owe_no_return_after_its_end():
    coverage = pd.DataFrame(
        {
            "contract_id": ["CPA18-ncg", "CPA18-ncg", "CPA05-x"],
            "partner": ["N1", "N2", "X1"],
            "prime": ["NCG", "NCG", "X"],
            "cpa_code": [18, 18, 5],
            "month": pd.to_datetime(["2015-03-01", "2014-12-01", "2015-03-01"]),
        }
    )
    ends = {"CPA18-ncg": date(2015, 3, 31), "CPA05-x": date(2017, 3, 31)}
    missing = overview.missing_returns(coverage, date(2017, 3, 1), ends)
    # N1 sent up to the contract's end: nothing missing. N2 stopped three months before it; X1's contract runs on.
    assert missing[["partner", "month"]].values.tolist() == [
        ["N2", pd.Timestamp("2014-12-01")],
        ["X1", pd.Timestamp("2015-03-01")],
    ]


def test_a_ratio_of_flows_gets_no_proportion_interval():
    shown = pd.DataFrame(
        {
            "measure": [label for label, _, _ in overview.FLOW_RATES],
            "rate": ["75%", "25%"],
            "rate_low": ["74%", "20%"],
            "rate_high": ["76%", "30%"],
        }
    )
    out = overview.without_ratio_intervals(shown).set_index("measure")
    assert out.loc["Attachment rate (attachments / referrals)", "rate_low"] == "74%"
    assert out.loc["Job outcomes per job start", "rate_low"].startswith("no interval")
