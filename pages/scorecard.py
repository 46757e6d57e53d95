"""Partner scorecard: one partner organisation across all its contracts, on one page and as a PDF."""

import streamlit as st

from dashboard import charts, profile, scorecard, settings, ui
from dashboard.scorecard_pdf import scorecard_pdf

as_of = ui.page_header(
    "Partner scorecard",
    "How is my organisation doing, fairly, and does it meet its primes' standards? One page, all contracts.",
)
partners = ui.query("filter_options")["partners"]
names = dict(zip(partners["partner_id"], partners["partner_name"]))
partner_id = ui.url_choice("Partner", list(names), format_func=names.get, key="partner")
policy = ui.policy()
card = scorecard.build(ui.query, int(partner_id), as_of=as_of, publish=ui.publisher(), policy=policy)
if card is None:
    st.info("This partner has sent no MI.")
    st.stop()
st.markdown(
    f"**{ui.md_escape(card.name)}** · {ui.md_escape(card.sector)} · {ui.md_escape(card.tier)} · contracts: "
    + ", ".join(ui.md_escape(c) for c in card.contracts)
)
synthetic = ui.query("synthetic_note")
st.download_button(
    "Download this scorecard (PDF)",
    # Built when asked for, not on every rerun: drawing the charts and the PDF is half the page's time.
    lambda: scorecard_pdf(card, synthetic=synthetic, mode=policy.mode),
    f"scorecard_{card.partner_id}.pdf",
    "application/pdf",
    on_click="ignore",
    key="scorecard_pdf",
)

st.subheader("Outcomes: raw and case-mix adjusted, against every partner in every CPA")
if card.outcomes is None:
    st.info("No mature participant-level cohorts: partners sending aggregate returns have flow measures only.")
else:
    ui.table(
        card.outcomes,
        scorecard.outcome_view(card.outcomes),
        hide_index=True,
        column_config={
            "unit": st.column_config.TextColumn("indicator"),
            "x": st.column_config.TextColumn("x (numerator)"),
            "n": st.column_config.TextColumn("n (cohort)"),
            "benchmark": ui.percent("all partners"),
            "comparison": st.column_config.TextColumn("vs all partners (95%)"),
            "comparison_998": st.column_config.TextColumn("vs all partners (99.8%)"),
            "expected": st.column_config.NumberColumn("expected"),
            "ratio": st.column_config.NumberColumn("observed / expected", format="%.2f"),
            "ratio_lower": st.column_config.NumberColumn("from", format="%.2f"),
            "ratio_upper": st.column_config.NumberColumn("to", format="%.2f"),
            "adjusted_comparison": st.column_config.TextColumn("case-mix adjusted"),
        },
    )

if card.spine is not None:
    rows = profile.spine_rows(card.spine)
    ui.chart(
        charts.spine_chart(rows),
        charts.comparison_summary(rows["comparison"], plural="indicators", against="all partners")
        + " The table above gives each indicator's figures.",
    )

st.subheader("Standards: each prime's minimum service levels")
if card.standards is None:
    st.info("No measurable standard has been evaluated for this partner.")
else:
    shown = card.standards.display()
    ui.table(
        card.standards,
        shown[["prime", "cpa_code", "stage_label", "title", "met", "n", "share"]].assign(
            target=card.standard_status["target_share"], verdict=card.standard_status["status"]
        ),
        hide_index=True,
        column_config={
            "stage_label": st.column_config.TextColumn("stage"),
            "title": st.column_config.TextColumn("standard"),
            "target": ui.percent("target"),
            "verdict": st.column_config.TextColumn("met / near / missed"),
        },
    )
    st.caption(
        f"Near: within {card.tolerance:.0%} of the target, or below it without significant evidence (95% Wilson "
        "interval); missed: significantly below and further off than that."
    )

st.subheader("Referrals against projections")
if card.referrals is None:
    st.info("No projections have been loaded for this partner.")
else:
    shown = card.referrals.display().loc[card.referral_status.index]
    ui.table(
        card.referrals,
        shown[["unit", "actual", "projected", "months"]].assign(
            variance_pct=card.referral_status["variance_pct"], status=card.referral_status["status"]
        ),
        hide_index=True,
        column_config={"unit": st.column_config.TextColumn("contract"), "variance_pct": ui.percent("variance")},
    )

st.subheader("Complaints and satisfaction")
if card.feedback is None:
    st.info("No feedback returns for this partner.")
else:
    shown = card.feedback.display()
    ui.table(
        card.feedback,
        shown[
            ["unit", "participants", "complaints", "complaint_rate", "resolved_in_time", "resolved_share", "responses"]
        ].assign(satisfaction=card.satisfaction["satisfaction_mean"], minimum=card.satisfaction["against_minimum"]),
        hide_index=True,
        column_config={
            "unit": st.column_config.TextColumn("contract"),
            "complaint_rate": st.column_config.TextColumn("complaints per participant"),
            "resolved_in_time": st.column_config.TextColumn("resolved in time"),
            "resolved_share": st.column_config.TextColumn("share resolved in time"),
            "satisfaction": st.column_config.NumberColumn("satisfaction (1-5)", format="%.1f"),
            "minimum": st.column_config.TextColumn("against 3 of 5"),
        },
    )

st.subheader("Trend")
lines = scorecard.trend_lines(card)
if lines.empty:
    st.info(f"No quarter's cohort reaches n = {card.min_n}, so no trend is drawn.")
else:
    ui.chart(
        charts.trend_chart(lines, rate_label="Rate"),
        f"The partner's job start and job outcome rates for the {card.trend_quarters_shown} quarter(s) with a cohort "
        f"of at least {card.min_n}, each with its 95% interval.",
        card.trend,
    )

ui.how_calculated(f"""
- **Outcomes**: mature referral cohorts pooled over all the partner's contracts, against every partner in every
  CPA (the same rule as the Benchmarks page: verdicts from the funnel limits at 95% and 99.8%); units with
  n < {settings.get("min_denominator")} are not compared. Case-mix adjusted: observed / expected, expected from
  each payment group's rate across all partners, with a binomial interval.
- **Standards**: each measurable standard of the partner's primes, as at its latest return.
- **Referrals**: actual against projected over the months with a projection, ±{settings.get("projection_tolerance"):.0%}
  tolerance. **Feedback**: complaints resolved in time, and mean satisfaction against the minimum of 3 out of 5
  (seed 003), where its responses are shown.
- **Publication**: every figure passes the same boundary as every page (in public mode counts rounded to 5,
  1-4 hidden), and the PDF holds the same figures.
""")
