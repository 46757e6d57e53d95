"""Contract risk: which partners (VCS especially) carry contract risk, component by component, never one score."""

from dataclasses import replace

import streamlit as st

from dashboard import benchmarks as bm
from dashboard import charts, risk, supply_chain, ui
from dashboard.schema import SECTOR_LABELS

as_of = ui.page_header(
    "Contract risk",
    "Which partners carry contract risk, and which high performers should be protected if a prime fails?",
)
filters = ui.filter_sidebar(payment_groups=False, period=False, as_of=as_of)
if filters.sector is None:
    vcs_only = st.toggle("VCS partners only", value=True, key="vcs", bind="query-params")
else:  # the sidebar's sector wins: say so, rather than override it
    st.toggle("VCS partners only", value=False, disabled=True, key="vcs_off")
    vcs_only = False
    st.caption(f"Listing {SECTOR_LABELS[filters.sector]} partners, as chosen under Partner sector in the sidebar.")
filters = replace(filters, sector=risk.sector_shown(filters.sector, vcs_only))

summary = supply_chain.partner_contracts(ui.query, filters, as_of=as_of)
if summary.empty:
    st.info("No partners match this selection.")
    st.stop()
mpl = supply_chain.prime_mpl_position(
    ui.query("flow_totals", risk.mpl_window(as_of)), ui.query("minimum_performance_levels")
)
publish = ui.publisher()
summary = summary.reset_index(drop=True)
shown = supply_chain.publish_partner_table(
    summary, publish, counts=supply_chain.RISK_COUNTS, rates=supply_chain.RISK_RATES, labels=supply_chain.RISK_LABELS
)
components = supply_chain.risk_components(summary, mpl, shown, supply_chain.publish_mpl_position(mpl, publish))
order = risk.riskiest_first(components)
wide = risk.component_table(components, "score")
details = risk.component_table(components, "detail")

st.subheader("Components per partner contract (0 = no concern, 1 = highest)")
st.caption(
    "Listed by each partner contract's highest component, then its next highest, and so on: "
    "components are compared, never added."
)
ui.dataframe(
    wide.rename_axis("partner contract").reset_index(),
    hide_index=True,
    column_config={
        c: st.column_config.ProgressColumn(c, min_value=0.0, max_value=1.0, format="%.2f") for c in wide.columns
    },
)
top = order[:15]
shown_top = components.loc[components["unit"].isin(top), ["unit", "component_label", "score", "detail"]].rename(
    columns={"component_label": "component"}
)
ui.chart(
    charts.risk_components_chart(shown_top),
    charts.risk_summary(shown_top) + " The table above gives every component's score for every partner contract.",
)
unit = st.selectbox("Explain one partner contract", order, key="risk_unit", bind="query-params")
# A dataframe, not st.table: st.table renders its cells as Markdown, and these name partners and primes.
ui.dataframe(details.loc[[unit]].T.rename(columns={unit: "what the score is built from"}))

protect = risk.high_performers(summary)
st.subheader("High performers to protect")
st.caption(
    "Outcomes significantly better than expected for their case mix: if their prime fails, these are "
    "the partners whose delivery should be kept (seed 001, Recommendation 20)."
)
performers = supply_chain.publish_partner_table(
    protect, publish, counts=["outcomes_x", "outcomes_n"], extras=risk.performer_extras, labels=supply_chain.RISK_LABELS
)
ui.table(
    performers,
    performers.display()[risk.PERFORMER_COLUMNS].rename(
        columns={"outcome_rate_low": "lower", "outcome_rate_high": "upper", "ratio": "observed / expected"}
    ),
    hide_index=True,
)
ui.downloads(risk.published_component_table(components, publish), "contract_risk")

ui.how_calculated(f"""
Each component is shown separately, with the figures behind it; they are never added into one score.
Scores are ratings (to 0.1 in public mode); the figures quoted behind them are published figures (in public
mode: counts rounded to 5, rates and shares to whole percentages, `*` for a count of 1-4).
Partner contracts are listed by their highest component, then their next highest, and so on (then by name).
- **Referrals below projection**: the shortfall against projection as a share of projection (0 when on or
  above profile; 1 when nothing arrived).
- **Dependence on one prime contract**: 1 for a partner with a single contract; otherwise the share of its
  referrals this contract brings.
- **Prime near or below its minimum performance level**: the contract's in-year job outcomes / referrals over
  the last {risk.MPL_WINDOW_MONTHS} months for {bm.mpl_groups_in_words()} against the latest published MPL; rises
  from 0 at 125% of the MPL to 1 at 25% of it (the worst group counts).
- **Partner's own outcomes**: 1 when significantly worse than expected for its case mix, 0.3 when similar, 0
  when better (a high performer to protect).
- **Service standards**: share of the prime's measurable standards the partner is significantly below.
- **Complaints and satisfaction**: rises as mean satisfaction falls below 4 and reaches 1 at
  {supply_chain.SATISFACTION_MINIMUM - 1:.0f}; satisfaction below {supply_chain.SATISFACTION_MINIMUM:.0f} out of 5
  is flagged; complaints per 100 attached participants are shown beside it.
""")
