"""Overview: programme KPIs with their numerators and denominators, and who has sent which months."""

import streamlit as st

from dashboard import charts, overview, publication, ui

as_of = ui.page_header("Overview", "How much MI is here, what it adds up to, and who has sent which months.")
filters = ui.filter_sidebar(as_of=as_of)

flows = ui.query("flow_totals", filters)
totals = overview.flow_totals_of(flows)
labels = {
    "referrals": "Referrals",
    "attachments": "Attachments",
    "job_starts": "Job starts",
    "job_outcomes": "Job outcomes",
}
unreported = overview.not_reporting(flows)
for col, measure in zip(st.columns(len(overview.FLOW_MEASURES)), overview.FLOW_MEASURES):
    left_out = int(unreported[measure])
    col.metric(
        labels[measure],
        ui.published_count(totals[measure]) or ("not reported" if left_out else "0"),
        help=f"Leaves out {left_out} partner contract(s) whose returns do not report it or sent it suppressed "
        "(unknown, not zero)."
        if left_out
        else None,
    )
if unreported.any():
    st.caption(
        "Not reported is not zero: "
        + "; ".join(f"{labels[m].lower()} leave out {n} partner contract(s)" for m, n in unreported.items() if n)
        + ", whose returns do not report them or sent some of them suppressed. Their rows are out of these totals "
        "and out of both sides of the rates below."
    )

kpis = publication.publish_table(
    overview.flow_rate_counts(flows),
    policy=ui.policy(),
    counts=["numerator", "denominator"],
    rates={"rate": ("numerator", "denominator")},
    intervals=True,
    keep=["measure"],
)
st.subheader("Flow rates in the selected period")
ui.table(
    kpis,
    overview.without_ratio_intervals(kpis.display()).rename(
        columns={"rate_low": "lower 95%", "rate_high": "upper 95%"}
    ),
    hide_index=True,
)
st.caption(
    "Flow measures: events in the period over events in the period. Cohort rates, which follow each "
    "referral month's participants, are on the Benchmarks page."
)

with st.container():
    st.subheader("Data coverage: who sent which months")
    coverage = ui.query("coverage", filters)
    contracts = ui.query("filter_options")["contracts"]
    ends = dict(zip(contracts["contract_id"], contracts["end_date"]))
    grid = overview.coverage_by_cpa(coverage, as_of, ends)
    # The list below names every partner contract with a missing return: the grid's figures in words.
    ui.chart(
        charts.coverage_chart(grid),
        charts.coverage_summary(grid) + " The partner contracts behind the missing months are listed below.",
    )
    missing = overview.missing_returns(coverage, as_of, ends)
    st.markdown(
        f"**{len(missing)} partner contracts** have no data for {as_of:%B %Y} (their latest month is "
        "earlier): possible missing returns."
    )
    ui.dataframe(missing.rename(columns={"month": "latest month"}), hide_index=True)
    ui.downloads(ui.labels_only(missing), "missing_returns")

ui.how_calculated("""
- **Counts** are flows: referrals, attachments, job starts and job outcomes that fell in each month, from
  participant-level returns (counted by the month of each milestone) and from aggregate returns for the
  partner-months no participant row covers. Nothing is counted twice.
- **Rates** show their numerator and denominator with a 95% Wilson score interval, all computed from the
  counts as published (in public mode: rounded to 5, and rates to whole percentages; `*` hides a count of 1-4
  and every rate that depends on it).
- **Coverage** marks the months for which any current submission holds data. A partner contract whose latest
  month is before the as-of month may have a missing return.
""")
