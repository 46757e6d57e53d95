"""Downloads that are safe to open in a spreadsheet: CSV and Excel bytes with formula injection defused.

A cell that starts with = + - @ (or a tab or carriage return) can run as a formula when a user opens
the file in Excel, LibreOffice or Google Sheets (OWASP "CSV injection"). Partner names, free-text notes
and anything a workbook carried in can hold such text, so every string is neutralised with a single
quote, which spreadsheets read as "this is text". Not only at the start of the field: a spreadsheet in a
locale that splits CSV on ";" (or an import on tab or "|", or Text to Columns) cuts "Foo;=cmd|..." into
"Foo" and "=cmd|...", so every piece after a delimiter (, ; tab | or a line break) that would start a formula is quoted
too ("Foo;'=cmd|..."), and CSV quotes every text field, so a reader that honours quotes splits nothing.
Numbers, dates and missing values are left as they are, and so is a signed number held as text ("-5",
"-1,234", "-12.5%"): a spreadsheet reads it as the number, and no formula can hide in it.
Bidi controls and other invisible format characters (Unicode Cf) are dropped from exported text, so a
name cannot display reversed or hide characters; the zero-width joiners some scripts need are kept.
No Streamlit here: pages pass the bytes to `st.download_button`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from dashboard.publication import Published

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Full-width forms, which some spreadsheets (and IMEs) turn into the ASCII ones.
FULLWIDTH_TRIGGERS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
TRIGGERS = FORMULA_TRIGGERS + FULLWIDTH_TRIGGERS
# Whitespace and control characters a spreadsheet may skip before it looks for a formula.
LEADING_SKIPPED = re.compile(r"^[\s\x00-\x1f]+")
# Where a spreadsheet may split a field into cells (its CSV delimiter in some locale, or an import's), or into
# lines (a reader that ignores quotes).
DELIMITERS = re.compile(r"([,;\t|\r\n])")
# A signed number held as text (thousands separators, decimals, exponent, percent): a number to a spreadsheet.
PLAIN_NUMBER = re.compile(r" *[-+]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?(?:[eE][-+]?\d+)?%? *")
# Bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C) and every other format character (Unicode
# category Cf: zero-width space, word joiner, byte-order mark, soft hyphen, tag characters...), but the zero-width
# non-joiner and joiner, which Persian, Indic scripts and emoji sequences need to be written right.
KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
QUOTE = "'"
NOTES_SHEET = "notes"
ABOUT_SHEET = "about"
COUNT_FORMAT = "#,##0"
SHEET_NAME_FORBIDDEN = set("[]:*?/\\")
MAX_SHEET_NAME = 31
MAX_COLUMN_WIDTH = 60


class InvalidSheetName(ValueError):
    """A worksheet name Excel would refuse."""


def strip_format_characters(text: str) -> str:
    """`text` without bidi controls and other invisible format characters (the zero-width joiners kept)."""
    if text.isascii():
        return text
    return "".join(c for c in text if c in KEPT_FORMAT_CHARACTERS or unicodedata.category(c) != "Cf")


def _starts_formula(rest: str) -> bool:
    """Whether a spreadsheet could read a cell starting at `rest` (up to the next delimiter) as a formula."""
    piece = DELIMITERS.split(rest, maxsplit=1)[0]
    if rest.startswith(QUOTE) or PLAIN_NUMBER.fullmatch(piece):
        return False
    return rest.startswith(TRIGGERS) or LEADING_SKIPPED.sub("", rest).startswith(TRIGGERS)


def neutralise(value):
    """Quote a string a spreadsheet could run as a formula, anywhere it could be split; leave other values alone.

    Format characters (bidi controls and the like) are dropped first. Then wherever a cell could start (the
    start of the string, and after each delimiter: , ; tab | or a line break) text that starts with = + - @
    tab or carriage return (or their full-width forms), also after whitespace or control characters, gets a
    quote: "Foo;=cmd" becomes "Foo;'=cmd", " =1" becomes "' =1" and "\t=1" becomes "'\t'=1". Untouched:
    numbers (including negative ones), dates, booleans, None and NaN, signed numbers held as text ("-5",
    "-1,234"), and text already starting with a quote (so neutralising twice changes nothing).
    """
    if not isinstance(value, str):
        return value
    text = strip_format_characters(value)
    if PLAIN_NUMBER.fullmatch(text):
        return text
    out, done = [], 0
    for start in [0, *(m.end() for m in DELIMITERS.finditer(text))]:
        if _starts_formula(text[start:]):
            out += [text[done:start], QUOTE]
            done = start
    return "".join([*out, text[done:]])


def _is_text_column(series: pd.Series) -> bool:
    return (
        pd.api.types.is_object_dtype(series)
        or pd.api.types.is_string_dtype(series)
        or isinstance(series.dtype, pd.CategoricalDtype)
    )


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df with every text cell and column name neutralised (numbers and dates untouched)."""
    safe = df.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if _is_text_column(column):
            # Categoricals become plain objects: their categories could be hostile too.
            # The values (same index, so nothing to align): pandas-stubs do not accept a Series here.
            safe.isetitem(position, column.astype(object).map(neutralise).to_numpy())
    safe.columns = [neutralise(name) for name in safe.columns]
    return safe


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a byte-order mark (so Excel reads accents right), formula injection defused.

    Every text field is quoted and numbers are not (so they stay numbers): a spreadsheet whose locale
    splits CSV on ";" (or an import on tab or "|") still reads "Foo;'=cmd" as one cell. Lines end in
    CRLF (RFC 4180). That is not only for Excel: the csv writer quotes a field holding any character
    of the line terminator, and with pandas' default "\n" a lone "\r" in a value goes out unquoted,
    splitting the row so that text after it (say "=cmd") starts a line of its own, unquoted and
    unneutralised. The index is not written: reset_index() first to keep it.
    """
    safe = safe_frame(df)
    return safe.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def _check_sheet_name(name: str, notes: bool) -> None:
    bad = sorted(SHEET_NAME_FORBIDDEN & set(name))
    if not name or len(name) > MAX_SHEET_NAME or bad:
        forbidden = " ".join(sorted(SHEET_NAME_FORBIDDEN))
        found = f" (found {' '.join(bad)})" if bad else ""
        raise InvalidSheetName(
            f'Sheet name "{name}" is not allowed in Excel: use 1-{MAX_SHEET_NAME} characters without {forbidden}{found}'
        )
    if notes and name.lower() == NOTES_SHEET:
        raise InvalidSheetName(f'Sheet name "{name}" clashes with the notes sheet: pick another sheet_name')


def _cell_value(value):
    """A value openpyxl can write: missing values empty, timezones dropped, anything else as safe text."""
    if isinstance(value, str):
        # Control characters make openpyxl refuse the workbook; drop them before looking for a formula.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones: write UTC
    elif isinstance(value, time) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, float) and not np.isfinite(value):
        return None  # Excel has no infinity; an "inf" in the file makes it refuse the workbook
    if isinstance(value, (bool, int, float, Decimal, date, time, timedelta)):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return _cell_value(str(value))


def _write_row(sheet, row_number: int, values) -> None:
    for column_number, raw in enumerate(values, start=1):
        value = _cell_value(raw)
        cell = sheet.cell(row=row_number, column=column_number, value=value)
        if isinstance(value, str):
            # openpyxl types any string starting with "=" as a formula; force text whatever it holds.
            cell.data_type = "s"
        elif (
            isinstance(value, datetime)
            and value == datetime(value.year, value.month, value.day)
            or isinstance(value, date)
            and not isinstance(value, datetime)
        ):
            cell.number_format = "yyyy-mm-dd"


def _fit_columns(sheet) -> None:
    for cells in sheet.iter_cols():
        longest = max((len(str(c.value)) for c in cells if c.value is not None), default=8)
        sheet.column_dimensions[cells[0].column_letter].width = min(MAX_COLUMN_WIDTH, max(8, longest + 2))


def to_excel_bytes(df: pd.DataFrame, *, sheet_name: str = "data", notes: list[str] | None = None) -> bytes:
    """An .xlsx workbook of df with every string an explicit text cell, and `notes` on a "notes" sheet.

    Notes carry what a reader must know away from the dashboard, e.g. "SYNTHETIC DEMO DATA",
    "* = suppressed (1-4)" or the methods used. The index is not written: reset_index() first to keep it.
    """
    _check_sheet_name(sheet_name, bool(notes))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    safe = safe_frame(df)
    _write_row(sheet, 1, [str(name) for name in df.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row_number, row in enumerate(safe.itertuples(index=False, name=None), start=2):
        _write_row(sheet, row_number, row)
    sheet.freeze_panes = "A2"
    _fit_columns(sheet)
    if notes:
        notes_sheet = workbook.create_sheet(NOTES_SHEET)
        for row_number, note in enumerate(notes, start=1):
            _write_row(notes_sheet, row_number, [note])
        notes_sheet.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rate_format(decimals: int) -> str:
    """Excel's percentage format showing a rate at the policy's precision (3 decimals = one place: 0.0%)."""
    places = max(decimals - 2, 0)
    return "0%" if places == 0 else "0." + "0" * places + "%"


def published_excel_bytes(
    shown: Published, *, sheet_name: str = "data", about: list[tuple[str, str]] | None = None
) -> bytes:
    """An .xlsx workbook of a published table as numbers: counts as whole numbers, rates as percentages at the
    policy's precision, dates as dates, and a hidden cell as its mark (text); then an "about" sheet recording
    what a reader must know away from the dashboard (`about`: filters, scope, as-of date, mode, definitions).

    Only a `Published` is taken: what the workbook holds has passed the publication boundary, and its values
    are those `.display()` shows, unformatted.
    """
    _check_sheet_name(sheet_name, False)
    if sheet_name.lower() == ABOUT_SHEET:
        raise InvalidSheetName(f'Sheet name "{sheet_name}" clashes with the about sheet: pick another sheet_name')
    frame, status = shown.frame, shown.status
    counts, rates = set(shown.counts), set(shown.rates)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    columns = list(frame.columns)
    _write_row(sheet, 1, [str(c) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    values = safe_frame(frame)
    for i in range(len(frame)):
        row = []
        for column in columns:
            mark = status[column].iloc[i] if column in status else ""
            value = values[column].iloc[i]
            if mark:
                row.append(mark)
            elif column in counts and pd.notna(value):
                row.append(int(value))
            else:
                row.append(value)
        _write_row(sheet, i + 2, row)
    share = rate_format(shown.policy.rate_decimals)
    for position, column in enumerate(columns, start=1):
        kind = COUNT_FORMAT if column in counts else share if column in rates else None
        if kind is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
            if isinstance(cell.value, (int, float)):
                cell.number_format = kind
            else:  # a mark: right-aligned like the numbers around it
                cell.alignment = Alignment(horizontal="right")
    sheet.freeze_panes = "A2"
    _fit_columns(sheet)
    info = workbook.create_sheet(ABOUT_SHEET)
    for row_number, (key, text) in enumerate(about or [], start=1):
        _write_row(info, row_number, [key, text])
        info.cell(row=row_number, column=1).font = Font(bold=True)
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 110
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
