"""Fair benchmarks: rates per CPA, contract or partner with Wilson intervals, a comparator, funnel flags,
case-mix adjustment by payment group and a trend, all following ../shared/reference/methods.md.

Pure pandas over the partner x contract x payment-group counts that `queries` returns; no database, no
Streamlit, so every number on the Benchmarks, Supply chain and Partner pages can be tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import metrics, settings
from dashboard.publication import Policy, Publish, Published
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
        "attach_cohort",
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
    # A partner organisation over all its contracts (the partner scorecard).
    "organisation": (["partner_id", "partner", "sector", "tier"], lambda r: r.partner),
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


def not_reported_units(counts: pd.DataFrame, level: str, measure: Measure) -> list[str]:
    """The units of `level` some of whose returns do not report `measure` (queries.COHORT_MEASURES flags them):
    those referrals are out of the rate's numerator and denominator alike, and a unit with nothing else is not
    in the table at all. One line each, to say why next to the table."""
    flag = f"{measure.x}_not_reported"
    if flag not in counts or not counts[flag].any():
        return []
    keys, label = LEVELS[level]
    keys = [k for k in keys if k in counts]
    units = counts.groupby(keys, as_index=False, dropna=False).agg(flag=(flag, "max"), n=(measure.n, "sum"))
    noun = measure.label.split(" (")[0].lower()
    return [
        f"{label(u)}: "
        + ("not compared, " if u.n == 0 else "part of its cohort left out, ")
        + f"its returns do not report the {noun.removesuffix(' rate')}"
        for u in units[units["flag"] > 0].itertuples()
    ]


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
    adjust: bool = False,
) -> pd.DataFrame:
    """Rates per unit with benchmark, Better/Similar/Worse (95% and 99.8%) and the case-mix adjusted ratio.

    pool_x / pool_n are the comparator's pooled counts behind each unit's benchmark (NaN for a target), so the
    benchmark can be published from published counts (`publish_league`).
    Units with n below `min_n` (default: the min_denominator setting) are 'Not compared', raw and adjusted.
    The verdicts are the funnel's (`verdicts`): with `adjust`, against the overdispersion-adjusted limits, tau2
    estimated once per benchmark over the units compared and kept in column `tau2` for the funnel to draw.
    """
    measure = MEASURES[measure_key]
    min_n = settings.get("min_denominator") if min_n is None else min_n
    table = rates(counts, level, measure)
    if table.empty:
        return table
    if comparator == "all":
        table["benchmark"] = _pooled(counts, measure)
        table["pool_x"], table["pool_n"] = counts[measure.x].sum(), counts[measure.n].sum()
    elif comparator == "mpl":
        if target is None:
            raise ComparatorUnavailable("No minimum performance level applies to this selection.")
        table["benchmark"] = target
        table["pool_x"] = table["pool_n"] = np.nan  # a published target, not a pool
    else:
        key = COMPARATOR_KEYS[comparator]
        if key not in table:
            raise ComparatorUnavailable(f"'{COMPARATORS[comparator]}' does not apply at {level} level.")
        table["benchmark"] = table[key].map(_pooled_by(counts, measure, key))
        pools = counts.groupby(key)[[measure.x, measure.n]].sum()
        table["pool_x"], table["pool_n"] = table[key].map(pools[measure.x]), table[key].map(pools[measure.n])
    table["tau2"] = _tau2(table, min_n) if adjust else np.nan
    table["comparison"], table["comparison_998"] = verdicts(table, min_n)
    adjusted = case_mix(counts, level, measure, comparator, min_n=min_n)
    table = table.merge(adjusted, on="unit", how="left")
    return table.sort_values("rate", ascending=False).reset_index(drop=True)


def _compared(table: pd.DataFrame, min_n: int) -> pd.Series:
    return (table["n"] >= max(min_n, 1)) & table["benchmark"].notna()


def _tau2(table: pd.DataFrame, min_n: int, scale: str = "logit") -> pd.Series:
    """The between-unit variance behind the adjusted limits, one per benchmark, over the units compared with it
    (NaN where none is found or the benchmark has no logit)."""
    tau2 = pd.Series(np.nan, index=table.index)
    compared = table[_compared(table, min_n)]
    for benchmark in compared["benchmark"].unique():
        part = compared[compared["benchmark"] == benchmark]
        if not 0 < benchmark < 1:
            continue
        found = metrics.overdispersion(part["x"], part["n"], benchmark, scale)
        if found["adjusted"]:
            tau2[table["benchmark"] == benchmark] = found["tau2"]
    return tau2


# The funnel's flags (metrics.funnel_flag: above or below the limits) in the league table's words. Every measure
# benchmarked here is better higher, so the funnel, the league table and the ratio chart share one colour meaning.
FLAG_VERDICTS = {
    "High (99.8%)": "Better (99.8%)",
    "High (95%)": "Better (95%)",
    "Not significant": "Similar",
    "Low (95%)": "Worse (95%)",
    "Low (99.8%)": "Worse (99.8%)",
    metrics.NOT_COMPARED: metrics.NOT_COMPARED,
}


def verdicts(table: pd.DataFrame, min_n: int, scale: str = "logit") -> tuple[list[str], list[str]]:
    """Better / Similar / Worse at 95% and at 99.8% for each unit: whether its rate is outside the funnel's limits
    around its benchmark (the plain limits, or the adjusted ones where `tau2` is set), the one rule the league
    table and the funnel share. A unit below `min_n`, or without a benchmark, is Not compared."""
    x, n = table["x"].to_numpy(dtype=float), table["n"].to_numpy(dtype=float)
    bench, tau2 = table["benchmark"].to_numpy(dtype=float), table["tau2"].to_numpy(dtype=float)
    compared = _compared(table, min_n).to_numpy()
    at_95, at_998 = [], []
    for i in range(len(table)):
        if not compared[i]:
            at_95.append(metrics.NOT_COMPARED)
            at_998.append(metrics.NOT_COMPARED)
            continue
        # A benchmark of 0% or 100% has no logit: the plain limits.
        adjusted = None if np.isnan(tau2[i]) or not 0 < bench[i] < 1 else float(tau2[i])
        flag = str(metrics.funnel_flag(np.array([x[i]]), np.array([n[i]]), float(bench[i]), adjusted, scale)[0])
        verdict = FLAG_VERDICTS[flag]
        word = verdict.split(" (")[0]
        at_95.append(word)
        at_998.append(word if "99.8%" in verdict else "Similar")
    return at_95, at_998


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


def trends(series: pd.DataFrame, level: str, measure_key: str, units: list[str] | None = None) -> pd.DataFrame:
    """Trend label over each unit's five most recent mature quarters."""
    measure = MEASURES[measure_key]
    if not has_series(series, measure_key):
        return pd.DataFrame(columns=["unit", "trend"])
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


def has_series(series: pd.DataFrame, measure_key: str) -> bool:
    """Whether `cohort_series` holds the measure's x and n (it has no attachment counts)."""
    measure = MEASURES[measure_key]
    return measure.x in series and measure.n in series


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


# --- publication (issue 10): what the page may show, built from a `publication.publish_table` --------------------
# This module sits below dashboard.publication, so the page hands in `publish` (publish_table with the viewer's
# policy bound) and the policy; nothing here can make a Published itself.

RATIO_DECIMALS = 2  # observed / expected and its interval
LEAGUE_SHOWN = [
    "unit",
    "x",
    "n",
    "rate",
    "lower",
    "upper",
    "benchmark",
    "comparison",
    "comparison_998",
    "expected",
    "ratio",
    "ratio_lower",
    "ratio_upper",
    "adjusted_comparison",
    "trend",
]
_LABELS = ["unit", "comparison", "comparison_998", "adjusted_comparison", "trend"]
_DERIVED = ["benchmark", "expected", "ratio", "ratio_lower", "ratio_upper"]
_RENAME = {"rate_low": "lower", "rate_high": "upper"}


class FunnelUnavailable(ValueError):
    """No one funnel fits: the units shown are compared with different baselines."""


def _owner(raw: pd.DataFrame, owner: str | None) -> pd.Series | None:
    return raw[owner] if owner is not None and owner in raw else None


def _published_rate_order(frame: pd.DataFrame) -> list:
    """Row labels by published rate, highest first, hidden last, ties by unit name: never by a raw value."""
    return frame.sort_values(["rate", "unit"], ascending=[False, True], na_position="last").index.tolist()


def _published_benchmark(raw: pd.DataFrame, policy: Policy) -> pd.Series:
    """Each unit's benchmark at the policy's precision, from the comparator's published pool counts."""
    if "pool_x" not in raw:
        return raw["benchmark"].map(lambda v: np.nan if pd.isna(v) else policy.round_rate(v))
    values = []
    for bench, px, pn in zip(raw["benchmark"], raw["pool_x"], raw["pool_n"]):
        if pd.isna(px) or pd.isna(pn):  # a target (minimum performance level): published as it is
            values.append(np.nan if pd.isna(bench) else float(bench))
            continue
        shown_n = policy.round_count(pn)
        values.append(policy.round_rate(policy.round_count(px) / shown_n) if shown_n > 0 else np.nan)
    return pd.Series(values, index=raw.index, dtype=float)


def _adjusted(raw: pd.DataFrame, frame: pd.DataFrame, owners, policy: Policy) -> pd.DataFrame:
    """Expected, observed / expected and its interval from the PUBLISHED x and n (NaN where either is hidden).

    The expected rate (E / n, the comparator's rates weighted by the unit's case mix) is rounded to the policy's
    precision, so expected = published n x that rate; the viewer's own rows use their exact expected.
    """
    x, n = frame["x"].to_numpy(dtype=float), frame["n"].to_numpy(dtype=float)
    raw_n = raw["n"].to_numpy(dtype=float)
    raw_expected = raw["expected"].to_numpy(dtype=float) if "expected" in raw else np.full(len(raw), np.nan)
    own = np.array([policy.is_own(o) for o in owners], dtype=bool) if owners is not None else np.zeros(len(raw), bool)
    expected = np.full(len(raw), np.nan)
    for i in range(len(raw)):
        if np.isnan(x[i]) or np.isnan(n[i]) or np.isnan(raw_expected[i]) or raw_n[i] <= 0:
            continue
        expected[i] = raw_expected[i] if own[i] else n[i] * policy.round_rate(raw_expected[i] / raw_n[i])
    ratio, low, high = metrics.ratio_intervals(x, n, expected)
    if policy.public:  # a whole count, rounded like every other count in public mode
        shown_expected = [policy.round_count(round(e)) if not np.isnan(e) else np.nan for e in expected]
    else:
        shown_expected = [round(e, 1) if not np.isnan(e) else np.nan for e in expected]
    out = pd.DataFrame(index=raw.index)
    out["expected"] = shown_expected
    for name, values in (("ratio", ratio), ("ratio_lower", low), ("ratio_upper", high)):
        out[name] = [round(v, RATIO_DECIMALS) if not np.isnan(v) else np.nan for v in values]
    return out


def publish_league(
    shown: pd.DataFrame,
    trend: pd.DataFrame | None,
    *,
    publish: Publish,
    policy: Policy,
    owner: str | None = "partner_id",
) -> Published:
    """The league table as published: the units of `shown` (a `benchmark_table`) with their trend label.

    Counts x and n through `publish` (publish_table with the viewer's policy), their column totals published
    too (the funnel's caption gives them), so hidden cells are protected down the columns; rate and its Wilson
    interval (`rate_low`/`rate_high`) from the published counts; the benchmark from the comparator's published
    pool; expected and observed / expected from the published counts (`_adjusted`); verdicts and the trend as
    labels. Rows are ordered by published rate (highest first, hidden last). `owner` names the partner id column
    (partner level), so member mode shows the viewer's own rows exact.
    """
    raw = shown.reset_index(drop=True)
    if trend is not None and not trend.empty:
        raw = raw.merge(trend[["unit", "trend"]], on="unit", how="left")
    for column in _LABELS:
        if column not in raw:
            raw[column] = np.nan
    spec = {
        "counts": ["x", "n"],
        "rates": {"rate": ("x", "n")},
        "intervals": True,
        "totals": ("x", "n"),
    }
    # Order by published rate; publish again in that order until the hidden cells no longer move (secondary
    # suppression may break ties by position), so the order never reflects a value the final table hides.
    raw = raw.sort_values("unit", kind="stable").reset_index(drop=True)
    first = publish(raw, owner=_owner(raw, owner), keep=["unit"], **spec)
    for _ in range(3):
        order = _published_rate_order(first.frame)
        if order == list(range(len(raw))):
            break
        raw = raw.loc[order].reset_index(drop=True)
        first = publish(raw, owner=_owner(raw, owner), keep=["unit"], **spec)
    else:  # never settled: publish in name order, which reflects nothing
        raw = raw.sort_values("unit", kind="stable").reset_index(drop=True)
        first = publish(raw, owner=_owner(raw, owner), keep=["unit"], **spec)
    derived = _adjusted(raw, first.frame, _owner(raw, owner), policy)
    derived["benchmark"] = _published_benchmark(raw, policy)
    final_raw = pd.concat([raw.drop(columns=[c for c in _DERIVED if c in raw]), derived], axis=1)
    return publish(final_raw, owner=_owner(final_raw, owner), keep=[*_LABELS, *_DERIVED], **spec)


def league_view(frame: pd.DataFrame) -> pd.DataFrame:
    """A published league frame (or its `.display()`) in the page's column order and names."""
    out = frame.rename(columns=_RENAME)
    return out[[c for c in LEAGUE_SHOWN if c in out]]


def chart_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A published league `.frame` for the league and ratio charts: observed is the published x."""
    return league_view(frame).assign(observed=lambda d: d["x"])


CHART_UNITS = 40  # units a league or ratio chart draws at once, each with its label
CHART_ENDS = ("highest", "lowest", "all")


def chart_slice(rows: pd.DataFrame, *, adjusted: bool, end: str = "highest", size: int = CHART_UNITS):
    """The units a chart draws and a caption saying which: the `size` highest or lowest by the value the chart
    plots (observed / expected when `adjusted`, else the rate), or all; units whose value is hidden or missing
    are left out and counted. `rows` is `chart_rows(...)`."""
    value = "ratio" if adjusted else "rate"
    what = "observed / expected" if adjusted else "rate"
    plotted = rows.dropna(subset=[value]).sort_values([value, "unit"], ascending=[False, True])
    unplotted = len(rows) - len(plotted)
    if end == "all" or len(plotted) <= size:
        chosen, said = plotted, f"Chart shows all {len(plotted)} units with a {what}"
    else:
        chosen = plotted.head(size) if end == "highest" else plotted.tail(size)
        said = (
            f"Chart shows the {size} {end} by {what} of {len(plotted)}; choose "
            f"{' or '.join(repr(e) for e in CHART_ENDS if e != end)} to see the others"
        )
    if unplotted:
        said += f"; {unplotted} with no {what} shown (small numbers or not compared) are not drawn"
    return chosen.reset_index(drop=True), said + ". The table has them all."


def _grid_end(value: float, up: bool) -> float:
    """A round end for the limit curves' n grid (1, 2 or 5 x 10^k), never an exact unit size."""
    if not value > 0:
        return 1.0
    k = math.floor(math.log10(value))
    steps = [m * 10**j for j in (k - 1, k, k + 1) for m in (1, 2, 5)]
    return float(min(s for s in steps if s >= value) if up else max(s for s in steps if s <= value))


@dataclass(frozen=True)
class Funnel:
    points: pd.DataFrame  # unit, x, n, rate, lower, upper (published) and flag
    curves: pd.DataFrame  # limit curves around the published baseline on a round grid
    baseline: float  # the published comparator baseline (the league's benchmark)
    not_compared: int  # units the league marks Not compared, left out of the funnel
    plain_edges: int = 0  # units at 0% or 100% judged against the plain limits (metrics.plain_limits_for)


def funnel(
    shown: pd.DataFrame,
    published: pd.DataFrame,
    *,
    adjust: bool = False,
    scale: str = "logit",
) -> Funnel:
    """The funnel of the SAME units and baseline as the league table (issue 10 item 4).

    shown: the raw `benchmark_table` rows (x, n, benchmark, comparison); published: the league's published
    frame (`publish_league(...).frame`). Units the league marks Not compared (n below the minimum, or no
    benchmark) are left out. Flags come from the raw counts against the raw benchmark, as the league's
    verdicts do; points are drawn at the published rate and n, the limits around the published benchmark on a
    round grid of n. FunnelUnavailable when the compared units have different benchmarks (one funnel cannot
    show them).
    """
    if shown["unit"].duplicated().any() or published["unit"].duplicated().any():
        raise ValueError("funnel needs one row per unit")
    raw = shown.set_index("unit")
    pub = published.set_index("unit")
    compared = [u for u in pub.index if pub.loc[u, "comparison"] != metrics.NOT_COMPARED]
    not_compared = len(pub) - len(compared)
    benchmarks = raw.loc[compared, "benchmark"].dropna().unique() if compared else np.array([])
    if len(benchmarks) > 1:
        raise FunnelUnavailable(
            "The units shown are each compared with their own comparator's rate, so no one funnel fits them: "
            "filter to one CPA, prime or sector, or compare against all CPAs."
        )
    baseline_raw = float(benchmarks[0]) if len(benchmarks) else float("nan")
    baseline = float(pub.loc[compared, "benchmark"].dropna().iloc[0]) if len(benchmarks) else float("nan")
    points = pub.loc[compared].rename(columns=_RENAME).reset_index()[["unit", "x", "n", "rate", "lower", "upper"]]
    if not compared or not 0 < baseline_raw < 1:
        curves = pd.DataFrame(columns=["n", "low95", "high95", "low998", "high998", "limits"])
        curves.attrs["limits"] = "plain"
        points["flag"] = metrics.NOT_COMPARED
        return Funnel(points, curves, baseline, not_compared)
    x, n = raw.loc[compared, "x"].to_numpy(dtype=float), raw.loc[compared, "n"].to_numpy(dtype=float)
    tau2 = None
    if adjust:  # the league's own tau2 (benchmark_table(adjust=True)), so its verdicts and these flags agree
        found = raw.loc[compared, "tau2"].dropna() if "tau2" in raw else pd.Series(dtype=float)
        tau2 = float(found.iloc[0]) if len(found) else None
    points["flag"] = [FLAG_VERDICTS[str(flag)] for flag in metrics.funnel_flag(x, n, baseline_raw, tau2, scale)]
    plain_edges = int(metrics.plain_limits_for(x, n, tau2, scale).sum())
    sizes = points["n"].dropna()
    sizes = sizes[sizes > 0]
    low, high = (_grid_end(sizes.min(), False), _grid_end(sizes.max(), True)) if len(sizes) else (10.0, 1000.0)
    curve_scale = scale if 0 < baseline < 1 or scale != "logit" else "arcsine"
    if 0 <= baseline <= 1:
        curves = metrics.funnel_curves(baseline, low, high, tau2=tau2, scale=curve_scale)
    else:
        curves = pd.DataFrame(columns=["n", "low95", "high95", "low998", "high998", "limits"])
        curves.attrs["limits"] = "plain"
    return Funnel(points, curves, baseline, not_compared, plain_edges)


def funnel_caption(fun: Funnel, totals: Mapping[str, str], *, adjust: bool, min_n: int, policy: Policy) -> str:
    """Which limits, the baseline at the policy's precision, and the published totals of the units shown."""
    limits = fun.curves.attrs.get("limits", "plain")
    if adjust and limits == "plain":
        limits = "plain (no overdispersion found between units, so no widening is needed)"
    text = f"Limits in use: {limits}."
    if not math.isnan(fun.baseline):
        text += f" Baseline {fun.baseline:.{max(policy.rate_decimals - 2, 0)}%}: the league table's benchmark."
    text += f" All units shown: x = {totals.get('x', '')}, n = {totals.get('n', '')}."
    if fun.plain_edges:
        text += (
            f" {fun.plain_edges} unit(s) at 0% or 100% are judged against the plain limits: the adjusted limits, on "
            "the logit scale, never reach 0% or 100%, so they would flag such a unit whatever its size."
        )
    if fun.not_compared:
        text += f" {fun.not_compared} 'Not compared' (n < {min_n}) left out."
    return text


def publish_quarters(quarters: pd.DataFrame, *, publish: Publish, owner=None) -> Published:
    """One unit's `quarterly_rates` as published: x and n (column totals protected: the league shows the unit's
    total), rate and Wilson interval (`rate_low`/`rate_high`) from the published counts; `owner` its partner id."""
    owners = pd.Series([owner] * len(quarters), index=quarters.index, dtype=object)
    return publish(
        quarters,
        counts=["x", "n"],
        rates={"rate": ("x", "n")},
        intervals=True,
        totals=("x", "n"),
        owner=owners,
        keep=["period"],
    )


def trend_rows(frame: pd.DataFrame, series: str) -> pd.DataFrame:
    """A published quarterly frame for `charts.trend_chart`."""
    return frame.rename(columns=_RENAME).assign(series=series)
