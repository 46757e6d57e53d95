"""Every dashboard page through Streamlit's AppTest against the tiny demo database and an empty one."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGES = [
    "overview",
    "benchmarks",
    "referrals",
    "standards",
    "feedback",
    "supply_chain",
    "partner",
    "scorecard",
    "risk",
    "data",
    "members",
]
TIMEOUT = 120


def run_page(page: str, monkeypatch, url: str, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("WPMI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    return at


def shown_text(at: AppTest) -> str:
    """Everything a reader sees as text: markdown, captions, metrics, infos and table contents."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_every_page_file_is_registered_in_the_router():
    router = (ROOT / "streamlit_app.py").read_text()
    registered = set(re.findall(r'st\.Page\("pages/(\w+)\.py"', router))
    assert registered == {p.stem for p in (ROOT / "pages").glob("*.py")} == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_the_demo_without_an_exception(page, demo_db, monkeypatch):
    at = run_page(page, monkeypatch, demo_db)
    assert any("SYNTHETIC" in w.value for w in at.warning), "the synthetic banner is missing"
    if page not in ("data", "members"):  # the registry and uploads show no MI figures
        assert any("Data as of" in c.value for c in at.caption), "the as-of line is missing"
        assert any(e.label == "How this is calculated" for e in at.expander)


@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("data", "members")])  # they work on no MI
def test_empty_database_names_the_command_that_loads_data(page, db_url, monkeypatch):
    at = run_page(page, monkeypatch, db_url)
    assert any("wpmi ingest" in i.value and "make demo" in i.value for i in at.info)


def test_overview_cpa_filter_changes_the_totals_and_the_url_reproduces_it(demo_db, monkeypatch):
    everything = run_page("overview", monkeypatch, demo_db)
    total = everything.metric[0].value
    everything.selectbox(key="cpa").set_value(8).run()
    scotland = everything.metric[0].value
    assert scotland != total
    # Bound widgets put the option's label in the URL (Streamlit's format for index-based widgets).
    linked = run_page("overview", monkeypatch, demo_db, {"cpa": "8: Scotland"})
    assert linked.selectbox(key="cpa").value == 8
    assert linked.metric[0].value == scotland


def test_benchmarks_level_and_comparator_change_the_league_table(demo_db, monkeypatch):
    at = run_page("benchmarks", monkeypatch, demo_db)
    partners = at.dataframe[0].value
    at.selectbox(key="level").set_value("cpa").run()
    cpas = at.dataframe[0].value
    assert len(cpas) == 18 and len(partners) > len(cpas)
    assert set(cpas.columns) >= {"x", "n", "rate", "lower", "upper", "comparison", "ratio"}
    linked = run_page("benchmarks", monkeypatch, demo_db, {"level": "Prime contracts", "against": "Same CPA"})
    assert (linked.selectbox(key="level").value, linked.selectbox(key="against").value) == ("contract", "cpa")
    contracts = linked.dataframe[0].value
    assert 18 < len(contracts) <= 40
    # A comparator that does not apply at a level says so instead of guessing.
    refused = run_page("benchmarks", monkeypatch, demo_db, {"level": "CPAs", "against": "Same prime"})
    assert any("does not apply at cpa level" in w.value for w in refused.warning)


def test_benchmarks_mpl_comparator_asks_for_a_single_payment_group(demo_db, monkeypatch):
    at = run_page("benchmarks", monkeypatch, demo_db, {"against": "Minimum performance level"})
    assert any("PG1, PG2 and PG6" in w.value for w in at.warning)
    at = run_page(
        "benchmarks",
        monkeypatch,
        demo_db,
        {"against": "Minimum performance level", "pg": "PG1 JSA 18-24", "level": "Prime contracts"},
    )
    table = at.dataframe[0].value
    # The latest published MPL for JSA 18-24, 0.44, drawn in percentage points at the rates' precision ("44.0%").
    assert set(table["benchmark"].dropna().round(1)) == {44.0}


def test_referrals_switches_between_partners_and_contracts(demo_db, monkeypatch):
    at = run_page("referrals", monkeypatch, demo_db)
    partners = at.dataframe[0].value
    assert list(partners["variance"]) == sorted(partners["variance"])  # largest shortfall first
    at = run_page("referrals", monkeypatch, demo_db, {"per": "Prime contract"})
    assert len(at.dataframe[0].value) <= 40 < len(partners)
    assert any("forecast" in c.value for c in at.caption)


def test_standards_matrix_follows_the_chosen_prime(demo_db, monkeypatch):
    at = run_page("standards", monkeypatch, demo_db, {"std_prime": "Maximus"})
    table = at.dataframe[0].value
    assert table["standard_id"].str.startswith("maximus-").all()
    at.selectbox(key="std_prime").set_value("cdg").run()
    assert at.dataframe[0].value["standard_id"].str.startswith("cdg-").all()


def test_standards_drill_down_shows_the_stored_counts_and_who_missed_to_the_data_owner(demo_db, monkeypatch):
    from dashboard import queries
    from dashboard.db import make_engine

    at = run_page("standards", monkeypatch, demo_db)
    partner = at.selectbox(key="std_partner").value
    standard_id = at.selectbox(key="std_standard").value
    cell = (make_engine(demo_db), int(partner.partner_id), partner.contract_id, standard_id)
    counts = next(df.value for df in at.dataframe if "not_applicable" in df.value.columns)
    # The data owner (a local run) sees the stored counts exactly, as published text.
    assert {k: int(v) for k, v in counts.iloc[0].to_dict().items()} == queries.standard_counts(*cell).iloc[0].to_dict()
    missed = queries.standard_missed(*cell)
    assert any(c.value.startswith(f"{len(missed)} participants missed it") for c in at.caption)


def test_supply_chain_shows_only_the_chosen_contracts_partners(demo_db, monkeypatch):
    at = run_page("supply_chain", monkeypatch, demo_db, {"contract": "NCG, CPA 18 (terminated)"})
    assert any("ended early" in i.value for i in at.info)
    first = at.dataframe[0].value
    at.selectbox(key="contract").set_value("CPA08-ingeus").run()
    assert not at.dataframe[0].value.equals(first)


def test_partner_profile_url_selects_the_partner(demo_db, monkeypatch):
    at = run_page("partner", monkeypatch, demo_db)
    chosen = at.selectbox(key="partner").options[3]
    linked = run_page("partner", monkeypatch, demo_db, {"partner": chosen})
    assert linked.selectbox(key="partner").format_func(linked.selectbox(key="partner").value) == chosen
    assert chosen in shown_text(linked)


def test_the_scorecard_url_names_the_partner_and_offers_its_pdf(demo_db, monkeypatch):
    at = run_page("scorecard", monkeypatch, demo_db)
    chosen = at.selectbox(key="partner").options[3]
    linked = run_page("scorecard", monkeypatch, demo_db, {"partner": chosen})
    assert linked.selectbox(key="partner").format_func(linked.selectbox(key="partner").value) == chosen
    text = shown_text(linked)
    assert chosen in text and "Job outcome rate (12 months)" in text and "met / near / missed" not in text
    tables = [df.value for df in linked.dataframe]
    assert any({"verdict", "target"} <= set(t.columns) for t in tables)  # standards with their verdicts
    assert any("comparison_998" in t.columns for t in tables)  # outcomes at 95% and 99.8%
    pdf = [d for d in linked.get("download_button") if "PDF" in d.proto.label]
    assert len(pdf) == 1


def test_feedback_is_shown_by_cpa_prime_and_partner_with_the_minimum_and_the_url_keeps_the_level(demo_db, monkeypatch):
    at = run_page("feedback", monkeypatch, demo_db)
    table = at.dataframe[0].value
    assert table["unit"].str.startswith("CPA ").all() and len(table) > 1
    codes = table["unit"].str.removeprefix("CPA ").astype(int).tolist()
    assert codes == sorted(codes)  # CPA 2 before CPA 10
    assert {"complaint_rate", "resolved_share", "satisfaction", "against_minimum"} <= set(table.columns)
    assert set(table["against_minimum"]) <= {"meets", "below", ""} and table["satisfaction"].notna().any()
    by_partner = run_page("feedback", monkeypatch, demo_db, {"fb_level": "Partner"})
    assert len(by_partner.dataframe[0].value) > len(table)


def test_partner_profile_names_each_indicators_trend_and_its_peers(demo_db, monkeypatch):
    at = run_page("partner", monkeypatch, demo_db)
    trends = [c.value for c in at.caption if c.value.endswith("over the last five quarters.")]
    assert [t.split(":")[0] for t in trends] == ["Job start rate (12 months)", "Job outcome rate (12 months)"]
    peers = at.dataframe[-1].value
    assert {"similarity", "outcome_rate", "outcome_lower", "outcome_upper"} <= set(peers.columns) and len(peers)


def test_contract_risk_vcs_toggle_changes_the_partners_listed(demo_db, monkeypatch):
    at = run_page("risk", monkeypatch, demo_db)
    vcs = at.dataframe[0].value
    at.toggle(key="vcs").set_value(False).run()
    everyone = at.dataframe[0].value
    assert len(everyone) > len(vcs) > 0


def test_contract_risk_lists_the_sector_chosen_in_the_sidebar_not_vcs_whatever_the_toggle(demo_db, monkeypatch):
    # Before, "VCS partners only" (on by default) silently replaced a sidebar choice of Private with VCS.
    at = run_page("risk", monkeypatch, demo_db, {"sector": "Private"})
    assert at.toggle(key="vcs_off").disabled and not at.toggle(key="vcs_off").value
    assert any("Listing Private partners" in c.value for c in at.caption)
    performers = at.dataframe[-1].value
    assert len(performers) and set(performers["sector"]) == {"Private"}


def test_contract_risk_lists_the_worst_single_component_first(demo_db, monkeypatch):
    at = run_page("risk", monkeypatch, demo_db, {"vcs": "false"})
    scores = at.dataframe[0].value.set_index("partner contract").fillna(0)
    worst = scores.max(axis=1)
    assert list(worst) == sorted(worst, reverse=True)  # by the highest component, not by a sum


def test_data_page_offers_the_template_and_history(demo_db, monkeypatch):
    at = run_page("data", monkeypatch, demo_db)
    history = at.dataframe[0].value
    assert {"file_name", "status", "partner"} <= set(history.columns) and len(history) > 0
    assert any("payment_group" in m.value for m in at.markdown)  # the data dictionary


def test_public_mode_publishes_only_to_the_cutoff_with_rounded_counts(demo_db, monkeypatch):
    monkeypatch.setenv("WPMI_MODE", "public")
    monkeypatch.setenv("WPMI_OFFICIAL_CUTOFF", "2015-12-31")
    at = run_page("benchmarks", monkeypatch, demo_db)
    assert any("Data as of **December 2015**" in c.value and "public view" in c.value for c in at.caption)
    counts = [v for v in at.dataframe[0].value["n"] if v != "*"]
    assert counts and all(int(v.replace(",", "")) % 5 == 0 for v in counts)
    standards = run_page("standards", monkeypatch, demo_db)
    assert any("members only" in i.value for i in standards.info)
    data = run_page("data", monkeypatch, demo_db)
    assert any("not available in public mode" in i.value for i in data.info)
    assert not data.file_uploader


def test_member_mode_shows_unrounded_counts(demo_db, monkeypatch):
    at = run_page("benchmarks", monkeypatch, demo_db)
    counts = [int(v.replace(",", "")) for v in at.dataframe[0].value["n"] if v != "*"]
    assert any(c % 5 for c in counts)


def test_data_page_upload_lands_through_the_pipeline_and_withdraw_removes_it(tmp_path, engine, db_url, monkeypatch):
    from sqlalchemy import text

    from loaders.demo import writers
    from tests.conftest import HEADER, participants

    data = writers.write_standard(tmp_path / "up.xlsx", HEADER, participants(3)).read_bytes()
    at = run_page("data", monkeypatch, db_url)
    at.file_uploader(key="uploads").upload("up.xlsx", data, "application/octet-stream").run()
    at.button(key="up_go").click().run()
    assert not at.exception
    assert any("up.xlsx**: loaded" in s.value for s in at.success)
    with engine.connect() as conn:
        sid = conn.execute(text("SELECT submission_id FROM submission")).scalar()
        assert conn.execute(text("SELECT loaded_by FROM submission")).scalar() == "local"  # the local operator
    at.number_input(key="wd_id").set_value(sid)
    at.text_input(key="wd_reason").input("test withdrawal")
    at.button[-1].click().run()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM submission")).scalar() == "withdrawn"


def test_partner_profile_offers_every_payment_group_from_the_reference_data(demo_db, monkeypatch):
    from dashboard.reference import payment_group_codes

    at = run_page("partner", monkeypatch, demo_db, {"pgp": "PG6"})
    assert at.multiselect(key="pgp").options == list(payment_group_codes())
    assert at.multiselect(key="pgp").value == ["PG6"]


def test_standards_roll_up_per_prime_counts_every_measured_cell_by_status(demo_db, monkeypatch):
    from dashboard import compliance, queries
    from dashboard.db import make_engine

    at = run_page("standards", monkeypatch, demo_db)
    roll = next(df.value for df in at.dataframe if {"meets", "below", "not_enough"} <= set(df.value.columns))
    cells = queries.compliance_cells(make_engine(demo_db))
    measured = cells[cells["n"] > 0]
    assert roll["cells"].sum() == len(measured)
    assert roll["meets"].sum() == (measured["status"] == compliance.MEETS).sum()
    assert roll["below"].sum() == (measured["status"] == compliance.BELOW_SIGNIFICANT).sum()


def test_the_benchmarks_trend_unit_is_in_the_url(demo_db, monkeypatch):
    at = run_page("benchmarks", monkeypatch, demo_db)
    chosen = at.selectbox(key="trend_unit").options[2]
    linked = run_page("benchmarks", monkeypatch, demo_db, {"trend_unit": chosen})
    assert linked.selectbox(key="trend_unit").value == chosen


def test_published_tables_name_their_columns_in_words_and_a_pages_own_label_wins():
    from dashboard import ui

    config = ui.column_labels(["partner", "stage_label", "target_share"], {"target_share": "target share of cases"})
    assert config["stage_label"]["label"] == "stage"
    assert config["target_share"] == "target share of cases"  # the page's own config is kept
    assert "partner" not in config


def test_the_standards_matrix_shows_no_raw_column_name(demo_db, monkeypatch):
    at = run_page("standards", monkeypatch, demo_db)
    import json

    [matrix, *_] = [df for df in at.dataframe if "stage_label" in df.value.columns]
    config = json.loads(matrix.proto.columns)  # the column_config Streamlit sends to the browser
    assert config["stage_label"]["label"] == "stage" and config["standard_id"]["label"] == "standard id"


SNAKE_CASE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@pytest.mark.parametrize("page", PAGES)
def test_every_table_names_its_columns_in_words_not_code_names(page, demo_db, monkeypatch):
    # Tables drawn with plain st.dataframe showed 'cpa_code', 'file_name', 'measurable_note' as their headings.
    at = run_page(page, monkeypatch, demo_db)
    raw = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for column in frame.value.columns:
            label = (config.get(str(column)) or {}).get("label") or str(column)
            if SNAKE_CASE.match(label):
                raw.append(label)
    assert not raw, f"{page}: headed in code names: {sorted(set(raw))}"


def test_dates_in_tables_read_as_months_or_days_not_timestamps():
    from dashboard import ui

    months = pd.Series(pd.to_datetime(["2015-10-01", "2015-11-01", None]))
    assert ui.date_format(months) == "MMM YYYY"
    assert ui.date_format(pd.Series(pd.to_datetime(["2015-10-03", "2015-11-01"]))) == "D MMM YYYY"
    assert ui.date_format(pd.Series(pd.to_datetime(["2015-10-03 14:05"]))) == "D MMM YYYY, HH:mm"


def test_the_missing_returns_list_shows_its_latest_month_as_a_month(demo_db, monkeypatch):
    at = run_page("overview", monkeypatch, demo_db)
    [listing] = [f for f in at.dataframe if "latest month" in f.value.columns]
    config = json.loads(listing.proto.columns)
    assert config["latest month"]["type_config"]["format"] == "MMM YYYY"


def test_links_hold_short_codes_not_labels_and_old_label_links_open_the_same_view(demo_db, monkeypatch):
    at = run_page("benchmarks", monkeypatch, demo_db)
    at.selectbox(key="level").set_value("contract").run()
    at.selectbox(key="cpa").set_value(8).run()
    at.multiselect(key="pg").set_value(["PG1", "PG6"]).run()
    # Before, the URL held the labels: level=Prime+contracts, cpa=8%3A+Scotland, pg=PG1+JSA+18-24&pg=...
    assert {k: at.query_params[k] for k in ("level", "cpa", "pg")} == {"level": "contract", "cpa": "8", "pg": "PG1,PG6"}
    assert "against" not in at.query_params  # the default choice is left out of the link
    by_code = run_page("benchmarks", monkeypatch, demo_db, dict(level="contract", cpa="8", pg="PG1,PG6"))
    by_label = run_page("benchmarks", monkeypatch, demo_db, {"level": "Prime contracts", "cpa": "8: Scotland"})
    for linked in (by_code, by_label):
        assert (linked.selectbox(key="level").value, linked.selectbox(key="cpa").value) == ("contract", 8)
    assert by_code.multiselect(key="pg").value == ["PG1", "PG6"]
    ended = run_page("supply_chain", monkeypatch, demo_db, {"contract": "CPA18-ncg"})
    assert ended.selectbox(key="contract").value == "CPA18-ncg" and any("ended early" in i.value for i in ended.info)


def test_a_link_naming_no_choice_says_so_and_opens_the_default(demo_db, monkeypatch):
    at = run_page("benchmarks", monkeypatch, demo_db, {"cpa": "99", "pg": "**PG9**"})
    assert at.selectbox(key="cpa").value is None and at.multiselect(key="pg").value == []
    said = [c.value for c in at.sidebar.caption]
    assert any("CPA '99', not one of the choices here: showing All CPAs" in c for c in said)
    assert any(r"'\*\*PG9\*\*'" in c for c in said)  # the link's text shown literally, never as Markdown


def test_a_proportion_column_reads_at_the_published_rates_precision_not_two_decimals(demo_db, monkeypatch):
    # Before: the benchmark read "94.20%" (Streamlit's "percent") beside a published "96.2%".
    at = run_page("partner", monkeypatch, demo_db)
    [spine] = [f for f in at.dataframe if "benchmark" in f.value.columns]
    config = json.loads(spine.proto.columns)
    assert config["benchmark"]["type_config"]["format"] == "%.1f%%"
    assert spine.value["benchmark"].between(0, 100).all() and spine.value["benchmark"].max() > 1
    assert spine.value["value"].str.fullmatch(r"\d+\.\d%").all()  # the published rate beside it: one decimal too
