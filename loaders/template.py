"""Write the standard MI template: an Instructions sheet, then one sheet per data-dictionary sheet.

The template is the seed's Recommendation 2 "standardised format". Everything in it (sheet names, column
names, types, help) comes from `dashboard.fields`, so the template, the loaders and the docs cannot drift.
The same writer fills the template with rows for the synthetic-data generator, so it streams
(openpyxl write-only mode): tens of thousands of participant rows take seconds, not minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import date
from functools import cache
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.datavalidation import DataValidation

from dashboard.fields import (
    BOOL,
    DATE,
    HEADER_BLOCK,
    INSTRUCTIONS_SHEET,
    INT,
    MONTH,
    PAYMENT_GROUP,
    REAL,
    SHEETS,
    SHEETS_BY_NAME,
    TEMPLATE_MARKER,
    TEXT,
    Field,
    Sheet,
)

TEMPLATE_VERSION = 1
TITLE = f"{TEMPLATE_MARKER} v{TEMPLATE_VERSION}: Work Programme partner management information"
SYNTHETIC_LABEL = "SYNTHETIC DEMO DATA - not real Work Programme MI"

HEADER_FIRST_ROW = 3  # the header block fills rows 3-6; row 2 is kept for the synthetic label
HEADER_SEARCH_ROWS = 20  # readers look for the header labels this far down (partners may insert rows)

VALIDATION_ROWS = 10_000  # last row a drop-down or check covers in an empty template
VALIDATION_MARGIN = 1_000  # rows of checks beyond the last written row of a filled template

DATE_MIN, DATE_MAX = date(2011, 6, 1), date(2030, 12, 31)  # programme start to well past its end
DATE_FORMAT, MONTH_FORMAT = "dd/mm/yyyy", "mmm yyyy"
EXCEL_DAY_ZERO = date(1899, 12, 30).toordinal()  # serial 0 in Excel's 1900 date system

# Text columns with a fixed list of answers, and number columns with a fixed range.
CHOICES = {("Contacts", "mode"): ("face to face", "phone", "email", "text", "letter", "other")}
REAL_BOUNDS = {("Feedback", "satisfaction_mean"): (1, 5)}

TYPE_LABELS = {
    TEXT: "text",
    DATE: "date",
    INT: "whole number",
    BOOL: "Y or N",
    REAL: "number",
    MONTH: "month",
    PAYMENT_GROUP: "payment group",
}

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
WARNING_FONT = Font(bold=True, size=12, color="C00000")
REQUIRED_FILL = PatternFill("solid", fgColor="DDEBF7")  # shaded heading = required column
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # where the partner types the header values

GUIDANCE = (
    (
        "Dates",
        f"Enter real Excel dates, not text: they show as {DATE_FORMAT} (e.g. 15/03/2013). Month "
        "columns take any date in the month (the 1st is conventional) and show as e.g. Mar 2013.",
    ),
    ("Payment groups", "Enter the code PG1-PG9 from the drop-down; the groups are listed below."),
    (
        "No personal data",
        "Never enter names, National Insurance numbers, dates of birth, addresses, phone "
        "numbers or email addresses: files containing them are rejected. Identify "
        "participants only by your own pseudonymous reference.",
    ),
    (
        "True counts",
        "Send true counts, including 1-4: do not suppress small numbers (no * or <5). "
        "wpmi applies disclosure control itself before anything is published.",
    ),
    (
        "Required columns",
        "Columns with a shaded heading are required; leave optional ones blank if "
        "you do not hold the data. Do not rename, reorder or delete columns.",
    ),
)


class TemplateError(ValueError):
    """A header value or row that cannot be written into the template."""


@cache
def payment_group_names() -> dict[str, str]:
    """Code -> name of every payment group, as the template lists them: data/reference/payment_groups.csv's
    names (their one home), with "(England only)" after a group only England had."""
    # Imported here, not at the top: the reference module loads pandas and SQLAlchemy, which `wpmi template`
    # does not otherwise need.
    from dashboard import schema
    from dashboard.reference import REFERENCE_DIR, REFERENCE_FILES, payment_groups, read_reference_csv

    # PaymentGroup does not carry england_only; read that column of the same file.
    rows = read_reference_csv(schema.payment_group, REFERENCE_DIR / REFERENCE_FILES["payment_group"])
    england_only = {r["code"] for r in rows if r["england_only"]}
    return {g.code: f"{g.name} (England only)" if g.code in england_only else g.name for g in payment_groups()}


def _code_range() -> str:
    """The payment group codes as a range, e.g. PG1-PG9."""
    codes = list(payment_group_names())
    return f"{codes[0]}-{codes[-1]}"


def write_template(
    path: str | Path,
    *,
    header: dict | None = None,
    rows: dict[str, Iterable[Sequence]] | None = None,
    synthetic: bool = False,
) -> Path:
    """Write the standard MI template to `path`, optionally with header values and data rows."""
    path = Path(path)
    rows = rows or {}
    unknown = sorted(set(rows) - set(SHEETS_BY_NAME))
    if unknown:
        raise TemplateError(f"No template sheet named {', '.join(unknown)} (sheets: {', '.join(SHEETS_BY_NAME)}).")
    values = _header_values(header or {})
    wb = Workbook(write_only=True)
    wb.properties.creator = "wpmi"
    wb.properties.title = f"{TITLE} ({SYNTHETIC_LABEL})" if synthetic else TITLE
    try:
        _write_instructions(wb.create_sheet(INSTRUCTIONS_SHEET), values, synthetic)
        for sheet in SHEETS:
            _write_data_sheet(wb.create_sheet(sheet.name), sheet, rows.get(sheet.name, ()))
    except BaseException:
        _discard(wb)
        raise
    wb.save(path)
    return path


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


# The help the template writes beside each header field (column C), from HEADER_BLOCK, its one home.
HEADER_HELP = frozenset(_plain(help_) for _label, _key, help_ in HEADER_BLOCK)


def is_header_help(value) -> bool:
    """True if `value` is the help text the template writes beside a header-block field (in any case or spacing).

    An untouched header block says nothing: its help is never a partner, prime, CPA or period, wherever a reader
    finds it (column C, column B after a paste, or next to the label once the empty input cell is dropped).
    """
    return isinstance(value, str) and _plain(value) in HEADER_HELP


def read_header_block(rows: list[list]) -> dict:
    """The header block's raw values from the Instructions sheet's cells: {"partner", "prime", "cpa", "period"}.

    Labels are matched case-insensitively in column A anywhere in the first rows; blanks and the template's own
    help text (`is_header_help`) come back as None, so an untouched block means "not stated".
    """
    by_label = {label.casefold(): key for label, key, _help in HEADER_BLOCK}
    found: dict = {key: None for _label, key, _help in HEADER_BLOCK}
    seen: set[str] = set()
    for row in rows[:HEADER_SEARCH_ROWS]:
        if not row or not isinstance(row[0], str):
            continue
        key = by_label.get(row[0].strip().rstrip(":").strip().casefold())
        if key is None or key in seen:
            continue
        seen.add(key)
        value = row[1] if len(row) > 1 else None
        blank = value is None or (isinstance(value, str) and not value.strip()) or is_header_help(value)
        found[key] = None if blank else value
    return found


def is_template(rows: list[list]) -> bool:
    """True if these Instructions-sheet cells are the wpmi standard template's (A1 starts with the marker)."""
    first = rows[0][0] if rows and rows[0] else None
    return isinstance(first, str) and first.strip().casefold().startswith(TEMPLATE_MARKER.casefold())


def data_dictionary_markdown() -> str:
    """The header block, every template sheet and the payment groups as Markdown tables (for docs/template.md)."""
    out = [
        "### Header block (Instructions sheet)",
        "",
        f"Rows {HEADER_FIRST_ROW}-{HEADER_FIRST_ROW + len(HEADER_BLOCK) - 1}: label in column A, value in column B.",
        "",
        "| Label | What to enter |",
        "|---|---|",
    ]
    out += [f"| {label} | {_md(help_)} |" for label, _key, help_ in HEADER_BLOCK]
    for sheet in SHEETS:
        status = "required" if not sheet.optional else "optional"
        out += [
            "",
            f"### {sheet.name} ({status})",
            "",
            _md(sheet.help),
            "",
            "| Column | Type | Required | What to enter | Also recognised as |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| `{f.name}` | {_type_label(sheet, f)} | {'yes' if f.required else 'no'} | {_md(f.help)} | "
            f"{', '.join(_md(s) for s in f.synonyms)} |"
            for f in sheet.fields
        ]
    out += ["", "### Payment groups", "", "| Code | Name |", "|---|---|"]
    out += [f"| {code} | {name} |" for code, name in payment_group_names().items()]
    return "\n".join(out) + "\n"


# --- Instructions sheet ---------------------------------------------------------------------------------


def _header_values(header: dict) -> dict:
    """Header values as written: CPA as an int, the reporting period as text YYYY-MM."""
    keys = [key for _label, key, _help in HEADER_BLOCK]
    unknown = sorted(set(header) - set(keys))
    if unknown:
        raise TemplateError(f"Unknown header field {', '.join(unknown)} (expected: {', '.join(keys)}).")
    values = {key: header.get(key) for key in keys}
    if values["cpa"] not in (None, ""):
        try:
            values["cpa"] = int(values["cpa"])
        except (TypeError, ValueError):
            raise TemplateError(
                f'CPA "{values["cpa"]}" is not a number; give the Contract Package Area number, 1-18.'
            ) from None
    values["period"] = _period_text(values["period"])
    return values


def _period_text(period) -> str | None:
    if period in (None, ""):
        return None
    if isinstance(period, date):
        return period.strftime("%Y-%m")
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(period))
    if not match or not 1 <= int(match[2]) <= 12:
        raise TemplateError(f'Reporting period "{period}" is not a month as YYYY-MM (e.g. 2013-03).')
    return f"{match[1]}-{int(match[2]):02d}"


def _write_instructions(ws, header: dict, synthetic: bool) -> None:
    for letter, width in zip("ABCDE", (22, 30, 24, 10, 100)):
        ws.column_dimensions[letter].width = width
    ws.append([_cell(ws, TITLE, font=TITLE_FONT)])
    ws.append([_cell(ws, SYNTHETIC_LABEL, font=WARNING_FONT)] if synthetic else [])
    for label, key, help_ in HEADER_BLOCK:
        # The period is text so Excel does not turn 2013-03 into a date; the cell stays text when retyped.
        value = _cell(ws, header[key], fill=INPUT_FILL, number_format="@" if key == "period" else None)
        ws.append([_cell(ws, label, font=BOLD), value, help_])
    ws.append([])
    ws.append([_cell(ws, "Sheets", font=BOLD)])
    for sheet in SHEETS:
        ws.append([sheet.name, None, None, None, sheet.help])
    ws.append([])
    ws.append([_cell(ws, "Data dictionary", font=BOLD)])
    ws.append([_cell(ws, h, font=BOLD) for h in ("Sheet", "Column", "Type", "Required", "What to enter")])
    for sheet in SHEETS:
        for f in sheet.fields:
            ws.append([sheet.name, f.name, _type_label(sheet, f), "yes" if f.required else "no", f.help])
    ws.append([])
    ws.append([_cell(ws, "Guidance", font=BOLD)])
    for topic, text in GUIDANCE:
        ws.append([topic, None, None, None, text])
    ws.append([])
    ws.append([_cell(ws, "Payment group", font=BOLD), _cell(ws, "Name", font=BOLD)])
    for code, name in payment_group_names().items():
        ws.append([code, name])


def _cell(ws, value, *, font=None, fill=None, number_format=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _type_label(sheet: Sheet, f: Field) -> str:
    if f.type == PAYMENT_GROUP:
        return f"payment group ({_code_range()})"
    if f.type == DATE:
        return f"date ({DATE_FORMAT})"
    if f.type == MONTH:
        return "month (a date in it)"
    if (sheet.name, f.name) in CHOICES:
        return "one of a list"
    if (sheet.name, f.name) in REAL_BOUNDS:
        low, high = REAL_BOUNDS[sheet.name, f.name]
        return f"number, {low}-{high}"
    return TYPE_LABELS[f.type]


def _md(text: str) -> str:
    return text.replace("|", "\\|")


# --- Data sheets ----------------------------------------------------------------------------------------


def _write_data_sheet(ws, sheet: Sheet, rows: Iterable[Sequence]) -> None:
    # Write-only sheets stream, so widths, formats and the frozen pane must be set before the first row.
    formats = {i: _number_format(f) for i, f in enumerate(sheet.fields)}
    for i, f in enumerate(sheet.fields):
        dim = ws.column_dimensions[get_column_letter(i + 1)]
        dim.width = max(len(f.name) + 3, 13)
        if formats[i]:
            dim.number_format = formats[i]  # so dates typed into new rows show as dates too
    ws.freeze_panes = "A2"
    ws.append([_cell(ws, f.name, font=BOLD, fill=REQUIRED_FILL if f.required else None) for f in sheet.fields])

    # One styled cell per date column, reused for every row rather than built per value: the writer
    # serialises each cell before the next is handed over, so reuse is safe.
    date_cells = {i: _cell(ws, None, number_format=fmt) for i, fmt in formats.items() if fmt}
    width = len(sheet.fields)
    last_row = 1
    for last_row, row in enumerate(rows, start=2):
        if len(row) > width:
            raise TemplateError(
                f'Row {last_row} of sheet "{sheet.name}" has {len(row)} values; the sheet has '
                f"{width} columns ({', '.join(f.name for f in sheet.fields)})."
            )
        out = list(row)
        for i, value in enumerate(out):
            if value is None:
                continue
            if isinstance(value, bool):
                out[i] = "Y" if value else "N"
            elif i in date_cells and isinstance(value, date):
                cell = date_cells[i]
                cell.value = _excel_serial(value)  # what openpyxl writes for a date, without its per-cell checks
                out[i] = cell
        ws.append(out)

    last = max(VALIDATION_ROWS, last_row + VALIDATION_MARGIN)
    for i, f in enumerate(sheet.fields):
        dv = _validation(sheet, f)
        if dv is not None:
            letter = get_column_letter(i + 1)
            dv.add(f"{letter}2:{letter}{last}")
            ws.data_validations.append(dv)  # written at save, after the rows, so the range can follow them


def _excel_serial(value: date) -> float:
    if type(value) is date and value.year > 1900:  # Excel's 1900 leap-year bug only shifts earlier dates
        return value.toordinal() - EXCEL_DAY_ZERO
    return to_excel(value)


def _number_format(f: Field) -> str | None:
    return {DATE: DATE_FORMAT, MONTH: MONTH_FORMAT}.get(f.type)


def _validation(sheet: Sheet, f: Field) -> DataValidation | None:
    """The Excel data validation for a column: a drop-down or a range check, with the help as its prompt."""
    first, last = to_excel(DATE_MIN), to_excel(DATE_MAX)
    shown = f"{DATE_MIN:%d/%m/%Y} and {DATE_MAX:%d/%m/%Y}"
    if f.type == PAYMENT_GROUP:
        rule = dict(type="list", formula1=_list_formula(payment_group_names()))
        error = f"Choose a payment group code {_code_range().replace('-', ' to ')} from the list."
    elif f.type == DATE:
        rule = dict(type="date", operator="between", formula1=f"{first:g}", formula2=f"{last:g}")
        error = f"Enter a date between {shown}, e.g. 15/03/2013."
    elif f.type == MONTH:
        rule = dict(type="date", operator="between", formula1=f"{first:g}", formula2=f"{last:g}")
        error = f"Enter a date in the month, between {shown}."
    elif f.type == INT:
        rule = dict(type="whole", operator="greaterThanOrEqual", formula1="0")
        error = "Enter a whole number, 0 or more (send true counts, not * or <5)."
    elif f.type == BOOL:
        rule = dict(type="list", formula1=_list_formula(("Y", "N")))
        error = "Enter Y or N."
    elif (sheet.name, f.name) in REAL_BOUNDS:
        low, high = REAL_BOUNDS[sheet.name, f.name]
        rule = dict(type="decimal", operator="between", formula1=str(low), formula2=str(high))
        error = f"Enter a number from {low} to {high}."
    elif (sheet.name, f.name) in CHOICES:
        choices = CHOICES[sheet.name, f.name]
        rule = dict(type="list", formula1=_list_formula(choices))
        error = f"Choose one of: {', '.join(choices)}."
    else:
        return None
    # Excel caps titles at 32 characters and messages at 255.
    return DataValidation(
        **rule,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorStyle="stop",
        errorTitle=f"Invalid {f.name}"[:32],
        error=f"{error} {f.help}"[:255],
        promptTitle=f.name[:32],
        prompt=f.help[:255],
    )


def _list_formula(items: Iterable[str]) -> str:
    return '"' + ",".join(items) + '"'


def _discard(wb: Workbook) -> None:
    """Close a write-only workbook that will not be saved and delete the temporary files its sheets stream to."""
    for ws in wb.worksheets:
        writer = ws._writer  # openpyxl keeps it private; without this each failed write leaves a temp file
        if writer is None:
            continue
        with suppress(Exception):
            ws.close()
        with suppress(OSError, ValueError):
            writer.cleanup()
