"""Pure Altair chart builders for the dashboard pages: no Streamlit, no SQL, no statistics.

Each builder takes a DataFrame with the columns named in its docstring and returns an Altair chart.
Conventions the pages rely on:
- every colour has a legend, and comparison colours come from one fixed scale (COMPARISON_COLOURS),
  so "Better" is the same green on every page;
- tooltips on a rate always show the numerator (x), denominator (n) and the interval bounds;
- an empty frame gives `empty_chart()`, a text mark saying "No data for this selection", never an error;
- a frame missing a column raises `MissingColumns`, naming the builder, the columns and what was found;
- names from files (partners, primes, standards) reach a chart only as data values, axis labels and titles, which
  Vega draws as text. Tooltips are HTML drawn by vega-tooltip (bundled with Streamlit's vega-embed), which escapes
  `&` and `<` in every key and value, but draws an entry keyed "image" as `<img src=...>` (the browser would fetch
  it) and one keyed "title" as a heading: no tooltip here is keyed so (`_tooltip_title`), and no chart has an
  `href` channel (a click would open the address).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import altair as alt
import pandas as pd

from dashboard import compliance

NO_DATA = "No data for this selection"
# Every colour that carries meaning (a verdict, a series, a status) is a mark someone has to tell from the white
# background: each is at least 3:1 against white (WCAG 2.2 AA, 1.4.11 non-text contrast), and the figures drawn on
# the heatmap's cells are white at 4.5:1 or more on each status colour (1.4.3). tests/test_charts.py computes both.
# "Similar" is a dark amber, not yellow, and "Not compared" a mid grey, not a light one, for that reason.
COMPARISON_COLOURS = {"Better": "#1b7837", "Similar": "#b35806", "Worse": "#b2182b", "Not compared": "#767676"}
# metrics.compare_to_benchmark(polarity=None) makes no judgement, so neither do the colours.
NEUTRAL_COMPARISON_COLOURS = {"Higher": "#2166ac", "Similar": "#b35806", "Lower": "#762a83", "Not compared": "#767676"}
# The funnel speaks the league table's words (benchmarks.FLAG_VERDICTS) in the same colours: Better is the green of
# COMPARISON_COLOURS, Similar its amber, Worse its red; outside the 95% limits only, a lighter shade of each.
FUNNEL_COLOURS = {
    "Better (99.8%)": COMPARISON_COLOURS["Better"],
    "Better (95%)": "#4a9a3f",
    "Similar": COMPARISON_COLOURS["Similar"],
    "Worse (95%)": "#d6604d",
    "Worse (99.8%)": COMPARISON_COLOURS["Worse"],
    "Not compared": COMPARISON_COLOURS["Not compared"],
}
# The same verdicts by shape (better points up, worse down), so they are not told by colour alone.
FUNNEL_SHAPES = {
    "Better (99.8%)": "triangle-up",
    "Better (95%)": "triangle-up",
    "Similar": "circle",
    "Worse (95%)": "triangle-down",
    "Worse (99.8%)": "triangle-down",
    "Not compared": "square",
}
STATUS_COLOURS = {
    compliance.MEETS: "#1b7837",
    compliance.NEAR_TARGET: "#b35806",
    compliance.MISSED_TARGET: "#b2182b",
    compliance.NOT_ENOUGH: "#767676",
}
# The share printed on each heatmap cell: white reads at 4.5:1 on every status colour above.
STATUS_TEXT_COLOUR = "white"
# Each standard status as a symbol too, so the heatmap does not tell it by colour alone (its legend explains them).
STATUS_SYMBOLS = {
    compliance.MEETS: "\u2713",  # check mark
    compliance.NEAR_TARGET: "~",
    compliance.MISSED_TARGET: "\u2717",  # ballot x
    compliance.NOT_ENOUGH: "?",
}
# In parentheses: the chain of `? :` would otherwise swallow anything appended to it.
STATUS_SYMBOL_EXPR = (
    "("
    + "".join(
        f"datum.status === {json.dumps(status)} ? {json.dumps(symbol)} : " for status, symbol in STATUS_SYMBOLS.items()
    )
    + "'')"
)
SUBMISSION_COLOURS = {"Submitted": "#2171b5", "Missing": "#d6604d"}
REFERRAL_COLOURS = {"Actual": "#08306b", "Forecast": "#4292c6", "Projected": "#636363"}
REFERRAL_DASHES = {"Actual": [1, 0], "Forecast": [6, 4], "Projected": [2, 2]}
# Light shaded areas behind the lines and dots (not yet 3:1: docs/accessibility.md); their values are in tooltips.
REFERRAL_BANDS = {"Tolerance band": "#d9d9d9", "Forecast interval": "#c6dbef"}
SPREAD_COLOURS = {"Range (minimum to maximum)": "#e6e6e6", "Middle half (25th to 75th percentile)": "#a6a6a6"}
# Single-colour marks: lines, rules, bars and text drawn in one fixed colour.
LIMIT_LINE_COLOUR = "#737373"
INTERVAL_COLOUR = "#404040"
HISTOGRAM_COLOUR = "#4c78a8"
LIMIT_RULE_COLOUR = "#d62728"
MESSAGE_COLOUR = "#595959"
LIMIT_DASHES = {"95% limits": [6, 4], "99.8% limits": [1, 0]}
# The columns each builder reads (extra columns are ignored).
FUNNEL_POINT_COLUMNS = ("unit", "n", "x", "rate", "lower", "upper", "flag")
FUNNEL_CURVE_COLUMNS = ("n", "low95", "high95", "low998", "high998")
LEAGUE_COLUMNS = ("unit", "x", "n", "rate", "lower", "upper", "comparison")
RATIO_COLUMNS = ("unit", "observed", "expected", "ratio", "ratio_lower", "ratio_upper", "comparison")
TREND_COLUMNS = ("period", "rate", "lower", "upper", "x", "n", "series")
REFERRAL_COLUMNS = ("month", "actual", "projected", "band_low", "band_high", "kind", "forecast_low", "forecast_high")
COMPLIANCE_COLUMNS = ("partner", "standard_id", "title", "stage_label", "share", "met", "n", "target_share", "status")
SPINE_COLUMNS = (
    "indicator",
    "value",
    "lower",
    "upper",
    "minimum",
    "q25",
    "median",
    "q75",
    "maximum",
    "comparison",
    "x",
    "n",
)
COVERAGE_COLUMNS = ("unit", "month", "submitted")
RISK_COLUMNS = ("unit", "component", "score", "detail")
ROW_HEIGHT = 22
SPINE_LABEL_EDGE = 0.8  # a spine row reaching past this share of the axis has its verdict written on its left
MIN_HEIGHT = 200
# A chart with a row per unit fits the page's width only: left to fit both ways, Streamlit squeezes title, axes and
# legend into the height given, the rows shrink below a label's height and Vega drops every other name.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
UNIT_LABEL_CHARACTERS = 30  # a unit's name on an interval or risk chart is cut to this, its "(prime, CPA n)" kept
PCT = ".1%"
AXIS_PCT = ".0%"


class MissingColumns(ValueError):
    """A chart was given a frame without a column it needs."""


# -- helpers -----------------------------------------------------------------------------------------
# Layered charts return what altair types alt.layer(...) as: LayerChart | FacetChart. It is a FacetChart only
# when every layer shares a row/column/facet encoding; none of these charts facet, so theirs are LayerCharts.


def empty_chart(message: str = NO_DATA, *, title: str = "") -> alt.Chart:
    """A chart holding only a text message, shown in place of a chart with nothing to draw."""
    chart = alt.Chart(pd.DataFrame({"message": [message]})).mark_text(size=14, color=MESSAGE_COLOUR)
    chart = chart.encode(text="message:N").properties(width="container", height=80)
    return chart.properties(title=title) if title else chart


def _is_empty(frame) -> bool:
    return frame is None or len(frame) == 0


def _check(frame: pd.DataFrame, columns: Iterable[str], chart: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumns(
            f"{chart} needs column(s) {', '.join(missing)} (found: {', '.join(map(str, frame.columns)) or 'none'}). "
            "Rename the columns in the query or pass the frame the chart documents."
        )


def _scale(colours: dict) -> alt.Scale:
    return alt.Scale(domain=list(colours), range=list(colours.values()))


def _legend(**kwargs) -> alt.Legend:
    # Category labels are the message ("Below target (significant)"): never truncate them.
    return alt.Legend(labelLimit=400, titleLimit=400, **kwargs)


def _comparison_colours(values: pd.Series) -> dict:
    return NEUTRAL_COMPARISON_COLOURS if values.isin(["Higher", "Lower"]).any() else COMPARISON_COLOURS


def _comparison(values: pd.Series, **legend) -> alt.Color:
    scale = _scale(_comparison_colours(values))
    # On two lines: a legend below a phone's narrow plot starts at the plot's left edge, and one line would run off it.
    return alt.Color("comparison:N", title=["Compared with", "benchmark"], scale=scale, legend=_legend(**legend))


# Tooltip keys vega-tooltip does not show as a row of text: "image" becomes an <img src>, "title" a heading.
VEGA_TOOLTIP_SPECIAL_KEYS = ("image", "title")


def _tooltip_title(name: str) -> str:
    """A tooltip key for a column named `name` that vega-tooltip shows as text (its special keys capitalised)."""
    return name.capitalize() if name in VEGA_TOOLTIP_SPECIAL_KEYS else name


def _pct(field: str, title: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:Q", title=title, format=PCT)


def _count(field: str, title: str, frame: pd.DataFrame | None = None) -> alt.Tooltip:
    """A count with thousands separators; as text when the column holds suppressed counts ("*")."""
    if frame is not None and not pd.api.types.is_numeric_dtype(frame[field]):
        return alt.Tooltip(f"{field}:N", title=title)
    return alt.Tooltip(f"{field}:Q", title=title, format=",")


def _rate_tooltips(rate_label: str, frame: pd.DataFrame) -> list[alt.Tooltip]:
    """Rate, its 95% interval and the x / n it comes from."""
    return [
        _pct("rate", rate_label),
        _pct("lower", "95% interval: lower"),
        _pct("upper", "95% interval: upper"),
        _count("x", "Numerator (x)", frame),
        _count("n", "Denominator (n)", frame),
    ]


def _height(rows: int) -> int:
    """The plot's height for `rows` bands, ROW_HEIGHT each (with FIT_WIDTH, titles, axes and legends come on top)."""
    return max(MIN_HEIGHT, ROW_HEIGHT * rows)


def _month_axis(months: pd.Series) -> alt.Axis:
    """Ticks on whole months (every k-th, so at most ~12 labels) labelled like "Jan 2013"."""
    span = (months.dt.year * 12 + months.dt.month).dropna()
    step = max(1, -(-int(span.max() - span.min() + 1) // 12)) if len(span) else 1
    return alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": step}, labelAngle=-40)


def _order(frame: pd.DataFrame, by: str, label: str) -> list:
    """Labels sorted by a value, highest first, missing values last (an explicit sort Vega keeps)."""
    return frame.sort_values(by, ascending=False, na_position="last")[label].astype(str).tolist()


# -- benchmarking -------------------------------------------------------------------------------------


def funnel_chart(
    points: pd.DataFrame,
    curves: pd.DataFrame,
    baseline: float,
    *,
    rate_label: str = "Job outcome rate",
    unit_label: str = "Partner",
    log_x: bool = True,
) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Funnel plot: each unit's rate against its denominator, inside 95% (dashed) and 99.8% (solid) limits.

    points: unit, n, x, rate, lower, upper, flag. curves: n, low95, high95, low998, high998
    (`curves.attrs["limits"]`, as metrics.funnel_curves sets, names the limits in the subtitle).
    Units without a rate (n = 0 or suppressed) are left off and counted in the subtitle.
    """
    title = f"{rate_label} by {unit_label.lower()} size (funnel plot)"
    if _is_empty(points):
        return empty_chart(title=title)
    _check(points, FUNNEL_POINT_COLUMNS, "funnel_chart points")
    _check(curves, FUNNEL_CURVE_COLUMNS, "funnel_chart curves")
    plotted = points.dropna(subset=["rate", "n"])
    plotted = plotted[plotted["n"] > 0]
    subtitle = [f"Baseline (black line) {baseline:.1%}; limits: {curves.attrs.get('limits', 'plain')}"]
    if len(plotted) < len(points):
        subtitle.append(f"{len(points) - len(plotted)} {unit_label.lower()}(s) without a rate not shown")
    x_scale = alt.Scale(type="log", nice=False) if log_x else alt.Scale(zero=False)
    x = alt.X("n:Q", title="Denominator (n)", scale=x_scale)

    limits = curves[curves["n"] > 0] if log_x else curves
    lines = pd.concat(
        [
            pd.DataFrame({"n": limits["n"], "limit": name, "side": side, "value": limits[column]})
            for name, suffix in (("95% limits", "95"), ("99.8% limits", "998"))
            for side, column in (("lower", f"low{suffix}"), ("upper", f"high{suffix}"))
        ],
        ignore_index=True,
    )
    limit_layer = (
        alt.Chart(lines)
        .mark_line(color=LIMIT_LINE_COLOUR, strokeWidth=1.2)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=rate_label, axis=alt.Axis(format=AXIS_PCT)),
            detail="side:N",
            strokeDash=alt.StrokeDash(
                "limit:N", title="Control limits", scale=_scale(LIMIT_DASHES), legend=_legend(symbolType="stroke")
            ),
            tooltip=[_count("n", "Denominator (n)"), alt.Tooltip("limit:N", title="Limit"), _pct("value", "Limit")],
        )
    )
    baseline_rule = (
        alt.Chart(pd.DataFrame({"baseline": [baseline]}))
        .mark_rule(color="black", strokeWidth=1.5)
        .encode(y="baseline:Q", tooltip=[_pct("baseline", "Baseline (pooled rate)")])
    )
    dots = (
        alt.Chart(plotted)
        .mark_point(size=80, filled=True, opacity=1, stroke="white", strokeWidth=0.5)
        .encode(
            x=x,
            y=alt.Y("rate:Q", title=rate_label),
            color=alt.Color("flag:N", title="Against the limits", scale=_scale(FUNNEL_COLOURS), legend=_legend()),
            # The flag by shape too (up above the limits, down below), not by colour alone; one merged legend.
            shape=alt.Shape("flag:N", title="Against the limits", scale=_scale(FUNNEL_SHAPES), legend=_legend()),
            tooltip=[
                alt.Tooltip("unit:N", title=unit_label),
                *_rate_tooltips(rate_label, plotted),
                alt.Tooltip("flag:N", title="Flag"),
            ],
        )
    )
    return alt.layer(limit_layer, baseline_rule, dots).properties(
        title=alt.Title(title, subtitle=subtitle), width="container", height=380
    )


def _interval_chart(
    table: pd.DataFrame,
    *,
    value: str,
    lower: str,
    upper: str,
    reference: float,
    reference_label: str,
    axis_title: str,
    axis_format: str,
    tooltip_format: str,
    unit_label: str,
    tooltips: list,
    title: str,
) -> alt.LayerChart | alt.FacetChart:
    """A dot and interval per unit, sorted by value, coloured by comparison, with a reference rule."""
    # Every unit named (no label dropped for overlap), cut before its "(prime, CPA n)" so two never look alike (the
    # whole name is in the tooltip); the legend below the plot, so a phone keeps its width.
    short = distinct_short_labels(table["unit"].astype(str), limit=UNIT_LABEL_CHARACTERS)
    table = table.assign(unit_label=table["unit"].astype(str).map(short))
    order = [short[u] for u in _order(table, value, "unit")]
    y = alt.Y("unit_label:N", title=unit_label, sort=order, axis=alt.Axis(labelOverlap=False, labelLimit=0))
    colour = _comparison(table["comparison"], orient="bottom", direction="vertical")
    base = alt.Chart(table).encode(y=y, color=colour, tooltip=tooltips)
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X(f"{lower}:Q"), x2=f"{upper}:Q")
    dots = base.mark_circle(size=90, opacity=1).encode(
        x=alt.X(f"{value}:Q", title=axis_title, axis=alt.Axis(format=axis_format))
    )
    rule = (
        alt.Chart(pd.DataFrame({"reference": [reference], "label": [reference_label]}))
        .mark_rule(color="black", strokeDash=[4, 3])
        .encode(
            x="reference:Q",
            tooltip=[
                alt.Tooltip("label:N", title="Line"),
                alt.Tooltip("reference:Q", title="Value", format=tooltip_format),
            ],
        )
    )
    # The verdict in words right of each interval, so it is not told by colour alone (WCAG 1.4.1): every comparison
    # colour is 4.5:1 or more on white, so the word can be drawn in it.
    verdicts = base.mark_text(align="left", dx=8, fontSize=11).encode(x=alt.X(f"{upper}:Q"), text="comparison:N")
    return alt.layer(bars, dots, rule, verdicts).properties(
        title=alt.Title(title, subtitle=f"Dashed line: {reference_label}; bars: 95% interval"),
        width="container",
        height=_height(len(table)),
        autosize=FIT_WIDTH,
    )


def league_chart(
    table: pd.DataFrame, benchmark: float, *, rate_label: str = "Job outcome rate", unit_label: str = "Partner"
) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Units ranked by rate, each with its 95% interval, coloured Better/Similar/Worse against the benchmark.

    table: unit, x, n, rate, lower, upper, comparison.
    """
    title = f"{rate_label} by {unit_label.lower()}"
    if _is_empty(table):
        return empty_chart(title=title)
    _check(table, LEAGUE_COLUMNS, "league_chart")
    tooltips = [
        alt.Tooltip("unit:N", title=unit_label),
        *_rate_tooltips(rate_label, table),
        alt.Tooltip("comparison:N", title="Compared with benchmark"),
    ]
    return _interval_chart(
        table,
        value="rate",
        lower="lower",
        upper="upper",
        reference=benchmark,
        reference_label=f"benchmark {benchmark:.1%}",
        axis_title=rate_label,
        axis_format=AXIS_PCT,
        tooltip_format=PCT,
        unit_label=unit_label,
        tooltips=tooltips,
        title=title,
    )


def ratio_chart(
    table: pd.DataFrame, *, unit_label: str = "Partner", outcome_label: str = "Job outcomes"
) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Case-mix adjusted view: observed / expected outcomes per unit, 1.0 meaning as expected.

    table: unit, observed, expected, ratio, ratio_lower, ratio_upper, comparison (optional: n).
    """
    title = f"{outcome_label} against expected for case mix, by {unit_label.lower()}"
    if _is_empty(table):
        return empty_chart(title=title)
    _check(table, RATIO_COLUMNS, "ratio_chart")
    tooltips = [
        alt.Tooltip("unit:N", title=unit_label),
        alt.Tooltip("ratio:Q", title="Observed / expected ratio", format=".2f"),
        alt.Tooltip("ratio_lower:Q", title="95% interval: lower", format=".2f"),
        alt.Tooltip("ratio_upper:Q", title="95% interval: upper", format=".2f"),
        _count("observed", "Observed (x)", table),
        alt.Tooltip("expected:Q", title="Expected", format=",.1f"),
    ]
    if "n" in table.columns:
        tooltips.append(_count("n", "Participants (n)", table))
    tooltips.append(alt.Tooltip("comparison:N", title="Compared with expected"))
    return _interval_chart(
        table,
        value="ratio",
        lower="ratio_lower",
        upper="ratio_upper",
        reference=1.0,
        reference_label="1.0 = as expected",
        axis_title="Observed / expected ratio",
        axis_format=".1f",
        tooltip_format=".2f",
        unit_label=unit_label,
        tooltips=tooltips,
        title=title,
    )


def trend_chart(series: pd.DataFrame, *, rate_label: str = "Rate") -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """A rate over time per series: line and points with a shaded 95% interval band.

    series: period (date), rate, lower, upper, x, n, series (name of the line).
    """
    title = f"{rate_label} over time"
    if _is_empty(series):
        return empty_chart(title=title)
    _check(series, TREND_COLUMNS, "trend_chart")
    frame = series.assign(period=pd.to_datetime(series["period"]))
    # Same legend on both layers, drawn as opaque strokes so it matches the lines, not the pale bands.
    legend = _legend(symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=2)
    colour = alt.Color("series:N", title="Series", legend=legend)
    x = alt.X("period:T", title="Period", axis=_month_axis(frame["period"]))
    tooltips = [
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("period:T", title="Period", format="%b %Y"),
        *_rate_tooltips(rate_label, frame),
    ]
    base = alt.Chart(frame).encode(x=x, color=colour)
    band = base.mark_area(opacity=0.18).encode(y="lower:Q", y2="upper:Q", tooltip=tooltips)
    line = base.mark_line(point=True).encode(
        y=alt.Y("rate:Q", title=rate_label, axis=alt.Axis(format=AXIS_PCT)), tooltip=tooltips
    )
    return alt.layer(band, line).properties(
        title=alt.Title(title, subtitle="Shaded: 95% interval"), width="container", height=300
    )


def _referral_layers(frame: pd.DataFrame, cumulative: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long frames of lines (month, series, value) and bands (month, band, low, high)."""
    frame = frame.assign(month=pd.to_datetime(frame["month"])).sort_values("month")
    actual = frame[frame["kind"] == "actual"].copy()
    forecast = frame[frame["kind"] == "forecast"].copy()
    value = "forecast" if "forecast" in frame.columns else "actual"
    forecast["central"] = forecast[value]
    if cumulative:
        for column in ("actual",):
            actual[column] = actual[column].cumsum()
        for column in ("projected", "band_low", "band_high"):
            frame[column] = frame[column].cumsum()
        # The forecast carries on from the cumulative actual to date.
        start = actual["actual"].dropna().iloc[-1] if actual["actual"].notna().any() else 0.0
        for column in ("central", "forecast_low", "forecast_high"):
            forecast[column] = start + forecast[column].cumsum()
    # Join the dashed forecast to the last actual so the two read as one line.
    last = actual.dropna(subset=["actual"]).tail(1)
    joint = pd.DataFrame({"month": last["month"], "central": last["actual"]})
    forecast_line = pd.concat([joint, forecast[["month", "central"]]], ignore_index=True)
    lines = pd.concat(
        [
            pd.DataFrame({"month": frame["month"], "series": "Projected", "value": frame["projected"]}),
            pd.DataFrame({"month": actual["month"], "series": "Actual", "value": actual["actual"]}),
            pd.DataFrame({"month": forecast_line["month"], "series": "Forecast", "value": forecast_line["central"]}),
        ],
        ignore_index=True,
    ).dropna(subset=["value"])
    bands = pd.concat(
        [
            pd.DataFrame(
                {
                    "month": frame["month"],
                    "band": "Tolerance band",
                    "low": frame["band_low"],
                    "high": frame["band_high"],
                }
            ),
            pd.DataFrame(
                {
                    "month": forecast["month"],
                    "band": "Forecast interval",
                    "low": forecast["forecast_low"],
                    "high": forecast["forecast_high"],
                }
            ),
        ],
        ignore_index=True,
    ).dropna(subset=["low", "high"])
    return lines, bands


def referrals_chart(frame: pd.DataFrame, *, cumulative: bool = False) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Referrals against projections: projected line in its tolerance band, actuals, and a dashed forecast.

    frame: month (date), actual, projected, band_low, band_high, kind ("actual" / "forecast"),
    forecast_low, forecast_high (NaN on actual rows). On forecast rows the central forecast is read
    from a `forecast` column when there is one, else from `actual`. cumulative=True sums every series
    from the first month; the forecast continues from the cumulative actual to date.
    """
    title = "Cumulative referrals against projection" if cumulative else "Referrals against projection"
    if _is_empty(frame):
        return empty_chart(title=title)
    _check(frame, REFERRAL_COLUMNS, "referrals_chart")
    lines, bands = _referral_layers(frame, cumulative)
    x = alt.X("month:T", title="Month", axis=_month_axis(pd.to_datetime(frame["month"])))
    stroke_legend = _legend(symbolType="stroke")
    band_layer = (
        alt.Chart(bands)
        .mark_area(opacity=0.6)
        .encode(
            x=x,
            y="low:Q",
            y2="high:Q",
            # A field other than "series", or Vega-Lite merges this legend into the lines' one.
            fill=alt.Fill("band:N", title="Bands", scale=_scale(REFERRAL_BANDS), legend=_legend()),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%b %Y"),
                alt.Tooltip("band:N", title="Band"),
                alt.Tooltip("low:Q", title="Low", format=",.0f"),
                alt.Tooltip("high:Q", title="High", format=",.0f"),
            ],
        )
    )
    line_layer = (
        alt.Chart(lines)
        .mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=30))
        .encode(
            x=x,
            y=alt.Y("value:Q", title="Referrals (cumulative)" if cumulative else "Referrals per month"),
            # Colour and dash share field and title, so Vega-Lite draws one legend of dashed strokes.
            color=alt.Color("series:N", title="Referrals", scale=_scale(REFERRAL_COLOURS), legend=stroke_legend),
            strokeDash=alt.StrokeDash(
                "series:N", title="Referrals", scale=_scale(REFERRAL_DASHES), legend=stroke_legend
            ),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%b %Y"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("value:Q", title="Referrals", format=",.0f"),
            ],
        )
    )
    return alt.layer(band_layer, line_layer).properties(
        title=alt.Title(title, subtitle="Forecast (dashed) is a projection from the recent run rate"),
        width="container",
        height=320,
    )


# -- process standards and data quality -----------------------------------------------------------


def standard_columns(cells: pd.DataFrame) -> pd.DataFrame:
    """The heatmap's columns: each standard once, in stage then id order, with a short label "stage.k" (the
    stage's number in the five-stage framework, then the standard's place in it) that fits a phone's width.

    Returns standard_id, column, stage_no, stage_label, title; the key under the chart and the x axis both read it.
    """
    framework = {label: i + 1 for i, (_, label) in enumerate(compliance.STAGES)}
    standards = cells[["standard_id", "stage_label", "title"]].drop_duplicates("standard_id")
    stages = list(dict.fromkeys(standards["stage_label"].astype(str)))  # in the order the rows give them
    numbers = {stage: framework.get(stage, len(framework) + i + 1) for i, stage in enumerate(stages)}
    standards = standards.assign(stage_no=standards["stage_label"].astype(str).map(numbers))
    standards = standards.sort_values(["stage_no", "standard_id"], kind="stable")
    place = standards.groupby("stage_no").cumcount() + 1
    column = standards["stage_no"].astype(str) + "." + place.astype(str)
    chosen = ["standard_id", "column", "stage_no", "stage_label", "title"]
    return standards.assign(column=column)[chosen].reset_index(drop=True)


def standards_key(cells: pd.DataFrame) -> list[str]:
    """The heatmap's column labels in words, one line per stage: "2 Programme engagement: 2.1 Regular contact; ..."."""
    columns = standard_columns(cells)
    return [
        f"{group['stage_no'].iloc[0]} {stage}: "
        + "; ".join(f"{c} {t}" for c, t in zip(group["column"], group["title"].astype(str), strict=True))
        for stage, group in columns.groupby("stage_label", sort=False)
    ]


def distinct_short_labels(labels: Iterable[str], limit: int = 34) -> dict[str, str]:
    """Each label cut to at most `limit` characters, keeping a closing "(...)" (a CPA) whole and cutting the name
    before it ("Black Country Borough C\u2026 (CPA 9)"), so that no two different labels end up alike: a label
    whose cut would match another's is cut less, down to not at all."""
    full = list(dict.fromkeys(str(label) for label in labels))

    def cut(label: str, keep: int) -> str:
        name, bracket, suffix = label.rpartition(" (")
        tail = f" ({suffix}" if bracket and suffix.endswith(")") else ""
        head = name if tail else label
        room = max(keep - len(tail) - 1, 1)
        return label if len(label) <= keep else head[:room].rstrip() + "\u2026" + tail

    keep = dict.fromkeys(full, limit)
    while True:
        short = {label: cut(label, keep[label]) for label in full}
        counts = pd.Series(list(short.values()), dtype=object).value_counts()
        alike = [label for label in full if counts[short[label]] > 1 and short[label] != label]
        if not alike:
            return short
        for label in alike:
            keep[label] += 1


HEATMAP_LABEL_CHARACTERS = 24  # a partner's name is cut to this on the heatmap (whole in its tooltip and table)
HEATMAP_CELL_TEXT_WIDTH = 46  # px a cell needs for "✓ 97%"; narrower cells (a phone) show the symbol alone


def compliance_heatmap(cells: pd.DataFrame) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Share of each partner's cases meeting each standard, coloured by status, one chart the width of the page.

    Columns are the standards in stage order, labelled "stage.k" (`standard_columns`; the page prints the key,
    `standards_key`), so every column is labelled at any width; rows are partners, their names cut in the middle
    so that two partners never look alike. Each cell carries its status symbol, and its share where it fits.

    cells: partner, standard_id, title, stage_label, share, met, n, target_share, status.
    """
    title = "Share of cases meeting each standard"
    if _is_empty(cells):
        return empty_chart(title=title)
    _check(cells, COMPLIANCE_COLUMNS, "compliance_heatmap")
    columns = standard_columns(cells)
    short = distinct_short_labels(cells["partner"].astype(str), limit=HEATMAP_LABEL_CHARACTERS)
    data = cells.merge(columns[["standard_id", "column"]], on="standard_id", how="left").assign(
        partner_label=lambda f: f["partner"].astype(str).map(short)
    )
    partners = sorted(data["partner_label"].unique())
    legend_symbols = " : ".join(
        f"datum.label === {json.dumps(k)} ? {json.dumps(v + ' ' + k)}" for k, v in STATUS_SYMBOLS.items()
    )
    colour = alt.Color(
        "status:N",
        title="Status",
        scale=_scale(STATUS_COLOURS),
        legend=_legend(labelExpr=legend_symbols + " : datum.label", orient="bottom", direction="vertical"),
    )
    tooltips = [
        alt.Tooltip("partner:N", title="Partner"),
        alt.Tooltip("stage_label:N", title="Stage"),
        alt.Tooltip("column:N", title="Column"),
        alt.Tooltip("standard_id:N", title="Standard"),
        alt.Tooltip("title:N", title="Standard's title"),
        _pct("share", "Share meeting"),
        _count("met", "Met (x)", cells),
        _count("n", "Cases (n)", cells),
        alt.Tooltip("target_share:Q", title="Target", format=AXIS_PCT),
        alt.Tooltip("status:N", title="Status"),
    ]
    base = alt.Chart(data).encode(
        x=alt.X(
            "column:N",
            title="Standard (stage.number, key below)",
            sort=list(columns["column"]),
            axis=alt.Axis(labelAngle=0, orient="top", labelOverlap=False),
        ),
        y=alt.Y("partner_label:N", title=None, sort=partners, axis=alt.Axis(labelLimit=0, labelOverlap=False)),
        tooltip=tooltips,
    )
    rect = base.mark_rect(stroke="white").encode(color=colour)
    # The symbol always (status not by colour alone, each named in the legend); the share too where the cell is
    # wide enough to hold it (`width` is the plot's width in pixels as drawn, so a phone gets the symbol alone).
    wide_enough = f"width / {len(columns)} >= {HEATMAP_CELL_TEXT_WIDTH}"
    text = (
        base.transform_calculate(
            symbol=STATUS_SYMBOL_EXPR,
            cell_text=STATUS_SYMBOL_EXPR + " + (isValid(datum.share) ? ' ' + format(datum.share, '.0%') : '')",
        )
        .mark_text(fontSize=11)
        .encode(
            text=alt.value({"expr": f"{wide_enough} ? datum.cell_text : datum.symbol"}),
            color=alt.value(STATUS_TEXT_COLOUR),
        )
    )
    return alt.layer(rect, text).properties(title=title, height=_height(len(partners)), autosize=FIT_WIDTH)


def distribution_chart(days, limit_days: float, *, label: str) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Histogram of a duration in days with a red rule and label at the limit.

    days: a Series of durations, a DataFrame with a `days` column (one row per case), or a DataFrame with
    `days` and `participants` (how many cases took that many days, as the drill-down query gives it).
    """
    if isinstance(days, pd.DataFrame) and not _is_empty(days):
        _check(days, ["days"], "distribution_chart")
    values = days.get("days") if isinstance(days, pd.DataFrame) else days
    values = pd.to_numeric(pd.Series(values, dtype=None if values is not None else "float64"), errors="coerce")
    weights = (
        days["participants"]
        if isinstance(days, pd.DataFrame) and "participants" in days
        else pd.Series(1, index=values.index)
    )
    frame = pd.DataFrame({"days": values, "participants": weights}).dropna()
    if frame.empty:
        return empty_chart(title=label)
    # One row per distinct duration: a partner with 80,000 participants sends the browser a few hundred rows.
    frame = frame.groupby("days", as_index=False)[["participants"]].sum()
    over, total = int(frame.loc[frame["days"] > limit_days, "participants"].sum()), int(frame["participants"].sum())
    subtitle = f"{over:,} of {total:,} ({over / total:.1%}) over the {limit_days:g}-day limit"
    bars = (
        alt.Chart(frame)
        .mark_bar(color=HISTOGRAM_COLOUR)
        .encode(
            x=alt.X("days:Q", bin=alt.Bin(maxbins=30), title="Days"),
            y=alt.Y("sum(participants):Q", title="Cases", axis=alt.Axis(tickMinStep=1, format="d")),
            tooltip=[
                alt.Tooltip("days:Q", bin=alt.Bin(maxbins=30), title="Days"),
                alt.Tooltip("sum(participants):Q", title="Cases", format=","),
            ],
        )
    )
    marker = pd.DataFrame({"limit": [limit_days], "text": [f"limit: {limit_days:g} days"]})
    rule = (
        alt.Chart(marker)
        .mark_rule(color=LIMIT_RULE_COLOUR, strokeWidth=2)
        .encode(x="limit:Q", tooltip=[alt.Tooltip("text:N", title="Limit")])
    )
    text = (
        alt.Chart(marker)
        .mark_text(color=LIMIT_RULE_COLOUR, align="left", dx=4, dy=-4, baseline="top")
        .encode(x="limit:Q", y=alt.value(4), text="text:N")
    )
    return alt.layer(bars, rule, text).properties(
        title=alt.Title(label, subtitle=subtitle), width="container", height=260
    )


def spine_chart(rows: pd.DataFrame) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Fingertips-style spine chart: per indicator the comparators' spread and this unit's value.

    rows: indicator, value, lower, upper, minimum, q25, median, q75, maximum, comparison, x, n
    (all rates in 0-1). Light bar: minimum to maximum; dark bar: 25th to 75th percentile; black
    tick: median; dot: the unit's value coloured by comparison, with its 95% interval.
    """
    title = "Indicators against all comparators"
    if _is_empty(rows):
        return empty_chart(title=title)
    _check(rows, SPINE_COLUMNS, "spine_chart")
    order = rows["indicator"].astype(str).tolist()
    y = alt.Y("indicator:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    x_axis = alt.Axis(format=AXIS_PCT)
    tooltips = [
        alt.Tooltip("indicator:N", title="Indicator"),
        _pct("value", "Value"),
        _pct("lower", "95% interval: lower"),
        _pct("upper", "95% interval: upper"),
        _count("x", "Numerator (x)", rows),
        _count("n", "Denominator (n)", rows),
        _pct("minimum", "Comparators: minimum"),
        _pct("q25", "Comparators: 25th percentile"),
        _pct("median", "Comparators: median"),
        _pct("q75", "Comparators: 75th percentile"),
        _pct("maximum", "Comparators: maximum"),
        alt.Tooltip("comparison:N", title="Compared with benchmark"),
    ]
    spread = pd.concat(
        [
            rows.assign(band=name, start=rows[low], end=rows[high])
            for name, low, high in (
                ("Range (minimum to maximum)", "minimum", "maximum"),
                ("Middle half (25th to 75th percentile)", "q25", "q75"),
            )
        ],
        ignore_index=True,
    )
    fill = alt.Fill("band:N", title="Comparators", scale=_scale(SPREAD_COLOURS), legend=_legend())
    bars = (
        alt.Chart(spread)
        .mark_bar(size=16)
        .encode(
            x=alt.X("start:Q", title="Value", scale=alt.Scale(domain=[0, 1]), axis=x_axis),
            x2="end:Q",
            y=y,
            fill=fill,
            tooltip=tooltips,
        )
    )
    base = alt.Chart(rows).encode(y=y, tooltip=tooltips)
    median = base.mark_tick(color="black", thickness=2, size=18).encode(x="median:Q")
    interval = base.mark_rule(color=INTERVAL_COLOUR, strokeWidth=1.5).encode(x="lower:Q", x2="upper:Q")
    dots = base.mark_circle(size=110, opacity=1, stroke="black", strokeWidth=0.6).encode(
        x="value:Q", color=_comparison(rows["comparison"])
    )
    # The verdict in words beside everything drawn on the row, so it is not told by colour alone (WCAG 1.4.1):
    # right of it, or left of it where the row reaches the right edge (the legend is there).
    placed = base.transform_filter("isValid(datum.value)").transform_calculate(
        right="max(isValid(datum.maximum) ? datum.maximum : 0, isValid(datum.upper) ? datum.upper : datum.value)",
        left="min(isValid(datum.minimum) ? datum.minimum : 1, isValid(datum.lower) ? datum.lower : datum.value)",
    )
    colour = _comparison(rows["comparison"])
    verdicts = alt.layer(
        placed.transform_filter(f"datum.right <= {SPINE_LABEL_EDGE}")
        .mark_text(align="left", dx=10, fontSize=11)
        .encode(x="right:Q", text="comparison:N", color=colour),
        placed.transform_filter(f"datum.right > {SPINE_LABEL_EDGE}")
        .mark_text(align="right", dx=-10, fontSize=11)
        .encode(x="left:Q", text="comparison:N", color=colour),
    )
    return alt.layer(bars, median, interval, dots, verdicts).properties(
        title=alt.Title(title, subtitle="Black tick: comparators' median; line through the dot: 95% interval"),
        width="container",
        # Streamlit fits the whole chart (title and axes included) into this height, so leave room per row.
        height=100 + 45 * len(rows),
    )


def coverage_chart(grid: pd.DataFrame) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Which unit submitted MI for which month.

    grid: unit, month (date), submitted (bool).
    """
    title = "MI submissions by month"
    if _is_empty(grid):
        return empty_chart(title=title)
    _check(grid, COVERAGE_COLUMNS, "coverage_chart")
    frame = grid.assign(
        month=pd.to_datetime(grid["month"]),
        status=grid["submitted"].map(lambda s: "Submitted" if s is True or (pd.notna(s) and bool(s)) else "Missing"),
    )
    units = list(dict.fromkeys(frame["unit"].astype(str)))  # the order given (CPA 1, 2 ... 18), not text order
    extra = [alt.Tooltip(c + ":Q", title=c.replace("_", " ")) for c in ("missing", "due") if c in frame]
    base = alt.Chart(frame).encode(
        x=alt.X("yearmonth(month):O", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=-40)),
        y=alt.Y("unit:N", title=None, sort=units, axis=alt.Axis(labelOverlap=False)),  # every unit named
        tooltip=[
            alt.Tooltip("unit:N", title="Unit"),
            alt.Tooltip("month:T", title="Month", format="%b %Y"),
            alt.Tooltip("status:N", title="Submission"),
            *extra,
        ],
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "status:N",
            title="Submission",
            scale=_scale(SUBMISSION_COLOURS),
            legend=_legend(labelExpr="datum.label === 'Missing' ? '\u2717 Missing' : datum.label"),
        )
    )
    # A missing month is marked with a cross too, not told by colour alone (dark on the red: 5:1 and more).
    crosses = (
        base.transform_filter("datum.status === 'Missing'")
        .mark_text(fontSize=9, color="#111111")
        .encode(text=alt.value("\u2717"))
    )
    return alt.layer(cells, crosses).properties(
        title=title, width="container", height=_height(len(units)), autosize=FIT_WIDTH
    )


def coverage_summary(grid: pd.DataFrame) -> str:
    """'Of 18 CPAs over 70 months, 1,190 CPA-months had every return due and 70 had at least one missing.'"""
    if _is_empty(grid):
        return NO_DATA + "."
    units, months = grid["unit"].nunique(), pd.to_datetime(grid["month"]).nunique()
    complete = int(grid["submitted"].astype(bool).sum())
    return (
        f"Of {units} CPAs over {months} months, {complete:,} CPA-months had every return due and "
        f"{len(grid) - complete:,} had at least one missing."
    )


def risk_components_chart(rows: pd.DataFrame) -> alt.LayerChart | alt.FacetChart | alt.Chart:
    """Each unit's risk components side by side (1 = highest risk), never folded into one score.

    rows: unit, component, score (0-1), detail (plain words behind the score).
    """
    title = "Risk indicators by component (1 = highest risk)"
    if _is_empty(rows):
        return empty_chart(title=title)
    _check(rows, RISK_COLUMNS, "risk_components_chart")
    short = distinct_short_labels(rows["unit"].astype(str), limit=UNIT_LABEL_CHARACTERS)
    rows = rows.assign(unit_label=rows["unit"].astype(str).map(short))
    units = rows["unit_label"].drop_duplicates().tolist()
    components = rows["component"].astype(str).drop_duplicates().tolist()
    # Each component numbered, in the legend and at the end of its bar, so the bars are not told by colour alone.
    numbers = {component: str(i + 1) for i, component in enumerate(components)}
    numbered = rows.assign(number=rows["component"].astype(str).map(numbers))
    legend_numbers = " : ".join(
        f"datum.label === {json.dumps(c)} ? {json.dumps(n + ' ' + c)}" for c, n in numbers.items()
    )
    base = alt.Chart(numbered).encode(
        y=alt.Y("unit_label:N", title=None, sort=units, axis=alt.Axis(labelOverlap=False, labelLimit=0)),
        yOffset=alt.YOffset("component:N", sort=components),
        x=alt.X(
            "score:Q",
            title="Risk score (0 = lowest, 1 = highest)",
            scale=alt.Scale(domain=[0, 1.06], nice=False),
            axis=alt.Axis(values=[0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        ),
        tooltip=[
            alt.Tooltip("unit:N", title="Unit"),
            alt.Tooltip("component:N", title="Component"),
            alt.Tooltip("score:Q", title="Score", format=".2f"),
            alt.Tooltip("detail:N", title="Detail"),
        ],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "component:N",
            title="Component",
            sort=components,
            legend=_legend(labelExpr=legend_numbers + " : datum.label", orient="bottom", direction="vertical"),
        )
    )
    # Just after its bar, dark on white (4.5:1 and more); the x axis runs a little past 1 to hold it.
    marks = base.mark_text(align="left", dx=3, fontSize=9, color=MESSAGE_COLOUR).encode(text="number:N")
    height = max(MIN_HEIGHT, 14 * len(units) * len(components))  # 14 px per bar
    return alt.layer(bars, marks).properties(title=title, width="container", height=height, autosize=FIT_WIDTH)


SATISFACTION_COLOURS = {"meets": COMPARISON_COLOURS["Better"], "below": COMPARISON_COLOURS["Worse"]}


def satisfaction_chart(frame: pd.DataFrame, minimum: float, *, unit_label: str = "Unit") -> alt.Chart:
    """Mean satisfaction (1-5) per unit against the minimum, each point labelled "meets" or "below" in words.

    frame: unit, satisfaction (NaN where not shown: left out), against_minimum ("meets" / "below")."""
    title = "Mean satisfaction against the minimum"
    shown = frame.dropna(subset=["satisfaction"]) if not _is_empty(frame) else frame
    if _is_empty(shown):
        return empty_chart(title=title)
    _check(shown, ["unit", "satisfaction", "against_minimum"], "satisfaction_chart")
    units = list(shown.sort_values("satisfaction")["unit"].astype(str))
    y = alt.Y("unit:N", title=unit_label, sort=units, axis=alt.Axis(labelOverlap=False, labelLimit=260))
    x = alt.X("satisfaction:Q", title="Mean satisfaction (1 to 5)", scale=alt.Scale(domain=[1, 5]))
    colour = alt.Color("against_minimum:N", title="Against the minimum", scale=_scale(SATISFACTION_COLOURS))
    base = alt.Chart(shown).encode(y=y)
    points = base.mark_point(filled=True, size=70).encode(
        x=x,
        color=colour.legend(_legend()),
        shape=alt.Shape("against_minimum:N", legend=None),  # told by shape and word too, not colour alone
        tooltip=[
            alt.Tooltip("unit:N", title=unit_label),
            alt.Tooltip("satisfaction:Q", title="Mean satisfaction", format=".1f"),
            alt.Tooltip("against_minimum:N", title="Against the minimum"),
        ],
    )
    words = base.mark_text(align="left", dx=8, fontSize=11).encode(x=x, text="against_minimum:N", color=colour)
    rule = (
        alt.Chart(pd.DataFrame({"minimum": [minimum]}))
        .mark_rule(color="#3b3b3b", strokeDash=[4, 3])
        .encode(x="minimum:Q")
    )
    return (rule + points + words).properties(
        title=title, width="container", height=_height(len(units)), autosize=FIT_WIDTH
    )


def bar_chart(frame: pd.DataFrame, x: str, y: str, *, color: str | None = None, title: str = "") -> alt.Chart:
    """A plain bar chart of y by x (types inferred from the frame), optionally coloured with a legend."""
    if _is_empty(frame):
        return empty_chart(title=title)
    _check(frame, [c for c in (x, y, color) if c], "bar_chart")
    tooltip = [alt.Tooltip(c, title=_tooltip_title(c)) for c in (x, y, color) if c]
    encoding = {"x": alt.X(x), "y": alt.Y(y), "tooltip": tooltip}
    if color:
        encoding["color"] = alt.Color(color)
    return alt.Chart(frame).mark_bar().encode(**encoding).properties(title=title, width="container")


# -- text alternatives: one sentence saying what a chart shows, for readers who cannot see it -----------------
# ui.chart prints the sentence under the chart; its figures are in a table on the page or beside it.


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _tally(values: pd.Series, order: Iterable[str]) -> list[tuple[str, int]]:
    counts = values.astype(str).value_counts()
    return [(label, int(counts[label])) for label in order if counts.get(label, 0)]


def comparison_summary(values: pd.Series, *, plural: str, against: str = "the benchmark") -> str:
    """'Of 9 indicators compared with the benchmark: 3 better, 4 similar, 1 worse and 1 not compared.'"""
    if _is_empty(values):
        return f"No {plural} to show."
    counts = [f"{n} {label.lower()}" for label, n in _tally(values, _comparison_colours(values))]
    return f"Of {len(values)} {plural} compared with {against}: {_listed(counts)}."


def funnel_summary(points: pd.DataFrame, *, plural: str) -> str:
    """'Of 350 partners in the funnel: 12 better beyond the 99.8% limit and 9 worse; 30 more beyond the 95% limits.'"""
    if _is_empty(points):
        return f"No {plural} in the funnel."
    flags = points["flag"].astype(str)
    better998, worse998 = int((flags == "Better (99.8%)").sum()), int((flags == "Worse (99.8%)").sum())
    better95, worse95 = int((flags == "Better (95%)").sum()), int((flags == "Worse (95%)").sum())
    return (
        f"Of {len(points)} {plural} in the funnel: {better998} better (above the 99.8% limit) and {worse998} worse "
        f"(below it); {better95} more better and {worse95} more worse at the 95% limits; the rest similar."
    )


def status_summary(statuses: pd.Series, *, plural: str) -> str:
    """'Of 40 partner and standard pairs: meets target 25, below target (not significant) 8, ...'"""
    if _is_empty(statuses):
        return f"No {plural} to show."
    counts = [f"{label[0].lower()}{label[1:]} {n}" for label, n in _tally(statuses, STATUS_COLOURS)]
    return f"Of {len(statuses)} {plural}: {', '.join(counts)}."


def referrals_summary(frame: pd.DataFrame, *, cumulative: bool = False) -> str:
    """Where actual referrals fell against the projection's tolerance band, month by month (or to date)."""
    if _is_empty(frame):
        return NO_DATA + "."
    lines, _ = _referral_layers(frame, cumulative)
    actual = lines[lines["series"] == "Actual"].dropna(subset=["value"])
    projected = lines[lines["series"] == "Projected"].dropna(subset=["value"])
    months = frame[(frame["kind"] == "actual")].dropna(subset=["actual", "band_low", "band_high"])
    ahead = (frame["kind"] == "forecast").sum()
    forecast = f"; a forecast runs {ahead} months ahead" if ahead else ""
    if cumulative:
        if actual.empty or projected.empty:
            return f"Cumulative referrals: no months with both actual and projected referrals{forecast}."
        last = actual.iloc[-1]
        due = projected[projected["month"] == last["month"]]["value"]
        against = f" against {due.iloc[0]:,.0f} projected" if len(due) else ""
        return f"Cumulative referrals to {pd.Timestamp(last['month']):%B %Y}: {last['value']:,.0f}{against}{forecast}."
    below = int((months["actual"] < months["band_low"]).sum())
    above = int((months["actual"] > months["band_high"]).sum())
    within = len(months) - below - above
    return (
        f"In {len(months)} months with a projection, actual referrals were below the tolerance band in {below}, "
        f"within it in {within} and above it in {above}{forecast}."
    )


def risk_summary(rows: pd.DataFrame) -> str:
    """How many units score the highest risk on some component, and on which component most often."""
    if _is_empty(rows):
        return NO_DATA + "."
    units = rows["unit"].nunique()
    top = rows[rows["score"] >= 1]
    if top.empty:
        return f"Of {units} partner contracts shown, none scores the highest risk (1) on any component."
    component, count = top["component"].value_counts().index[0], int(top["component"].value_counts().iloc[0])
    return (
        f"Of {units} partner contracts shown, {top['unit'].nunique()} score the highest risk (1) on at least one "
        f"component, most often {component} ({count})."
    )


def distribution_summary(days: pd.DataFrame, limit_days: float, *, label: str) -> str:
    """How many cases took longer than the limit (days, participants: one row per number of days)."""
    if _is_empty(days):
        return NO_DATA + "."
    weights = days["participants"] if "participants" in days else pd.Series(1, index=days.index)
    total, over = weights.sum(), weights[days["days"] > limit_days].sum()
    return f"{label}: {over:,.0f} of {total:,.0f} cases took longer than the limit of {limit_days:,.0f} days."
