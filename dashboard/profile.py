"""A partner's profile: its indicators against the all-CPA distribution of partners (the rows of the spine
chart), its quarterly trends and its peers' outcomes."""

from __future__ import annotations

import pandas as pd

from dashboard import benchmarks as bm
from dashboard import metrics, settings, supply_chain

INDICATORS = ("attachment_rate", "job_start_rate", "job_outcome_rate")
TREND_INDICATORS = ("job_start_rate", "job_outcome_rate")
PEER_MEASURE = "job_outcome_rate"


def spine_rows(cohorts: pd.DataFrame, partner_id: int, *, min_n: int | None = None) -> pd.DataFrame:
    """One row per indicator: the partner's value, interval and comparison, and the spread of all partners.

    The partner is pooled over its contracts; the distribution is over partners with at least `min_n`
    (default: the min_denominator setting) in the denominator (smaller ones would stretch the range with noise).
    """
    min_n = settings.get("min_denominator") if min_n is None else min_n
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
        x, n = int(totals[m.x].loc[partner_id]), int(totals[m.n].loc[partner_id])
        lower, upper = metrics.wilson_interval(x, n)
        comparison = metrics.compare_to_benchmark(x, n, benchmark, min_n=min_n)
        rows.append(
            {
                "indicator": m.label,
                "x": x,
                "n": n,
                "value": x / n,
                "lower": lower,
                "upper": upper,
                "benchmark": benchmark,
                "comparison": comparison,
                "minimum": rates.min(),
                "q25": rates.quantile(0.25),
                "median": rates.median(),
                "q75": rates.quantile(0.75),
                "maximum": rates.max(),
                "partners_compared": len(rates),
            }
        )
    return pd.DataFrame(rows)


def trend_lines(series: pd.DataFrame) -> pd.DataFrame:
    """The partner's quarterly job start and job outcome rates with 95% Wilson intervals, one line per
    indicator named in `series` (the measure's label): the rows of its trend chart.

    `series` is `cohort_series` for this partner (over its contracts and the chosen payment groups).
    """
    lines = [bm.quarterly_rates(series, key).assign(series=bm.MEASURES[key].label) for key in TREND_INDICATORS]
    return pd.concat(lines, ignore_index=True)


def trend_labels(series: pd.DataFrame) -> dict[str, str]:
    """Has the partner's job start rate, and its job outcome rate, risen or fallen? Measure label -> the
    chi-square trend label over its five most recent mature quarters."""
    return {bm.MEASURES[key].label: bm.trend_label(bm.quarterly_rates(series, key)) for key in TREND_INDICATORS}


def peer_outcomes(cohorts: pd.DataFrame, partner_id: int) -> pd.DataFrame:
    """Who are the partner's peers, and how do they do? `supply_chain.peer_similarity`'s closest partners by
    payment-group mix, with each one's job outcome x, n, rate and 95% Wilson interval (`outcome_*`)."""
    m = bm.MEASURES[PEER_MEASURE]
    peers = supply_chain.peer_similarity(cohorts, partner_id)
    totals = cohorts.groupby("partner_id")[[m.x, m.n]].sum()
    peers = peers.join(totals, on="partner_id").rename(columns={m.x: "x", m.n: "n"})
    return supply_chain.wilson_columns(peers, "x", "n", "outcome")
