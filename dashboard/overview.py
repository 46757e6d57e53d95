"""The Overview page's answers: programme flow totals, the counts behind its flow rates, and data coverage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from dashboard.queries import FLOW_MEASURES

# (what the row says, numerator, denominator): flow rates over the same months, not cohort rates.
FLOW_RATES = (
    ("Attachment rate (attachments / referrals)", "attachments", "referrals"),
    ("Job outcomes per job start", "job_outcomes", "job_starts"),
)
# Rows that are ratios of two flows, not a share of the same people (the outcomes in a month mostly follow starts
# of earlier months): a proportion's interval would claim a precision the ratio does not have, so they get none.
FLOW_RATIOS = ("Job outcomes per job start",)
RATE_COUNTS = ["measure", "numerator", "denominator"]


def flow_totals_of(flows: pd.DataFrame) -> pd.Series:
    """Referrals, attachments, job starts and job outcomes summed over the `queries.flow_totals` rows that report
    them (NaN where none does): a row whose count is unknown is left out, never added as zero;
    `not_reporting` says how many partner contracts that leaves out."""
    return flows[list(FLOW_MEASURES)].sum(min_count=1)


def not_reporting(flows: pd.DataFrame) -> pd.Series:
    """Per flow measure, how many partner contracts have some of it unknown in the selection (a return without
    the column, a count sent suppressed): the totals and rates leave their unknown rows out."""
    unknown = flows[list(FLOW_MEASURES)].isna()
    pairs = flows[["partner_id", "contract_id"]]
    return pd.Series({m: len(pairs[unknown[m]].drop_duplicates()) for m in FLOW_MEASURES}, dtype=int)


def flow_rate_counts(flows: pd.DataFrame) -> pd.DataFrame:
    """Numerator and denominator of each flow rate, unpublished, over the `queries.flow_totals` rows that report
    both counts (a row with either unknown is out of both). The page publishes them (dashboard/publication.py
    computes the rate and its Wilson interval from the published counts). A rate whose denominator is zero, or
    whose numerator exceeds it (flows of different months can), is left out rather than shown wrong."""
    rows = []
    for label, numerator, denominator in FLOW_RATES:
        known = flows[[numerator, denominator]].dropna()
        x, n = known[numerator].sum(), known[denominator].sum()
        if n > 0 and x <= n:
            rows.append([label, int(x), int(n)])
    return pd.DataFrame(rows, columns=RATE_COUNTS)


def coverage_by_cpa(
    coverage: pd.DataFrame, as_of: date | None = None, contract_ends: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """Per CPA and month, whether every partner contract due a return sent one: unit ("CPA n", in CPA order),
    month, submitted (all sent), missing (how many did not), due.

    A partner contract's MI covers each month from its first to its latest with data (returns are cumulative
    caseloads, and a quiet month has no flows), and is due to `as_of`, or to its prime contract's end when that
    came first (`contract_ends`). The months after its latest and up to that are missing: exactly the partner
    contracts `missing_returns` lists, so the grid and the list below it tell one story.
    """
    sent = coverage[["cpa_code", "partner_id", "contract_id", "month"]].drop_duplicates()
    if sent.empty:
        return pd.DataFrame(columns=["unit", "month", "submitted", "missing", "due"])
    last_month = pd.Timestamp(as_of).to_period("M") if as_of else sent["month"].max().to_period("M")
    ends = dict(contract_ends or {})
    due_rows = []
    for (cpa, partner, contract), months in sent.groupby(["cpa_code", "partner_id", "contract_id"])["month"]:
        end = last_month
        ended = ends.get(str(contract))
        if isinstance(ended, (date, pd.Timestamp, str)):  # a missing end arrives as None or NaN
            end = min(end, pd.Timestamp(ended).to_period("M"))
        start, latest = months.min().to_period("M"), months.max().to_period("M")
        for month in pd.period_range(start, max(latest, end), freq="M"):
            due_rows.append((cpa, partner, contract, month.to_timestamp(), month <= latest))
    due = pd.DataFrame(due_rows, columns=["cpa_code", "partner_id", "contract_id", "month", "sent"])
    grid = due.groupby(["cpa_code", "month"], as_index=False).agg(due=("sent", "size"), sent=("sent", "sum"))
    grid = grid.sort_values(["cpa_code", "month"], ignore_index=True)
    return pd.DataFrame(
        {
            "unit": "CPA " + grid["cpa_code"].astype(str),
            "month": grid["month"],
            "submitted": grid["sent"] == grid["due"],
            "missing": (grid["due"] - grid["sent"]).astype(int),
            "due": grid["due"].astype(int),
        }
    )


def missing_returns(
    coverage: pd.DataFrame, as_of: date, contract_ends: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """Partner contracts whose latest month with data is before the month a return is due for: `as_of`, or the
    prime contract's end when it ended earlier (`contract_ends`: contract id -> end date; NCG's CPA 18 contract
    ended in March 2015, so its partners owe nothing after it). Possible missing returns, oldest first."""
    last = coverage.groupby(["contract_id", "partner", "prime", "cpa_code"], as_index=False)["month"].max()
    due = pd.Series(pd.Timestamp(as_of), index=last.index)
    if contract_ends:
        ends = pd.to_datetime(last["contract_id"].map(contract_ends)).dt.to_period("M").dt.to_timestamp()
        due = due.where(ends.isna() | (ends > due), ends)
    missing = last[last["month"] < due]
    return missing.drop(columns="contract_id").sort_values("month").reset_index(drop=True)


def without_ratio_intervals(shown: pd.DataFrame) -> pd.DataFrame:
    """The published flow-rate table (`.display()`) with no interval on the rows that are ratios (FLOW_RATIOS)."""
    out = shown.copy()
    ratios = out["measure"].isin(FLOW_RATIOS)
    out.loc[ratios, ["rate_low", "rate_high"]] = "no interval: a ratio of flows, not a share"
    return out
