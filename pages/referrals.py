"""Referrals vs projections: is each contract and partner getting the volumes it was projected?"""

import streamlit as st

from dashboard import charts, metrics, publication, referrals, settings, ui

as_of = ui.page_header(
    "Referrals vs projections",
    "Are contracts and partners receiving the referrals they were projected? Who is furthest below profile?",
)
filters = ui.filter_sidebar(as_of=as_of)
level = (
    ui.url_choice(
        "Per",
        ["partner", "contract"],
        default="partner",
        key="per",
        widget="segmented_control",
        format_func=lambda v: {"partner": "Partner", "contract": "Prime contract"}[v],
    )
    or "partner"
)
tolerance = settings.get("projection_tolerance")

frame = ui.query("projections_vs_actuals", filters)
if frame["projected"].notna().sum() == 0:
    st.info("No projections have been loaded for this selection (Projections sheet of the MI template).")
    st.stop()
policy = ui.policy()
published = publication.publish_table(
    referrals.unit_totals(frame, level),
    policy=policy,
    counts=["actual", "projected"],
    # The whole selection's monthly series adds up to (about) these column totals: protect hidden cells against them.
    totals=("actual", "projected"),
    owner="partner_id" if level == "partner" else None,
    keep=["unit", "months"],
)
table = referrals.variance_from_published(published.frame, tolerance, policy.rate_decimals)
shown = (
    published.display()
    .loc[table.index]
    .assign(variance=table["variance"], variance_pct=table["variance_pct"], status=table["status"])
)

st.subheader("Variance: largest shortfall first")
ui.table(
    published,
    shown[["unit", "actual", "projected", "variance", "variance_pct", "status", "months"]],
    hide_index=True,
    column_config={
        "variance_pct": ui.percent("variance %"),
        "actual": st.column_config.TextColumn("actual referrals"),
        "projected": st.column_config.TextColumn("projected referrals"),
    },
)
below = (table["status"] == metrics.BELOW_TOLERANCE).sum()
st.caption(
    f"{below} of {len(table)} below the ±{tolerance:.0%} tolerance band over the months they reported, judged on "
    "the figures as published."
)
ui.downloads(
    published,
    f"referrals_vs_projections_{level}",
    [f"Tolerance ±{tolerance:.0%}", "Variance = actual - projected, from the figures as published"],
)

st.subheader("Monthly and cumulative")
unit = st.selectbox("Show", ["Whole selection", *table["unit"]], key="ref_unit", bind="query-params")
chosen = None if unit == "Whole selection" else unit
series = publication.publish_table(
    referrals.monthly_series(frame, level, chosen),
    policy=policy,
    counts=["actual", "projected"],
    totals=("actual", "projected"),  # the cumulative chart ends at them
    owner="partner_id",
    keep=["month"],
)
chart_data = referrals.chart_frame(series.frame, tolerance, policy=policy)
left, right = st.columns(2)
ui.chart(charts.referrals_chart(chart_data), charts.referrals_summary(chart_data), series, where=left)
ui.chart(
    charts.referrals_chart(chart_data, cumulative=True),
    charts.referrals_summary(chart_data, cumulative=True),
    where=right,
)
st.caption(
    "The dashed line is a **forecast**, a projection of the next 6 months at the run rate of the last 6 "
    "published months, with a 95% interval for the underlying monthly rate. It is not a commitment from anyone."
)

ui.how_calculated(f"""
- **Variance** = actual - projected referrals; **variance %** = variance / projected. Status is *below*,
  *within* or *above* the ±{tolerance:.0%} tolerance band (setting `projection_tolerance`).
- Only months up to a unit's latest return count, so a missing return is not mistaken for a shortfall.
- **Cumulative** lines add up from the first month shown: the contract-to-date position.
- **Forecast**: mean of the last 6 published months' referrals; interval from the Byar / exact Poisson limits
  on their total, divided by 6.
- **Publication**: counts are published by the viewer's policy (in public mode rounded to the nearest
  {settings.get("rounding_base")}, and `*` hides a count of 1-4; `**` hides one that would let it be worked
  out). Variance, variance %, status, the tolerance band and the forecast are computed from the counts as
  published, and a forecast is rounded like a count in public mode.
""")
