"""Contract risk: which partners (VCS especially) carry contract risk, component by component, never one score."""

import pandas as pd
import streamlit as st

from dashboard import charts, referrals, settings, supply_chain, ui
from dashboard.queries import Filters

as_of = ui.page_header("Contract risk", "Which partners carry contract risk, and which high performers should be "
                                        "protected if a prime fails?")
filters = ui.filter_sidebar(payment_groups=False, period=False, as_of=as_of)
vcs_only = st.toggle("VCS partners only", value=True, key="vcs", bind="query-params")
if vcs_only:
    filters = Filters(**{**filters.__dict__, "sector": "vcs"})

flows = ui.query("flow_totals", filters)
if flows.empty:
    st.info("No partners match this selection.")
    st.stop()
cohorts = ui.query("cohort_totals", Filters(), as_of=as_of)
variance = referrals.variance_table(ui.query("projections_vs_actuals", filters), "partner",
                                    settings.get("projection_tolerance"))
summary = supply_chain.partner_summary(flows, cohorts, variance, ui.query("compliance_by_partner", filters),
                                       ui.query("feedback_totals", filters), min_n=settings.get("min_denominator"))
# Only what the MPL comparison uses: the three groups with published levels, over the latest 12 months.
recent = Filters(payment_groups=("PG1", "PG2", "PG6"), period_to=as_of,
                 period_from=(pd.Timestamp(as_of) - pd.DateOffset(months=11)).date())
mpl = supply_chain.prime_mpl_position(ui.query("flow_totals", recent), ui.query("minimum_performance_levels"))
components = supply_chain.risk_components(summary, mpl)
wide = components.pivot_table(index="unit", columns="component_label", values="score", aggfunc="first")
details = components.pivot_table(index="unit", columns="component_label", values="detail", aggfunc="first")
order = wide.fillna(0).sum(axis=1).sort_values(ascending=False).index

st.subheader("Components per partner contract (0 = no concern, 1 = highest)")
st.dataframe(wide.loc[order].reset_index(), hide_index=True, column_config={
    c: st.column_config.ProgressColumn(c, min_value=0.0, max_value=1.0, format="%.2f") for c in wide.columns})
top = list(order[:15])
st.altair_chart(charts.risk_components_chart(components[components["unit"].isin(top)]
                                             .assign(component=lambda d: d["component_label"])),
                width="stretch")
unit = st.selectbox("Explain one partner contract", list(order), key="risk_unit")
st.table(details.loc[[unit]].T.rename(columns={unit: "what the score is built from"}))

protect = summary[summary["adjusted_comparison"] == "Better"]
st.subheader("High performers to protect")
st.caption("Outcomes significantly better than expected for their case mix: if their prime fails, these are "
           "the partners whose delivery should be kept (seed 001, Recommendation 20).")
st.dataframe(ui.publish(protect[["partner", "sector", "prime", "cpa_code", "outcomes_x", "outcomes_n", "outcome_rate",
                                 "ratio"]], ["outcomes_x", "outcomes_n"]),
             hide_index=True, column_config={"outcome_rate": ui.percent("outcome rate")})
export = components.drop(columns=["component"])
ui.downloads(export, "contract_risk")

ui.how_calculated(f"""
Each component is shown separately, with the figures behind it; they are never added into one score.
- **Referrals below projection**: the shortfall against projection as a share of projection (0 when on or
  above profile; 1 when nothing arrived).
- **Dependence on one prime contract**: 1 for a partner with a single contract; otherwise the share of its
  referrals this contract brings.
- **Prime near or below its minimum performance level**: the contract's in-year job outcomes / referrals over
  the last 12 months for PG1, PG2 and PG6 against the latest published MPL; rises from 0 at 125% of the MPL to
  1 at 25% of it (the worst group counts).
- **Partner's own outcomes**: 1 when significantly worse than expected for its case mix, 0.3 when similar, 0
  when better (a high performer to protect).
- **Service standards**: share of the prime's measurable standards the partner is significantly below.
- **Complaints and satisfaction**: rises as mean satisfaction falls below 4 and reaches 1 at
  {supply_chain.SATISFACTION_MINIMUM - 1:.0f}; satisfaction below {supply_chain.SATISFACTION_MINIMUM:.0f} out of 5
  is flagged; complaints per 100 attached participants are shown beside it.
""")
