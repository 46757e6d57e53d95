"""Standards compliance: each partner against its prime's published service standards, in the five CSS stages."""

import streamlit as st

from dashboard import charts, compliance, settings, standards, ui
from dashboard.queries import Filters

as_of = ui.page_header(
    "Standards compliance",
    "Does each partner meet its prime's published Minimum Service Levels, stage by stage of the customer journey?",
)
options = ui.query("filter_options")
primes = dict(zip(options["primes"]["prime_id"], options["primes"]["prime_name"]))
everyone = ui.query("compliance_cells", Filters())
# Open on the prime with the most measured cells, rather than on whichever sorts first.
measured = everyone[everyone["n"] > 0]["prime_id"].value_counts() if len(everyone) else None
order = sorted(primes, key=lambda p: -(measured.get(p, 0) if measured is not None else 0))
c1, c2 = st.columns(2)
prime = ui.url_choice("Prime", order, format_func=primes.get, key="std_prime", where=c1)
cpas = sorted(options["contracts"].loc[options["contracts"]["prime_id"] == prime, "cpa_code"])
cpa = ui.url_choice(
    "CPA", [None, *cpas], format_func=lambda c: "All its CPAs" if c is None else f"CPA {c}", key="std_cpa", where=c2
)
cells = ui.query("compliance_cells", Filters(prime=prime, cpa=cpa))
catalogue = ui.query("standards")
mine = catalogue[catalogue["prime_id"] == prime]

viewer = ui.access()
policy = ui.policy()
tab_matrix, tab_drill, tab_prime, tab_qual = st.tabs(
    ["Partners x standards", "Drill down", "Roll-up per prime", "Not measurable from MI"],
    key="std_tab",
    bind="query-params",  # a link opens the tab it was shared from
)
with tab_matrix:
    unmeasured = cells[cells["n"] == 0] if len(cells) else cells
    cells = cells[cells["n"] > 0] if len(cells) else cells
    if len(unmeasured):
        st.caption(
            f"{len(unmeasured)} partner x standard pairs cannot be judged yet (e.g. no Contacts sheet for a "
            "contact-frequency standard, or nothing due): they are left out of the matrix."
        )
    if cells.empty:
        st.info("No standard of this prime can be measured from the returns loaded for this selection.")
    else:
        cells = cells.assign(partner=cells["partner"] + " (CPA " + cells["cpa_code"].astype(str) + ")")
        published, shown = standards.published_cells(cells, policy)
        ui.chart(
            charts.compliance_heatmap(shown),
            charts.status_summary(shown["status"], plural="partner and standard pairs")
            + " The table below gives each pair's share, interval, target and status.",
        )
        st.caption("Columns: " + "  \n".join(ui.md_escape(line) for line in charts.standards_key(shown)))
        display = published.display().assign(status=shown["status"])
        columns = ["partner", "stage_label", "standard_id", "title", "met", "n", "share", "share_low", "share_high"]
        ui.table(
            published,
            display[[*columns, "target_share", "status", "pending"]].rename(
                columns={"share_low": "lower", "share_high": "upper"}
            ),
            hide_index=True,
            column_config={"target_share": ui.percent("target_share")},
        )
        st.caption(
            "Share = participants meeting the standard / participants it could be judged on (met + missed);"
            " pending = not yet due. Shares and intervals are computed from the counts as shown."
        )
        ui.downloads(published, f"standards_{prime}")

with tab_drill:
    if viewer.public:
        st.info("Drill-downs to participant-level distributions are for members only (public mode).")
    elif cells.empty:
        st.info("Nothing to drill into for this selection.")
    else:
        pairs = cells[["partner_id", "contract_id", "partner"]].drop_duplicates()
        pick = ui.url_choice(
            "Partner",
            list(pairs.itertuples(index=False)),
            format_func=lambda r: r.partner,
            code=lambda r: f"{r.partner_id}-{r.contract_id}",
            key="std_partner",
        )
        available = cells[(cells["partner_id"] == pick.partner_id) & (cells["contract_id"] == pick.contract_id)]
        sid = ui.url_choice(
            "Standard",
            list(available["standard_id"]),
            format_func=lambda s: f"{s}: {available.set_index('standard_id').loc[s, 'title']}",
            key="std_standard",
        )
        rule = mine.set_index("standard_id").loc[sid]
        cell = {"partner_id": int(pick.partner_id), "contract_id": pick.contract_id, "standard_id": sid}
        st.markdown(
            f'**{ui.md_escape(rule["title"])}**: "{ui.md_escape(rule["quote"])}" ({ui.md_escape(rule["source"])})'
        )
        published_all, _ = standards.published_cells(cells, policy)
        ui.table(published_all, standards.drill_counts(published_all, int(pick.partner_id), pick.contract_id, sid))
        days = standards.published_days(ui.query("standard_days", None, **cell), int(pick.partner_id), policy)
        measured = days.frame
        if rule["rule_kind"] in ("time_limit", "contact_frequency") and len(measured):
            limit = rule["limit_days"] if rule["rule_kind"] == "time_limit" else rule["frequency_days"]
            label = (
                f"{rule['day_basis']} days from {rule['from_milestone']} to {rule['to_milestone']}"
                if rule["rule_kind"] == "time_limit"
                else "longest gap between contacts (days)"
            )
            ui.chart(
                charts.distribution_chart(measured, float(limit), label=label),
                charts.distribution_summary(measured, float(limit), label=label),
                days,
            )
        else:
            st.caption("A conversion standard: the share converted is in the table above.")
        if viewer.may_see_participants_of(int(pick.partner_id)):
            missed = ui.query("standard_missed", None, **cell)
            st.caption(f"{len(missed)} participants missed it (your pseudonymous references), to follow up:")
            ui.dataframe(missed, hide_index=True)
        else:
            st.caption("Participant-level detail is shown only to the partner's own users.")

with tab_prime:
    if everyone.empty:
        st.info("No standards measured yet.")
    else:
        _, everyone_shown = standards.published_cells(everyone[everyone["n"] > 0], policy)
        roll = standards.published_roll_up(everyone_shown, policy)
        ui.table(roll, roll.display().rename(columns={"share": "share met (all participants)"}), hide_index=True)
        st.caption(
            "Met and n add up the cells as published; a cell with a hidden count is counted under not_enough "
            "and not_published, and left out of met, n and the share."
        )
        ui.downloads(roll, "standards_by_prime")

with tab_qual:
    qualitative = mine[mine["measurable"] == 0][["stage", "title", "quote", "measurable_note", "cpa_scope", "source"]]
    st.caption(
        f"{len(qualitative)} of {ui.md_escape(primes[prime])}'s {len(mine)} published standards cannot be measured "
        "from MI; they are kept here so nothing promised is forgotten."
    )
    ui.dataframe(qualitative, hide_index=True)

ui.how_calculated(f"""
- The **standards** are each prime's published Minimum Service Levels (DWP, seed 004), each placed in one of the
  five Customer Service Standards stages (seed 001, 2.2). Titles are ours; the quote is the published wording.
- **Time limits** count calendar or working days between two journey milestones; working days skip weekends
  and the bank holidays of the CPA's nation (Scotland's differ from England and Wales'). A milestone not
  reached once the limit has passed counts as missed; one still within its limit is pending.
- **Conversions** (e.g. 90% of referrals attached) count participants whose first milestone is at least
  {compliance.CONVERSION_GRACE_DAYS} days old. **Contact frequency** is the longest gap between recorded contacts
  (Contacts sheet) within the window, judged only on the span the contacts cover.
- **Status**: n < {settings.get("min_denominator")} is "{compliance.NOT_ENOUGH}"; at or above the target share
  "{compliance.MEETS}"; "{compliance.MISSED_TARGET}" when the whole 95% Wilson interval is below the target and
  the share is more than {settings.get("standards_near"):.0%} short of it; otherwise "{compliance.NEAR_TARGET}"
  (close to the target, or short of it without significant evidence).
- Compliance is measured as at each partner's latest return; filters on years do not apply here.
""")
