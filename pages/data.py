"""Data: upload MI files through the same ingest service as the CLI, see what was wrong and where, and the history."""

import pandas as pd
import streamlit as st

from dashboard import schema, ui
from loaders import service, uploads
from loaders.template import data_dictionary_markdown

ui.through_router()  # a deep link after a restart: the router opens this page
st.title("Data")
ui.sign_in_controls()  # the mode, and for a non-member whom to ask, before anything is refused
st.caption("Upload partner MI, check it, and see what has been loaded.")
if not ui.access().can_upload:
    st.info("Uploads and submission details are not available in public mode.")
    st.stop()
ui.require_schema()
ui.synthetic_banner()  # the history lists the demo's files when the database holds the demo

upload_tab, history_tab, template_tab = st.tabs(["Upload", "Submission history", "Template and data dictionary"])
with upload_tab:
    files = st.file_uploader(
        "MI files (.xlsx, .xlsm, .ods, .csv)",
        type=["xlsx", "xlsm", "ods", "csv"],
        accept_multiple_files=True,
        key="uploads",
    )
    with st.expander("For files that do not name their sender (no header block or title)"):
        c1, c2, c3, c4 = st.columns(4)
        partner = c1.text_input("Partner", key="up_partner")
        prime = c2.text_input("Prime", key="up_prime")
        cpa = c3.number_input("CPA", min_value=1, max_value=18, value=None, step=1, key="up_cpa")
        period = c4.text_input("Reporting month (YYYY-MM)", key="up_period")
        register = st.checkbox("Register the partner if the name is new", key="up_register")
        replaces = st.number_input(
            "Corrects submission (id, optional)", min_value=1, step=1, value=None, key="up_replaces"
        )
        sector = st.selectbox(
            "Sector of a new partner",
            schema.SECTORS,
            index=schema.SECTORS.index(schema.UNKNOWN),
            format_func=schema.SECTOR_LABELS.get,
            key="up_sector",
        )
    dry_run = st.toggle("Check only (do not load)", key="up_dry")

    def ingest(batch: list[tuple[str, bytes]], column_maps: dict[str, dict[str, str]]) -> list:
        """Each file through the ingest service, with its own column mapping (chosen below after a check)."""
        progress, results = st.progress(0.0, text="Loading"), []
        for index, (name, data) in enumerate(batch):
            options = service.IngestOptions(
                partner=partner or None,
                prime=prime or None,
                cpa=cpa,
                period=period or None,
                register_partner=register,
                sector=sector,
                dry_run=dry_run,
                access=ui.access(),  # each upload is authorised for this viewer where it is written
                replaces=int(replaces) if replaces else None,
                column_map=column_maps.get(name, {}),
            )
            results += service.ingest_files(ui.engine(), [(name, data)], options)
            progress.progress((index + 1) / len(batch), text=f"{ui.md_escape(name)}: {results[-1].status}")
        ui.clear_caches()
        return results

    if files and st.button("Validate and load", type="primary", key="up_go"):
        batch = [(f.name, f.getvalue()) for f in files]
        st.session_state["up_shown"] = (batch, ingest(batch, {}))
    shown = st.session_state.get("up_shown") if files else None
    if shown and [n for n, _ in shown[0]] != [f.name for f in files]:
        shown = None  # the files have changed since they were checked
    chosen: dict[str, dict[str, str]] = {}
    for (name, data), result in zip(*shown) if shown else ():
        ok = result.status != service.REJECTED
        (st.success if ok else st.error)(
            f"**{ui.md_escape(name)}**: {result.status}"
            + (f" as submission {result.submission_id}" if result.submission_id else "")
            + (
                f" · {ui.md_escape(result.partner)}, {ui.md_escape(result.contract_id)}, {result.period:%B %Y}"
                if result.period
                else ""
            )
            + f" · {sum(result.rows.values()):,} rows · {len(result.errors)} errors · "
            f"{len(result.warnings)} warnings"
        )
        summary = result.summary_by_type()
        if summary:
            ui.dataframe(pd.DataFrame(summary, columns=["severity", "type", "count"]), hide_index=True)
            ui.dataframe(service.report_frame([result]), hide_index=True)
            st.download_button(
                "Download this report (CSV)",
                service.report_bytes([result], "csv"),
                f"{name}.report.csv",
                "text/csv",
                on_click="ignore",
                key=f"rep_{name}",
            )
        if result.columns:
            with st.expander(f"How the columns of {ui.md_escape(name)} were mapped"):
                ui.dataframe(uploads.mapping_frame(result.columns), hide_index=True)
                choices = uploads.open_fields(result.columns)
                for column in (c for c in result.columns if c.field is None and choices.get(c.sheet)):
                    pick = st.selectbox(
                        f"{ui.md_escape(column.sheet)}: {ui.md_escape(column.source)} (ignored) is",
                        [None, *choices[column.sheet]],
                        format_func=lambda f: "not used" if f is None else f,
                        key=f"map|{name}|{column.sheet}|{column.source}",
                    )
                    if pick:
                        chosen.setdefault(name, {})[column.source] = pick
                sender = result.partner or partner or "sender"
                slug = uploads.profile_name(sender, name)
                st.download_button(
                    "Save this mapping as a layout profile (.toml)",
                    uploads.profile_toml(
                        slug,
                        f"Saved from the Data page for {sender}, from {name}",
                        result.columns,
                        chosen.get(name, {}),
                    ),
                    f"{slug}.toml",
                    "application/toml",
                    on_click="ignore",
                    key=f"profile|{name}",
                )
                st.caption(
                    "With the choices above. Keep it in your layouts folder (the WPMI_LAYOUTS_DIR setting, or "
                    "`wpmi ingest --layouts DIR`) and check it with `wpmi layouts check`: this sender's files in this "
                    "layout are then read this way without choosing again (docs/layouts.md)."
                )
        for problem, preview in uploads.cell_previews(name, data, result):
            st.caption(
                f"Sheet {ui.md_escape(repr(problem.sheet))}, row {problem.row}, column "
                f"{ui.md_escape(problem.column)}: {ui.md_escape(problem.message)}"
            )
            st.dataframe(preview)  # the file's own headers, as written: not renamed
    if shown and chosen:
        st.caption(
            "Check the new mapping with 'Check only' on first. Loaded, the same file read with another mapping is a "
            "new submission that supersedes the earlier reading."
        )
        if st.button("Check again with these columns mapped", key="up_remap"):
            batch, results = shown
            again = dict(
                zip([n for n, _ in batch if n in chosen], ingest([b for b in batch if b[0] in chosen], chosen))
            )
            st.session_state["up_shown"] = (batch, [again.get(n, r) for (n, _), r in zip(batch, results)])
            st.rerun()

with history_tab:
    st.session_state.pop(ui.FILTERS_SHOWN, None)  # the history has no filters; another page's must not show
    viewer = ui.access()
    history = ui.query("submissions")
    mine = [viewer.may_see_submission_of(p, q) for p, q in zip(history["partner_id"], history["prime_id"])]
    history = history.loc[mine].drop(columns=["partner_id", "prime_id"])  # other organisations' returns are theirs
    ui.dataframe(history, hide_index=True)
    ui.downloads(ui.labels_only(history), "submissions")  # members only: files and their row counts
    with st.form("withdraw"):
        st.markdown("**Withdraw a submission** (it stays as history; ingesting the same file again restores it)")
        c1, c2 = st.columns([1, 3])
        target = c1.number_input("Submission id", min_value=1, step=1, value=None, key="wd_id")
        reason = c2.text_input("Reason (recorded in the audit log)", key="wd_reason")
        if st.form_submit_button("Withdraw") and target:
            try:
                outcome = service.withdraw(ui.engine(), int(target), access=ui.access(), reason=reason or None)
            except (service.SubmissionNotFound, service.NotAuthorised, service.WpmiError) as exc:
                st.error(ui.md_escape(exc))
            else:
                ui.clear_caches()
                st.success(
                    f"Submission {int(target)} withdrawn."
                    if outcome["changed"]
                    else f"Submission {int(target)} was already withdrawn."
                )

with template_tab:
    st.download_button(
        "Download the wpmi MI template (.xlsx)",
        uploads.template_bytes(),
        "wpmi_template.xlsx",
        on_click="ignore",
        key="template",
    )
    st.markdown(data_dictionary_markdown())
