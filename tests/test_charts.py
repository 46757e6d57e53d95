"""Chart builders produce the intended Vega-Lite specs (checked on `chart.to_dict()`, no Streamlit)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dashboard import charts
from dashboard.charts import COMPARISON_COLOURS, FUNNEL_COLOURS, NO_DATA, STATUS_COLOURS

# -- spec walking ---------------------------------------------------------------------------------------


def _views(spec: dict) -> list[dict]:
    """Every unit view (one with a mark) in a possibly layered or concatenated spec."""
    if "mark" in spec:
        return [spec]
    children = [c for key in ("layer", "hconcat", "vconcat", "concat") for c in spec.get(key, [])]
    if "spec" in spec:
        children.append(spec["spec"])
    return [view for child in children for view in _views(child)]


def _mark(view: dict) -> str:
    return view["mark"]["type"] if isinstance(view["mark"], dict) else view["mark"]


def _marks(spec: dict) -> set[str]:
    return {_mark(v) for v in _views(spec)}


def _tooltip_fields(view: dict) -> set[str]:
    tooltip = view.get("encoding", {}).get("tooltip", [])
    return {t.get("field") for t in (tooltip if isinstance(tooltip, list) else [tooltip])}


def _views_with(spec: dict, mark: str) -> list[dict]:
    return [v for v in _views(spec) if _mark(v) == mark]


def _colour_scales(spec: dict, channel: str = "color") -> list[dict]:
    return [v["encoding"][channel]["scale"] for v in _views(spec) if "scale" in v.get("encoding", {}).get(channel, {})]


def _dataset(spec: dict, view: dict) -> list[dict]:
    return spec["datasets"][view["data"]["name"]]


# -- tiny frames ------------------------------------------------------------------------------------------


@pytest.fixture
def funnel_points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["North", "South", "East", "West"],
            "n": [40, 120, 300, 0],
            "x": [4, 30, 120, 0],
            "rate": [0.10, 0.25, 0.40, np.nan],
            "lower": [0.04, 0.18, 0.35, np.nan],
            "upper": [0.23, 0.33, 0.46, np.nan],
            "flag": ["Worse (95%)", "Similar", "Better (99.8%)", "Not compared"],
        }
    )


@pytest.fixture
def funnel_curves() -> pd.DataFrame:
    n = np.geomspace(10, 300, 5)
    curves = pd.DataFrame(
        {
            "n": n,
            "low95": 0.3 - 1 / np.sqrt(n),
            "high95": 0.3 + 1 / np.sqrt(n),
            "low998": 0.3 - 1.5 / np.sqrt(n),
            "high998": 0.3 + 1.5 / np.sqrt(n),
        }
    )
    curves.attrs["limits"] = "plain"
    return curves


@pytest.fixture
def league_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["A", "B", "C", "D"],
            "x": [10, 50, 5, 2],
            "n": [100, 120, 80, 10],
            "rate": [0.10, 0.42, 0.0625, 0.2],
            "lower": [0.05, 0.33, 0.03, 0.06],
            "upper": [0.17, 0.51, 0.14, 0.51],
            "comparison": ["Similar", "Better", "Worse", "Not compared"],
        }
    )


@pytest.fixture
def ratio_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["A", "B"],
            "observed": [30, 12],
            "expected": [24.5, 20.1],
            "ratio": [1.22, 0.60],
            "ratio_lower": [0.83, 0.31],
            "ratio_upper": [1.75, 1.04],
            "comparison": ["Similar", "Worse"],
        }
    )


@pytest.fixture
def trend_series() -> pd.DataFrame:
    periods = pd.date_range("2013-01-01", periods=3, freq="MS")
    return pd.DataFrame(
        {
            "period": list(periods) * 2,
            "rate": [0.1, 0.2, 0.3, 0.2, 0.2, 0.25],
            "lower": [0.05] * 6,
            "upper": [0.4] * 6,
            "x": [5, 10, 15, 8, 8, 10],
            "n": [50, 50, 50, 40, 40, 40],
            "series": ["Partner"] * 3 + ["All partners"] * 3,
        }
    )


@pytest.fixture
def referrals() -> pd.DataFrame:
    months = pd.date_range("2013-01-01", periods=5, freq="MS")
    return pd.DataFrame(
        {
            "month": months,
            "actual": [90.0, 110.0, 100.0, 95.0, 95.0],
            "projected": [100.0] * 5,
            "band_low": [90.0] * 5,
            "band_high": [110.0] * 5,
            "kind": ["actual"] * 3 + ["forecast"] * 2,
            "forecast_low": [np.nan] * 3 + [80.0, 80.0],
            "forecast_high": [np.nan] * 3 + [110.0, 110.0],
        }
    )


@pytest.fixture
def compliance_cells() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner": ["A", "A", "B", "B"],
            "standard_id": ["S1", "S2", "S1", "S2"],
            "title": ["First contact in 2 days", "Action plan in 20 days"] * 2,
            "stage_label": ["Referral", "Assessment"] * 2,
            "share": [0.95, 0.60, 0.5, np.nan],
            "met": [19, 12, 1, 0],
            "n": [20, 20, 2, 0],
            "target_share": [0.9] * 4,
            "status": ["Meets target", "Below target (significant)", "Not enough data", "Not enough data"],
        }
    )


@pytest.fixture
def spine_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["Attachment rate", "Job outcome rate"],
            "value": [0.8, 0.2],
            "lower": [0.75, 0.15],
            "upper": [0.85, 0.26],
            "minimum": [0.5, 0.05],
            "q25": [0.65, 0.12],
            "median": [0.72, 0.18],
            "q75": [0.8, 0.24],
            "maximum": [0.95, 0.4],
            "comparison": ["Better", "Similar"],
            "x": [160, 40],
            "n": [200, 200],
        }
    )


# -- empty frames and missing columns -----------------------------------------------------------------


def test_empty_chart_is_a_text_mark_with_the_message():
    spec = charts.empty_chart().to_dict()
    assert spec["mark"]["type"] == "text"
    assert list(spec["datasets"].values())[0] == [{"message": NO_DATA}]


EMPTY_CALLS = [
    lambda e: charts.funnel_chart(e, e, 0.3),
    lambda e: charts.league_chart(e, 0.3),
    lambda e: charts.ratio_chart(e),
    lambda e: charts.trend_chart(e),
    lambda e: charts.referrals_chart(e),
    lambda e: charts.compliance_heatmap(e),
    lambda e: charts.distribution_chart(e, 10, label="Days to first contact"),
    lambda e: charts.spine_chart(e),
    lambda e: charts.coverage_chart(e),
    lambda e: charts.risk_components_chart(e),
    lambda e: charts.bar_chart(e, "a", "b"),
]


@pytest.mark.parametrize("build", EMPTY_CALLS)
def test_builders_show_no_data_message_for_an_empty_frame(build):
    spec = build(pd.DataFrame()).to_dict()
    assert spec["mark"]["type"] == "text"
    assert NO_DATA in str(spec["datasets"])


def test_distribution_chart_with_an_empty_series_shows_no_data():
    spec = charts.distribution_chart(pd.Series([], dtype=float), 10, label="Days").to_dict()
    assert spec["mark"]["type"] == "text"


def test_missing_column_names_the_chart_and_the_column(league_table):
    with pytest.raises(charts.MissingColumns, match=r"league_chart needs column\(s\) comparison \(found: unit, x"):
        charts.league_chart(league_table.drop(columns="comparison"), 0.2)


# -- funnel --------------------------------------------------------------------------------------------


def test_funnel_chart_layers_limits_baseline_rule_and_points(funnel_points, funnel_curves):
    spec = charts.funnel_chart(funnel_points, funnel_curves, 0.3).to_dict()
    assert {"line", "rule", "point"} <= _marks(spec)
    assert spec["width"] == "container"
    [rule] = _views_with(spec, "rule")
    assert _dataset(spec, rule) == [{"baseline": 0.3}]
    [dots] = _views_with(spec, "point")
    assert {"x", "n", "rate", "lower", "upper", "unit", "flag"} <= _tooltip_fields(dots)
    assert dots["encoding"]["x"]["scale"]["type"] == "log"


def test_funnel_chart_colours_flags_with_fixed_diverging_scale(funnel_points, funnel_curves):
    spec = charts.funnel_chart(funnel_points, funnel_curves, 0.3).to_dict()
    [dots] = _views_with(spec, "point")
    scale = dots["encoding"]["color"]["scale"]
    assert scale["domain"] == [
        "Better (99.8%)",
        "Better (95%)",
        "Similar",
        "Worse (95%)",
        "Worse (99.8%)",
        "Not compared",
    ]
    assert scale["range"] == list(FUNNEL_COLOURS.values())
    assert dots["encoding"]["color"]["title"]  # the legend is labelled
    # The flag by shape as well as colour (up above the limits, down below), in one legend with the colours.
    shapes = dots["encoding"]["shape"]["scale"]
    assert shapes["domain"] == scale["domain"]
    assert shapes["range"] == ["triangle-up", "triangle-up", "circle", "triangle-down", "triangle-down", "square"]
    # One colour meaning: the funnel's Better / Similar / Worse are the league table's colours.
    for word in ("Similar", "Not compared"):
        assert FUNNEL_COLOURS[word] == charts.COMPARISON_COLOURS[word]
    assert FUNNEL_COLOURS["Better (99.8%)"] == charts.COMPARISON_COLOURS["Better"]
    assert FUNNEL_COLOURS["Worse (99.8%)"] == charts.COMPARISON_COLOURS["Worse"]
    assert dots["encoding"]["shape"]["title"] == dots["encoding"]["color"]["title"]


def test_funnel_chart_dashes_95_and_solid_998_limits(funnel_points, funnel_curves):
    spec = charts.funnel_chart(funnel_points, funnel_curves, 0.3).to_dict()
    [lines] = _views_with(spec, "line")
    dash = lines["encoding"]["strokeDash"]
    assert dash["scale"] == {"domain": ["95% limits", "99.8% limits"], "range": [[6, 4], [1, 0]]}
    assert {row["limit"] for row in _dataset(spec, lines)} == {"95% limits", "99.8% limits"}
    assert len(_dataset(spec, lines)) == 4 * len(funnel_curves)


def test_funnel_chart_leaves_off_units_without_a_rate_and_says_so(funnel_points, funnel_curves):
    spec = charts.funnel_chart(funnel_points, funnel_curves, 0.3, unit_label="Partner").to_dict()
    [dots] = _views_with(spec, "point")
    assert [row["unit"] for row in _dataset(spec, dots)] == ["North", "South", "East"]
    assert "1 partner(s) without a rate not shown" in spec["title"]["subtitle"]
    assert "limits: plain" in spec["title"]["subtitle"][0]


def test_funnel_chart_linear_x_when_asked(funnel_points, funnel_curves):
    spec = charts.funnel_chart(funnel_points, funnel_curves, 0.3, log_x=False).to_dict()
    [dots] = _views_with(spec, "point")
    assert "type" not in dots["encoding"]["x"]["scale"]


# -- league and ratio --------------------------------------------------------------------------------


def test_league_chart_sorts_by_rate_and_draws_interval_point_and_benchmark(league_table):
    spec = charts.league_chart(league_table, 0.2, rate_label="Job outcome rate", unit_label="Partner").to_dict()
    assert {"rule", "circle"} <= _marks(spec)
    [dots] = _views_with(spec, "circle")
    assert dots["encoding"]["y"]["sort"] == ["B", "D", "A", "C"]
    interval, benchmark = _views_with(spec, "rule")
    assert interval["encoding"]["x"]["field"] == "lower" and interval["encoding"]["x2"]["field"] == "upper"
    assert _dataset(spec, benchmark)[0]["reference"] == 0.2
    assert {"x", "n", "rate", "lower", "upper"} <= _tooltip_fields(dots)
    assert {"x", "n"} <= _tooltip_fields(interval)


@pytest.mark.parametrize("units", [4, 10, 60])
def test_interval_charts_keep_a_full_row_for_every_unit_and_never_drop_a_label(league_table, units):
    # Left to fit both ways, Streamlit squeezed title, axes and legend into the height given: the rows shrank below
    # a label's height and Vega dropped every other name (3 of 10 partners named on Supply chain).
    table = pd.concat([league_table] * (units // 4 + 1), ignore_index=True).head(units)
    table = table.assign(unit=[f"Partner {i}" for i in range(units)])
    spec = charts.league_chart(table, 0.2).to_dict()
    # The plot keeps ROW_HEIGHT per unit: the chart fits the page's width only, titles and legend come on top.
    assert spec["height"] >= charts.ROW_HEIGHT * units and spec["autosize"]["type"] == "fit-x"
    y = next(v["encoding"]["y"] for v in spec["layer"] if "y" in v.get("encoding", {}))
    assert y["axis"]["labelOverlap"] is False


def test_league_chart_uses_the_fixed_comparison_colours_in_order(league_table):
    spec = charts.league_chart(league_table.iloc[:2], 0.2).to_dict()  # only two categories present
    for scale in _colour_scales(spec):
        assert scale["domain"] == ["Better", "Similar", "Worse", "Not compared"]
        assert scale["range"] == list(COMPARISON_COLOURS.values())


def test_league_chart_without_polarity_uses_neutral_colours(league_table):
    table = league_table.assign(comparison=["Similar", "Higher", "Lower", "Not compared"])
    [scale, *_] = _colour_scales(charts.league_chart(table, 0.2).to_dict())
    assert scale["domain"] == ["Higher", "Similar", "Lower", "Not compared"]


def test_league_chart_grows_with_rows(league_table):
    small = charts.league_chart(league_table.iloc[:1], 0.2).to_dict()["height"]
    many = pd.concat([league_table.assign(unit=league_table["unit"] + str(i)) for i in range(10)])
    assert charts.league_chart(many, 0.2).to_dict()["height"] > small


def test_ratio_chart_has_rule_at_one_and_observed_expected_tooltips(ratio_table):
    spec = charts.ratio_chart(ratio_table, unit_label="Partner").to_dict()
    interval, reference = _views_with(spec, "rule")
    assert _dataset(spec, reference)[0]["reference"] == 1.0
    assert {"observed", "expected", "ratio", "ratio_lower", "ratio_upper"} <= _tooltip_fields(interval)
    [dots] = _views_with(spec, "circle")
    assert dots["encoding"]["y"]["sort"] == ["A", "B"]
    assert dots["encoding"]["color"]["scale"]["domain"] == list(COMPARISON_COLOURS)


# -- trend and referrals ---------------------------------------------------------------------------------


def test_trend_chart_has_band_and_line_per_series(trend_series):
    spec = charts.trend_chart(trend_series, rate_label="Job outcome rate").to_dict()
    assert {"area", "line"} <= _marks(spec)
    [band] = _views_with(spec, "area")
    assert band["encoding"]["y"]["field"] == "lower" and band["encoding"]["y2"]["field"] == "upper"
    [line] = _views_with(spec, "line")
    assert line["encoding"]["x"]["type"] == "temporal"
    assert line["encoding"]["color"]["field"] == "series" and line["encoding"]["color"]["title"] == "Series"
    assert {"x", "n", "rate", "lower", "upper"} <= _tooltip_fields(line)


def test_referrals_chart_labels_the_forecast_in_the_legend(referrals):
    spec = charts.referrals_chart(referrals).to_dict()
    assert {"area", "line"} <= _marks(spec)
    [line] = _views_with(spec, "line")
    colour, dash = line["encoding"]["color"], line["encoding"]["strokeDash"]
    assert colour["scale"]["domain"] == dash["scale"]["domain"] == ["Actual", "Forecast", "Projected"]
    assert colour["title"] == dash["title"]  # one merged legend of coloured, dashed strokes
    assert dash["scale"]["range"][1] == [6, 4]  # forecast dashed
    assert {row["series"] for row in _dataset(spec, line)} == {"Actual", "Forecast", "Projected"}
    [band] = _views_with(spec, "area")
    assert band["encoding"]["fill"]["scale"]["domain"] == ["Tolerance band", "Forecast interval"]
    assert {row["band"] for row in _dataset(spec, band)} == {"Tolerance band", "Forecast interval"}


def test_referrals_forecast_line_starts_at_the_last_actual(referrals):
    spec = charts.referrals_chart(referrals).to_dict()
    [line] = _views_with(spec, "line")
    forecast = [row["value"] for row in _dataset(spec, line) if row["series"] == "Forecast"]
    assert forecast == [100.0, 95.0, 95.0]


def test_referrals_cumulative_continues_forecast_from_actual_to_date(referrals):
    spec = charts.referrals_chart(referrals, cumulative=True).to_dict()
    [line] = _views_with(spec, "line")
    rows = _dataset(spec, line)
    assert [r["value"] for r in rows if r["series"] == "Actual"] == [90.0, 200.0, 300.0]
    assert [r["value"] for r in rows if r["series"] == "Forecast"] == [300.0, 395.0, 490.0]
    assert [r["value"] for r in rows if r["series"] == "Projected"][-1] == 500.0
    [band] = _views_with(spec, "area")
    interval = [r for r in _dataset(spec, band) if r["band"] == "Forecast interval"]
    assert [(r["low"], r["high"]) for r in interval] == [(380.0, 410.0), (460.0, 520.0)]
    assert "Cumulative" in spec["title"]["text"]


# -- process standards, distribution, spine, coverage, risk -----------------------------------------


def test_status_colours_cover_the_compliance_statuses_in_their_display_order():
    from dashboard.compliance import STATUSES

    assert tuple(STATUS_COLOURS) == STATUSES


def test_compliance_heatmap_is_one_chart_the_page_width_with_every_column_labelled(compliance_cells):
    spec = charts.compliance_heatmap(compliance_cells).to_dict()
    # One view (not a panel per stage side by side), so Streamlit can draw it the width of the column, and only
    # fitted to the width, so the rows keep their height whatever the title and legend take.
    assert "hconcat" not in spec and "width" not in spec and spec["autosize"]["type"] == "fit-x"
    assert {"rect", "text"} <= _marks(spec)
    [rect, *_] = _views_with(spec, "rect")
    assert rect["encoding"]["color"]["scale"]["domain"] == list(STATUS_COLOURS)
    assert rect["encoding"]["color"]["scale"]["range"] == list(STATUS_COLOURS.values())
    assert {"met", "n", "share", "target_share", "status"} <= _tooltip_fields(rect)
    # Every column labelled by a short stage.number ("1.1", "2.1": stages in the rows' order when not the framework's).
    x = rect["encoding"]["x"]
    assert x["field"] == "column" and x["sort"] == ["6.1", "7.1"] and x["axis"]["labelAngle"] == 0
    [text, *_] = _views_with(spec, "text")
    [calculated] = [t for t in text["transform"] if t.get("as") == "cell_text"]
    # The status as a symbol before the share (not by colour alone), each symbol named in the legend; no "null"
    # on a cell without cases; the share only where the drawn cell is wide enough.
    assert "isValid(datum.share)" in calculated["calculate"] and "format(datum.share, '.0%')" in calculated["calculate"]
    assert all(json.dumps(symbol) in calculated["calculate"] for symbol in charts.STATUS_SYMBOLS.values())
    assert "width /" in text["encoding"]["text"]["value"]["expr"]
    assert "labelExpr" in rect["encoding"]["color"]["legend"]


def drawn_texts(chart, width: int) -> list[str]:
    """Every text Vega draws for `chart` at a plot `width` (rendered to SVG by vl-convert, as the PDF is)."""
    import re

    import vl_convert

    return re.findall(r"<text[^>]*>([^<]*)</text>", vl_convert.vegalite_to_svg(chart.properties(width=width).to_json()))


def test_heatmap_cells_show_status_and_share_where_they_fit_and_the_symbol_alone_where_not(compliance_cells):
    # The symbol expression once swallowed the share appended to it: cells drew "✓" alone at any width.
    wide = drawn_texts(charts.compliance_heatmap(compliance_cells), width=400)
    assert "\u2713 95%" in wide and "? 50%" in wide and "?" in wide  # no share on a cell without cases
    narrow = drawn_texts(charts.compliance_heatmap(compliance_cells), width=60)
    assert "\u2713" in narrow and not any("%" in text for text in narrow[:4])


def test_standard_columns_number_standards_by_the_framework_stage_and_the_key_names_them():
    cells = pd.DataFrame(
        {
            "standard_id": ["b-2", "a-9", "b-1"],
            "stage_label": ["Pre-work support", "Programme engagement", "Pre-work support"],
            "title": ["Action plan", "First contact", "Assessment"],
        }
    )
    columns = charts.standard_columns(cells)
    assert list(columns["column"]) == ["2.1", "3.1", "3.2"]
    assert list(columns["standard_id"]) == ["a-9", "b-1", "b-2"]
    assert charts.standards_key(cells) == [
        "2 Programme engagement: 2.1 First contact",
        "3 Pre-work support: 3.1 Assessment; 3.2 Action plan",
    ]


def test_partner_labels_are_cut_before_their_cpa_and_never_made_alike():
    names = [
        "Black Country Council Employment Service (CPA 3)",
        "Black Country Council Employment Service (CPA 12)",
        "Black Country Borough Council Work Team (CPA 3)",
        "Short name (CPA 1)",
    ]
    short = charts.distinct_short_labels(names, limit=30)
    assert short["Short name (CPA 1)"] == "Short name (CPA 1)"
    assert short[names[0]] == "Black Country Council\u2026 (CPA 3)"
    assert short[names[1]].endswith("\u2026 (CPA 12)") and len(short[names[1]]) <= 30
    assert len(set(short.values())) == len(names)
    # Two labels that would cut alike are cut less, until they differ.
    twins = ["Alpha Beta Gamma One Delta (CPA 1)", "Alpha Beta Gamma Two Delta (CPA 1)"]
    cut = charts.distinct_short_labels(twins, limit=20)
    assert cut[twins[0]] != cut[twins[1]] and all(c.endswith(" (CPA 1)") for c in cut.values())


def test_distribution_chart_marks_the_limit_in_red_with_a_label():
    days = pd.DataFrame({"days": [1, 2, 2, 3, 5, 8, 13, 21]})
    spec = charts.distribution_chart(days, 10, label="Days from referral to first contact").to_dict()
    assert {"bar", "rule", "text"} <= _marks(spec)
    [rule] = _views_with(spec, "rule")
    assert rule["mark"]["color"] == "#d62728"
    [text] = _views_with(spec, "text")
    assert _dataset(spec, text)[0]["text"] == "limit: 10 days"
    [bars] = _views_with(spec, "bar")
    assert bars["encoding"]["x"]["bin"] == {"maxbins": 30}
    assert spec["title"]["subtitle"] == "2 of 8 (25.0%) over the 10-day limit"


def test_distribution_chart_weights_durations_by_participants():
    histogram = pd.DataFrame({"days": [3, 9, 12, 40], "participants": [50, 30, 15, 5]})
    spec = charts.distribution_chart(histogram, 10, label="Days").to_dict()
    assert spec["title"]["subtitle"] == "20 of 100 (20.0%) over the 10-day limit"
    [bars] = _views_with(spec, "bar")
    assert bars["encoding"]["y"]["aggregate"] == "sum" and bars["encoding"]["y"]["field"] == "participants"
    assert len(_dataset(spec, bars)) == 4  # one row per distinct duration, not per participant


def test_distribution_chart_accepts_a_series():
    spec = charts.distribution_chart(pd.Series([3, 4, None]), 2, label="Days").to_dict()
    assert "bar" in _marks(spec)


def test_spine_chart_draws_range_box_median_and_coloured_value(spine_rows):
    spec = charts.spine_chart(spine_rows).to_dict()
    assert {"bar", "tick", "rule", "circle"} <= _marks(spec)
    [bars] = _views_with(spec, "bar")
    assert bars["encoding"]["fill"]["scale"]["domain"] == list(charts.SPREAD_COLOURS)  # the grey bars have a legend
    assert {row["band"] for row in _dataset(spec, bars)} == set(charts.SPREAD_COLOURS)
    [dots] = _views_with(spec, "circle")
    assert dots["encoding"]["color"]["scale"]["domain"] == list(COMPARISON_COLOURS)
    assert {"x", "n", "value", "lower", "upper", "median"} <= _tooltip_fields(dots)
    assert dots["encoding"]["y"]["sort"] == ["Attachment rate", "Job outcome rate"]


def test_coverage_chart_shows_submitted_and_missing_months():
    grid = pd.DataFrame(
        {
            "unit": ["A", "A", "B", "B"],
            "month": pd.to_datetime(["2013-01-01", "2013-02-01"] * 2),
            "submitted": [True, False, True, True],
        }
    )
    spec = charts.coverage_chart(grid).to_dict()
    [cells] = _views_with(spec, "rect")
    assert cells["encoding"]["color"]["scale"]["domain"] == ["Submitted", "Missing"]
    statuses = [row["status"] for row in list(spec["datasets"].values())[0]]
    assert statuses == ["Submitted", "Missing", "Submitted", "Submitted"]
    # A missing month carries a cross too (not colour alone), and the legend names it.
    [crosses] = _views_with(spec, "text")
    assert crosses["transform"] == [{"filter": "datum.status === 'Missing'"}]
    assert "Missing" in cells["encoding"]["color"]["legend"]["labelExpr"]


def test_risk_components_chart_shows_each_component_not_one_score():
    rows = pd.DataFrame(
        {
            "unit": ["A", "A", "B", "B"],
            "component": ["Late submissions", "Low outcomes"] * 2,
            "score": [0.2, 0.9, 0.5, 0.1],
            "detail": ["1 of 6 months late", "Worse than benchmark", "3 of 6", "Similar"],
        }
    )
    spec = charts.risk_components_chart(rows).to_dict()
    [bars] = _views_with(spec, "bar")
    encoding = {**spec.get("encoding", {}), **bars["encoding"]}
    assert encoding["yOffset"]["field"] == "component" and encoding["color"]["field"] == "component"
    assert encoding["x"]["scale"]["domain"][0] == 0 and encoding["x"]["axis"]["values"][-1] == 1.0
    assert {"unit", "component", "score", "detail"} <= {t["field"] for t in encoding["tooltip"]}
    # Not by colour alone: each bar ends in its component's number, and the legend numbers the components.
    assert "1 Late submissions" in drawn_texts(charts.risk_components_chart(rows), width=300)
    assert {"1", "2"} <= set(drawn_texts(charts.risk_components_chart(rows), width=300))


def test_bar_chart_infers_types_and_adds_colour_legend():
    frame = pd.DataFrame({"partner": ["A", "B"], "referrals": [10, 20], "cpa": ["5", "6"]})
    spec = charts.bar_chart(frame, "partner", "referrals", color="cpa", title="Referrals").to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"] == {"field": "partner", "type": "nominal"}
    assert spec["encoding"]["y"] == {"field": "referrals", "type": "quantitative"}
    assert spec["encoding"]["color"]["field"] == "cpa"
    assert spec["title"] == "Referrals"


# -- names from files: text in the chart, never markup -----------------------------------------------


HOSTILE = '![x](http://evil.example/p.png) <img src=x onerror=alert(1)> "q" &amp; \u202e'


def _tooltip_keys(spec) -> list[str]:
    """The key vega-tooltip shows for every tooltip entry of every view: its title, else its field."""
    keys = []

    def walk(node):
        if isinstance(node, dict):
            tooltip = node.get("tooltip")
            for entry in tooltip if isinstance(tooltip, list) else [tooltip] if isinstance(tooltip, dict) else []:
                keys.append(str(entry.get("title", entry.get("field"))))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return keys


def _hostile_charts(
    funnel_points, funnel_curves, league_table, ratio_table, trend_series, compliance_cells, spine_rows
):
    named = {"unit": HOSTILE, "partner": HOSTILE, "series": HOSTILE, "title": HOSTILE, "indicator": HOSTILE}

    def label(frame):
        return frame.assign(**{c: [f"{v} {i}" for i in range(len(frame))] for c, v in named.items() if c in frame})

    coverage = pd.DataFrame({"unit": [HOSTILE], "month": [pd.Timestamp("2013-01-01")], "submitted": [True]})
    risk = pd.DataFrame({"unit": [HOSTILE], "component": ["referrals"], "score": [0.5], "detail": [HOSTILE]})
    return [
        charts.funnel_chart(label(funnel_points), funnel_curves, 0.3, unit_label="Partner"),
        charts.league_chart(label(league_table), 0.2),
        charts.ratio_chart(label(ratio_table)),
        charts.trend_chart(label(trend_series)),
        charts.compliance_heatmap(label(compliance_cells).assign(stage_label=HOSTILE)),
        charts.distribution_chart(pd.DataFrame({"days": [1, 5, 20]}), 10, label=HOSTILE),
        charts.spine_chart(label(spine_rows)),
        charts.coverage_chart(coverage),
        charts.risk_components_chart(risk),
        charts.bar_chart(pd.DataFrame({"image": [HOSTILE], "title": [1]}), "image", "title"),
    ]


def test_no_tooltip_is_keyed_so_vega_tooltip_draws_an_image_or_heading(
    funnel_points, funnel_curves, league_table, ratio_table, trend_series, compliance_cells, spine_rows
):
    built = _hostile_charts(
        funnel_points, funnel_curves, league_table, ratio_table, trend_series, compliance_cells, spine_rows
    )
    for chart in built:
        spec = chart.to_dict()
        keys = _tooltip_keys(spec)
        assert keys and not set(keys) & set(charts.VEGA_TOOLTIP_SPECIAL_KEYS), keys
        assert '"href"' not in json.dumps(spec)  # no channel that opens an address on a click


def test_names_reach_a_chart_as_data_values_unchanged(league_table):
    spec = charts.league_chart(league_table.assign(unit=[f"{HOSTILE} {i}" for i in range(4)]), 0.2).to_dict()
    units = {row["unit"] for rows in spec["datasets"].values() for row in rows if "unit" in row}
    assert units == {f"{HOSTILE} {i}" for i in range(4)}  # vega-tooltip escapes them when it shows them


def test_suppressed_counts_show_as_text_in_tooltips(league_table):
    table = league_table.astype({"x": object, "n": object})
    table.loc[3, ["x", "rate", "lower", "upper"]] = ["*", np.nan, np.nan, np.nan]
    [dots] = _views_with(charts.league_chart(table, 0.2).to_dict(), "circle")
    tooltip = {t["field"]: t for t in dots["encoding"]["tooltip"]}
    assert tooltip["x"] == {"field": "x", "title": "Numerator (x)", "type": "nominal"}
    assert tooltip["rate"]["format"] == ".1%"


def test_satisfaction_chart_draws_each_shown_mean_against_the_minimum_in_words_and_shape():
    frame = pd.DataFrame(
        {
            "unit": ["CPA 1", "CPA 2", "CPA 3"],
            "satisfaction": [3.6, 2.8, np.nan],
            "against_minimum": ["meets", "below", ""],
        }
    )
    spec = charts.satisfaction_chart(frame, 3.0, unit_label="CPA").to_dict()
    assert {"point", "text", "rule"} <= _marks(spec)
    rows = [r for rows in spec["datasets"].values() for r in rows if "unit" in r]
    assert {r["unit"] for r in rows} == {"CPA 1", "CPA 2"}  # a mean not shown is not drawn
    [text, *_] = _views_with(spec, "text")
    assert text["encoding"]["text"]["field"] == "against_minimum"
