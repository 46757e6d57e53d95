"""Referral cohorts: the one home of "within N months of referral" and of "mature".

A referral cohort is the participants referred in one month. Its job start rate at 12 months counts the
starts within 365 days of referral (the days `v_participants` stores), and the rate is only reported once
the cohort is mature: 12 calendar months after the end of its referral month, plus, for job outcomes, the
payment group's qualifying period (weeks in work before an outcome can be claimed), which callers pass
from data/reference/payment_groups.csv: this module imports nothing of the package, so the schema can use it.
The summaries count with `within_window`, the queries cut with `maturity_cutoffs`, and the schema names its
columns with `window_suffix`, so the three cannot drift.
Methods: ../shared/reference/methods.md, "cohorts".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

# Outcome windows the cohort summaries keep: months after referral -> days since referral that count.
# 365 and 730 days (not calendar months) so a window is one integer comparison on the stored days.
WINDOW_DAYS = {12: 365, 24: 730}


class UnknownWindow(ValueError):
    """An outcome window the summaries do not keep."""


def window_days(months: int) -> int:
    """Days since referral that fall within `months` (12 -> 365, 24 -> 730)."""
    try:
        return WINDOW_DAYS[months]
    except KeyError:
        raise UnknownWindow(
            f"no {months}-month outcome window: the cohort summaries keep "
            f"{', '.join(str(m) for m in WINDOW_DAYS)} months; pick one of those"
        ) from None


def window_suffix(months: int) -> str:
    """The column suffix of a window in the cohort summary: 12 -> "12m"."""
    window_days(months)  # an unknown window is an error here too, not a missing column later
    return f"{months}m"


def within_window(days_since_referral: pd.Series, months: int) -> pd.Series:
    """Whether each event (days after referral, NaN when none) falls within the `months` window."""
    return days_since_referral <= window_days(months)


def maturity_date(cohort_month, months: int = 12, qualifying_weeks: int = 26) -> pd.Timestamp:
    """First day a referral cohort's rate at `months` can be reported."""
    # Count from the end of the cohort month so its last referral has had the full window too.
    after_cohort = (pd.Period(cohort_month, freq="M") + 1).start_time
    return after_cohort + pd.DateOffset(months=months) + pd.Timedelta(weeks=qualifying_weeks)


def is_mature(cohort_month, as_of, months: int = 12, qualifying_weeks: int = 26) -> bool:
    """Whether a cohort is old enough (months plus the outcome's qualifying period) to report."""
    return bool(pd.Timestamp(as_of) >= maturity_date(cohort_month, months, qualifying_weeks))


def latest_mature_month(as_of: date, months: int = 12, qualifying_weeks: int = 0) -> date:
    """The latest referral month that is mature when data runs to the end of `as_of`'s month."""
    data_end = (pd.Timestamp(as_of) + pd.offsets.MonthEnd(0)).date()
    month = pd.Timestamp(as_of).to_period("M")
    while not is_mature(month.start_time, data_end, months, qualifying_weeks):
        month -= 1
    return month.start_time.date()


@dataclass(frozen=True)
class MaturityCutoffs:
    """The latest mature referral month for job starts, and for job outcomes in each payment group."""

    job_starts: date
    job_outcomes: dict[str, date]


def maturity_cutoffs(as_of: date, months: int, qualifying_weeks: dict[str, int]) -> MaturityCutoffs:
    """Cut-offs for cohort rates at `months`, with each payment group's qualifying period.

    `qualifying_weeks` maps payment group code to weeks in work: `reference.qualifying_weeks()`.
    """
    window_days(months)
    by_weeks = {weeks: latest_mature_month(as_of, months, weeks) for weeks in set(qualifying_weeks.values())}
    return MaturityCutoffs(
        job_starts=latest_mature_month(as_of, months, 0),
        job_outcomes={code: by_weeks[weeks] for code, weeks in qualifying_weeks.items()},
    )


def outcome_cutoff_sql(cutoffs: MaturityCutoffs, column: str = "t.payment_group") -> tuple[str, dict[str, date | str]]:
    """A SQL CASE giving each row's outcome cut-off by its payment group, and its bound parameters.

    A group with no cut-off gives NULL, so `referral_month <= NULL` counts none of its rows.
    """
    if not cutoffs.job_outcomes:
        return "NULL", {}
    whens: list[str] = []
    params: dict[str, date | str] = {}
    for i, (code, cut) in enumerate(sorted(cutoffs.job_outcomes.items())):
        whens.append(f"WHEN :outcome_group_{i} THEN :outcome_cut_{i}")
        params[f"outcome_group_{i}"], params[f"outcome_cut_{i}"] = code, cut
    return f"(CASE {column} {' '.join(whens)} END)", params
