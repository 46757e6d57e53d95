"""Properties that hold for any input hypothesis can think of, not just the cases we wrote down.

Cleaning and typing never raise on a cell value; layout detection maps a sheet or explains why not with a
WpmiError; any bytes at all are read or refused with UnreadableFile; the reader's quick sheet scan finds
what the exact parse finds; and clean participant rows come back out of the database exactly as written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dashboard import fields as F
from loaders import cleaning, privacy
from loaders.cleaning import PaymentGroupCodes
from loaders.demo.writers import write_standard
from loaders.errors import UnreadableFile, WpmiError
from loaders.layouts import MappedSheet, column_letter, detect_layout
from loaders.limits import Limits
from loaders.package import ExactSheetScan, QuickScan
from loaders.pipeline import LOADED, UNCHANGED
from loaders.privacy import find_personal_values
from loaders.profiles import load_profiles
from loaders.readers import SheetData, Workbook, read_file
from loaders.validation import check_sheet, type_sheet
from tests.conftest import HEADER
from tests.hostile import ErrorCell, Formula, sheet_xml

FAST = settings(max_examples=50, deadline=None)
CODES = PaymentGroupCodes([{"code": f"PG{i}", "name": f"group {i}", "short_name": f"G{i}"} for i in range(1, 10)])
PROFILES = load_profiles()
PERIOD_END = date(2013, 3, 31)
TRICKY_TEXT = [
    "",
    " ",
    "#REF!",
    "#DIV/0!",
    "#N/A",
    "*",
    "<5",
    "-",
    "n/a",
    "1,234",
    "12.0",
    "1e400",
    "nan",
    "inf",
    "-0",
    "²",
    "٣",
    "½",
    "31/02/2013",
    "2013-03",
    "Mar-13",
    "29/02/2013",
    "00/00/0000",
    "PG 1",
    "pg01",
    "JSA 18-24",
    "Y",
    "no",
    "TRUE",
    "=1+1",
    "\x00",
    "\u202e",
    "0x1F",
    "1_000",
    " 7 ",
    "9" * 400,
]
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(TRICKY_TEXT),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
)


# --- cleaning and typing ------------------------------------------------------------------------------------


@FAST
@given(cells)
def test_every_parser_returns_a_value_and_a_code_for_any_cell(value):
    parsers = [
        cleaning.parse_month,
        cleaning.parse_count,
        cleaning.parse_real,
        cleaning.parse_bool,
        cleaning.parse_text,
        CODES.parse,
        cleaning.parse_date,
    ]
    for parse in parsers:
        parsed, code = parse(value)
        assert code is None or isinstance(code, str)
        assert code is None or parsed is None or code == cleaning.SUPPRESSED


def _mapped(target: str, rows: list[list]) -> MappedSheet:
    names = [f.name for f in F.SHEETS_BY_NAME[target].fields]
    return MappedSheet(
        target=target,
        sheet=target,
        header_row=1,
        columns={n: n for n in names},
        column_letters={n: column_letter(i) for i, n in enumerate(names)},
        raw={n: [row[i] if i < len(row) else None for row in rows] for i, n in enumerate(names)},
        source_rows=list(range(2, len(rows) + 2)),
    )


@FAST
@given(st.sampled_from([s.name for s in F.SHEETS]), st.lists(st.lists(cells, max_size=14), max_size=6))
def test_type_sheet_and_every_rule_report_problems_for_any_cells(target, rows):
    typed = type_sheet(_mapped(target, rows), "f.xlsx", CODES)
    check_sheet(_mapped(target, rows), typed, "f.xlsx", CODES, PERIOD_END)
    assert len(typed.rows) == len(rows)
    assert all(p.file == "f.xlsx" and p.sheet == target and p.message for p in typed.problems)


def test_a_superscript_digit_in_a_date_cell_is_reported_not_raised():
    assert cleaning.parse_date("²") == (None, cleaning.BAD_DATE)


# --- layout detection ---------------------------------------------------------------------------------------

labels = st.one_of(
    st.sampled_from([f.name for s in F.SHEETS for f in s.fields]),
    st.sampled_from([syn for s in F.SHEETS for f in s.fields for syn in f.synonyms]),
    st.text(max_size=20),
    st.none(),
)


@FAST
@given(st.lists(st.lists(st.one_of(labels, cells), max_size=12), max_size=12), st.text(max_size=12))
def test_detect_layout_maps_or_explains_any_sheet(rows, name):
    book = Workbook(path=Path("f.xlsx"), sha256="", sheets=[SheetData(name=name or "Sheet1", rows=rows)])
    try:
        _, _, mapped = detect_layout(book, PROFILES)
    except WpmiError as exc:
        assert str(exc)
        return
    assert mapped and all(m.sheet == book.sheets[0].name for m in mapped)


@st.composite
def participant_layouts(draw):
    """A Participants sheet in any column order, with extra columns, title rows and blank rows above."""
    fields = [f.name for f in F.PARTICIPANTS.fields]
    optional = draw(st.lists(st.sampled_from(fields[3:]), unique=True))
    extras = draw(st.lists(st.sampled_from(["office", "adviser code", "zz notes", "region", "qq flag"]), unique=True))
    columns = draw(st.permutations(fields[:3] + optional + extras))
    titles = draw(
        st.lists(
            st.sampled_from(
                [["Partner caseload report"], ["Period: March 2013"], [], [None, None], ["SYNTHETIC DEMO DATA"]]
            ),
            max_size=4,
        )
    )
    return titles, columns


@FAST
@given(participant_layouts())
def test_any_column_order_title_rows_and_extra_columns_map_each_field_to_its_column(layout):
    titles, columns = layout
    row = {"participant_ref": "P0001", "payment_group": "PG1", "referral_date": date(2013, 1, 5)}
    rows = [*titles, columns, [row.get(c) for c in columns]]
    book = Workbook(path=Path("f.xlsx"), sha256="", sheets=[SheetData(name="Participants", rows=rows)])
    _, _, mapped = detect_layout(book, PROFILES)
    participants = next(m for m in mapped if m.target == "Participants")
    assert participants.header_row == len(titles) + 1
    for name, letter in participants.column_letters.items():
        assert letter == column_letter(columns.index(name)), (name, letter, columns)
    assert participants.raw["participant_ref"] == ["P0001"]


# --- the reader: any bytes, and the quick scan against the exact parse --------------------------------------


@FAST
@given(st.binary(max_size=2000), st.sampled_from([".xlsx", ".xlsm", ".ods", ".csv"]))
def test_any_bytes_are_read_or_refused_with_unreadable_file(data, suffix):
    try:
        read_file(Path(f"f{suffix}"), data)
    except UnreadableFile as exc:
        assert str(exc).startswith(f"f{suffix}: ")


@FAST
@given(st.data())
def test_a_damaged_workbook_is_read_or_refused_with_unreadable_file(tmp_path_factory, data):
    from tests.hostile import PARTICIPANT_COLUMNS, journeys, raw_xlsx

    path = tmp_path_factory.mktemp("fuzz") / "f.xlsx"
    sheets = [("Participants", sheet_xml([PARTICIPANT_COLUMNS, *journeys(5)]))]
    original = bytearray(raw_xlsx(path, sheets).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(original)))
    try:
        book = read_file(path, bytes(original[:cut]))
    except UnreadableFile as exc:
        assert str(exc).startswith("f.xlsx: ")
    else:
        assert book.sheets


scan_cells = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.text(alphabet="ab <&>\"'é", max_size=6),
    st.builds(
        Formula,
        st.sampled_from(["A1+1", "SUM(A1:A2)", '"x"&"y"']),
        st.one_of(st.none(), st.integers(0, 9), st.just(""), st.just("text")),
    ),
    st.builds(ErrorCell, st.sampled_from(["#REF!", "#DIV/0!", "#N/A", "#VALUE!", ""])),
)


@FAST
@given(st.lists(st.lists(scan_cells, max_size=6), max_size=12), st.lists(st.integers(1, 400), max_size=40))
def test_the_quick_scan_finds_what_the_exact_parse_finds_wherever_the_chunks_break(rows, cuts):
    xml = sheet_xml(rows).encode()
    quick, exact, pos = QuickScan(Limits()), ExactSheetScan(), 0
    for size in cuts:
        quick.feed(xml[pos : pos + size])
        pos += size
    quick.feed(xml[pos:])
    quick.feed(b"", final=True)
    exact.feed(xml, final=True)
    assert not quick.scan.exact_needed
    assert quick.scan.formula_gaps == exact.scan.formula_gaps
    assert quick.scan.errors == exact.scan.errors


# --- round trip ---------------------------------------------------------------------------------------------

REF_ALPHABET = "ABCDEFGHJKMNPRTVWXY0123456789-/"


@st.composite
def journeys(draw):
    """Valid participant journeys: dates in order, within the programme and the March 2013 period."""
    start, end = date(2011, 6, 1), PERIOD_END
    n = draw(st.integers(1, 8))
    refs = draw(
        st.lists(st.text(REF_ALPHABET, min_size=1, max_size=20), min_size=n, max_size=n, unique_by=str.casefold)
    )
    out = []
    for ref in refs:
        referral = draw(st.dates(start, end))

        def later(base, chance=True):
            if base is None or not draw(st.booleans()) and chance:
                return None
            return draw(st.dates(base, end))

        attachment = later(referral)
        job_start = later(attachment)
        requested = later(referral)
        out.append(
            {
                "participant_ref": ref,
                "payment_group": draw(st.sampled_from([f"PG{i}" for i in range(1, 10)])),
                "referral_date": referral,
                "first_contact_date": later(referral),
                "attachment_date": attachment,
                "initial_assessment_date": later(referral),
                "action_plan_date": later(referral),
                "job_start_date": job_start,
                "job_outcome_date": later(job_start),
                "exit_date": later(referral),
                "exit_report_requested_date": requested,
                "exit_report_sent_date": later(requested),
                "in_work_support_offered": draw(st.sampled_from(["Y", "N", None])),
            }
        )
    return out


PERSONAL_PIECES = [
    "QQ 12",
    " 34 56 C",
    "AB123456D",
    "jo.bloggs@",
    "example.org",
    "07700 900123",
    "SW1A",
    " 1AA",
    "0",
    "7700",
    "/",
    "-",
    "@",
    " ",
    "\x00",
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                cells,
                st.sampled_from(PERSONAL_PIECES),
                st.lists(st.sampled_from(PERSONAL_PIECES), max_size=4).map("".join),
            ),
            max_size=5,
        ),
        max_size=6,
    )
)
def test_whole_sheet_personal_data_scan_agrees_with_the_cell_by_cell_scan(rows):
    texts = [v for row in rows for v in row if isinstance(v, str)]
    if any(privacy._looks_personal(v) for v in texts):
        assert privacy._sheet_may_hold_personal_data(rows)
    # Pieces of one value in neighbouring cells are never joined into a match.
    if not any(privacy._ANY.search(v) for v in texts):
        assert not privacy._sheet_may_hold_personal_data(rows)


def _plain(rows):
    """Refs that read as ordinary references: not personal data, totals, notes or blank markers."""
    book = Workbook(path=Path("f.xlsx"), sha256="", sheets=[SheetData("P", [[r["participant_ref"]] for r in rows])])
    skip = ("total", "note", "source", "end of report", "sub", "grand", "*")
    return not find_personal_values(book) and not any(
        cleaning.is_blank(r["participant_ref"]) or r["participant_ref"].lower().startswith(skip) for r in rows
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys())
def test_clean_participant_rows_survive_the_round_trip_unchanged(tmp_path, engine, ingestor, rows):
    assume(_plain(rows))
    path = write_standard(tmp_path / "roundtrip.xlsx", HEADER, pd.DataFrame(rows))
    result = ingestor.ingest(path)
    assert result.status in (LOADED, UNCHANGED), [(p.code, p.message) for p in result.errors]
    with engine.connect() as conn:
        stored = (
            conn.execute(text("SELECT * FROM v_participants WHERE submission_id = :id"), {"id": result.submission_id})
            .mappings()
            .all()
        )
    assert len(stored) == len(rows)
    by_ref = {r["participant_ref"]: r for r in stored}
    flags = {"Y": 1, "N": 0, None: None}
    for row in rows:
        got = by_ref[row["participant_ref"]]
        for name, value in row.items():
            if name == "in_work_support_offered":
                assert got[name] == flags[value], (name, value, got[name])
            else:
                assert str(got[name]) == str(value) if value is not None else got[name] is None, (name, value)


@st.composite
def scattered_sheets(draw):
    """Cells at random places, rows and cells in any order, some without references: sheet XML."""
    cells_at = draw(st.lists(st.tuples(st.integers(1, 330), st.integers(1, 34)), min_size=1, max_size=30, unique=True))
    by_row: dict[int, list[int]] = {}
    for row, col in cells_at:
        by_row.setdefault(row, []).append(col)
    rows = draw(st.permutations(sorted(by_row)))
    body = []
    for row in rows:
        cells = []
        for col in draw(st.permutations(by_row[row])):
            ref = "" if draw(st.integers(0, 9)) == 0 else f' r="{column_letter(col - 1)}{row}"'
            cells.append(f"<c{ref}><v>{col}</v></c>")
        body.append(f'<row r="{row}">{"".join(cells)}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{"".join(body)}</sheetData></worksheet>'
    )


@FAST
@given(scattered_sheets())
def test_a_sheet_is_only_read_when_its_whole_grid_is_within_the_limits(tmp_path_factory, xml):
    from tests.hostile import raw_xlsx

    limits = Limits(max_rows=300, max_columns=30, max_cells=3_000)
    path = raw_xlsx(tmp_path_factory.mktemp("grid") / "f.xlsx", [("S", xml)])
    try:
        book = read_file(path, limits=limits)
    except UnreadableFile as exc:
        assert "limit WPMI_MAX_" in str(exc) or "holds no cells" in str(exc), str(exc)
        return
    rows = book.sheets[0].rows
    width = max(map(len, rows), default=0)
    assert len(rows) <= 300 and width <= 30 and len(rows) * width <= 3_000
