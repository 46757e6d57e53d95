"""Partner profile: one partner against every partner in every CPA, its trend, and its peers."""

import streamlit as st

from dashboard import charts, profile, reference, schema, settings, ui
from dashboard.queries import Filters

as_of = ui.page_header(
    "Partner profile",
    "How does my organisation compare with every other partner in every CPA, for the same payment groups?",
)
partners = ui.query("filter_options")["partners"]
names = dict(zip(partners["partner_id"], partners["partner_name"]))
partner_id = ui.url_choice("Partner", list(names), format_func=names.get, key="partner")
groups = st.multiselect(
    "Payment groups",
    list(reference.payment_group_codes()),
    key="pgp",
    bind="query-params",
    placeholder="All payment groups",
)
scope = Filters(payment_groups=tuple(groups))
publish = ui.publisher()
cohorts = ui.query("cohort_totals", scope, as_of=as_of)
series = ui.query("cohort_series", Filters(partner_id=int(partner_id), payment_groups=tuple(groups)), as_of=as_of)
trend = profile.publish_trend(series, partner_id, publish)
spine = profile.publish_spine(cohorts, partner_id, publish, trend=trend, min_n=settings.get("min_denominator"))
name = ui.md_escape(names[partner_id])  # a name from a file: shown as text, never as Markdown
if spine.frame.empty:
    st.info(
        f"{name} has no mature participant-level cohorts in this selection (partners sending "
        "aggregate returns only have flow measures: see the Overview and Referrals pages)."
    )
    st.stop()
mine = cohorts[cohorts["partner_id"] == partner_id]
info = mine.iloc[0]
sector = schema.SECTOR_LABELS.get(info["sector"], info["sector"])
tier = schema.TIER_LABELS.get(info["tier"], info["tier"])
contracts = sorted({f"{r.prime} CPA {r.cpa_code}" for r in mine.itertuples()})
st.markdown(
    f"**{name}** · {ui.md_escape(sector)} · {ui.md_escape(tier)} · contracts: "
    + ", ".join(ui.md_escape(c) for c in contracts)
)

st.subheader("All indicators against all partners")
rows = profile.spine_rows(spine)
ui.chart(
    charts.spine_chart(rows),
    charts.comparison_summary(rows["comparison"], plural="indicators")
    + " The table below gives each indicator's value, interval and the spread of all partners.",
)
ui.table(
    spine,
    spine.display().rename(columns=profile.SPINE_NAMES),
    hide_index=True,
    column_order=profile.SPINE_ORDER,
    column_config={c: ui.percent(c) for c in ("benchmark", *profile.SPREAD)},
)
ui.downloads(spine, f"partner_{partner_id}_profile", [ui.SUPPRESSION_NOTE])

st.subheader("Trend")
for label, verdict in profile.trend_labels(trend).items():
    st.caption(f"{label}: {verdict} over the last five quarters.")
ui.chart(
    charts.trend_chart(profile.trend_lines(trend), rate_label="Rate"),
    "The partner's rates quarter by quarter, each with its 95% interval; each rate's trend is stated above.",
    trend,
)

st.subheader("Peers")
peers = profile.publish_peers(cohorts, partner_id, publish)
st.caption(
    "Partners with the most similar payment-group mix (cosine similarity of cohort shares)"
    f"; {int((peers.frame['sector'] == info['sector']).sum())} of them are in the same sector."
)
ui.table(peers, peers.display().rename(columns=profile.PEER_NAMES), hide_index=True)

ui.how_calculated(f"""
- **Spine chart**: for each indicator, the grey bar spans all partners with n >= {settings.get("min_denominator")}
  (minimum to maximum), the darker box their middle half, the tick their median; the dot is this partner's
  value with its 95% Wilson interval, coloured Better / Similar / Worse against the pooled rate of all partners.
- **Trend**: quarterly referral cohorts; the label is the chi-square test for trend over the five most recent
  mature quarters.
- **Peers**: closest payment-group mix, so their rates are the fairest comparison for this partner.
- **Publication**: every count, rate, interval, benchmark and spread is computed from the counts as published
  to you (in public mode: rounded to 5, rates to whole percentages; `*` hides a count of 1-4 and every rate
  built on it, `**` a count hidden so that a `*` cannot be worked out from the quarters' totals).
""")
