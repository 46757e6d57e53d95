"""Each validation rule, with the exact message a partner sees and where it points."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from loaders.demo import writers
from loaders.errors import WITHHELD
from loaders.pipeline import LOADED, REJECTED, IngestOptions
from tests.conftest import CPA, HEADER, PARTNER, PRIME

OPTIONS = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03")


def sheet_file(tmp_path, rows, header=None, name="Participants", filename="f.xlsx"):
    """A one-sheet workbook with wpmi column names in row 1."""
    wb = Workbook()
    ws = wb.active
    ws.title = name
    ws.append(
        header
        or [
            "participant_ref",
            "payment_group",
            "referral_date",
            "attachment_date",
            "job_start_date",
            "job_outcome_date",
            "exit_date",
        ]
    )
    for row in rows:
        ws.append(row)
    path = tmp_path / filename
    wb.save(path)
    return path


def only(result, code):
    found = [p for p in result.problems if p.code == code]
    assert found, f"no {code} in {[(p.code, p.message) for p in result.problems]}"
    return found


def table_counts(engine):
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
            for t in ("submission", "participant", "monthly_return", "partner")
        }


CASES = [
    # (id, row, code, severity, row number, column, value, message)
    (
        "bad_date",
        ["P1", "PG1", "31/02/2013"],
        "bad_date",
        "error",
        2,
        "referral_date",
        "31/02/2013",
        "'31/02/2013' is not a date. Enter a date such as 03/04/2013.",
    ),
    (
        "unknown_pg",
        ["P1", "PG12", date(2013, 1, 5)],
        "bad_payment_group",
        "error",
        2,
        "payment_group",
        "PG12",
        "'PG12' is not a payment group. Use PG1 to PG9 (or a name such as 'JSA 18-24').",
    ),
    (
        "missing_ref",
        [None, "PG1", date(2013, 1, 5)],
        "missing_value",
        "error",
        2,
        "participant_ref",
        "",
        "participant_ref is required but empty. Fill it in or remove the row.",
    ),
    (
        "before_programme",
        ["P1", "PG1", date(1900, 1, 5)],
        "date_before_programme",
        "error",
        2,
        "referral_date",
        "1900-01-05",
        "05/01/1900 is before the Work Programme began (01/06/2011). Check the year.",
    ),
    (
        "after_period",
        ["P1", "PG1", date(2013, 4, 2)],
        "date_after_period",
        "error",
        2,
        "referral_date",
        "2013-04-02",
        "02/04/2013 is after the end of the reporting period (31/03/2013). Dates cannot be later than the return "
        "they are in.",
    ),
    (
        "job_start_before_attachment",
        ["P1", "PG1", date(2013, 1, 5), date(2013, 1, 20), date(2013, 1, 10)],
        "journey_order",
        "warning",
        2,
        "job_start_date",
        "2013-01-10",
        "job_start_date (10/01/2013) is before attachment_date (20/01/2013). Check both dates; the row is kept but "
        "flagged.",
    ),
    (
        "exit_before_referral",
        ["P1", "PG1", date(2013, 1, 5), None, None, None, date(2013, 1, 1)],
        "journey_order",
        "warning",
        2,
        "exit_date",
        "2013-01-01",
        "exit_date (01/01/2013) is before referral_date (05/01/2013). Check both dates; the row is kept but flagged.",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_participant_rule_reports_exact_message_and_location(case, tmp_path, ingestor):
    _, row, code, severity, row_no, column, value, message = case
    result = ingestor.ingest(sheet_file(tmp_path, [row]), OPTIONS)
    problem = only(result, code)[0]
    assert (problem.severity, problem.row, problem.column, problem.value, problem.message) == (
        severity,
        row_no,
        column,
        value,
        message,
    )
    assert problem.file == "f.xlsx" and problem.sheet == "Participants"
    assert result.status == (LOADED if severity == "warning" else REJECTED)


def test_warning_rows_land_with_their_flag(tmp_path, engine, ingestor):
    row = ["P1", "PG1", date(2013, 1, 5), date(2013, 1, 20), date(2013, 1, 10)]
    assert ingestor.ingest(sheet_file(tmp_path, [row]), OPTIONS).status == LOADED
    with engine.connect() as conn:
        assert conn.execute(text("SELECT flags FROM v_participants")).scalar() == "journey_order"


def test_duplicate_participant_ref_is_rejected_naming_the_first_row(tmp_path, ingestor):
    rows = [["P1", "PG1", date(2013, 1, 5)], ["P2", "PG1", date(2013, 1, 6)], ["P1", "PG2", date(2013, 1, 7)]]
    result = ingestor.ingest(sheet_file(tmp_path, rows), OPTIONS)
    problem = only(result, "duplicate")[0]
    assert (problem.row, problem.message) == (
        4,
        "participant_ref P1 appears more than once in this sheet (first at row 2). Send one row for each.",
    )
    assert result.status == REJECTED


MONTHLY = ["month", "payment_group", "referrals", "attachments", "job_starts", "job_outcomes"]


@pytest.mark.parametrize(
    "row,code,column,message",
    [
        (
            [date(2013, 1, 1), "PG1", -3, 1, 0, 0],
            "negative_count",
            "referrals",
            "-3 is negative. Counts cannot be below zero.",
        ),
        (
            [date(2013, 1, 1), "PG1", "lots", 1, 0, 0],
            "bad_number",
            "referrals",
            "'lots' is not a number. Enter a count such as 12.",
        ),
        (
            [date(2013, 1, 1), "PG1", 2.5, 1, 0, 0],
            "not_whole",
            "referrals",
            "2.5 is not a whole number. Counts cannot have decimals.",
        ),
    ],
)
def test_count_rules(row, code, column, message, tmp_path, ingestor):
    result = ingestor.ingest(sheet_file(tmp_path, [row], MONTHLY, "Monthly"), OPTIONS)
    problem = only(result, code)[0]
    assert (problem.column, problem.message, problem.row) == (column, message, 2)
    assert result.status == REJECTED


def test_counts_with_thousands_separators_and_suppression_markers(tmp_path, engine, ingestor):
    rows = [[date(2013, 1, 1), "PG1", "1,234", "*", "<5", "-"]]
    result = ingestor.ingest(sheet_file(tmp_path, rows, MONTHLY, "Monthly"), OPTIONS)
    assert result.status == LOADED, result.errors
    assert [p.message for p in result.warnings][0] == (
        "'*' is a suppression marker, so the count is stored as unknown. Send true counts: wpmi suppresses "
        "small numbers itself when it publishes."
    )
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT referrals, attachments, job_starts, job_outcomes, suppressed FROM monthly_return")
        ).one() == (1234, None, None, None, 1)


def test_stated_total_that_does_not_add_up_is_rejected(tmp_path, ingestor):
    from loaders.demo.writers import SYNTHETIC  # noqa: F401  (the writer labels files; here we build by hand)

    wb = Workbook()
    ws = wb.active
    ws.title = "Monthly Summary"
    ws.append([f"Provider: {PARTNER}"])
    ws.append([f"Contract: {PRIME} CPA {CPA}"])
    ws.append(["Period to: March 2013"])
    ws.append(["Measure", "Payment Group", "Jan-13", "Feb-13", "Total"])
    ws.append(["Referrals", "PG1", "10", "12", "22"])
    ws.append([None, "PG2", "5", "6", "11"])
    ws.append([None, "Total", "15", "19", "33"])  # Feb adds up to 18, not 19
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    result = ingestor.ingest(path)
    problem = only(result, "total_mismatch")[0]
    assert (problem.row, problem.column, problem.value, problem.message) == (
        7,
        "D",
        "19",
        "The stated total for referrals in Feb 2013 is 19 but the parts add up to 18. Correct the parts or the total.",
    )
    assert result.status == REJECTED


@pytest.mark.parametrize(
    "value,kind",
    [
        ("QQ 12 34 56 C", "a National Insurance number"),
        ("AB123456D", "a National Insurance number"),
        ("jo.bloggs@example.org", "an email address"),
        ("07700 900123", "a phone number"),
        ("SW1A 1AA", "a postcode"),
    ],
)
def test_personal_data_in_any_cell_rejects_the_file_and_is_never_stored(
    value, kind, tmp_path, engine, ingestor, caplog
):
    rows = [["P1", "PG1", date(2013, 1, 5)], ["P2", "PG1", date(2013, 1, 6), None, None, None, None, value]]
    header = [
        "participant_ref",
        "payment_group",
        "referral_date",
        "attachment_date",
        "job_start_date",
        "job_outcome_date",
        "exit_date",
        "comments",
    ]
    before = table_counts(engine)
    with caplog.at_level("DEBUG"):
        result = ingestor.ingest(sheet_file(tmp_path, rows, header), OPTIONS)
    assert result.status == REJECTED
    problem = only(result, "personal_data")[0]
    assert (problem.row, problem.column, problem.value) == (3, "H", WITHHELD)
    assert problem.message == (
        f"This cell looks like {kind}. wpmi never stores personal data: remove it and send "
        "the file again (use pseudonymous references)."
    )
    assert table_counts(engine) == before
    assert value not in caplog.text
    assert value not in str(result.as_dict())
    with engine.connect() as conn:
        dump = "\n".join(str(r) for t in ("audit_log", "submission") for r in conn.execute(text(f"SELECT * FROM {t}")))
    assert value not in dump


@pytest.mark.parametrize(
    "column,kind",
    [
        ("Surname", "names"),
        ("DOB", "dates of birth"),
        ("Address", "addresses"),
        ("Mobile", "phone numbers"),
        ("Email", "emails"),
    ],
)
def test_columns_that_look_like_personal_data_reject_the_file(column, kind, tmp_path, ingestor):
    header = ["participant_ref", "payment_group", "referral_date", column]
    result = ingestor.ingest(sheet_file(tmp_path, [["P1", "PG1", date(2013, 1, 5), "x"]], header), OPTIONS)
    assert result.status == REJECTED
    assert only(result, "personal_data")[0].message == (
        f"Column {column!r} looks like it holds {kind}. wpmi never stores personal data: remove it and send the file "
        "again (use pseudonymous references)."
    )


def test_unknown_partner_is_rejected_with_nearest_registered_names(tmp_path, ingestor):
    options = IngestOptions(partner="Tyneside Pathway Trust", prime=PRIME, cpa=CPA, period="2013-03")
    result = ingestor.ingest(sheet_file(tmp_path, [["P1", "PG1", date(2013, 1, 5)]]), options)
    assert result.errors[0].message == (
        "Partner 'Tyneside Pathway Trust' is not registered. Nearest registered: "
        "Tyneside Pathways Trust. Fix the name, or pass --register-partner to add it."
    )


def test_register_partner_adds_a_new_partner_once(tmp_path, engine, ingestor):
    options = IngestOptions(
        partner="Humber Futures CIC", prime=PRIME, cpa=CPA, period="2013-03", register_partner=True, sector="vcs"
    )
    assert ingestor.ingest(sheet_file(tmp_path, [["P1", "PG1", date(2013, 1, 5)]]), options).status == LOADED
    path2 = sheet_file(tmp_path, [["P2", "PG1", date(2013, 1, 5)]], filename="g.xlsx")
    assert ingestor.ingest(path2, options).status == LOADED
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sector FROM partner WHERE partner_name = 'Humber Futures CIC'")).all() == [
            ("vcs",)
        ]


def test_prime_without_a_contract_in_the_cpa_names_its_cpas(tmp_path, ingestor):
    options = IngestOptions(partner=PARTNER, prime="Reed", cpa=5, period="2013-03")
    result = ingestor.ingest(sheet_file(tmp_path, [["P1", "PG1", date(2013, 1, 5)]]), options)
    assert result.errors[0].message == "Reed has no contract in CPA 5 (its CPAs: 3). Check the CPA number or --cpa."


def test_file_without_sender_names_the_missing_options(tmp_path, ingestor):
    result = ingestor.ingest(sheet_file(tmp_path, [["P1", "PG1", date(2013, 1, 5)]]))
    assert result.errors[0].message == (
        "f.xlsx: the file does not say its partner, prime, cpa. Add the header block "
        "(see `wpmi template`) or pass --partner --prime --cpa."
    )


def test_period_is_inferred_from_the_latest_date_when_not_stated(tmp_path, ingestor):
    options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA)
    result = ingestor.ingest(sheet_file(tmp_path, [["P1", "PG1", date(2013, 1, 5), date(2013, 2, 9)]]), options)
    assert result.status == LOADED and result.period == date(2013, 2, 1)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "x.xlsx: the file is empty."),
        (b"this is not a workbook", None),
    ],
)
def test_unreadable_files_are_rejected_with_a_plain_message(content, message, tmp_path, ingestor):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    result = ingestor.ingest(path)
    assert result.status == REJECTED and result.errors[0].code == "UnreadableFile"
    if message:
        assert result.errors[0].message == message
    else:
        assert result.errors[0].message.startswith("x.xlsx: cannot be read as a .xlsx workbook")
        assert result.errors[0].message.endswith("not renamed or damaged, and save it again.")


def test_template_with_header_but_no_rows_is_rejected(tmp_path, ingestor):
    path = writers.write_standard(tmp_path / "empty.xlsx", HEADER)
    result = ingestor.ingest(path)
    assert result.status == REJECTED
    assert result.errors[0].code == "no_data"


# --- cell formats (issue 13, item 5) ----------------------------------------------------------------------------


def test_iso_8601_datetimes_in_a_csv_load_as_their_dates(tmp_path, engine, ingestor):
    path = tmp_path / "cms.csv"
    path.write_text(
        "participant_ref,payment_group,referral_date,attachment_date,job_start_date\n"
        "P1,PG1,2013-01-05T09:30:00,2013-01-20T15:29:56.123Z,2013-02-01 08:00:00\n"
        "P2,PG2,2013-01-06T10:00:00+01:00,,\n"
    )
    result = ingestor.ingest(path, OPTIONS)
    assert result.status == LOADED, result.errors
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT participant_ref, referral_date, attachment_date, job_start_date FROM participant ORDER BY 1")
        ).all()
    assert [tuple(str(v) if v else None for v in row) for row in rows] == [
        ("P1", "2013-01-05", "2013-01-20", "2013-02-01"),
        ("P2", "2013-01-06", None, None),
    ]


@pytest.mark.parametrize(
    "value,row_text",
    [("1.204", "could be 1.204 (a decimal point) or 1204 (a dot between thousands)"), ("4,2", "a decimal comma")],
)
def test_an_ambiguous_number_rejects_the_file_naming_the_cell_and_the_fix(value, row_text, tmp_path, ingestor):
    rows = [[date(2013, 1, 1), "PG1", 10, 1, 0, 0], [date(2013, 2, 1), "PG1", value, 1, 0, 0]]
    result = ingestor.ingest(sheet_file(tmp_path, rows, MONTHLY, "Monthly"), OPTIONS)
    assert result.status == REJECTED
    problem = only(result, "ambiguous_number")[0]
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.value) == (
        "f.xlsx",
        "Monthly",
        3,
        "referrals",
        value,
    )
    assert row_text in problem.message
    assert "number_locale" in problem.message and "format the column as numbers" in problem.message


EU_PROFILE = """
name = "eu_monthly"
description = "A monthly return exported with a decimal comma and month-first dates"
number_locale = "de"
date_order = "mdy"

[[sheets]]
target = "Monthly"
header = { labels = ["Monat"] }

[sheets.columns]
month = ["Monat"]
payment_group = ["Gruppe"]
referrals = ["Zuweisungen"]
attachments = ["Teilnahmen"]
job_starts = ["Arbeitsaufnahmen"]
job_outcomes = ["Ergebnisse"]
"""


def test_a_profile_declaring_a_decimal_comma_locale_reads_european_counts(tmp_path, engine):
    from loaders.pipeline import Ingestor
    from loaders.profiles import LAYOUTS_DIR, load_profiles

    layouts = tmp_path / "layouts"
    layouts.mkdir()
    (layouts / "eu_monthly.toml").write_text(EU_PROFILE)
    profiles = load_profiles(LAYOUTS_DIR, extra_dir=layouts)
    path = tmp_path / "eu.csv"
    path.write_text(
        "Monat;Gruppe;Zuweisungen;Teilnahmen;Arbeitsaufnahmen;Ergebnisse\n"
        "01/31/2013;PG1;1.204;1.000;12;3\n"
        "02/28/2013;PG1;2.050;980;11;4\n"
    )
    options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03", layout="eu_monthly")
    result = Ingestor(engine, profiles).ingest(path, options)
    assert result.status == LOADED, result.errors
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT month, referrals, attachments FROM monthly_return ORDER BY month")).all()
    assert [(str(m)[:7], r, a) for m, r, a in rows] == [("2013-01", 1204, 1000), ("2013-02", 2050, 980)]
