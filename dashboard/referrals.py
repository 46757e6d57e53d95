"""Referrals against projections per contract or partner: variance, tolerance status and a run-rate forecast.

Pure pandas over `queries.projections_vs_actuals`; methods.md's 'Referrals against projections' section.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import metrics
from dashboard.publication import Policy

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


def chart_frame(
    monthly: pd.DataFrame, tolerance: float = 0.10, horizon: int = 6, policy: Policy | None = None
) -> pd.DataFrame:
    """One unit's (or the selection's) monthly series with the tolerance band and a labelled forecast.

    Give it the PUBLISHED series (`Published.frame` of `monthly_series`): the band is then built from the
    published projection and the forecast from the published actuals (hidden months left out). The forecast
    and its interval are rounded as the `policy` rounds counts (to 5 in public mode; as computed without one).
    """
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
    if policy is not None:
        for column in ("forecast", "forecast_low", "forecast_high"):
            forecast[column] = [v if pd.isna(v) else policy.round_count(v) for v in forecast[column]]
    forecast["actual"] = np.nan
    forecast["projected"] = np.nan
    forecast["band_low"] = np.nan
    forecast["band_high"] = np.nan
    return pd.concat([series, forecast], ignore_index=True)


# --- what the page publishes (issue 10): raw counts for `publication.publish_table`, then figures derived from
# the published counts only. This module sits below dashboard.publication, so it reads published frames.


def unit_totals(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Raw actual and projected referrals per unit over its counted months: the table to publish.

    Columns: unit, partner_id (partner level; the row's owner for the publication policy), actual, projected,
    months. The months counted are `variance_table`'s (projected, and up to the unit's latest return).
    """
    table = variance_table(frame, level)
    columns = ["unit", *(["partner_id"] if level == "partner" else []), "actual", "projected", "months"]
    return table[columns].reset_index(drop=True)


NOT_PUBLISHED = "Not published (small numbers)"


def variance_from_published(published: pd.DataFrame, tolerance: float = 0.10, rate_decimals: int = 3) -> pd.DataFrame:
    """Variance, variance % and tolerance status from the PUBLISHED actual and projected, largest shortfall first.

    published: a `Published.frame` (actual and projected as published, NaN where hidden). Variance % is shown
    to `rate_decimals` places of a proportion. Rows with a hidden count get no variance and the status
    `NOT_PUBLISHED`; they sort last. Rows are ordered by published variance only (then by unit), so the order
    says nothing the figures do not; the index is `published`'s, so `Published.display().loc[out.index]` lines
    up with it. The status is judged on the published figures too.
    """
    out = published.copy()
    variance = metrics.projection_variance(out["actual"], out["projected"], tolerance)
    out["variance"] = variance["variance"].to_numpy()
    out["variance_pct"] = [round(v, rate_decimals) if pd.notna(v) else np.nan for v in variance["variance_pct"]]
    hidden = out[["actual", "projected"]].isna().any(axis=1).to_numpy()
    out["status"] = np.where(hidden, NOT_PUBLISHED, variance["status"].astype(object).to_numpy())
    out["variance"] = out["variance"].where(~hidden)
    out["variance_pct"] = out["variance_pct"].where(~hidden)
    return out.sort_values(["variance", "unit"], na_position="last", kind="stable")


def monthly_series(frame: pd.DataFrame, level: str, unit: str | None = None) -> pd.DataFrame:
    """Raw actual and projected referrals per month, for one unit or (unit=None) the whole selection: to publish.

    Columns: month, partner_id (the partner the figures are about at partner level, else None: the row's owner
    for the publication policy), actual, projected (NaN where no row had one).
    """
    monthly = monthly_by_unit(frame, level)
    owner = None
    if unit is not None:
        monthly = monthly[monthly["unit"] == unit]
        ids = list(monthly["partner_id"].drop_duplicates()) if level == "partner" else []
        owner = int(ids[0]) if len(ids) == 1 else None
    series = monthly.groupby("month", as_index=False)[["actual", "projected"]].sum(min_count=1)
    series.insert(1, "partner_id", pd.Series([owner] * len(series), index=series.index, dtype=object))
    return series.sort_values("month").reset_index(drop=True)
