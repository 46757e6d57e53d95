"""Referrals against projections per contract or partner: variance, tolerance status and a run-rate forecast.

Pure pandas over `queries.projections_vs_actuals`; methods.md's 'Referrals against projections' section.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import metrics

UNIT_KEYS = {
    "contract": (["contract_id", "prime", "cpa_code"], lambda r: f"{r.prime}, CPA {r.cpa_code}"),
    "partner": (
        ["partner_id", "partner", "contract_id", "prime", "cpa_code", "sector"],
        lambda r: f"{r.partner} ({r.prime}, CPA {r.cpa_code})",
    ),
}


def monthly_by_unit(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Actual and projected referrals per unit and month."""
    keys, label = UNIT_KEYS[level]
    out = frame.groupby([*keys, "month"], as_index=False)[["actual", "projected"]].sum(min_count=1)
    out["unit"] = [label(r) for r in out[keys].itertuples()]
    return out


def variance_table(frame: pd.DataFrame, level: str, tolerance: float = 0.10) -> pd.DataFrame:
    """One row per unit over the selected months: actual, projected, variance and status, largest shortfall first.

    A projected month with no referrals counts as zero only for participant-level partners, and only up to
    their latest return; for aggregate-only partners a missing or suppressed month is left out (unknown,
    not a shortfall).
    """
    frame = frame.copy()
    if "participant_level" in frame:
        zero = frame["participant_level"].fillna(False).astype(bool) & frame["actual"].isna()
        last = frame[frame["actual"].notna()].groupby("partner_id")["month"].max()
        zero &= frame["month"] <= frame["partner_id"].map(last)
        frame.loc[zero, "actual"] = 0
    monthly = monthly_by_unit(frame, level)
    monthly = monthly[monthly["projected"].notna() & monthly["actual"].notna()]
    keys, _ = UNIT_KEYS[level]
    totals = monthly.groupby([*keys, "unit"], as_index=False)[["actual", "projected"]].sum()
    variance = metrics.projection_variance(totals["actual"], totals["projected"], tolerance)
    out = pd.concat(
        [totals, variance.drop(columns=["actual", "projected", "cumulative_variance", "cumulative_variance_pct"])],
        axis=1,
    )
    out["months"] = out["unit"].map(monthly.groupby("unit").size())
    return out.sort_values("variance").reset_index(drop=True)


def chart_frame(monthly: pd.DataFrame, tolerance: float = 0.10, horizon: int = 6) -> pd.DataFrame:
    """One unit's (or the selection's) monthly series with the tolerance band and a labelled forecast."""
    series = monthly.groupby("month", as_index=False)[["actual", "projected"]].sum(min_count=1).sort_values("month")
    series["band_low"] = series["projected"] * (1 - tolerance)
    series["band_high"] = series["projected"] * (1 + tolerance)
    series["kind"] = "actual"
    series["forecast_low"] = np.nan
    series["forecast_high"] = np.nan
    actuals = series.set_index("month")["actual"].dropna()
    if actuals.empty:
        return series
    forecast = metrics.forecast_run_rate(actuals, horizon=horizon)
    forecast = forecast.rename(columns={"lower": "forecast_low", "upper": "forecast_high"})
    forecast["actual"] = np.nan
    forecast["projected"] = np.nan
    forecast["band_low"] = np.nan
    forecast["band_high"] = np.nan
    return pd.concat([series, forecast], ignore_index=True)
