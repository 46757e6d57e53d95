"""Partner profile: one partner against every partner in every CPA, its trend, and its peers."""

import streamlit as st

from dashboard import benchmarks as bm
from dashboard import charts, profile, reference, schema, settings, ui
from dashboard.queries import Filters

as_of = ui.page_header(
    "Partner profile",
    "How does my organisation compare with every other partner in every CPA, for the same payment groups?",
)
partners = ui.query("filter_options")["partners"]
names = dict(zip(partners["partner_id"], partners["partner_name"]))
partner_id = st.selectbox("Partner", list(names), format_func=names.get, key="partner", bind="query-params")
groups = st.multiselect(
    "Payment groups",
    list(reference.payment_group_codes()),
    key="pgp",
    bind="query-params",
    placeholder="All payment groups",
)
scope = Filters(payment_groups=tuple(groups))
cohorts = ui.query("cohort_totals", scope, as_of=as_of)
rows = profile.spine_rows(cohorts, partner_id, min_n=settings.get("min_denominator"))
if rows.empty:
    st.info(
        f"{names[partner_id]} has no mature participant-level cohorts in this selection (partners sending "
        "aggregate returns only have flow measures: see the Overview and Referrals pages)."
    )
    st.stop()
mine = cohorts[cohorts["partner_id"] == partner_id]
info = mine.iloc[0]
st.markdown(
    f"**{names[partner_id]}** · {schema.SECTOR_LABELS.get(info['sector'], info['sector'])} · "
    f"{schema.TIER_LABELS.get(info['tier'], info['tier'])} · contracts: "
    + ", ".join(sorted({f"{r.prime} CPA {r.cpa_code}" for r in mine.itertuples()}))
)

st.subheader("All indicators against all partners")
st.altair_chart(charts.spine_chart(rows), width="stretch")
shown = bm.display_table(rows.rename(columns={"value": "rate"}), ui.rounding_base()).rename(columns={"rate": "value"})
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        c: ui.percent(c) for c in ("value", "lower", "upper", "benchmark", "minimum", "q25", "median", "q75", "maximum")
    },
)
ui.downloads(shown, f"partner_{partner_id}_profile", [ui.SUPPRESSION_NOTE])

st.subheader("Trend")
series = ui.query("cohort_series", Filters(partner_id=int(partner_id), payment_groups=tuple(groups)), as_of=as_of)
for label, verdict in profile.trend_labels(series).items():
    st.caption(f"{label}: {verdict} over the last five quarters.")
st.altair_chart(charts.trend_chart(profile.trend_lines(series), rate_label="Rate"), width="stretch")

st.subheader("Peers")
peers = profile.peer_outcomes(cohorts, partner_id)
st.caption(
    "Partners with the most similar payment-group mix (cosine similarity of cohort shares)"
    f"; {int((peers['sector'] == info['sector']).sum())} of them are in the same sector."
)
peers = ui.publish(peers, ["x", "n"])
st.dataframe(
    peers, hide_index=True, column_config={c: ui.percent(c) for c in ("outcome_rate", "outcome_lower", "outcome_upper")}
)

ui.how_calculated(f"""
- **Spine chart**: for each indicator, the grey bar spans all partners with n >= {settings.get("min_denominator")}
  (minimum to maximum), the darker box their middle half, the tick their median; the dot is this partner's
  value with its 95% Wilson interval, coloured Better / Similar / Worse against the pooled rate of all partners.
- **Trend**: quarterly referral cohorts; the label is the chi-square test for trend over the five most recent
  mature quarters.
- **Peers**: closest payment-group mix, so their rates are the fairest comparison for this partner.
""")
