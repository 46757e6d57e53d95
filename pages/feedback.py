"""Feedback: complaints and satisfaction across the programme, by CPA, prime or partner."""

import streamlit as st

from dashboard import charts, feedback, ui

as_of = ui.page_header(
    "Feedback",
    "How many participants complain, are complaints resolved in time, and are participants satisfied?",
)
filters = ui.filter_sidebar(payment_groups=False, as_of=as_of)
level = (
    ui.url_choice(
        "Per",
        list(feedback.LEVELS),
        default="cpa",
        key="fb_level",
        widget="segmented_control",
        format_func={"contract": "Prime contract", "cpa": "CPA", "prime": "Prime", "partner": "Partner"}.get,
    )
    or "cpa"
)
raw = feedback.feedback_by(ui.query("flow_totals", filters), ui.query("feedback_totals", filters), level)
if raw.empty:
    st.info("No feedback returns (the Feedback sheet of the MI template) for this selection.")
    st.stop()
shown = feedback.publish_feedback(raw, ui.publisher(), level)
judged = feedback.satisfaction(raw, shown)
table = shown.display().assign(satisfaction=judged["satisfaction_mean"], against_minimum=judged["against_minimum"])
columns = [
    "unit",
    "participants",
    "complaints",
    "complaint_rate",
    "resolved_in_time",
    "resolved_share",
    "resolved_share_low",
    "resolved_share_high",
    "responses",
    "satisfaction",
    "against_minimum",
]
ui.table(
    shown,
    table[columns],
    hide_index=True,
    column_config={
        "unit": st.column_config.TextColumn({"cpa": "CPA"}.get(level, level.capitalize())),
        "participants": st.column_config.TextColumn("participants (attached)"),
        "complaint_rate": st.column_config.TextColumn("complaints per participant"),
        "resolved_in_time": st.column_config.TextColumn("resolved in time"),
        "resolved_share": st.column_config.TextColumn("share resolved in time"),
        "resolved_share_low": st.column_config.TextColumn("95% from"),
        "resolved_share_high": st.column_config.TextColumn("to"),
        "responses": st.column_config.TextColumn("satisfaction responses"),
        "satisfaction": st.column_config.NumberColumn("mean satisfaction (1-5)", format="%.1f"),
        "against_minimum": st.column_config.TextColumn(f"against {feedback.SATISFACTION_MINIMUM:.0f} of 5"),
    },
)
below = int((judged["against_minimum"] == "below").sum())
shown_means = int(judged["satisfaction_mean"].notna().sum())
# The table above holds every figure the chart draws.
ui.chart(
    charts.satisfaction_chart(
        table[["unit", "satisfaction", "against_minimum"]],
        feedback.SATISFACTION_MINIMUM,
        unit_label={"cpa": "CPA"}.get(level, level.capitalize()),
    ),
    f"{below} of {shown_means} with a satisfaction mean shown are below the minimum of "
    f"{feedback.SATISFACTION_MINIMUM:.0f} out of 5; each one's figures are in the table above.",
)
ui.downloads(shown, f"feedback_{level}", [ui.SUPPRESSION_NOTE])

ui.how_calculated(f"""
- **Complaints per participant**: complaints received in the chosen years over participants attached in them
  (a share: 2.5% is 2.5 complaints per 100 participants). **Resolved in time**: the share of complaints resolved
  within the prime's deadline, with a 95% Wilson interval.
- **Satisfaction**: the mean score (1-5) weighted by responses, shown where the responses behind it are shown;
  the minimum is {feedback.SATISFACTION_MINIMUM:.0f} out of 5 (seed 003).
- A count a return does not report is unknown, never zero: a unit with any such return has no total for it.
- **Publication**: the same rules as every page (public mode: counts rounded to 5, 1-4 hidden, and every rate
  or mean built on a hidden count hidden too).
""")
