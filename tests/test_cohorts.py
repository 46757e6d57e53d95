"""Tests for dashboard.cohorts: outcome windows and maturity, the one definition the summaries and queries use."""

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from dashboard import cohorts, schema
from dashboard.cohorts import (
    MaturityCutoffs,
    UnknownWindow,
    is_mature,
    maturity_cutoffs,
    outcome_cutoff_sql,
    within_window,
)
from dashboard.reference import qualifying_weeks


@pytest.mark.parametrize(
    ("cohort", "as_of", "mature"),
    [
        # January 2024 cohort: from 1 Feb 2024, + 12 months = 1 Feb 2025, + 26 weeks (182 days) = 2 Aug 2025
        ("2024-01", "2025-08-01", False),
        ("2024-01", "2025-08-02", True),
        (pd.Timestamp("2024-01-31"), "2025-08-02", True),
        ("2024-06", "2025-08-02", False),
    ],
)
def test_is_mature_waits_twelve_months_plus_the_qualifying_period(cohort, as_of, mature):
    assert is_mature(cohort, as_of) is mature


def test_is_mature_honours_a_shorter_qualifying_period():
    # 1 Feb 2025 + 13 weeks (91 days) = 3 May 2025
    assert is_mature("2024-01", "2025-05-03", qualifying_weeks=13) is True
    assert is_mature("2024-01", "2025-05-02", qualifying_weeks=13) is False


def test_maturity_cutoffs_leave_out_young_cohorts_by_each_groups_qualifying_period():
    # Data to 31 March 2017. Starts: a February 2016 cohort is mature from 1 March 2017 (+12 months).
    # Outcomes, 26 weeks: August 2015 -> 1 Sep 2015 + 12 months + 182 days = 2 March 2017 <= 31 March.
    # Outcomes, 13 weeks: November 2015 -> 1 Dec 2015 + 12 months + 91 days = 1 March 2017 <= 31 March.
    weeks = qualifying_weeks()
    cut = maturity_cutoffs(date(2017, 3, 1), 12, weeks)
    assert cut.job_starts == date(2016, 2, 1)
    assert set(cut.job_outcomes) == set(weeks) and {13, 26} <= set(weeks.values())
    for code, cutoff in cut.job_outcomes.items():
        assert cutoff == {26: date(2015, 8, 1), 13: date(2015, 11, 1)}[weeks[code]], code


def test_a_qualifying_period_other_than_13_or_26_weeks_gets_its_own_cutoff():
    # 39 weeks = 273 days. June 2015 cohort: 1 July 2016 + 273 days = 31 March 2017, the last day of data;
    # July 2015: 1 August 2016 + 273 days = 1 May 2017, too late. (Mapped to 26 weeks it would be August 2015.)
    cut = maturity_cutoffs(date(2017, 3, 1), 12, {"PGX": 39, "PGY": 26})
    assert cut.job_outcomes == {"PGX": date(2015, 6, 1), "PGY": date(2015, 8, 1)}


def test_cutoffs_at_24_months_are_a_year_earlier():
    assert maturity_cutoffs(date(2017, 3, 1), 24, {"PG1": 26}) == MaturityCutoffs(
        job_starts=date(2015, 2, 1), job_outcomes={"PG1": date(2014, 8, 1)}
    )


def test_an_outcome_window_the_summaries_do_not_keep_is_refused_with_the_choices():
    with pytest.raises(UnknownWindow, match="no 18-month outcome window.*12, 24"):
        maturity_cutoffs(date(2017, 3, 1), 18, {"PG1": 26})
    with pytest.raises(UnknownWindow):
        cohorts.window_suffix(6)


def test_within_window_counts_day_365_and_not_day_366_nor_no_event():
    days = pd.Series([0, 365, 366, None])
    assert within_window(days, 12).tolist() == [True, True, False, False]
    assert within_window(days, 24).tolist() == [True, True, True, False]


def test_cohort_summary_keeps_one_column_per_window_and_measure():
    columns = set(schema.cohort_summary.columns.keys())
    for months in cohorts.WINDOW_DAYS:
        suffix = cohorts.window_suffix(months)
        assert {f"job_starts_{suffix}", f"job_outcomes_{suffix}"} <= columns


def test_outcome_cutoff_sql_gives_each_group_its_cutoff_and_unknown_groups_none():
    cut = MaturityCutoffs(job_starts=date(2016, 2, 1), job_outcomes={"PG1": date(2015, 8, 1), "PG4": date(2015, 11, 1)})
    case, params = outcome_cutoff_sql(cut, column="g")
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT g, {case} FROM (SELECT 'PG1' AS g UNION ALL SELECT 'PG4' UNION ALL SELECT 'PG9') ORDER BY g"),
            params,
        ).all()
    assert rows == [("PG1", "2015-08-01"), ("PG4", "2015-11-01"), ("PG9", None)]
    assert outcome_cutoff_sql(MaturityCutoffs(date(2016, 2, 1), {}))[0] == "NULL"
