"""Supply chain (a prime's view): one prime contract's partners, volumes, results, standards and flags."""

import pandas as pd
import streamlit as st

from dashboard import charts, supply_chain, ui
from dashboard.queries import Filters

as_of = ui.page_header(
    "Supply chain", "Which of a prime's partners are under-performing, under-referred or missing the prime's standards?"
)
options = ui.query("filter_options")
contracts = options["contracts"]
labels = {r.contract_id: supply_chain.contract_label(r) for r in contracts.itertuples()}
contract_id = ui.url_choice("Prime contract", list(labels), format_func=labels.get, key="contract")
contract = contracts.set_index("contract_id").loc[contract_id]
filters = Filters(prime=contract["prime_id"], cpa=int(contract["cpa_code"]))
if supply_chain.ended_early(contract):
    st.info(
        f"This contract ended early: {ui.md_escape(contract['end_reason'])} "
        f"(last referrals {ui.md_escape(contract['end_date'])})."
    )

summary = supply_chain.partner_contracts(ui.query, filters, as_of=as_of)
if summary.empty or not (summary["contract_id"] == contract_id).any():
    st.info("No MI has been loaded for this contract yet.")
    st.stop()
summary = summary[summary["contract_id"] == contract_id].reset_index(drop=True)
publish = ui.publisher()
table = supply_chain.publish_partner_table(
    summary, publish, totals=("referrals",), extras=supply_chain.contract_extras, largest_first=True
)
benchmark = supply_chain.published_benchmark(summary, publish)

c1, c2, c3 = st.columns(3)
c1.metric("Partners", len(summary))
c2.metric("Referrals", table.totals_display()["referrals"])
c3.metric("Partners flagged", int((table.frame["flags"] != "").sum()))
columns = {
    "partner": "partner",
    "sector": "sector",
    "tier": "tier",
    "referrals": "referrals",
    "share_of_contract": "share of referrals",
    "outcomes_x": "job outcomes (x)",
    "outcomes_n": "mature cohort (n)",
    "outcome_rate": "outcome rate",
    "outcome_rate_low": "lower",
    "outcome_rate_high": "upper",
    "comparison": "comparison",
    "ratio": "observed / expected",
    "adjusted_comparison": "adjusted comparison",
    "actual_referrals": "referrals in projected months",
    "projected_referrals": "projected referrals",
    "variance_pct": "variance against projection",
    "projection_status": "projection status",
    "standards_measured": "standards measured",
    "standards_met": "standards met",
    "standards_below": "standards below",
    "flags": "flags",
}
shown = table.display()
ui.table(table, shown[[c for c in columns if c in shown]].rename(columns=columns), hide_index=True)
st.caption(
    f"Benchmark: {supply_chain.percent_text(benchmark, table.policy) or 'not shown'}, the pooled rate of every "
    "partner in every CPA."
)
ui.downloads(table, f"supply_chain_{contract_id}")

rated = (
    table.frame[
        ["partner", "outcomes_x", "outcomes_n", "outcome_rate", "outcome_rate_low", "outcome_rate_high", "comparison"]
    ]
    .rename(
        columns={
            "partner": "unit",
            "outcomes_x": "x",
            "outcomes_n": "n",
            "outcome_rate": "rate",
            "outcome_rate_low": "lower",
            "outcome_rate_high": "upper",
        }
    )
    .dropna(subset=["rate"])
)
if len(rated) and pd.notna(benchmark):
    ui.chart(
        charts.league_chart(rated, benchmark, rate_label="Job outcome rate (12 months)", unit_label="Partner"),
        charts.comparison_summary(rated["comparison"], plural="partners with an outcome rate")
        + " The table above gives each partner's rate, interval and comparison.",
    )

ui.how_calculated("""
- **Outcome rate**: 12-month job outcome rate of mature referral cohorts (x / n, 95% Wilson interval) against
  the pooled rate of every partner in every CPA; **observed / expected** adjusts for payment-group mix.
- **Published figures**: counts, rates, intervals, shares and variances are computed from the counts as
  published (in public mode: rounded to 5, rates to whole percentages; `*` hides a count of 1-4 and `**` a
  count that would let one be worked out from the total or from referrals = projected months + the rest).
  Comparisons, ratios and flags are ratings from the underlying figures, shown coarsely.
- **Variance**: referrals against the projection over the months each partner reported (±10% tolerance).
- **Standards**: of the prime's measurable standards, how many the partner meets, and how many are
  significantly below target (the whole 95% interval below the target share).
- **Flags** name the concern in words; nothing is combined into a single score.
""")
