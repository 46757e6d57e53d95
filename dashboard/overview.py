"""The Overview page's answers: programme flow totals, the counts behind its flow rates, and data coverage."""

from __future__ import annotations

from datetime import date

import pandas as pd

FLOW_MEASURES = ("referrals", "attachments", "job_starts", "job_outcomes")
# (what the row says, numerator, denominator): flow rates over the same months, not cohort rates.
FLOW_RATES = (
    ("Attachment rate (attachments / referrals)", "attachments", "referrals"),
    ("Job outcomes per job start", "job_outcomes", "job_starts"),
)
RATE_COUNTS = ["measure", "numerator", "denominator"]


def flow_totals_of(flows: pd.DataFrame) -> pd.Series:
    """Referrals, attachments, job starts and job outcomes summed over `queries.flow_totals` rows."""
    return flows[list(FLOW_MEASURES)].sum()


def flow_rate_counts(totals: pd.Series) -> pd.DataFrame:
    """Numerator and denominator of each flow rate, unpublished: the page publishes them (dashboard/publication.py
    computes the rate and its Wilson interval from the published counts). A rate whose denominator is zero, or
    whose numerator exceeds it (flows of different months can), is left out rather than shown wrong."""
    rows = []
    for label, numerator, denominator in FLOW_RATES:
        x, n = totals[numerator], totals[denominator]
        if n > 0 and x <= n:
            rows.append([label, int(x), int(n)])
    return pd.DataFrame(rows, columns=RATE_COUNTS)


def coverage_by_cpa(coverage: pd.DataFrame) -> pd.DataFrame:
    """Which CPAs have data for which months (`queries.coverage` rows): unit, month, submitted."""
    months = coverage[["cpa_code", "month"]].drop_duplicates().sort_values(["cpa_code", "month"])
    return pd.DataFrame(
        {"unit": "CPA " + months["cpa_code"].astype(str), "month": months["month"], "submitted": True}
    ).reset_index(drop=True)


def missing_returns(coverage: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Partner contracts whose latest month with data is before `as_of`: possible missing returns, oldest first."""
    last = coverage.groupby(["partner", "prime", "cpa_code"], as_index=False)["month"].max()
    return last[last["month"] < pd.Timestamp(as_of)].sort_values("month").reset_index(drop=True)
