"""Tests for dashboard.metrics: every expected number is worked out by hand in the comments."""

from math import log, sqrt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2 as chi2_dist

from dashboard import metrics
from dashboard.metrics import (
    MIN_DENOMINATOR,
    Z95,
    Z998,
    InvalidOption,
    InvalidProportion,
    MissingReferenceRate,
    NotEnoughHistory,
    adjusted_funnel_limits,
    byar_interval,
    byar_intervals,
    compare_to_benchmark,
    forecast_run_rate,
    funnel_curves,
    funnel_flag,
    funnel_limits,
    indirect_standardise,
    overdispersion,
    plain_limits_for,
    projection_variance,
    ratio_intervals,
    trend,
    wilson_interval,
    wilson_intervals,
)


def test_normal_quantiles_written_out_are_scipys_to_the_last_digit():
    from scipy.stats import norm

    assert float(norm.ppf(0.975)) == Z95
    assert float(norm.ppf(0.999)) == Z998
    assert metrics.FUNNEL_Z == {"95%": Z95, "99.8%": Z998}


# z^2 at 95% = 1.959964^2 = 3.841458881; at 99.8% = 3.090232^2 = 9.549533814.


@pytest.mark.parametrize(
    ("x", "n", "z", "lower", "upper"),
    [
        # sqrt(3.841459 + 4*10*(1 - 10/50)) = sqrt(35.841459) = 5.986774; times z = 11.733861
        # lower = (20 + 3.841459 - 11.733861) / (2*(50 + 3.841459)) = 12.107598 / 107.682918
        # upper = (20 + 3.841459 + 11.733861) / 107.682918 = 35.575320 / 107.682918
        (10, 50, Z95, 0.112437, 0.330371),
        # 99.8%: sqrt(9.549534 + 32) = 6.445893, times z = 19.919304, denominator 2*59.549534
        # lower = (20 + 9.549534 - 19.919304) / 119.099068; upper = (29.549534 + 19.919304) / 119.099068
        (10, 50, Z998, 0.080859, 0.415359),
        # x = 0: the root is sqrt(z^2) = z, so lower = 0 and upper = 2z^2 / 2(n + z^2) = 3.841459 / 13.841459
        (0, 10, Z95, 0.0, 0.277533),
        # x = n: the root is z again, so lower = 2n / 2(n + z^2) = 10 / 13.841459 and upper = 1
        (10, 10, Z95, 0.722467, 1.0),
    ],
)
def test_wilson_interval_matches_hand_computed_values(x, n, z, lower, upper):
    assert wilson_interval(x, n, z) == pytest.approx((lower, upper), abs=1e-6)


def test_wilson_intervals_agree_with_the_scalar_version_element_by_element():
    lower, upper = wilson_intervals(pd.Series([10, 0, 10]), pd.Series([50, 10, 10]))
    assert lower == pytest.approx([0.112437, 0.0, 0.722467], abs=1e-6)
    assert upper == pytest.approx([0.330371, 0.277533, 1.0], abs=1e-6)


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        (5, 3, "x=5 is larger than n=3: a numerator cannot exceed its denominator"),
        (-1, 10, "x=-1 is negative: a count cannot be below zero"),
        (0, 0, "n=0 is zero: a proportion needs a denominator of at least 1"),
        (0, -2, "n=-2 is negative: a denominator cannot be below zero"),
        (2.5, 1.5, "x=2.5 is larger than n=1.5: a numerator cannot exceed its denominator"),
    ],
)
def test_wilson_interval_rejects_impossible_proportions_with_a_clear_message(x, n, message):
    with pytest.raises(InvalidProportion) as raised:
        wilson_interval(x, n)
    assert str(raised.value) == message


def test_vectorised_validation_names_the_first_bad_row_by_its_label():
    x = pd.Series([1, 7, 9], index=["north", "south", "east"])
    n = pd.Series([10, 5, 8], index=["north", "south", "east"])
    with pytest.raises(InvalidProportion) as raised:
        wilson_intervals(x, n)
    assert str(raised.value) == (
        "x=7 is larger than n=5: a numerator cannot exceed its denominator (row south, and 1 more)"
    )


def test_byar_interval_for_ten_or_more_uses_byars_formula():
    # x = 20, z = 1.959964: 1/(9*20) = 0.005556, z/(3*sqrt(20)) = 0.146087 -> 0.848357^3 = 0.610571 -> *20
    # upper: 1/(9*21) = 0.005291, z/(3*sqrt(21)) = 0.142566 -> 1.137275^3 = 1.470947 -> *21
    assert byar_interval(20) == pytest.approx((12.211429, 30.889880), abs=1e-5)


def test_byar_interval_switches_to_byar_exactly_at_ten():
    z = 1.959964
    byar_lower = 10 * (1 - 1 / 90 - z / (3 * sqrt(10))) ** 3
    byar_upper = 11 * (1 - 1 / 99 + z / (3 * sqrt(11))) ** 3
    assert byar_interval(10) == pytest.approx((byar_lower, byar_upper), rel=1e-6)


@pytest.mark.parametrize(
    ("x", "lower", "upper"),
    [
        # methods.md: chi2.ppf(0.025, 2x)/2 and chi2.ppf(0.975, 2x + 2)/2; tables give 1.2373/2, 17.5345/2
        (3, chi2_dist.ppf(0.025, 6) / 2, chi2_dist.ppf(0.975, 8) / 2),
        (9, chi2_dist.ppf(0.025, 18) / 2, chi2_dist.ppf(0.975, 20) / 2),
        # x = 0: lower is 0; chi-square with 2 df has ppf(q) = -2 ln(1 - q), so upper = -ln(0.025)
        (0, 0.0, -log(0.025)),
    ],
)
def test_byar_interval_below_ten_is_the_exact_poisson_interval(x, lower, upper):
    assert byar_interval(x) == pytest.approx((lower, upper), rel=1e-9)


def test_byar_interval_for_three_matches_published_exact_limits():
    assert byar_interval(3) == pytest.approx((0.618672, 8.767273), abs=1e-6)


# Chosen so neither limit is floored at 0 or capped at 1, where the check cannot hold.
@pytest.mark.parametrize("P", [0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("n", [100, 1000, 20000])
@pytest.mark.parametrize("z", [Z95, Z998])
def test_funnel_limits_are_where_the_wilson_interval_just_touches_the_baseline(P, n, z):
    low, high = funnel_limits(P, n, z)
    assert 0 < low < P < high < 1
    assert wilson_interval(n * high, n, z)[0] == pytest.approx(P, abs=1e-6)
    assert wilson_interval(n * low, n, z)[1] == pytest.approx(P, abs=1e-6)


def test_funnel_limits_match_hand_computed_values():
    # Wilson inverts the score test, so the limits are P +/- z*sqrt(P(1 - P)/n):
    # P = 0.2, n = 100: sqrt(0.16/100) = 0.04; 95%: 0.2 +/- 0.078399; 99.8%: 0.2 +/- 0.123609
    assert funnel_limits(0.2, 100, Z95) == pytest.approx((0.121601, 0.278399), abs=1e-6)
    assert funnel_limits(0.2, 100, Z998) == pytest.approx((0.076391, 0.323609), abs=1e-6)


def test_funnel_limits_are_floored_at_zero_and_capped_at_one():
    low, high = funnel_limits(0.05, np.array([2, 5]), Z998)
    assert low.tolist() == [0.0, 0.0]
    low, high = funnel_limits(0.95, np.array([2, 5]), Z998)
    assert high.tolist() == [1.0, 1.0]


def test_funnel_curves_give_geometric_n_and_say_plain_limits_are_in_use():
    curves = funnel_curves(0.2, 10, 1000)
    assert list(curves.columns) == ["n", "low95", "high95", "low998", "high998", "limits"]
    assert len(curves) == 100
    assert curves["n"].iloc[[0, -1]].tolist() == pytest.approx([10, 1000])
    assert np.diff(np.log(curves["n"])) == pytest.approx(np.full(99, log(100) / 99))
    assert (curves["limits"] == "plain").all() and curves.attrs["limits"] == "plain"
    assert (curves["low998"] <= curves["low95"]).all() and (curves["high95"] <= curves["high998"]).all()


def test_funnel_curves_with_tau2_use_adjusted_limits_that_are_wider_for_large_n():
    plain = funnel_curves(0.2, 10, 5000)
    adjusted = funnel_curves(0.2, 10, 5000, tau2=0.05)
    assert adjusted.attrs["limits"] == "overdispersion-adjusted (logit, tau2=0.05)"
    assert adjusted["high95"].iloc[-1] - adjusted["low95"].iloc[-1] > plain["high95"].iloc[-1] - plain["low95"].iloc[-1]


def test_adjusted_funnel_limits_widen_by_tau2_on_the_logit_scale():
    # P = 0.2, n = 100: s^2 = 1/(100*0.2*0.8) = 0.0625; sqrt(0.0625 + 0.05) = 0.335410; *z = 0.657392
    # logit(0.2) = ln(0.25) = -1.386294 -> -2.043686 and -0.728902 -> back: 1/(1 + e^2.043686), 1/(1 + e^0.728902)
    assert adjusted_funnel_limits(0.2, 100, Z95, 0.05) == pytest.approx((0.114692, 0.325436), abs=1e-6)


def test_adjusted_funnel_limits_on_the_arcsine_scale_do_not_fold_back_below_zero():
    # n = 4: s = 1/(2*2) = 0.25; asin(sqrt(0.2)) = 0.463648; z*s = 0.772558 at 99.8%
    # low angle = -0.308910 -> clipped to 0 (sin^2 of the raw angle would give 0.0924, a false floor)
    # high angle = 1.236206 -> sin^2 = 0.892165
    assert adjusted_funnel_limits(0.2, 4, Z998, 0.0, "arcsine") == pytest.approx((0.0, 0.892165), abs=1e-6)


def test_funnel_flag_labels_each_band():
    # P = 0.2, n = 100: 95% limits (0.1216, 0.2784), 99.8% limits (0.0764, 0.3236) (hand values above)
    labels = funnel_flag([5, 10, 20, 30, 35], [100] * 5, 0.2)
    assert labels.tolist() == ["Low (99.8%)", "Low (95%)", "Not significant", "High (95%)", "High (99.8%)"]


def _units(seed: int, spread: float, units: int = 150, rate: float = 0.25):
    """Simulated units: binomial counts around `rate`, with logit-normal between-unit spread."""
    rng = np.random.default_rng(seed)
    n = rng.integers(50, 2000, units)
    logits = np.log(rate / (1 - rate)) + rng.normal(0, spread, units)
    x = rng.binomial(n, 1 / (1 + np.exp(-logits)))
    return x, n


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("scale", ["logit", "arcsine"])
def test_overdispersion_finds_none_when_every_unit_shares_one_rate(seed, scale):
    x, n = _units(seed, spread=0.0)
    result = overdispersion(x, n, scale=scale)
    assert result["tau2"] < 1e-3
    assert result["phi"] < 1.3
    flags = funnel_flag(x, n, x.sum() / n.sum())
    # 99.8% limits: about 0.2% of 150 units by chance; allow up to 3.
    assert sum("99.8%" in label for label in flags) <= 3


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("scale", ["logit", "arcsine"])
def test_overdispersion_widens_limits_when_units_genuinely_differ(seed, scale):
    x, n = _units(seed, spread=0.4)
    P = x.sum() / n.sum()
    result = overdispersion(x, n, scale=scale)
    # tau2 is on the chosen scale (radians squared for arcsine), so only its sign is comparable.
    assert result["adjusted"] is True and result["tau2"] > 0 and result["phi"] > 5
    plain = funnel_flag(x, n, P)
    adjusted = funnel_flag(x, n, P, tau2=result["tau2"], scale=scale)
    assert (adjusted != "Not significant").sum() < (plain != "Not significant").sum() / 2


def test_overdispersion_follows_the_methods_formula_on_the_arcsine_scale():
    x = np.array([10, 30, 50, 12, 44, 25, 60, 8, 35, 20])
    n = np.array([100, 120, 150, 80, 110, 100, 140, 90, 100, 95])
    P = x.sum() / n.sum()
    s = 1 / (2 * np.sqrt(n))
    scores = (np.arcsin(np.sqrt(x / n)) - np.arcsin(sqrt(P))) / s
    lo, hi = np.quantile(scores, [0.1, 0.9])
    phi = np.mean(np.clip(scores, lo, hi) ** 2)
    w = 1 / s**2
    tau2 = (10 * phi - 9) / (w.sum() - (w**2).sum() / w.sum())
    result = overdispersion(x, n, scale="arcsine")
    assert result["phi"] == pytest.approx(phi) and result["tau2"] == pytest.approx(tau2)


@pytest.mark.parametrize("scale", ["logit", "arcsine"])
def test_overdispersion_stays_finite_with_units_at_zero_or_at_n(scale):
    # logit(0) and logit(1) are infinite; the empirical logit (x + 0.5)/(n + 1) keeps the scores finite
    x = [0, 30, 50, 12, 44, 25, 60, 8, 35, 90]
    n = [100, 120, 150, 80, 110, 100, 140, 90, 100, 90]
    result = overdispersion(x, n, scale=scale)
    assert np.isfinite(result["phi"]) and np.isfinite(result["tau2"]) and result["adjusted"] is True


def test_overdispersion_rejects_an_unknown_scale():
    with pytest.raises(InvalidOption) as raised:
        overdispersion([1, 2], [10, 10], scale="probit")
    assert str(raised.value) == "scale='probit' is not one of 'logit', 'arcsine'"


@pytest.mark.parametrize(
    ("x", "n", "benchmark", "polarity", "expected"),
    [
        # 30/50: Wilson 95% (0.4618, 0.7239); lower > 0.4
        (30, 50, 0.4, "high", "Better"),
        (30, 50, 0.4, "low", "Worse"),
        (30, 50, 0.4, None, "Higher"),
        # 10/50: Wilson 95% (0.1124, 0.3304); upper < 0.4
        (10, 50, 0.4, "high", "Worse"),
        (10, 50, 0.4, "low", "Better"),
        (10, 50, 0.4, None, "Lower"),
        # 20/50: Wilson 95% (0.2761, 0.5382) contains 0.4
        (20, 50, 0.4, "high", "Similar"),
        (20, 50, 0.4, "low", "Similar"),
        # below the minimum denominator, however extreme
        (0, 29, 0.4, "high", "Not compared"),
        (0, 0, 0.4, "high", "Not compared"),
        (0, MIN_DENOMINATOR, 0.4, "high", "Worse"),
    ],
)
def test_compare_to_benchmark_labels_by_interval_and_polarity(x, n, benchmark, polarity, expected):
    assert compare_to_benchmark(x, n, benchmark, polarity=polarity) == expected


def test_strong_comparison_needs_the_998_interval_to_clear_the_benchmark():
    # 30/50 at 99.8%: sqrt(9.549534 + 48) = 7.586141, times z = 23.442936
    # lower = (60 + 9.549534 - 23.442936) / (2*59.549534) = 0.387128, below 0.4
    assert compare_to_benchmark(30, 50, 0.4, z=Z998) == "Similar"
    assert compare_to_benchmark(30, 50, 0.38, z=Z998) == "Better"


def test_compare_to_benchmark_keeps_the_series_index():
    x = pd.Series([30, 10, 20, 5], index=["a", "b", "c", "d"])
    n = pd.Series([50, 50, 50, 10], index=["a", "b", "c", "d"])
    result = compare_to_benchmark(x, n, 0.4)
    assert result.to_dict() == {"a": "Better", "b": "Worse", "c": "Similar", "d": "Not compared"}


def test_compare_to_benchmark_rejects_an_unknown_polarity():
    with pytest.raises(InvalidOption) as raised:
        compare_to_benchmark(30, 50, 0.4, polarity="up")
    assert str(raised.value) == "polarity='up' is not one of 'high', 'low', None"


@pytest.fixture
def case_mix():
    """Two units over two payment groups with rates 0.3 (A) and 0.1 (B)."""
    return pd.DataFrame(
        {
            "cpa": ["north", "north", "south", "south"],
            "group": ["A", "B", "A", "B"],
            "outcomes": [40, 2, 3, 1],
            "starts": [100, 50, 10, 20],
        }
    )


def test_indirect_standardise_expects_each_group_at_its_reference_rate(case_mix):
    result = indirect_standardise(case_mix, "cpa", "group", "outcomes", "starts", {"A": 0.3, "B": 0.1})
    north = result.set_index("cpa").loc["north"]
    # E = 100*0.3 + 50*0.1 = 35; O = 40 + 2 = 42; O/E = 1.2
    assert (north["n"], north["observed"]) == (150, 42)
    assert north["expected"] == pytest.approx(35.0)
    assert north["ratio"] == pytest.approx(1.2)
    assert north["rate"] == pytest.approx(0.28)
    # O counts people out of n = 150, so the interval is binomial: Wilson(42, 150) = (0.214364, 0.356657), times
    # n/E = 150/35 (by hand from the Wilson formula, z = 1.959964). Byar's Poisson limits gave (0.8648, 1.6221).
    assert north["ratio_lower"] == pytest.approx(0.918559, abs=1e-6)
    assert north["ratio_upper"] == pytest.approx(1.528528, abs=1e-6)


def test_indirect_standardise_interval_is_binomial_for_small_counts_too(case_mix):
    result = indirect_standardise(case_mix, "cpa", "group", "outcomes", "starts", {"A": 0.3, "B": 0.1})
    south = result.set_index("cpa").loc["south"]
    # E = 10*0.3 + 20*0.1 = 5; O = 4 of n = 30: Wilson(4, 30) times 30/5 (exact Poisson gave 0.2180 to 2.0483)
    assert south["expected"] == pytest.approx(5.0)
    assert south["ratio"] == pytest.approx(0.8)
    assert (south["ratio_lower"], south["ratio_upper"]) == pytest.approx((0.318579, 1.780880), abs=1e-6)


def test_the_ratio_interval_of_a_common_outcome_is_binomial_not_poisson():
    # 90 of 100 attached where 85 were expected: Poisson limits of O (Byar) would span about 0.87 to 1.29 and never
    # flag; the binomial interval is about four times narrower (sqrt(1 / (1 - 0.9)) = 3.2 at the Wilson scale).
    ratio, low, high = ratio_intervals([90], [100], [85.0])
    poisson_low, poisson_high = byar_intervals([90])
    assert ratio[0] == pytest.approx(90 / 85)
    assert (poisson_high[0] - poisson_low[0]) / 85 / (high[0] - low[0]) > 3
    assert low[0] > 0.96 and high[0] < 1.12


def test_x_equal_to_n_is_not_below_a_benchmark_of_one():
    # Wilson's upper limit at x = n is exactly 1; rounding had made 1000/1000 'Worse' than 100%.
    assert compare_to_benchmark(1000, 1000, 1.0, min_n=1) == "Similar"
    assert compare_to_benchmark(0, 1000, 0.0, min_n=1) == "Similar"
    lower, upper = wilson_intervals([0, 1000], [1000, 1000])
    assert (lower[0], upper[1]) == (0.0, 1.0)


def test_adjusted_logit_limits_judge_a_unit_at_0_or_100_percent_by_its_n():
    # The logit of 0 is infinite: adjusted logit limits never reach 0, so 0/5 against 17% was 'Low (99.8%)'.
    flags = funnel_flag([0, 5, 0], [5, 5, 2000], 0.17, tau2=0.05)
    # 5/5 against 17% is extreme by its n too (0.17^5 = 0.00014), as the plain limits say.
    assert list(flags) == ["Not significant", "High (99.8%)", "Low (99.8%)"]
    assert list(flags) == list(funnel_flag([0, 5, 0], [5, 5, 2000], 0.17))
    assert list(plain_limits_for([0, 3, 5], [5, 5, 5], 0.05)) == [True, False, True]
    assert not plain_limits_for([0], [5], None).any()


def test_indirect_standardise_defaults_to_the_pooled_rate_of_each_group(case_mix):
    result = indirect_standardise(case_mix, "cpa", "group", "outcomes", "starts").set_index("cpa")
    # pooled: A = 43/110, B = 3/70; north E = 100*43/110 + 50*3/70 = 39.090909 + 2.142857
    assert result.loc["north", "expected"] == pytest.approx(41.233766, abs=1e-6)
    # all of the comparator together is exactly as expected
    assert result["observed"].sum() == pytest.approx(result["expected"].sum())


def test_indirect_standardise_names_groups_missing_from_the_reference(case_mix):
    with pytest.raises(MissingReferenceRate) as raised:
        indirect_standardise(case_mix, "cpa", "group", "outcomes", "starts", {"A": 0.3})
    assert str(raised.value) == (
        "No reference rate for payment group(s) 'B' (reference has: A). "
        "Add them to reference_rates or leave those rows out."
    )


def test_indirect_standardise_gives_no_ratio_when_nothing_is_expected(case_mix):
    result = indirect_standardise(case_mix, "cpa", "group", "outcomes", "starts", {"A": 0.0, "B": 0.0})
    assert result[["ratio", "ratio_lower", "ratio_upper"]].isna().all().all()
    assert result["observed"].tolist() == [42, 4]


@pytest.mark.parametrize(
    ("x", "polarity", "label"),
    [
        ([10, 20, 30, 40, 50], "high", "Increasing and getting better"),
        ([10, 20, 30, 40, 50], "low", "Increasing and getting worse"),
        ([10, 20, 30, 40, 50], None, "Increasing"),
        ([50, 40, 30, 20, 10], "high", "Decreasing and getting worse"),
        ([50, 40, 30, 20, 10], "low", "Decreasing and getting better"),
        ([30, 31, 29, 30, 30], "high", "No significant change"),
        # only the last 5 periods count: the early fall is ignored
        ([90, 80, 30, 31, 29, 30, 30], "high", "No significant change"),
        ([10, 20, 30, 40], "high", "Cannot be calculated"),
    ],
)
def test_trend_labels(x, polarity, label):
    assert trend(x, [100] * len(x), polarity=polarity).label == label


def test_trend_chi_square_and_slope_match_hand_computation():
    # t = 0..4, n = 100 each: p-bar = 150/500 = 0.3, t-bar = 2
    # T = sum x(t - 2) = -20 - 20 + 0 + 40 + 100 = 100; Stt = 100*(4+1+0+1+4) = 1000
    # chi2 = T^2 / (0.3*0.7*1000) = 10000/210 = 47.619048; slope = T/Stt = 0.1 per period
    result = trend([10, 20, 30, 40, 50], [100] * 5)
    assert (result.chi2, result.slope) == pytest.approx((47.619048, 0.1), abs=1e-6)


def test_trend_needs_the_slope_to_survive_dropping_each_period():
    # [30, 30, 30, 30, 60]: p-bar = 0.36, T = 30*(-2-1+0+1) + 60*2 = 60, chi2 = 3600/(0.36*0.64*1000) = 15.625
    # significant by chi2 alone, but dropping the last period leaves a flat line (slope 0)
    result = trend([30, 30, 30, 30, 60], [100] * 5)
    assert result.chi2 == pytest.approx(15.625)
    assert result.label == "No significant change"


def test_trend_cannot_be_calculated_with_an_empty_period():
    assert trend([1, 2, 3, 4, 0], [10, 10, 10, 10, 0]).label == "Cannot be calculated"


@pytest.mark.parametrize(
    ("actual", "projected", "variance", "pct", "status"),
    [
        (100, 100, 0, 0.0, "Within tolerance"),
        (110, 100, 10, 0.10, "Within tolerance"),  # exactly on the band edge counts as within
        (111, 100, 11, 0.11, "Above tolerance"),
        (89, 100, -11, -0.11, "Below tolerance"),
        (5, 0, 5, np.nan, "Above tolerance"),  # anything against nothing projected is above
        (1.1, 1.0, 0.1, 0.1, "Within tolerance"),  # float noise (0.10000000000000009) is not a breach
    ],
)
def test_projection_variance_statuses(actual, projected, variance, pct, status):
    row = projection_variance([actual], [projected]).iloc[0]
    assert row["variance"] == pytest.approx(variance)
    assert row["variance_pct"] == pytest.approx(pct, nan_ok=True)
    assert row["status"] == status
    assert row["within_tolerance"] == (status == "Within tolerance")


def test_projection_variance_accumulates_over_the_contract():
    months = pd.period_range("2025-01", periods=3, freq="M")
    result = projection_variance(pd.Series([90, 120, 100], months), pd.Series([100, 100, 100], months))
    # cumulative: 90-100 = -10, 210-200 = 10, 310-300 = 10 -> 10/300
    assert result["cumulative_variance"].tolist() == [-10, 10, 10]
    assert result["cumulative_variance_pct"].iloc[-1] == pytest.approx(1 / 30)
    assert list(result.index) == list(months)


def test_projection_variance_rejects_a_negative_tolerance():
    with pytest.raises(InvalidOption):
        projection_variance([1], [1], tolerance=-0.1)


def test_forecast_run_rate_projects_the_next_months_at_the_recent_average():
    months = pd.period_range("2024-01", periods=8, freq="M")
    actuals = pd.Series([50, 50, 8, 12, 10, 9, 11, 10], index=months)
    forecast = forecast_run_rate(actuals)
    assert list(forecast.columns) == ["month", "forecast", "lower", "upper", "kind"]
    assert forecast["month"].tolist() == list(pd.period_range("2024-09", periods=6, freq="M"))
    assert (forecast["kind"] == "forecast").all()
    # last 6 months total 60 -> 10 a month; Byar for 60: 45.783760 and 77.233224, divided by 6
    assert forecast["forecast"].tolist() == pytest.approx([10.0] * 6)
    assert forecast["lower"].iloc[0] == pytest.approx(45.783760 / 6, abs=1e-6)
    assert forecast["upper"].iloc[0] == pytest.approx(77.233224 / 6, abs=1e-6)


def test_forecast_run_rate_accepts_month_start_dates_and_returns_dates():
    actuals = pd.Series([4, 6], index=pd.to_datetime(["2025-11-01", "2025-12-01"]))
    forecast = forecast_run_rate(actuals, horizon=2)
    assert forecast["month"].tolist() == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    assert forecast["forecast"].tolist() == [5.0, 5.0]


def test_forecast_run_rate_needs_some_history():
    with pytest.raises(NotEnoughHistory):
        forecast_run_rate(pd.Series([], dtype=float))
