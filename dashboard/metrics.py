"""Pure statistics for fair benchmarking: intervals, funnel limits, comparisons, case-mix, trend.

Each formula follows the shared methods note (the methods PHE Fingertips, NHS SHMI and FunnelPlotR use):
Wilson intervals for proportions, Byar or exact Poisson limits for counts, Spiegelhalter funnel limits
with an optional overdispersion adjustment, indirect standardisation by payment group, the
Cochran-Armitage test for trend, referrals against projections. Cohort maturity lives in
dashboard/cohorts.py. No Streamlit here.
Vectorised functions return a Series when given one (keeping its index), else a numpy array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from dashboard import settings

# Normal quantiles for 95% and 99.8% two-sided limits: scipy.stats.norm.ppf(0.975) and .ppf(0.999), written out
# so the ingest (which reaches this module through compliance) does not import scipy; a test checks the digits.
Z95 = 1.959963984540054
Z998 = 3.090232306167813
# The default smallest denominator compared; callers pass the configured one (setting min_denominator).
# Setting.default is typed object (settings hold ints, floats, strs and dates); min_denominator is declared int.
MIN_DENOMINATOR = cast(int, settings.BY_NAME["min_denominator"].default)
# chi-square with 1 df at 99.8% two-sided: trend needs strong evidence.
TREND_CHI2 = Z998**2
TREND_PERIODS = 5
WINSORISE = 0.10
FUNNEL_Z = {"95%": Z95, "99.8%": Z998}
SCALES = ("logit", "arcsine")
POLARITIES = ("high", "low", None)
# Referrals against projections: where actual referrals fall against the tolerance band.
ABOVE_TOLERANCE, WITHIN_TOLERANCE, BELOW_TOLERANCE = "Above tolerance", "Within tolerance", "Below tolerance"
NOT_COMPARED = "Not compared"
CANNOT_CALCULATE = "Cannot be calculated"
NO_CHANGE = "No significant change"


class InvalidProportion(ValueError):
    """A numerator and denominator that cannot form a proportion."""


class InvalidCount(ValueError):
    """A count that is negative, so it has no Poisson interval."""


class InvalidOption(ValueError):
    """An option (polarity, scale, confidence, tolerance) outside its accepted values."""


class MissingReferenceRate(ValueError):
    """A payment group with no reference rate to standardise against."""


class NotEnoughHistory(ValueError):
    """Too few periods of actuals to forecast from."""


def known_totals(frame: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """`columns` summed per group of `by`, NaN where any row of the group has it unknown (NaN): a count a
    return does not report is not zero, so neither is a total that includes it."""
    sums = frame.groupby(by, dropna=False)[columns].sum(min_count=1)
    unknown = frame[columns].isna().groupby([frame[b] for b in by], dropna=False).any()
    return sums.where(~unknown).reset_index()


def _fmt(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _where(inputs, position: int, count: int) -> str:
    """Say which element was bad, by Series label when there is one."""
    label = next((s.index[position] for s in inputs if isinstance(s, pd.Series)), position)
    more = f", and {count - 1} more" if count > 1 else ""
    return f" (row {label}{more})"


def _check_proportions(x, n, allow_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of x and n, or InvalidProportion naming the first pair that is not a proportion."""
    xa, na = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float))
    rules = [
        (xa < 0, "x={x} is negative: a count cannot be below zero"),
        (na < 0, "n={n} is negative: a denominator cannot be below zero"),
        ((na == 0) & (not allow_empty), "n={n} is zero: a proportion needs a denominator of at least 1"),
        (xa > na, "x={x} is larger than n={n}: a numerator cannot exceed its denominator"),
    ]
    for bad, template in rules:
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            message = template.format(x=_fmt(xa.flat[first]), n=_fmt(na.flat[first]))
            if xa.ndim:
                message += _where((x, n), first, int(bad.sum()))
            raise InvalidProportion(message)
    return xa, na


def _check_option(name: str, value, allowed) -> None:
    if value not in allowed:
        raise InvalidOption(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InvalidOption(f"confidence={confidence} is outside (0, 1): pass e.g. 0.95 for 95%")


def _like(values: np.ndarray, *inputs):
    """Shape labels like the inputs: a Series for Series input, a scalar for scalars, else an array."""
    series = next((s for s in inputs if isinstance(s, pd.Series)), None)
    if series is not None:
        return pd.Series(values, index=series.index)
    if all(np.ndim(v) == 0 for v in inputs):
        return values.item()
    return values


def wilson_intervals(x, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals (lower, upper) for proportions x/n, element by element."""
    xa, na = _check_proportions(x, n)
    z2 = z * z
    centre = 2 * xa + z2
    spread = z * np.sqrt(z2 + 4 * xa * (1 - xa / na))
    denominator = 2 * (na + z2)
    lower, upper = np.clip((centre - spread) / denominator, 0, 1), np.clip((centre + spread) / denominator, 0, 1)
    # At x = 0 and x = n the limit is exactly 0 or 1; rounding left 0.9999999999999999, so 1000/1000 read as
    # significantly below a benchmark of 100%.
    return np.where(xa == 0, 0.0, lower), np.where(xa == na, 1.0, upper)


def wilson_interval(x, n, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (lower, upper) for one proportion x/n."""
    lower, upper = wilson_intervals(x, n, z)
    return float(lower), float(upper)


def byar_intervals(x, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Poisson limits for counts: Byar's approximation for x >= 10, exact (chi-square) below."""
    _check_confidence(confidence)
    xa = np.asarray(x, dtype=float)
    if (xa < 0).any():
        raise InvalidCount(f"x={_fmt(xa[xa < 0].flat[0])} is negative: a count cannot be below zero")
    from scipy import stats  # here, not at the top: only the count pages need it (see Z95)

    alpha = 1 - confidence
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        byar_low = xa * (1 - 1 / (9 * xa) - z / (3 * np.sqrt(xa))) ** 3
        exact_low = np.where(xa > 0, stats.chi2.ppf(alpha / 2, 2 * xa) / 2, 0.0)
    x1 = xa + 1
    byar_high = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
    exact_high = stats.chi2.ppf(1 - alpha / 2, 2 * xa + 2) / 2
    small = xa < 10
    return np.where(small, exact_low, byar_low), np.where(small, exact_high, byar_high)


def byar_interval(x, confidence: float = 0.95) -> tuple[float, float]:
    """Poisson confidence limits (lower, upper) for one count x."""
    lower, upper = byar_intervals(x, confidence)
    return float(lower), float(upper)


def funnel_limits(P: float, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact-binomial-style funnel limits (low, high) around baseline P for denominators n."""
    if not 0 <= P <= 1:
        raise InvalidProportion(f"P={_fmt(P)} is not a proportion: the baseline must be from 0 to 1")
    _, na = _check_proportions(0, n)
    z2 = z * z
    a = P * (na / z2 + 1)
    b = 1 / z2 + 1 / na
    # Rounding can push the discriminant a hair below zero at P = 0 or 1.
    d2 = (8 * P * (na / z2 + 1)) ** 2 - 64 * b * P * (na * (P * (na / z2 + 2) - 1) + z2 * (P - 1))
    d = np.sqrt(np.maximum(d2, 0))
    return np.maximum((a - d / 8) / b / na, 0.0), np.minimum((a + d / 8) / b / na, 1.0)


def _to_scale(p, scale: str):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p)) if scale == "logit" else np.arcsin(np.sqrt(p))


def _from_scale(y, scale: str):
    if scale == "logit":
        return 1 / (1 + np.exp(-y))
    # Clip the angle so sin^2 cannot fold back past 0 or 1 (a known FunnelPlotR quirk).
    return np.sin(np.clip(y, 0, np.pi / 2)) ** 2


def _scale_se(P: float, n, scale: str):
    """Within-unit standard error on the scale (delta method at the baseline)."""
    n = np.asarray(n, dtype=float)
    return 1 / np.sqrt(n * P * (1 - P)) if scale == "logit" else 1 / (2 * np.sqrt(n))


def _check_scale(P: float, scale: str) -> None:
    _check_option("scale", scale, SCALES)
    if scale == "logit" and not 0 < P < 1:
        raise InvalidOption(f"P={_fmt(P)} has no logit: use scale='arcsine' for a baseline of 0 or 1")


def adjusted_funnel_limits(P: float, n, z: float, tau2: float, scale: str = "logit"):
    """Overdispersion-adjusted limits (low, high): target +/- z*sqrt(s^2 + tau2) on the scale, back again."""
    _check_scale(P, scale)
    _, na = _check_proportions(0, n)
    width = z * np.sqrt(_scale_se(P, na, scale) ** 2 + tau2)
    target = _to_scale(P, scale)
    return _from_scale(target - width, scale), _from_scale(target + width, scale)


def _limits(P, n, level: str, tau2, scale):
    z = FUNNEL_Z[level]
    return funnel_limits(P, n, z) if tau2 is None else adjusted_funnel_limits(P, n, z, tau2, scale)


def funnel_curves(
    P: float, n_min: float, n_max: float, points: int = 100, tau2: float | None = None, scale: str = "logit"
) -> pd.DataFrame:
    """The 95% and 99.8% limit curves on `points` geometrically spaced n; column `limits` says which."""
    n = np.geomspace(max(n_min, 1), max(n_max, n_min, 1), points)
    curves = pd.DataFrame({"n": n})
    for level, suffix in (("95%", "95"), ("99.8%", "998")):
        curves[f"low{suffix}"], curves[f"high{suffix}"] = _limits(P, n, level, tau2, scale)
    curves["limits"] = "plain" if tau2 is None else f"overdispersion-adjusted ({scale}, tau2={tau2:.4g})"
    curves.attrs["limits"] = curves["limits"].iloc[0]
    return curves


def _unit_scores(xa, na, P: float, scale: str) -> np.ndarray:
    """Each unit's z-score on the scale against the baseline."""
    p = xa / na
    if scale == "logit":
        # 0 and 1 have no logit; half a person each side (the empirical logit) keeps them finite.
        edge = (xa == 0) | (xa == na)
        p = np.where(edge, (xa + 0.5) / (na + 1), p)
    return (_to_scale(p, scale) - _to_scale(P, scale)) / _scale_se(P, na, scale)


def overdispersion(x, n, P: float | None = None, scale: str = "logit") -> dict:
    """Spiegelhalter's dispersion ratio phi and between-unit variance tau^2 (winsorised z-scores)."""
    xa, na = _check_proportions(x, n)
    keep = ~(np.isnan(xa) | np.isnan(na))
    xa, na = xa[keep], na[keep]
    P = xa.sum() / na.sum() if P is None else P
    _check_scale(P, scale)
    units = len(xa)
    if units < 2:
        return {"phi": float("nan"), "tau2": 0.0, "adjusted": False}
    scores = _unit_scores(xa, na, P, scale)
    low, high = np.quantile(scores, [WINSORISE, 1 - WINSORISE])
    phi = float(np.mean(np.clip(scores, low, high) ** 2))
    tau2 = 0.0
    if units * phi > units - 1:
        w = 1 / _scale_se(P, na, scale) ** 2
        tau2 = max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return {"phi": phi, "tau2": float(tau2), "adjusted": bool(tau2 > 0)}


def plain_limits_for(x, n, tau2: float | None, scale: str = "logit") -> np.ndarray:
    """Which units are judged against the unadjusted limits although overdispersion-adjusted ones are in use:
    those at 0% or 100% on the logit scale. Adjusted logit limits never reach 0 or 1, so such a unit would be
    flagged at 99.8% whatever its size (0/5 against 17%); the plain limits, like FunnelPlotR's for a unit with
    no logit, judge it by its n."""
    xa, na = _check_proportions(x, n)
    if tau2 is None or scale != "logit":
        return np.zeros(xa.shape, dtype=bool)
    return (xa == 0) | (xa == na)


def funnel_flag(x, n, P: float, tau2: float | None = None, scale: str = "logit"):
    """Label each unit High/Low at 95% or 99.8%, or Not significant, against the funnel limits in use (the
    plain limits for the units `plain_limits_for` names)."""
    xa, na = _check_proportions(x, n)
    with np.errstate(invalid="ignore"):
        p = xa / na
    labels = np.full(p.shape, "Not significant", dtype=object)
    edge = plain_limits_for(xa, na, tau2, scale)
    for level in ("95%", "99.8%"):  # 99.8% last so the stronger label wins
        low, high = _limits(P, na, level, tau2, scale)
        if edge.any():
            plain_low, plain_high = funnel_limits(P, na, FUNNEL_Z[level])
            low, high = np.where(edge, plain_low, low), np.where(edge, plain_high, high)
        labels[p > high] = f"High ({level})"
        labels[p < low] = f"Low ({level})"
    labels[np.isnan(p)] = NOT_COMPARED
    return _like(labels, x, n)


def _direction_labels(polarity) -> tuple[str, str]:
    """Labels for (significantly higher, significantly lower) given the polarity."""
    return {"high": ("Better", "Worse"), "low": ("Worse", "Better"), None: ("Higher", "Lower")}[polarity]


def compare_to_benchmark(x, n, benchmark, polarity: str | None = "high", min_n: int = MIN_DENOMINATOR, z: float = Z95):
    """Better / Similar / Worse against a benchmark rate by the Wilson interval (z=Z998 for strong evidence).

    Units with n < min_n, or a missing value, are "Not compared". polarity "high" means high is good,
    "low" means low is good, None gives Higher / Similar / Lower without a judgement.
    """
    _check_option("polarity", polarity, POLARITIES)
    xa, na = _check_proportions(x, n, allow_empty=True)
    bench = np.broadcast_to(np.asarray(benchmark, dtype=float), xa.shape)
    compared = (na >= max(min_n, 1)) & ~np.isnan(xa) & ~np.isnan(bench)
    labels = np.full(xa.shape, NOT_COMPARED, dtype=object)
    lower, upper = wilson_intervals(xa[compared], na[compared], z)
    higher, lower_than = _direction_labels(polarity)
    labels[compared] = np.where(
        lower > bench[compared], higher, np.where(upper < bench[compared], lower_than, "Similar")
    )
    return _like(labels, x, n, benchmark)


def _reference_rates(df: pd.DataFrame, group: str, x: str, n: str, reference_rates) -> pd.Series:
    """Rates per group: the supplied ones, or the pooled rate of every row of df."""
    if reference_rates is not None:
        return pd.Series(reference_rates, dtype=float)
    pooled = df.groupby(group)[[x, n]].sum()
    # A group with no one in it adds nothing to E, so its rate can be anything; 0 avoids NaN.
    return (pooled[x] / pooled[n].where(pooled[n] > 0)).fillna(0.0)


def indirect_standardise(
    df: pd.DataFrame, unit: str, group: str, x: str, n: str, reference_rates=None, confidence: float = 0.95
) -> pd.DataFrame:
    """Observed / expected ratio per unit, expected from each payment group's reference rate.

    Returns one row per unit: n, observed, expected, rate (raw O/n), ratio (O/E) and its interval
    (`ratio_intervals`: binomial, as the outcome is a share of the unit's n). Where E = 0 they are NaN.
    """
    _check_proportions(df[x], df[n], allow_empty=True)
    rates = _reference_rates(df, group, x, n, reference_rates)
    missing = sorted(set(df[group].dropna()) - set(rates.dropna().index), key=str)
    if missing:
        raise MissingReferenceRate(
            f"No reference rate for payment group(s) {', '.join(map(repr, missing))} "
            f"(reference has: {', '.join(map(str, rates.index)) or 'nothing'}). "
            "Add them to reference_rates or leave those rows out."
        )
    rows = df.assign(_expected=df[n] * df[group].map(rates))
    out = rows.groupby(unit).agg(n=(n, "sum"), observed=(x, "sum"), expected=("_expected", "sum"))
    expected = out["expected"].where(out["expected"] > 0)
    from scipy import stats  # here, not at the top: the ingest reaches this module (see Z95)

    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    out["rate"] = out["observed"] / out["n"].where(out["n"] > 0)
    out["ratio"], out["ratio_lower"], out["ratio_upper"] = ratio_intervals(out["observed"], out["n"], expected, z)
    return out.reset_index()


def ratio_intervals(observed, n, expected, z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed / expected and its interval for a binary outcome: the Wilson interval of O/n scaled by n/E.

    O counts people out of n, so its variance is binomial, not Poisson: Byar's limits (for rare events) were
    1.1 to 4.1 times too wide here (4.1 for attachment, where nearly everyone attaches) and could never flag
    a unit. NaN where n or E is 0 or missing."""
    o = np.asarray(observed, dtype=float)
    na = np.asarray(n, dtype=float)
    e = np.asarray(expected, dtype=float)
    ratio, low, high = (np.full(o.shape, np.nan) for _ in range(3))
    ok = ~np.isnan(o) & ~np.isnan(na) & ~np.isnan(e) & (na > 0) & (e > 0)
    if ok.any():
        lower, upper = wilson_intervals(o[ok], na[ok], z)
        scale = na[ok] / e[ok]
        ratio[ok], low[ok], high[ok] = o[ok] / e[ok], lower * scale, upper * scale
    return ratio, low, high


@dataclass(frozen=True)
class Trend:
    """Result of the chi-square test for trend over the most recent periods."""

    label: str
    chi2: float
    slope: float


def _armitage(x: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Cochran-Armitage chi-square and the n-weighted slope of x/n per period."""
    total = n.sum()
    pooled = x.sum() / total
    t_bar = (n * t).sum() / total
    s_tt = (n * (t - t_bar) ** 2).sum()
    score = (x * (t - t_bar)).sum()
    variance = pooled * (1 - pooled) * s_tt
    return (score**2 / variance if variance > 0 else 0.0), score / s_tt


def trend(x, n, polarity: str | None = "high") -> Trend:
    """Significant rise or fall over the 5 most recent periods (inputs ordered oldest to newest)."""
    _check_option("polarity", polarity, POLARITIES)
    xa, na = _check_proportions(x, n, allow_empty=True)
    xa, na = xa[-TREND_PERIODS:], na[-TREND_PERIODS:]
    if len(xa) < TREND_PERIODS or (na <= 0).any() or np.isnan(xa).any() or np.isnan(na).any():
        return Trend(CANNOT_CALCULATE, float("nan"), float("nan"))
    t = np.arange(TREND_PERIODS, dtype=float)
    chi2, slope = _armitage(xa, na, t)
    # Robustness: one unusual period alone must not decide the direction.
    keep_sign = all(
        np.sign(_armitage(np.delete(xa, i), np.delete(na, i), np.delete(t, i))[1]) == np.sign(slope)
        for i in range(TREND_PERIODS)
    )
    if not (chi2 > TREND_CHI2 and keep_sign and slope != 0):
        return Trend(NO_CHANGE, float(chi2), float(slope))
    higher, lower = _direction_labels(polarity)
    direction = "Increasing" if slope > 0 else "Decreasing"
    verdict = higher if slope > 0 else lower
    label = direction if polarity is None else f"{direction} and getting {verdict.lower()}"
    return Trend(label, float(chi2), float(slope))


def projection_variance(actual, projected, tolerance: float = 0.10) -> pd.DataFrame:
    """Actual against projected per period and cumulatively, with a +/- tolerance status."""
    if not tolerance >= 0:
        raise InvalidOption(f"tolerance={tolerance} is negative: pass e.g. 0.10 for +/-10%")
    frame = pd.DataFrame({"actual": actual, "projected": projected}).astype(float)
    frame["variance"] = frame["actual"] - frame["projected"]
    frame["variance_pct"] = frame["variance"] / frame["projected"].where(frame["projected"] != 0)
    cumulative_projected = frame["projected"].cumsum()
    frame["cumulative_variance"] = frame["actual"].cumsum() - cumulative_projected
    frame["cumulative_variance_pct"] = frame["cumulative_variance"] / cumulative_projected.where(
        cumulative_projected != 0
    )
    # A hair of slack so 110 against 100 counts as within +/-10% despite float rounding.
    pct, slack = frame["variance_pct"], 1e-9
    above = (pct > tolerance + slack) | ((frame["projected"] == 0) & (frame["actual"] > 0))
    below = pct < -tolerance - slack
    status = np.where(above, ABOVE_TOLERANCE, np.where(below, BELOW_TOLERANCE, WITHIN_TOLERANCE))
    missing = frame[["actual", "projected"]].isna().any(axis=1)
    frame["status"] = pd.Series(status, index=frame.index, dtype=object).where(~missing, None)
    frame["within_tolerance"] = pd.array((~(above | below)).to_numpy(), dtype="boolean")
    frame.loc[missing, "within_tolerance"] = pd.NA
    return frame


def _months(index) -> pd.PeriodIndex:
    if isinstance(index, pd.PeriodIndex):
        return index.asfreq("M")
    return pd.DatetimeIndex(pd.to_datetime(index)).to_period("M")


def forecast_run_rate(
    monthly_actuals: pd.Series, horizon: int = 6, window: int = 6, confidence: float = 0.95
) -> pd.DataFrame:
    """Project the next `horizon` months at the run rate of the last `window` months.

    Method: the run rate is the mean count of the last `window` months with data (fewer if that is all
    there is). Its interval is the Byar / exact Poisson interval of the window's total count divided by
    the number of months, so it covers the underlying monthly rate, not one month's count, which
    scatters more. Every row has kind="forecast" so charts can style it as a projection.
    """
    actuals = monthly_actuals.dropna()
    if actuals.empty:
        raise NotEnoughHistory("No monthly actuals to forecast from: load at least one month of referrals")
    actuals = actuals.set_axis(_months(actuals.index)).sort_index()
    recent = actuals.iloc[-window:]
    months = len(recent)
    lower, upper = byar_interval(recent.sum(), confidence)
    future = pd.period_range(actuals.index[-1] + 1, periods=horizon, freq="M")
    return pd.DataFrame(
        {
            "month": future if isinstance(monthly_actuals.index, pd.PeriodIndex) else future.to_timestamp(),
            "forecast": recent.sum() / months,
            "lower": lower / months,
            "upper": upper / months,
            "kind": "forecast",
        }
    )
