"""Benchmarks: job start and job outcome rates across all CPAs, fair to small numbers and case mix."""

import streamlit as st

from dashboard import benchmarks as bm
from dashboard import charts, ui

as_of = ui.page_header(
    "Benchmarks",
    "How do job starts and job outcomes compare across every CPA, contract and partner, for the same payment groups?",
)
filters = ui.filter_sidebar(as_of=as_of)
c1, c2, c3, c4 = st.columns(4)
measure = ui.url_choice(
    "Measure", list(bm.MEASURES), format_func=lambda m: bm.MEASURES[m].label, key="measure", where=c1
)
level = ui.url_choice(
    "Compare",
    ["partner", "contract", "cpa"],
    format_func=lambda lv: {"partner": "Partners", "contract": "Prime contracts", "cpa": "CPAs"}[lv],
    key="level",
    where=c2,
)
comparator = ui.url_choice("Against", list(bm.COMPARATORS), format_func=bm.COMPARATORS.get, key="against", where=c3)
view = (
    ui.url_choice(
        "Rates",
        ["adjusted", "raw"],
        default="adjusted",
        key="view",
        widget="segmented_control",
        where=c4,
        format_func=lambda v: {"adjusted": "Case-mix adjusted", "raw": "Raw"}[v],
    )
    or "adjusted"
)
adjust_od = st.toggle("Widen funnel limits for overdispersion", value=True, key="od", bind="query-params")

# The comparator pools everything in the chosen payment groups and years; CPA, prime, sector and tier
# filters then choose which units are shown against it.
scope = ui.Filters(payment_groups=filters.payment_groups, period_from=filters.period_from, period_to=filters.period_to)
counts = ui.query("cohort_totals", scope, as_of=as_of)
m = bm.MEASURES[measure]
target = None
if comparator == "mpl":
    try:
        target = bm.mpl_benchmark(ui.query("minimum_performance_levels"), filters.payment_groups, filters.period_to)
    except bm.ComparatorUnavailable as exc:
        st.warning(str(exc))
        st.stop()
try:
    table = bm.benchmark_table(
        counts, level, measure, comparator, min_n=ui.settings.get("min_denominator"), target=target, adjust=adjust_od
    )
except bm.ComparatorUnavailable as exc:
    st.warning(str(exc))
    st.stop()
prime_names = ui.query("filter_options")["primes"].set_index("prime_id")["prime_name"].to_dict()
shown = bm.units_in_view(table, filters, prime_names)
if shown.empty:
    st.info("No mature cohorts for this selection. Widen the years or payment groups.")
    st.stop()

unit_label = {"partner": "Partner", "contract": "Contract", "cpa": "CPA"}[level]
policy = ui.policy()


publish = ui.publisher()


series = ui.query("cohort_series", scope, as_of=as_of)
trend = bm.trends(series, level, measure, units=list(shown["unit"]))
owner = "partner_id" if level == "partner" else None
league = bm.publish_league(shown, trend, publish=publish, policy=policy, owner=owner)
rows = league.frame  # numbers, NaN where hidden: the only figures the charts get
left, right = st.columns(2)
with left:
    try:
        fun = bm.funnel(shown, rows, adjust=adjust_od)
    except bm.FunnelUnavailable as exc:
        st.info(str(exc))
    else:
        # The league table below holds the same units and figures: the chart's table is that one.
        ui.chart(
            charts.funnel_chart(fun.points, fun.curves, fun.baseline, rate_label=m.label, unit_label=unit_label),
            charts.funnel_summary(fun.points, plural=f"{unit_label.lower()}s")
            + " Each unit's figures are in the league table below.",
        )
        st.caption(
            bm.funnel_caption(
                fun, league.totals_display(), adjust=adjust_od, min_n=ui.settings.get("min_denominator"), policy=policy
            )
        )
with right:
    end = (
        st.segmented_control("Chart shows", bm.CHART_ENDS, default="highest", key="chart_end", bind="query-params")
        or "highest"
    )
    top, said = bm.chart_slice(bm.chart_rows(rows), adjusted=view == "adjusted", end=end)
    if top.empty:
        st.info("No unit in this selection has a published value to chart.")
    elif view == "adjusted":
        adjusted = top.assign(comparison=lambda d: d["adjusted_comparison"])
        ui.chart(
            charts.ratio_chart(adjusted, unit_label=unit_label),
            charts.comparison_summary(adjusted["comparison"], plural=f"{unit_label.lower()}s drawn", against="1.0")
            + f" {said}",
        )
    else:
        ui.chart(
            charts.league_chart(top, float(top["benchmark"].iloc[0]), rate_label=m.label, unit_label=unit_label),
            charts.comparison_summary(top["comparison"], plural=f"{unit_label.lower()}s drawn") + f" {said}",
        )

st.subheader("League table")
ui.table(
    league,
    bm.league_view(league.display()),
    hide_index=True,
    column_config={
        "x": st.column_config.TextColumn("x (numerator)"),
        "n": st.column_config.TextColumn("n (cohort)"),
        **{c: st.column_config.TextColumn(c) for c in ("rate", "lower", "upper")},
        "benchmark": ui.percent("benchmark"),
        "comparison": st.column_config.TextColumn("vs benchmark (95%)"),
        "comparison_998": st.column_config.TextColumn("vs benchmark (99.8%)"),
        "ratio": st.column_config.NumberColumn("observed / expected", format="%.2f"),
        "adjusted_comparison": st.column_config.TextColumn("case-mix adjusted"),
    },
)
st.caption(ui.SUPPRESSION_NOTE + f" Units with n < {ui.settings.get('min_denominator')} are 'Not compared'.")
unreported = bm.not_reported_units(bm.units_in_view(counts, filters, prime_names), level, m)
if unreported:
    # Unknown is not zero: referrals whose returns lack the measure's column are out of its x and n alike.
    st.caption(
        "Not reported is not zero: "
        + "; ".join(ui.md_escape(line) for line in unreported[:20])
        + (f"; and {len(unreported) - 20} more" if len(unreported) > 20 else "")
        + "."
    )
ui.downloads(league, f"benchmarks_{level}_{measure}", [m.help, ui.SUPPRESSION_NOTE])


@st.fragment
def trend_card(series, units, level, m, owners):
    """One unit's quarterly trend, published like the table; a fragment, so picking a unit reruns only this card."""
    with st.expander("Trend for one unit"):
        if not bm.has_series(series, m.key):
            st.info(f"No quarterly series is kept for the {m.label.lower()}.")
            return
        unit = st.selectbox("Unit", units, key="trend_unit", bind="query-params")
        quarters = bm.publish_quarters(
            bm.unit_quarterly_rates(series, level, m.key, unit), publish=publish, owner=owners.get(unit)
        )
        ui.chart(
            charts.trend_chart(bm.trend_rows(quarters.frame, unit), rate_label=m.label),
            f"{m.label} of {ui.md_escape(unit)}, quarter by quarter, each with its 95% interval.",
            quarters,
        )


owners = dict(zip(shown["unit"], shown["partner_id"])) if owner else {}
trend_card(series, list(rows["unit"]), level, m, owners)

ui.how_calculated(f"""
- **{m.label}**: {m.help}
- **Interval**: 95% Wilson score interval on x / n. **Benchmark**: the pooled rate of the comparator
  (all partners in the chosen payment groups and years, or the same CPA / prime / sector), or a minimum
  performance level. Better / Worse when the rate is outside the funnel's limits around the benchmark (the
  same rule as the funnel, so the table and the funnel never disagree; with plain limits this is exactly "the
  whole Wilson interval is above / below it"); "99.8%" is stronger evidence.
- **Case-mix adjusted**: expected outcomes = each payment group's cohort size x the comparator's rate in that
  group; observed / expected with a binomial interval (the Wilson interval of observed / n, times n / expected:
  an outcome is a share of the cohort, not a rare count). 1.0 = as expected.
- **Funnel plot**: the league table's units and benchmark: 95% and 99.8% control limits around the benchmark;
  optionally widened for genuine between-unit variation (Spiegelhalter's overdispersion, logit scale, 10%
  winsorised), and then the table's verdicts use the widened limits too. A unit at 0% or 100% has no logit, so
  it is judged against the plain limits (the caption counts them). 'Not compared' units are left out, and
  units compared with different benchmarks get no funnel.
- **What is shown**: counts as published (`*` hides 1-4; public mode rounds to 5); rates, intervals,
  benchmarks and observed / expected are worked out from the published counts (public mode: whole
  percentages; expected rounded like a count). The verdicts and funnel flags are worked out from the exact
  counts and shown only as labels.
- **Trend**: chi-square test for trend over the five most recent mature quarters (99.8%), with a
  drop-one check on the slope's sign.
- Only participant-level returns give cohorts; partners sending aggregate returns only appear on the
  Overview and Referrals pages as flows.
""")
