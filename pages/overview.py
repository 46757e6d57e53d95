"""Overview: programme KPIs with their numerators and denominators, and who has sent which months."""

import pandas as pd
import streamlit as st

from dashboard import charts, metrics, ui

as_of = ui.page_header("Overview", "How much MI is here, what it adds up to, and who has sent which months.")
filters = ui.filter_sidebar(as_of=as_of)

flows = ui.query("flow_totals", filters)
totals = flows[["referrals", "attachments", "job_starts", "job_outcomes"]].sum()
cols = st.columns(4)
for col, (label, value) in zip(
    cols,
    [
        ("Referrals", totals.referrals),
        ("Attachments", totals.attachments),
        ("Job starts", totals.job_starts),
        ("Job outcomes", totals.job_outcomes),
    ],
):
    col.metric(label, ui.published_count(value))

rows = []
for label, x, n in (
    ("Attachment rate (attachments / referrals)", totals.attachments, totals.referrals),
    ("Job outcomes per job start", totals.job_outcomes, totals.job_starts),
):
    if n > 0 and x <= n:
        lower, upper = metrics.wilson_interval(x, n)
        rows.append(
            {
                "measure": label,
                "numerator": int(x),
                "denominator": int(n),
                "rate": x / n,
                "lower 95%": lower,
                "upper 95%": upper,
            }
        )
kpis = ui.publish(pd.DataFrame(rows), ["numerator", "denominator"])
st.subheader("Flow rates in the selected period")
st.dataframe(kpis, hide_index=True, column_config={c: ui.percent(c) for c in ("rate", "lower 95%", "upper 95%")})
st.caption(
    "Flow measures: events in the period over events in the period. Cohort rates, which follow each "
    "referral month's participants, are on the Benchmarks page."
)

with st.container():
    st.subheader("Data coverage: who sent which months")
    coverage = ui.query("coverage", filters)
    by_cpa = coverage.groupby(["cpa_code", "month"], as_index=False).agg(partners=("partner_id", "nunique"))
    grid = by_cpa.assign(unit=lambda d: "CPA " + d["cpa_code"].astype(str), submitted=True)
    st.altair_chart(charts.coverage_chart(grid[["unit", "month", "submitted"]]), width="stretch")
    last = coverage.groupby(["partner", "prime", "cpa_code"], as_index=False)["month"].max()
    missing = last[last["month"] < pd.Timestamp(as_of)].sort_values("month")
    st.markdown(
        f"**{len(missing)} partner contracts** have no data for {as_of:%B %Y} (their latest month is "
        "earlier): possible missing returns."
    )
    st.dataframe(missing.rename(columns={"month": "latest month"}), hide_index=True)
    ui.downloads(missing, "missing_returns")

ui.how_calculated("""
- **Counts** are flows: referrals, attachments, job starts and job outcomes that fell in each month, from
  participant-level returns (counted by the month of each milestone) and from aggregate returns for the
  partner-months no participant row covers. Nothing is counted twice.
- **Rates** show their numerator and denominator with a 95% Wilson score interval.
- **Coverage** marks the months for which any current submission holds data. A partner contract whose latest
  month is before the as-of month may have a missing return.
""")
