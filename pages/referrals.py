"""Referrals vs projections: is each contract and partner getting the volumes it was projected?"""

import streamlit as st

from dashboard import charts, metrics, referrals, settings, ui

as_of = ui.page_header(
    "Referrals vs projections",
    "Are contracts and partners receiving the referrals they were projected? Who is furthest below profile?",
)
filters = ui.filter_sidebar(as_of=as_of)
level = (
    st.segmented_control(
        "Per",
        ["partner", "contract"],
        default="partner",
        key="per",
        bind="query-params",
        format_func=lambda v: {"partner": "Partner", "contract": "Prime contract"}[v],
    )
    or "partner"
)
tolerance = settings.get("projection_tolerance")

frame = ui.query("projections_vs_actuals", filters)
if frame["projected"].notna().sum() == 0:
    st.info("No projections have been loaded for this selection (Projections sheet of the MI template).")
    st.stop()
table = referrals.variance_table(frame, level, tolerance)

st.subheader("Variance: largest shortfall first")
shown = ui.publish(
    table[["unit", "actual", "projected", "variance", "variance_pct", "status", "months"]], ["actual", "projected"]
)
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "variance_pct": ui.percent("variance %"),
        "actual": st.column_config.TextColumn("actual referrals"),
        "projected": st.column_config.TextColumn("projected referrals"),
    },
)
below = (table["status"] == metrics.BELOW_TOLERANCE).sum()
st.caption(f"{below} of {len(table)} below the ±{tolerance:.0%} tolerance band over the months they reported.")
ui.downloads(shown, f"referrals_vs_projections_{level}", [f"Tolerance ±{tolerance:.0%}"])

st.subheader("Monthly and cumulative")
monthly = referrals.monthly_by_unit(frame, level)
unit = st.selectbox("Show", ["Whole selection", *table["unit"]], key="ref_unit")
series = monthly if unit == "Whole selection" else monthly[monthly["unit"] == unit]
chart_data = referrals.chart_frame(series, tolerance)
left, right = st.columns(2)
left.altair_chart(charts.referrals_chart(chart_data), width="stretch")
right.altair_chart(charts.referrals_chart(chart_data, cumulative=True), width="stretch")
st.caption(
    "The dashed line is a **forecast**, a projection of the next 6 months at the run rate of the last 6, "
    "with a 95% interval for the underlying monthly rate. It is not a commitment from anyone."
)

ui.how_calculated(f"""
- **Variance** = actual - projected referrals; **variance %** = variance / projected. Status is *below*,
  *within* or *above* the ±{tolerance:.0%} tolerance band (setting `projection_tolerance`).
- Only months up to a unit's latest return count, so a missing return is not mistaken for a shortfall.
- **Cumulative** lines add up from the first month shown: the contract-to-date position.
- **Forecast**: mean of the last 6 months' referrals; interval from the Byar / exact Poisson limits on their
  total, divided by 6.
""")
