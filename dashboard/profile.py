"""A partner's indicators against the all-CPA distribution of partners: the rows of the spine chart."""

from __future__ import annotations

import pandas as pd

from dashboard import benchmarks as bm
from dashboard import metrics

INDICATORS = ("attachment_rate", "job_start_rate", "job_outcome_rate")


def spine_rows(cohorts: pd.DataFrame, partner_id: int, *, min_n: int = metrics.MIN_DENOMINATOR) -> pd.DataFrame:
    """One row per indicator: the partner's value, interval and comparison, and the spread of all partners.

    The partner is pooled over its contracts; the distribution is over partners with at least `min_n`
    in the denominator (smaller ones would stretch the range with noise).
    """
    rows = []
    per_partner = cohorts.groupby(["partner_id", "payment_group"], as_index=False).sum(numeric_only=True)
    for key in INDICATORS:
        m = bm.MEASURES[key]
        totals = per_partner.groupby("partner_id")[[m.x, m.n]].sum()
        totals = totals[totals[m.n] > 0]
        if partner_id not in totals.index:
            continue
        benchmark = totals[m.x].sum() / totals[m.n].sum()
        rates = (totals[m.x] / totals[m.n])[totals[m.n] >= min_n]
        x, n = int(totals.loc[partner_id, m.x]), int(totals.loc[partner_id, m.n])
        lower, upper = metrics.wilson_interval(x, n)
        comparison = metrics.compare_to_benchmark(x, n, benchmark, min_n=min_n)
        rows.append({
            "indicator": m.label, "x": x, "n": n, "value": x / n, "lower": lower, "upper": upper,
            "benchmark": benchmark, "comparison": comparison,
            "minimum": rates.min(), "q25": rates.quantile(0.25), "median": rates.median(),
            "q75": rates.quantile(0.75), "maximum": rates.max(), "partners_compared": len(rates),
        })
    return pd.DataFrame(rows)
