"""Feedback across the programme (seed 001 Recommendation 10, seed 003): complaints per 100 participants,
complaints resolved in time and satisfaction against the minimum of 3 out of 5, by CPA, prime or partner.

Pure pandas over `queries.feedback_totals` and `queries.flow_totals`; the page publishes the counts (the same
disclosure rules as every page), and every rate and mean here is worked out from the published counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.metrics import known_totals
from dashboard.publication import Publish, Published

# Out of 5: the minimum satisfaction the primes and the VCS sector report against (seed 003's 3-of-5).
SATISFACTION_MINIMUM = 3.0

LEVELS = {
    "contract": (["contract_id", "prime", "cpa_code"], lambda r: f"{r.prime}, CPA {r.cpa_code}"),
    "cpa": (["cpa_code"], lambda r: f"CPA {r.cpa_code}"),
    "prime": (["prime"], lambda r: str(r.prime)),
    "partner": (["partner_id", "partner", "sector"], lambda r: str(r.partner)),
}
COUNTS = ["participants", "complaints", "resolved_in_time", "responses"]
RATES = {"complaint_rate": ("complaints", "participants"), "resolved_share": ("resolved_in_time", "complaints")}


def feedback_by(flows: pd.DataFrame, feedback: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per unit of `level`: participants (attachments in the months chosen), complaints, complaints resolved in
    time, satisfaction responses and the points behind the mean (mean x responses). Units with no feedback
    return are left out; a count a return does not report stays unknown (NaN), never 0."""
    keys, label = LEVELS[level]
    if feedback.empty:
        return pd.DataFrame(columns=["unit", *keys, *COUNTS, "satisfaction_points"])
    pair = ["partner_id", "contract_id"]
    attached = flows.groupby(pair, as_index=False)["attachments"].sum(min_count=1)
    joined = feedback.merge(attached, on=pair, how="left").rename(columns={"attachments": "participants"})
    # A unit's total is unknown when any of its partner contracts' is (one rule: metrics.known_totals).
    out = known_totals(joined, keys, [*COUNTS, "satisfaction_points"])
    out.insert(0, "unit", [label(r) for r in out[keys].itertuples()])
    order = {"contract": ["prime", "cpa_code"], "cpa": ["cpa_code"], "prime": ["prime"], "partner": ["partner"]}[level]
    return out.sort_values(order, ignore_index=True)  # CPA 2 before CPA 10: by the code, not the label's text


def publish_feedback(raw: pd.DataFrame, publish: Publish, level: str, owner: int | None = None) -> Published:
    """The counts as published (participants, complaints, resolved in time, responses), with complaints per
    participant and the share resolved in time (Wilson intervals) from the published counts. The rows are about
    one partner each at partner level, or all about `owner` (one partner's contracts)."""
    keys, _ = LEVELS[level]
    owners = raw["partner_id"] if level == "partner" else pd.Series([owner] * len(raw), index=raw.index, dtype=object)
    return publish(
        raw,
        counts=COUNTS,
        rates=RATES,
        intervals=True,
        owner=owners,
        keep=["unit", *(k for k in keys if k != "partner_id")],
    )


def satisfaction(raw: pd.DataFrame, shown: Published) -> pd.DataFrame:
    """Mean satisfaction per unit, one decimal, only where its published responses are shown, and whether it
    meets the minimum of 3 out of 5."""
    responses = shown.frame["responses"].to_numpy(dtype=float)
    points = raw["satisfaction_points"].to_numpy(dtype=float)
    ok = ~np.isnan(responses) & (responses > 0) & ~np.isnan(points)
    mean = np.full(len(raw), np.nan)
    mean[ok] = np.round(points[ok] / raw["responses"].to_numpy(dtype=float)[ok], 1)
    return pd.DataFrame(
        {
            "satisfaction_mean": mean,
            "against_minimum": [
                "" if np.isnan(m) else ("meets" if m >= SATISFACTION_MINIMUM else "below") for m in mean
            ],
        },
        index=shown.frame.index,
    )
