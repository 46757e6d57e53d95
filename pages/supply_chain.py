"""Supply chain (a prime's view): one prime contract's partners, volumes, results, standards and flags."""

import streamlit as st

from dashboard import charts, supply_chain, ui
from dashboard.queries import Filters

as_of = ui.page_header(
    "Supply chain", "Which of a prime's partners are under-performing, under-referred or missing the prime's standards?"
)
options = ui.query("filter_options")
contracts = options["contracts"]
labels = {r.contract_id: supply_chain.contract_label(r) for r in contracts.itertuples()}
contract_id = st.selectbox("Prime contract", list(labels), format_func=labels.get, key="contract", bind="query-params")
contract = contracts.set_index("contract_id").loc[contract_id]
filters = Filters(prime=contract["prime_id"], cpa=int(contract["cpa_code"]))
if supply_chain.ended_early(contract):
    st.info(f"This contract ended early: {contract['end_reason']} (last referrals {contract['end_date']}).")

summary = supply_chain.partner_contracts(ui.query, filters, as_of=as_of)
if summary.empty:
    st.info("No MI has been loaded for this contract yet.")
    st.stop()
summary = summary[summary["contract_id"] == contract_id].copy()
summary["flags"] = ["; ".join(supply_chain.flags(r)) for r in summary.to_dict("records")]

c1, c2, c3 = st.columns(3)
c1.metric("Partners", len(summary))
c2.metric("Referrals", ui.published_count(summary["referrals"].sum()))
c3.metric("Partners flagged", int((summary["flags"] != "").sum()))
columns = [
    "partner",
    "sector",
    "tier",
    "referrals",
    "share_of_contract",
    "outcomes_x",
    "outcomes_n",
    "outcome_rate",
    "lower",
    "upper",
    "benchmark",
    "comparison",
    "ratio",
    "adjusted_comparison",
    "variance_pct",
    "projection_status",
    "standards_measured",
    "standards_met",
    "standards_below",
    "flags",
]
table = summary[[c for c in columns if c in summary]].sort_values("referrals", ascending=False)
table = ui.publish(table, ["referrals", "outcomes_x", "outcomes_n"], totalled=("referrals",))
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "share_of_contract": ui.percent("share of referrals"),
        "outcomes_x": st.column_config.TextColumn("job outcomes (x)"),
        "outcomes_n": st.column_config.TextColumn("mature cohort (n)"),
        **{c: ui.percent(c) for c in ("outcome_rate", "lower", "upper", "benchmark", "variance_pct")},
        "ratio": st.column_config.NumberColumn("observed / expected", format="%.2f"),
    },
)
ui.downloads(table, f"supply_chain_{contract_id}")

rated = summary.dropna(subset=["outcome_rate"]).rename(
    columns={"outcomes_x": "x", "outcomes_n": "n", "outcome_rate": "rate"}
)
if len(rated):
    rated = rated.assign(unit=rated["partner"])
    st.altair_chart(
        charts.league_chart(
            rated, float(rated["benchmark"].iloc[0]), rate_label="Job outcome rate (12 months)", unit_label="Partner"
        ),
        width="stretch",
    )

ui.how_calculated("""
- **Outcome rate**: 12-month job outcome rate of mature referral cohorts (x / n, 95% Wilson interval) against
  the pooled rate of every partner in every CPA; **observed / expected** adjusts for payment-group mix.
- **Variance**: referrals against the projection over the months each partner reported (±10% tolerance).
- **Standards**: of the prime's measurable standards, how many the partner meets, and how many are
  significantly below target (the whole 95% interval below the target share).
- **Flags** name the concern in words; nothing is combined into a single score.
""")
