"""Fair benchmarks: rates per CPA, contract or partner with Wilson intervals, a comparator, funnel flags,
case-mix adjustment by payment group and a trend, all following ../shared/reference/methods.md.

Pure pandas over the partner x contract x payment-group counts that `queries` returns; no database, no
Streamlit, so every number on the Benchmarks, Supply chain and Partner pages can be tested directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import metrics, settings
from dashboard.disclosure import round_to_base, suppress_small
from dashboard.queries import Filters
from dashboard.reference import mpl_payment_groups


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    x: str
    n: str
    help: str


MEASURES = {
    "job_outcome_rate": Measure(
        "job_outcome_rate",
        "Job outcome rate (12 months)",
        "job_outcomes",
        "outcome_cohort",
        "Share of a referral cohort with a job outcome within 12 months "
        "of referral; mature cohorts only (12 months plus the qualifying period).",
    ),
    "attachment_rate": Measure(
        "attachment_rate",
        "Attachment rate",
        "attached",
        "start_cohort",
        "Share of a referral cohort attached to the programme; cohorts at least 12 months old.",
    ),
    "job_start_rate": Measure(
        "job_start_rate",
        "Job start rate (12 months)",
        "job_starts",
        "start_cohort",
        "Share of a referral cohort starting a job within 12 months of referral; cohorts at least 12 months old.",
    ),
}
LEVELS = {
    "cpa": (["cpa_code", "cpa_name"], lambda r: f"CPA {r.cpa_code}: {r.cpa_name}"),
    "contract": (["contract_id", "cpa_code", "prime"], lambda r: f"{r.prime}, CPA {r.cpa_code}"),
    "partner": (
        ["partner_id", "contract_id", "partner", "cpa_code", "prime", "sector", "tier"],
        lambda r: f"{r.partner} ({r.prime}, CPA {r.cpa_code})",
    ),
}
COMPARATORS = {
    "all": "All CPAs (the programme)",
    "cpa": "Same CPA",
    "prime": "Same prime",
    "sector": "Same sector",
    "mpl": "Minimum performance level",
}
COMPARATOR_KEYS = {"cpa": "cpa_code", "prime": "prime", "sector": "sector"}


class ComparatorUnavailable(ValueError):
    """The chosen comparator does not apply to this level or selection."""


def rates(counts: pd.DataFrame, level: str, measure: Measure) -> pd.DataFrame:
    """x, n, rate and 95% Wilson interval per unit of `level`."""
    keys, label = LEVELS[level]
    keys = [k for k in keys if k in counts]
    table = counts.groupby(keys, as_index=False, dropna=False)[[measure.x, measure.n]].sum()
    table = table.rename(columns={measure.x: "x", measure.n: "n"})
    table = table[table["n"] > 0].copy()
    table["unit"] = [label(r) for r in table.itertuples()]
    table["rate"] = table["x"] / table["n"]
    table["lower"], table["upper"] = metrics.wilson_intervals(table["x"], table["n"])
    return table.reset_index(drop=True)


def _pooled(counts: pd.DataFrame, measure: Measure) -> float:
    """The rate pooled over every row of `counts`."""
    return counts[measure.x].sum() / counts[measure.n].sum()


def _pooled_by(counts: pd.DataFrame, measure: Measure, key: str) -> pd.Series:
    """The pooled rate of each value of `key` (NaN where its denominator is 0)."""
    g = counts.groupby(key)[[measure.x, measure.n]].sum()
    return g[measure.x] / g[measure.n].where(g[measure.n] > 0)


def mpl_groups_in_words() -> str:
    """The payment groups with a published minimum performance level, as a sentence says them: "PG1, PG2 and PG6"."""
    groups = mpl_payment_groups()
    return " and ".join([", ".join(groups[:-1]), groups[-1]]) if len(groups) > 1 else "".join(groups)


def mpl_benchmark(mpls: pd.DataFrame, payment_groups: tuple[str, ...], period_to) -> float:
    """The minimum performance level of the contract year containing `period_to`, for one payment group."""
    if len(payment_groups) != 1:
        raise ComparatorUnavailable(
            f"Minimum performance levels exist for {mpl_groups_in_words()} only: filter to one of those payment groups."
        )
    rows = mpls[(mpls["payment_group"] == payment_groups[0]) & mpls["mpl"].notna()].copy()
    if rows.empty:
        raise ComparatorUnavailable(f"No minimum performance level is published for {payment_groups[0]}.")
    rows["year_end"] = pd.to_datetime(rows["year_end"])
    eligible = rows[rows["year_end"] >= pd.Timestamp(period_to)] if period_to is not None else rows
    row = (eligible if len(eligible) else rows).sort_values("year_end").iloc[0 if len(eligible) else -1]
    return float(row["mpl"])


def benchmark_table(
    counts: pd.DataFrame,
    level: str,
    measure_key: str,
    comparator: str = "all",
    *,
    min_n: int | None = None,
    target: float | None = None,
) -> pd.DataFrame:
    """Rates per unit with benchmark, Better/Similar/Worse (95% and 99.8%) and the case-mix adjusted ratio.

    Units with n below `min_n` (default: the min_denominator setting) are 'Not compared', raw and adjusted.
    """
    measure = MEASURES[measure_key]
    min_n = settings.get("min_denominator") if min_n is None else min_n
    table = rates(counts, level, measure)
    if table.empty:
        return table
    if comparator == "all":
        table["benchmark"] = _pooled(counts, measure)
    elif comparator == "mpl":
        if target is None:
            raise ComparatorUnavailable("No minimum performance level applies to this selection.")
        table["benchmark"] = target
    else:
        key = COMPARATOR_KEYS[comparator]
        if key not in table:
            raise ComparatorUnavailable(f"'{COMPARATORS[comparator]}' does not apply at {level} level.")
        table["benchmark"] = table[key].map(_pooled_by(counts, measure, key))
    table["comparison"] = metrics.compare_to_benchmark(table["x"], table["n"], table["benchmark"], min_n=min_n)
    table["comparison_998"] = metrics.compare_to_benchmark(
        table["x"], table["n"], table["benchmark"], min_n=min_n, z=metrics.Z998
    )
    adjusted = case_mix(counts, level, measure, comparator, min_n=min_n)
    table = table.merge(adjusted, on="unit", how="left")
    return table.sort_values("rate", ascending=False).reset_index(drop=True)


def units_in_view(table: pd.DataFrame, filters: Filters, prime_names: Mapping[str, str]) -> pd.DataFrame:
    """The rows of a benchmark table that the CPA, prime, sector and tier filters select.

    The comparator pools every unit in the chosen payment groups and years; these filters only choose which
    units are shown against it. `prime_names` maps prime ids (the filter's values) to the table's names.
    """
    shown = table
    for column, value in (("cpa_code", filters.cpa), ("sector", filters.sector), ("tier", filters.tier)):
        if value is not None and column in shown:
            shown = shown[shown[column] == value]
    if filters.prime is not None and "prime" in shown:
        shown = shown[shown["prime"] == prime_names.get(filters.prime)]
    return shown


def case_mix(
    counts: pd.DataFrame, level: str, measure: Measure, comparator: str = "all", *, min_n: int | None = None
) -> pd.DataFrame:
    """Observed / expected per unit, expected from the comparator's rate in each payment group.

    Units with n below `min_n` (default: the min_denominator setting) are 'Not compared'.
    """
    min_n = settings.get("min_denominator") if min_n is None else min_n
    keys, label = LEVELS[level]
    keys = [k for k in keys if k in counts]
    frame = counts[counts[measure.n] > 0].copy()
    if frame.empty:
        return pd.DataFrame(
            columns=["unit", "observed", "expected", "ratio", "ratio_lower", "ratio_upper", "adjusted_comparison"]
        )
    frame["unit"] = [label(r) for r in frame[keys].itertuples()]
    group_key = (
        COMPARATOR_KEYS.get(comparator)
        if comparator in COMPARATOR_KEYS and COMPARATOR_KEYS[comparator] in keys
        else None
    )
    parts = []
    for _, part in frame.groupby(group_key) if group_key else [(None, frame)]:
        reference = part.groupby("payment_group")[[measure.x, measure.n]].sum()
        rates_by_group = (reference[measure.x] / reference[measure.n]).to_dict()
        parts.append(
            metrics.indirect_standardise(
                part, "unit", "payment_group", measure.x, measure.n, reference_rates=rates_by_group
            )
        )
    out = pd.concat(parts, ignore_index=True)
    compared = out["n"] >= min_n
    out["adjusted_comparison"] = np.where(
        ~compared | out["ratio"].isna(),
        metrics.NOT_COMPARED,
        np.where(out["ratio_lower"] > 1, "Better", np.where(out["ratio_upper"] < 1, "Worse", "Similar")),
    )
    return out[["unit", "observed", "expected", "ratio", "ratio_lower", "ratio_upper", "adjusted_comparison"]]


def funnel(
    table: pd.DataFrame, *, adjust: bool = False, scale: str = "logit"
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Funnel points (with flags), limit curves and the baseline P = sum(x) / sum(n) of the units shown."""
    baseline = table["x"].sum() / table["n"].sum()
    tau2 = None
    if adjust:
        od = metrics.overdispersion(table["x"], table["n"], baseline, scale)
        tau2 = od["tau2"] if od["adjusted"] else None
    points = table[["unit", "x", "n", "rate", "lower", "upper"]].copy()
    points["flag"] = metrics.funnel_flag(points["x"], points["n"], baseline, tau2, scale)
    curves = metrics.funnel_curves(baseline, points["n"].min(), points["n"].max(), tau2=tau2, scale=scale)
    return points, curves, baseline


def trends(series: pd.DataFrame, level: str, measure_key: str, units: list[str] | None = None) -> pd.DataFrame:
    """Trend label over each unit's five most recent mature quarters."""
    measure = MEASURES[measure_key]
    keys, label = LEVELS[level]
    keys = [k for k in keys if k in series]
    grouped = series.groupby([*keys, "period"], as_index=False)[[measure.x, measure.n]].sum()
    grouped = grouped[grouped[measure.n] > 0]
    grouped["unit"] = [label(r) for r in grouped[keys].itertuples()]
    rows = []
    for unit, part in grouped.groupby("unit"):
        if units is not None and unit not in units:
            continue
        part = part.sort_values("period")
        result = metrics.trend(part[measure.x].to_numpy(), part[measure.n].to_numpy())
        rows.append({"unit": unit, "trend": result.label})
    return pd.DataFrame(rows, columns=["unit", "trend"])


def quarterly_rates(series: pd.DataFrame, measure_key: str) -> pd.DataFrame:
    """How has the rate moved quarter by quarter? period, x, n, rate and 95% Wilson interval, pooled over
    every row of `series` (a `cohort_series` frame), oldest first; quarters without a cohort are left out."""
    measure = MEASURES[measure_key]
    rows = series.groupby("period", as_index=False)[[measure.x, measure.n]].sum()
    rows = rows[rows[measure.n] > 0].rename(columns={measure.x: "x", measure.n: "n"}).reset_index(drop=True)
    rows["rate"] = rows["x"] / rows["n"]
    rows["lower"], rows["upper"] = metrics.wilson_intervals(rows["x"], rows["n"])
    return rows


def unit_quarterly_rates(series: pd.DataFrame, level: str, measure_key: str, unit: str) -> pd.DataFrame:
    """One unit's `quarterly_rates`, the unit named as `rates` and `trends` name it at `level`."""
    keys, label = LEVELS[level]
    names = pd.Series(
        [label(r) for r in series[[k for k in keys if k in series]].itertuples()], index=series.index, dtype=object
    )
    return quarterly_rates(series.loc[names == unit], measure_key)


def trend_label(rates: pd.DataFrame) -> str:
    """Has the rate risen or fallen? The chi-square trend label over the last five of `quarterly_rates`."""
    return metrics.trend(rates["x"].to_numpy(), rates["n"].to_numpy()).label


def display_table(table: pd.DataFrame, rounding_base: int | None = None) -> pd.DataFrame:
    """What the page shows and downloads: counts 1-4 as '*', their rates suppressed, percentages rounded.

    With `rounding_base` (public mode) the counts shown are rounded to that base; rates and intervals stay
    computed from the unrounded counts, as methods.md's disclosure control says.
    """
    out = table.copy()
    hidden = suppress_small(out["x"]) | suppress_small(out["n"])
    for column in ("rate", "lower", "upper", "benchmark", "ratio", "ratio_lower", "ratio_upper"):
        if column in out:
            out[column] = out[column].astype(float).round(4)
            out.loc[hidden, column] = np.nan
    for column in ("x", "n"):
        small = suppress_small(out[column])
        shown = round_to_base(out[column], rounding_base) if rounding_base else out[column]
        out[column] = ["*" if s else f"{int(v):,}" for v, s in zip(shown, small)]
    for column in ("observed", "expected"):
        if column in out and rounding_base:
            out[column] = round_to_base(out[column].round(), rounding_base)
            out.loc[hidden, column] = np.nan
    return out
