"""Downloads defuse spreadsheet formula injection and keep numbers, dates and notes intact."""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from dashboard.exports import InvalidSheetName, neutralise, safe_frame, to_csv_bytes, to_excel_bytes

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "-2+3",
    "\t=1",
    "\r=1",
    " =1",
    "\n\t+1",
    "\x01=1",
    "\uff1dSUM(A1)",
]
ORDINARY = ["Tyneside Pathways Trust", "PG1", "*", "a=b", "e-mail", "", "'=already quoted"]
# Formulas after a delimiter: a spreadsheet that splits the field on it (a ";" locale, a tab or "|" import, Text to
# Columns) starts a new cell with the formula.
AFTER_DELIMITER = [
    "Foo;=cmd|' /C calc'!A0",
    "a\t=1+1",
    "x,@SUM(A1:A2)",
    "x|+1+1",
    "a; =1",
    "a;\r=1",
    "a,\uff1dSUM(A1)",
    "a;-2+3",
    "Smith, -cmd",
    "'quoted;=1",
]
# Signed numbers held as text are numbers to a spreadsheet, not formulas: they stay as they are.
NUMBERS_AS_TEXT = ["-5", "+3", "-1,234", "-12.5%", "-0.25", " -7 ", "1e-3", "-2E+5"]
BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]
OTHER_FORMAT = ["\u200b", "\u2060", "\ufeff", "\u00ad", "\U000e0041"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SEGMENTS = re.compile(r"[,;\t|]")
LEADING = re.compile(r"^[\s\x00-\x1f]+")
NUMBER = re.compile(r" *[-+]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?([eE][-+]?\d+)?%? *")
KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners: part of how some scripts are written


def formula_segments(field: str) -> list[str]:
    """Pieces of a field, split at any delimiter a spreadsheet may split on, that it could run as a formula."""
    if NUMBER.fullmatch(field):
        return []
    found = []
    for segment in SEGMENTS.split(field):
        if NUMBER.fullmatch(segment):
            continue
        if segment.startswith(TRIGGERS) or LEADING.sub("", segment).startswith(TRIGGERS):
            found.append(segment)
    return found


def format_characters(text: str) -> list[str]:
    """Bidi controls and other invisible format characters (Unicode Cf) left in text, but the joiners."""
    return sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf" and c not in KEPT_FORMAT})


@pytest.fixture
def hostile_frame() -> pd.DataFrame:
    """Hostile text in a text column and a column name, beside numbers, negatives, dates and gaps."""
    rows = len(HOSTILE)
    return pd.DataFrame(
        {
            "text": HOSTILE,
            "=cmd()": [f"ok {i}" for i in range(rows)],
            "count": list(range(-5, rows - 5)),
            "rate": [-0.25] + [0.5] * (rows - 2) + [np.nan],
            "month": [pd.Timestamp("2013-01-01")] * rows,
            "note": [None] + ORDINARY + [None] * (rows - len(ORDINARY) - 1),
        }
    )


# -- neutralise -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_quotes_strings_a_spreadsheet_would_run(value):
    safe = neutralise(value)
    assert safe.startswith("'") and safe.removeprefix("'").replace("'", "") == value.replace("'", "")
    assert not formula_segments(safe)


@pytest.mark.parametrize("value", AFTER_DELIMITER)
def test_neutralise_defuses_a_formula_after_any_delimiter(value):
    safe = neutralise(value)
    assert formula_segments(value) or value.startswith("'")  # the case is hostile as written
    assert not formula_segments(safe), safe
    assert safe.replace("'", "") == value.replace("'", "")  # only quotes added: the text is all there


def test_neutralise_quotes_the_segment_that_starts_the_formula():
    assert neutralise("Foo;=cmd|' /C calc'!A0") == "Foo;'=cmd|' /C calc'!A0"
    assert neutralise("a\t=1+1") == "a\t'=1+1"
    assert neutralise("=1;=2") == "'=1;'=2"


@pytest.mark.parametrize("value", NUMBERS_AS_TEXT)
def test_neutralise_leaves_signed_numbers_held_as_text_alone(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("char", BIDI + OTHER_FORMAT)
def test_neutralise_strips_bidi_controls_and_other_format_characters(char):
    assert neutralise(f"abc{char}def") == "abcdef"
    assert neutralise(f"{char}=1") == "'=1"  # stripped before looking for a formula


def test_neutralise_keeps_the_joiners_some_scripts_need():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert neutralise(persian) == persian
    assert neutralise("\U0001f469\u200d\U0001f4bb") == "\U0001f469\u200d\U0001f4bb"


@pytest.mark.parametrize("value", ORDINARY)
def test_neutralise_leaves_ordinary_strings_alone(value):
    assert neutralise(value) == value


@pytest.mark.parametrize(
    "value",
    [
        -5,
        -2.5,
        0,
        3,
        np.int64(-7),
        np.float64(-1.5),
        True,
        date(2013, 1, 1),
        datetime(2013, 1, 1, 9),
        pd.Timestamp("2013-01-01"),
    ],
)
def test_neutralise_leaves_numbers_and_dates_untouched(value):
    assert neutralise(value) is value


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, pd.NaT])
def test_neutralise_leaves_missing_values_untouched(value):
    assert neutralise(value) is value


def test_neutralise_quotes_an_expression_that_starts_like_a_number():
    # A signed number held as text is left alone (a spreadsheet reads it as the number); anything more is quoted.
    assert neutralise("-5") == "-5"
    assert neutralise("-5+cmd|' /C calc'!A0") == "'-5+cmd|' /C calc'!A0"
    assert neutralise(-5) == -5


@pytest.mark.parametrize("value", ["=1", *HOSTILE, *AFTER_DELIMITER])
def test_neutralise_twice_changes_nothing_more(value):
    assert neutralise(neutralise(value)) == neutralise(value)


# -- safe_frame -----------------------------------------------------------------------------------------


def test_safe_frame_neutralises_text_cells_and_column_names_only(hostile_frame):
    safe = safe_frame(hostile_frame)
    assert list(safe["text"]) == [neutralise(v) for v in HOSTILE]
    assert all(v.startswith("'") for v in safe["text"])
    assert "'=cmd()" in safe.columns
    assert list(safe["count"]) == list(hostile_frame["count"])
    assert safe["count"].dtype == hostile_frame["count"].dtype
    assert safe["month"].dtype == hostile_frame["month"].dtype
    assert hostile_frame["text"].iloc[0] == HOSTILE[0]  # the original is not changed


def test_safe_frame_handles_string_and_categorical_dtypes():
    frame = pd.DataFrame({"s": pd.array(["=1", "x"], dtype="string"), "c": pd.Categorical(["@a", "b"])})
    safe = safe_frame(frame)
    assert list(safe["s"]) == ["'=1", "x"]
    assert list(safe["c"]) == ["'@a", "b"]


# -- CSV ------------------------------------------------------------------------------------------------


def test_csv_starts_with_a_bom_and_parses_back_with_quotes(hostile_frame):
    data = to_csv_bytes(hostile_frame)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == ["text", "'=cmd()", "count", "rate", "month", "note"]
    assert list(back["text"]) == [neutralise(v) for v in HOSTILE]
    assert back["count"].tolist() == list(hostile_frame["count"])
    assert pd.api.types.is_integer_dtype(back["count"])
    assert back["rate"].iloc[0] == -0.25


def test_csv_quotes_a_carriage_return_so_it_cannot_start_a_new_row():
    data = to_csv_bytes(pd.DataFrame({"note": ["x\r=cmd|' /C calc'!A0"], "n": [1]}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["note", "n"], ["x\r'=cmd|' /C calc'!A0", "1"]]


def test_csv_quotes_every_field_a_spreadsheet_could_split():
    frame = pd.DataFrame({"name": AFTER_DELIMITER, "n": range(len(AFTER_DELIMITER))})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    for delimiter in (";", "\t", "|", ","):
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        if delimiter == ",":
            assert rows[1:] == [[neutralise(v), str(n)] for n, v in enumerate(AFTER_DELIMITER)]
        else:  # every text field is quoted, so no row is split at this delimiter
            assert all(len(row) == 1 for row in rows), rows
        assert not [s for row in rows for field in row for s in formula_segments(field)]
    for line in text.splitlines():  # even a reader that ignores quotes finds no formula
        assert not formula_segments(line), line


def test_csv_leaves_numbers_unquoted_and_negative_numbers_numeric():
    frame = pd.DataFrame({"unit": ["a;b"], "count": [-5], "rate": [-0.25], "text_number": ["-1,234"]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines()[1] == '"a;b",-5,-0.25,"-1,234"'
    back = pd.read_csv(io.StringIO(text))
    assert back["count"].tolist() == [-5] and back["rate"].tolist() == [-0.25]


def test_csv_strips_bidi_controls():
    frame = pd.DataFrame({"partner": ["".join(BIDI) + "Trust" + "".join(OTHER_FORMAT)], "=b\u202e": [1]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert not format_characters(text)
    assert "Trust" in text and "'=b" in text


def test_csv_keeps_accents_readable():
    data = to_csv_bytes(pd.DataFrame({"partner": ["Café Works Ltd"]}))
    assert "Café Works Ltd" in data.decode("utf-8-sig")


# -- Excel ------------------------------------------------------------------------------------------------


def _cells(data: bytes, sheet: str = "data"):
    workbook = load_workbook(io.BytesIO(data))
    return [cell for row in workbook[sheet].iter_rows() for cell in row]


def test_excel_has_no_formula_cells_and_every_hostile_value_is_quoted(hostile_frame):
    data = to_excel_bytes(hostile_frame, notes=["=notes are safe too"])
    for sheet in ("data", "notes"):
        assert all(cell.data_type != "f" for cell in _cells(data, sheet))
    sheet = load_workbook(io.BytesIO(data))["data"]
    text = [sheet.cell(row=r, column=1).value for r in range(2, len(HOSTILE) + 2)]
    assert all(value.startswith("'") for value in text)
    assert text[0] == "'" + HOSTILE[0]
    assert text[HOSTILE.index("\x01=1")] == "'=1"  # control characters dropped, then quoted
    assert sheet["B1"].value == "'=cmd()"


def test_excel_defuses_formulas_after_delimiters_and_strips_format_characters():
    frame = pd.DataFrame({"name": AFTER_DELIMITER + ["\u202eevil\u2066"], "-x;=y": range(len(AFTER_DELIMITER) + 1)})
    data = to_excel_bytes(frame, notes=["a;=1"])
    for sheet in ("data", "notes"):
        for cell in _cells(data, sheet):
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not formula_segments(cell.value), cell.value
                assert not format_characters(cell.value), cell.value
    sheet = load_workbook(io.BytesIO(data))["data"]
    assert sheet.cell(row=len(AFTER_DELIMITER) + 2, column=1).value == "evil"


def test_excel_keeps_signed_numbers_held_as_text_as_they_are():
    sheet = load_workbook(io.BytesIO(to_excel_bytes(pd.DataFrame({"v": NUMBERS_AS_TEXT}))))["data"]
    assert [sheet.cell(row=r, column=1).value for r in range(2, len(NUMBERS_AS_TEXT) + 2)] == NUMBERS_AS_TEXT


def test_excel_keeps_numbers_negative_numbers_and_dates_typed(hostile_frame):
    sheet = load_workbook(io.BytesIO(to_excel_bytes(hostile_frame)))["data"]
    assert [c.value for c in sheet[1]] == ["text", "'=cmd()", "count", "rate", "month", "note"]
    assert sheet["C2"].value == -5 and sheet["C2"].data_type == "n"
    assert sheet["D2"].value == -0.25 and sheet["D2"].data_type == "n"
    assert sheet["E2"].value == datetime(2013, 1, 1) and sheet["E2"].number_format == "yyyy-mm-dd"
    assert sheet.cell(row=len(HOSTILE) + 1, column=4).value is None  # NaN -> empty cell
    assert sheet["F2"].value is None
    assert sheet.freeze_panes == "A2"


def test_excel_writes_every_string_as_a_text_cell():
    data = to_excel_bytes(pd.DataFrame({"s": ["plain", "*", "'=x"], "n": [1, 2, 3]}))
    strings = [c for c in _cells(data) if isinstance(c.value, str)]
    assert strings and all(c.data_type == "s" for c in strings)


def test_excel_notes_sheet_holds_the_notes_in_order():
    notes = ["SYNTHETIC DEMO DATA", "* = suppressed (1-4)", "Rates: Wilson 95% intervals"]
    workbook = load_workbook(io.BytesIO(to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="rates", notes=notes)))
    assert workbook.sheetnames == ["rates", "notes"]
    assert [row[0] for row in workbook["notes"].iter_rows(values_only=True)] == notes


def test_excel_without_notes_has_one_sheet():
    assert load_workbook(io.BytesIO(to_excel_bytes(pd.DataFrame({"a": [1]})))).sheetnames == ["data"]


def test_excel_writes_awkward_values_without_failing():
    frame = pd.DataFrame(
        {
            "when": [pd.Timestamp("2013-01-01 09:30", tz="Europe/London"), pd.NaT],
            "period": [pd.Period("2013-01", freq="M"), None],
            "ratio": [math.inf, 1.5],
            "flag": [np.bool_(True), False],
        }
    )
    sheet = load_workbook(io.BytesIO(to_excel_bytes(frame)))["data"]
    assert sheet["A2"].value == datetime(2013, 1, 1, 9, 30)  # GMT in January, written as UTC
    assert sheet["A3"].value is None
    assert sheet["B2"].value == "2013-01"
    assert sheet["C2"].value is None and sheet["C3"].value == 1.5
    assert sheet["D2"].value is True


def test_excel_empty_frame_gives_header_only():
    sheet = load_workbook(io.BytesIO(to_excel_bytes(pd.DataFrame(columns=["partner", "rate"]))))["data"]
    assert [c.value for c in sheet[1]] == ["partner", "rate"]
    assert sheet.max_row == 1


@pytest.mark.parametrize("name", ["", "x" * 32, "a/b", "rates[1]"])
def test_excel_rejects_sheet_names_excel_would_refuse(name):
    with pytest.raises(InvalidSheetName, match="not allowed in Excel"):
        to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name=name)


def test_excel_sheet_name_cannot_clash_with_notes():
    with pytest.raises(InvalidSheetName, match="clashes with the notes sheet"):
        to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="Notes", notes=["x"])


def test_an_excel_download_holds_numbers_percentages_and_dates_with_marks_as_text_and_an_about_sheet():
    from datetime import date

    from dashboard.exports import published_excel_bytes
    from dashboard.publication import Policy, publish_table

    raw = pd.DataFrame(
        {
            "partner": ["A", "B", "=C"],
            "month": pd.to_datetime(["2015-10-01", "2015-10-01", "2015-11-01"]),
            "x": [30, 3, 40],
            "n": [145, 150, 160],
        }
    )
    policy = Policy("member", rounding_base=1, suppress_max=4, rate_decimals=4)
    shown = publish_table(raw, policy=policy, counts=["x", "n"], rates={"rate": ("x", "n")}, keep=["partner", "month"])
    about = [("Filters", "CPA 5"), ("Data as of", "March 2017")]
    book = load_workbook(io.BytesIO(published_excel_bytes(shown, sheet_name="league", about=about)))
    assert book.sheetnames == ["league", "about"]
    sheet = book["league"]
    header = [c.value for c in sheet[1]]
    rows = {sheet.cell(row=r, column=1).value: [c for c in sheet[r]] for r in range(2, sheet.max_row + 1)}
    a = dict(zip(header, rows["A"]))
    assert a["x"].value == 30 and a["x"].number_format == "#,##0"  # a count is a number, not text
    assert a["rate"].value == pytest.approx(30 / 145, abs=1e-4) and a["rate"].number_format == "0.00%"
    assert a["month"].value.date() == date(2015, 10, 1) and a["month"].number_format == "yyyy-mm-dd"
    b = dict(zip(header, rows["B"]))
    assert (b["x"].value, b["rate"].value) == ("*", "*")  # hidden: its mark, as text
    assert "'=C" in rows  # text is still defused
    info = {r[0].value: r[1].value for r in book["about"].iter_rows()}
    assert info == {"Filters": "CPA 5", "Data as of": "March 2017"}
