"""Every layout primes send lands the same facts: the template, three legacy profiles, CSV, ODS and .xlsm."""

from __future__ import annotations

import zipfile
from datetime import date

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import text

from loaders.demo import writers
from loaders.pipeline import LOADED, IngestOptions
from loaders.profiles import load_profiles
from tests.conftest import CPA, HEADER, PARTNER, PRIME, ROOT, participants


def facts(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).all()


def loaded_participants(engine):
    return facts(
        engine,
        "SELECT participant_ref, payment_group, referral_date, attachment_date, job_start_date, "
        "in_work_support_offered FROM v_participants ORDER BY participant_ref",
    )


EXPECTED = [
    ("P00001", "PG1", "2013-01-02", "2013-01-08", "2013-02-01", 1),
    ("P00002", "PG2", "2013-01-03", "2013-01-09", None, None),
    ("P00003", "PG6", "2013-01-04", "2013-01-10", "2013-02-03", 1),
]


def as_rows(rows):
    return [tuple(str(v) if isinstance(v, date) else v for v in r) for r in rows]


def test_every_profile_in_data_layouts_loads():
    profiles = load_profiles()
    assert {"wpmi_template", "caseload_title_block", "journeys_two_row_header", "monthly_wide"} <= set(profiles)


def test_standard_template_lands_every_participant(tmp_path, engine, ingestor):
    path = writers.write_standard(tmp_path / "t.xlsx", HEADER, participants())
    result = ingestor.ingest(path)
    assert result.status == LOADED, result.errors
    assert result.layout == "wpmi_template"
    assert (result.partner, result.contract_id, result.period) == (PARTNER, "CPA05-ingeus", date(2013, 3, 1))
    assert as_rows(loaded_participants(engine)) == EXPECTED


def test_caseload_title_block_reads_header_from_title_rows_and_skips_totals(tmp_path, engine, ingestor):
    path = writers.write_caseload(tmp_path / "c.xlsx", HEADER, participants(), None, np.random.default_rng(1))
    result = ingestor.ingest(path)
    assert result.status == LOADED, result.errors
    assert result.layout == "caseload_title_block"
    assert as_rows(loaded_participants(engine)) == EXPECTED
    notes = {(p.code, p.message) for p in result.problems}
    assert ("unused_column", "Column 'Office' is not used by wpmi and was ignored.") in notes
    assert ("skipped_row", "Row skipped: total or note row.") in notes


def test_journeys_two_row_merged_header_with_names_serials_and_datetimes(tmp_path, engine, ingestor):
    rng = np.random.default_rng(3)
    path = writers.write_journeys(tmp_path / "j.xlsx", HEADER, participants(), rng)
    result = ingestor.ingest(path)
    assert result.status == LOADED, result.errors
    assert result.layout == "journeys_two_row_header"
    assert as_rows(loaded_participants(engine)) == EXPECTED


def test_monthly_wide_turns_months_across_columns_into_rows_and_keeps_suppressed_unknown(tmp_path, engine, ingestor):
    flows = pd.DataFrame(
        {
            "month": [
                pd.Timestamp("2013-01-01"),
                pd.Timestamp("2013-01-01"),
                pd.Timestamp("2013-02-01"),
                pd.Timestamp("2013-02-01"),
            ],
            "payment_group": ["PG1", "PG2", "PG1", "PG2"],
            "referrals": [1200, 3, 40, 50],
            "attachments": [1100, 2, 38, 45],
            "job_starts": [10, 0, 5, 6],
            "job_outcomes": [2, 0, 1, 0],
        }
    )
    projections = pd.DataFrame(
        {
            "month": [date(2013, 1, 1), date(2013, 2, 1)],
            "payment_group": ["PG1", "PG1"],
            "projected_referrals": [1500, 60],
        }
    )
    path, _ = writers.write_monthly_wide(
        tmp_path / "m.xlsx", HEADER, flows, projections, suppress=True, rng=np.random.default_rng(0)
    )
    result = ingestor.ingest(path)
    assert result.status == LOADED, result.errors
    assert result.layout == "monthly_wide"
    rows = facts(
        engine,
        "SELECT month, payment_group, referrals, attachments, job_starts, job_outcomes, basis "
        "FROM v_monthly ORDER BY month, payment_group",
    )
    assert as_rows(rows) == [
        ("2013-01-01", "PG1", 1200, 1100, 10, None, "aggregate"),  # 2 was sent suppressed
        ("2013-01-01", "PG2", None, None, 0, 0, "aggregate"),
        ("2013-02-01", "PG1", 40, 38, 5, None, "aggregate"),
        ("2013-02-01", "PG2", 50, 45, 6, 0, "aggregate"),
    ]
    assert as_rows(facts(engine, "SELECT month, projected_referrals FROM v_projections ORDER BY month")) == [
        ("2013-01-01", 1500),
        ("2013-02-01", 60),
    ]
    assert {p.code for p in result.warnings} == {"suppressed"}


def test_csv_without_header_block_takes_sender_from_options(tmp_path, engine, ingestor):
    path = writers.write_csv(tmp_path / "p.csv", participants(), "utf-8-sig")
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert result.status == LOADED, result.errors
    assert result.layout == "auto"
    assert as_rows(loaded_participants(engine)) == EXPECTED


def test_windows_1252_csv_is_decoded(tmp_path, engine, ingestor):
    path = tmp_path / "w.csv"
    path.write_bytes(
        "Client Ref,Benefit Group,Referral Dt,Notes\nP1,PG 1,03/04/2013,caf\xe9 referral\n".encode("latin-1")
    )
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-04"))
    assert result.status == LOADED, result.errors
    assert as_rows(facts(engine, "SELECT participant_ref, payment_group, referral_date FROM v_participants")) == [
        ("P1", "PG1", "2013-04-03")
    ]


def test_ods_workbook_is_read(tmp_path, engine, ingestor):
    path = tmp_path / "p.ods"
    frame = participants()
    frame.to_excel(path, sheet_name="Participants", index=False, engine="odf")
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert result.status == LOADED, result.errors
    assert [r[0] for r in loaded_participants(engine)] == ["P00001", "P00002", "P00003"]


def test_xlsm_values_are_read_and_macros_never_run(tmp_path, engine, ingestor):
    xlsx = writers.write_standard(tmp_path / "t.xlsx", HEADER, participants())
    xlsm = tmp_path / "t.xlsm"
    # A macro part inside the package: calamine reads cell values only, so nothing in it can execute.
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(xlsm, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "Evil"\nShell "rm -rf /"')
    result = ingestor.ingest(xlsm)
    assert result.status == LOADED, result.errors
    assert len(loaded_participants(engine)) == 3


def test_synonym_detection_maps_unfamiliar_headers(tmp_path, engine, ingestor):
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Client Reference", "Benefit Group", "Date Referred", "Date Attached", "Job Entry Date", "Team"])
    ws.append(["A1", "JSA 25+", date(2013, 2, 1), date(2013, 2, 5), None, "East"])
    path = tmp_path / "odd.xlsx"
    wb.save(path)
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert result.status == LOADED, result.errors
    assert as_rows(
        facts(engine, "SELECT participant_ref, payment_group, referral_date, attachment_date FROM v_participants")
    ) == [("A1", "PG2", "2013-02-01", "2013-02-05")]
    assert any(p.message == "Column 'Team' is not used by wpmi and was ignored." for p in result.problems)


def test_missing_required_columns_lists_columns_found_and_nearest_names(tmp_path, ingestor):
    wb = Workbook()
    ws = wb.active
    ws.title = "Participants"
    ws.append(["Client Ref", "Benefit Grp", "Referal Date"])
    ws.append(["A1", "PG1", date(2013, 2, 1)])
    path = tmp_path / "missing.xlsx"
    wb.save(path)
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert result.status == "rejected"
    assert [p.code for p in result.errors] == ["NoMatchingLayout"]
    # With only one known column the sheet is not recognised at all; with two it names what is missing.
    ws.cell(row=1, column=2, value="Benefit Group")
    wb.save(path)
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert [p.code for p in result.errors] == ["MissingColumns"]
    assert result.errors[0].message == (
        "missing.xlsx, sheet 'Participants' row 1: required column(s) missing: referral_date "
        "(closest found: referal date). Columns found: Client Ref, Benefit Group, Referal Date. Rename the "
        "columns to the wpmi names (see `wpmi template`) or pass --layout with a profile that maps them."
    )


def test_forcing_an_unknown_layout_names_the_known_ones(tmp_path, ingestor):
    path = writers.write_standard(tmp_path / "t.xlsx", HEADER, participants())
    result = ingestor.ingest(path, IngestOptions(layout="nope"))
    assert result.errors[0].message.startswith("No layout profile named 'nope'. Known layouts: caseload_title_block")


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("PG1", "PG1"),
        ("PG 1", "PG1"),
        ("pg01", "PG1"),
        ("JSA 18-24", "PG1"),
        ("JSA 18 to 24", "PG1"),
        ("New ESA claimants", "PG6"),
        (7, "PG7"),
        (7.0, "PG7"),
    ],
)
def test_payment_groups_are_read_as_codes_or_names(raw, expected, ingestor):
    from loaders.cleaning import PaymentGroupCodes

    assert PaymentGroupCodes(ingestor.payment_groups).parse(raw) == (expected, None)


def test_no_mi_found_lists_the_sheets_and_headers_seen_the_closest_profile_and_the_docs(tmp_path, ingestor):
    wb = Workbook()
    budget = wb.active
    budget.title = "Budget"
    budget.append(["Quarterly budget"])  # a title line above the header: not what is listed
    budget.append(["Cost centre", "Amount", "Owner team", "Approved"])
    budget.append(["CC1", 1200, "East", "Y"])
    staff = wb.create_sheet("Caseload staff")
    staff.append(["Office", "Advisers", "Customer ID", *[f"Extra {i}" for i in range(1, 14)]])
    staff.append(["Leeds", 4, "A1"])
    path = tmp_path / "unrelated.xlsx"
    wb.save(path)
    result = ingestor.ingest(path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert result.status == "rejected"
    [error] = result.errors
    assert error.code == "NoMatchingLayout"
    message = error.message
    assert message.startswith("unrelated.xlsx: no sheet looks like wpmi MI.")
    # Both sheets, each with the header row it saw (not the title line), long rows cut at 12 headers.
    assert "'Budget' row 2: Cost centre, Amount, Owner team, Approved" in message
    assert "'Caseload staff' row 1: Office, Advisers, Customer ID, Extra 1, " in message
    assert "Extra 9 and 4 more" in message and "Extra 10" not in message
    assert "Quarterly budget" not in message
    # The closest profile (its sheet pattern and header label fit the second sheet) and why it did not match.
    assert "Closest layout profile: caseload_title_block" in message
    assert "participant_ref (Customer ID)" in message
    assert "but not the required payment_group, referral_date" in message
    assert "see docs/layouts.md to write a layout profile" in message
    assert (ROOT / "docs" / "layouts.md").is_file()


def _docs_example_workbook(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Client list"
    ws.append([f"Provider: {PARTNER}"])
    ws.append([f"Contract: {PRIME} CPA {CPA}"])
    ws.append(["Client No", "Client Group", "Ref Date", "Started", "Job Start", "Outcome"])
    ws.append(["A0001", "ESA Flow", "02/01/2013", "08/01/2013", "01/02/2013", None])
    ws.append(["A0002", "JSA 25+", "03/01/2013", "09/01/2013", None, None])
    wb.save(path)
    return path


def test_docs_layouts_worked_example_is_a_profile_that_loads_its_file(tmp_path, engine):
    import re

    from loaders.pipeline import Ingestor

    doc = (ROOT / "docs" / "layouts.md").read_text(encoding="utf-8")
    # Every key the profile reader reads is documented.
    keys = ["name", "description", "template", "meta", "sheets", "target", "sheet", "header", "header.labels"]
    keys += ["header.rows", "columns", "values", "skip_rows", "required", "wide", "measure_column", "group_column"]
    keys += ["measures", "total_labels"]
    assert [key for key in keys if f"| `{key}` |" not in doc] == []
    [example] = re.findall(r"```toml\n(.*?)```", doc, re.DOTALL)
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "acme_clients.toml").write_text(example, encoding="utf-8")
    path = _docs_example_workbook(tmp_path / "clients.xlsx")
    # Without the profile the file is rejected; with it, it loads as the doc says.
    before = Ingestor(engine).ingest(path, IngestOptions(period="2013-03", dry_run=True))
    assert [p.code for p in before.errors] == ["MissingColumns"]
    assert "required column(s) missing: participant_ref" in before.errors[0].message
    result = Ingestor(engine, {**load_profiles(), **load_profiles(folder)}).ingest(
        path, IngestOptions(period="2013-03")
    )
    assert result.status == LOADED, [p.message for p in result.errors]
    assert (result.layout, result.partner, result.contract_id) == ("acme_clients", PARTNER, "CPA05-ingeus")
    assert as_rows(
        facts(engine, "SELECT participant_ref, payment_group, attachment_date, job_start_date FROM v_participants")
    ) == [("A0001", "PG6", "2013-01-08", "2013-02-01"), ("A0002", "PG2", "2013-01-09", None)]


def test_no_mi_found_never_quotes_a_cell_that_looks_like_personal_data():
    from pathlib import Path

    from loaders.errors import NoMatchingLayout
    from loaders.layouts import detect_layout
    from loaders.readers import SheetData
    from loaders.readers import Workbook as Book

    # The pipeline refuses such a file before layout detection; called directly, the message still withholds it.
    book = Book(path=Path("f.xlsx"), sha256="", sheets=[SheetData("Sheet1", [["Team", "jo.bloggs@example.com"]])])
    with pytest.raises(NoMatchingLayout) as exc:
        detect_layout(book, load_profiles())
    assert "'Sheet1' row 1: Team, [withheld]" in str(exc.value) and "bloggs" not in str(exc.value)


# --- the profile language, checked (issue 13 item 4) ------------------------------------------------------------

PROFILE = """
name = "acme"
description = "Acme client list"

[[sheets]]
target = "Participants"
sheet = "client"

[sheets.columns]
participant_ref = ["Client No"]
job_outcome_date = ["Outcome"]
"""


def _write(folder, name, text):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path, text):
    from loaders.errors import LayoutProfileError

    folder = tmp_path / "bad"
    _write(folder, "acme.toml", text)
    with pytest.raises(LayoutProfileError) as raised:
        load_profiles(folder)
    return str(raised.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('description = "Acme', 'descripton = "Acme', ["descripton", "did you mean 'description'?"]),
        ('sheet = "client"', 'sheeet = "client"', ["sheets[1].sheeet", "did you mean 'sheet'?"]),
        ("[sheets.columns]", "[sheets.colums]", ["sheets[1].colums", "did you mean 'columns'?"]),
        ("job_outcome_date =", "job_outcom_date =", ["sheets[1].columns.job_outcom_date", "'job_outcome_date'"]),
        ('target = "Participants"', 'target = "Participant"', ["sheets[1].target", "did you mean 'Participants'?"]),
    ],
)
def test_a_misspelt_key_field_or_sheet_is_an_error_naming_the_file_the_path_and_the_nearest_name(
    tmp_path, old, new, expected
):
    message = _error(tmp_path, PROFILE.replace(old, new))
    assert "acme.toml" in message
    for part in expected:
        assert part in message, message


def test_unknown_keys_in_nested_tables_and_bad_values_are_errors(tmp_path):
    wide = """
name = "w"
[[sheets]]
target = "Monthly"
header = { rows = 1, lables = ["Measure"] }
[sheets.wide]
measure_column = ["Measure"]
group_column = ["PG"]
measures = { referals = ["Referrals"] }
totals = ["Total"]
[sheets.values.mode]
"Phone" = "phone"
"""
    message = _error(tmp_path, wide)
    assert "sheets[1].header.lables" in message and "'labels'" in message
    assert "sheets[1].wide.totals" in message and "'total_labels'" in message
    assert "sheets[1].wide.measures.referals" in message and "'referrals'" in message
    assert "sheets[1].values.mode" in message
    message = _error(tmp_path, 'number_locale = "fr"\n' + PROFILE)
    assert "number_locale 'fr' is not one wpmi reads" in message
    message = _error(tmp_path, PROFILE.replace('sheet = "client"', "sheet = '(client'"))
    assert "sheets[1].sheet" in message and "regular expression" in message
    message = _error(tmp_path, PROFILE.replace('name = "acme"', "meta = ['^provider: (?P<partnr>.+)$']"))
    assert "name" in message and "meta[1]" in message and "'partner'" in message


def test_every_shipped_profile_passes_the_check():
    from loaders.profiles import LAYOUTS_DIR, check_profile_file

    for path in sorted(LAYOUTS_DIR.glob("*.toml")):
        assert check_profile_file(path) == [], path.name


def test_docs_key_tables_list_exactly_the_schema_keys():
    import re

    from loaders.profiles import SCHEMA

    doc = (ROOT / "docs" / "layouts.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", doc, re.MULTILINE))
    keys = {key for level in SCHEMA.values() for key in level}
    keys |= {f"header.{key}" for key in SCHEMA["sheets.header"]}
    keys -= set(SCHEMA["sheets.header"])
    assert documented == keys
    assert "ignored today" not in doc


def test_profiles_in_a_user_folder_are_added_and_win_over_a_shipped_one(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    _write(folder, "acme.toml", PROFILE)
    _write(folder, "monthly.toml", PROFILE.replace('name = "acme"', 'name = "monthly_wide"'))
    profiles = load_profiles(extra_dir=folder)
    assert {"acme", "wpmi_template", "monthly_wide"} <= set(profiles)
    assert profiles["monthly_wide"].path == folder / "monthly.toml"
    assert (
        profiles["monthly_wide"].overrides is not None
        and profiles["monthly_wide"].overrides.name == "monthly_wide.toml"
    )
    assert profiles["wpmi_template"].overrides is None
    # The setting (WPMI_LAYOUTS_DIR) does the same for every load_profiles() call.
    monkeypatch.setenv("WPMI_LAYOUTS_DIR", str(folder))
    assert "acme" in load_profiles()
    monkeypatch.setenv("WPMI_LAYOUTS_DIR", str(tmp_path / "nowhere"))
    from loaders.errors import LayoutProfileError

    with pytest.raises(LayoutProfileError, match="WPMI_LAYOUTS_DIR"):
        load_profiles()


# --- column_map: source header -> wpmi field, overriding synonyms (the hook for --map) ----------------------------


def _book(rows, name="Sheet1"):
    from pathlib import Path

    from loaders.readers import SheetData
    from loaders.readers import Workbook as Book

    return Book(path=Path("f.xlsx"), sha256="", sheets=[SheetData(name, rows)])


CMS_ROWS = [
    ["Ref", "PG", "Referred", "Started", "Job start", "Outcome"],
    ["A1", "PG1", "02/01/2013", "08/01/2013", "01/02/2013", "01/05/2013"],
]


def test_column_map_assigns_a_header_to_a_field_overriding_synonyms():
    from loaders.layouts import detect_layout

    _, _, [plain] = detect_layout(_book(CMS_ROWS), load_profiles())
    assert "attachment_date" not in plain.columns and "Outcome" in plain.unused_columns
    layout, _, [mapped] = detect_layout(
        _book(CMS_ROWS),
        load_profiles(),
        column_map={"started": "attachment_date", "Outcome": "job_outcome_date", "Job start": "exit_date"},
    )
    assert mapped.columns["attachment_date"] == "Started"
    assert mapped.columns["job_outcome_date"] == "Outcome"
    assert mapped.columns["exit_date"] == "Job start"  # the map wins over the synonym
    assert "job_start_date" not in mapped.columns
    assert mapped.raw["job_outcome_date"] == ["01/05/2013"]


@pytest.mark.parametrize(
    ("column_map", "expected"),
    [
        ({"Outcome": "job_outcom_date"}, ["job_outcom_date", "job_outcome_date"]),
        ({"Outcme": "job_outcome_date"}, ["'Outcme'", "'Outcome'"]),
    ],
)
def test_column_map_with_an_unknown_field_or_header_is_an_error_naming_the_nearest(column_map, expected):
    from loaders.layouts import ColumnMapError, detect_layout

    with pytest.raises(ColumnMapError) as raised:
        detect_layout(_book(CMS_ROWS), load_profiles(), column_map=column_map)
    for part in expected:
        assert part in str(raised.value), str(raised.value)
