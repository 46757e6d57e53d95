"""Type and validate mapped sheets: one Problem per bad cell, with a plain note on how to fix it.

Errors reject the whole file; warnings let the row land with its flag recorded; notes are for information.
Every message names the problem and the fix, and the report adds file, sheet, row, column and value.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

import numpy as np

from dashboard import fields as F
from loaders.cleaning import (
    AMBIGUOUS_NUMBER,
    BAD_BOOL,
    BAD_DATE,
    BAD_NUMBER,
    DATE_ORDER,
    DE,
    EN,
    MDY,
    NOT_IN_LOCALE,
    NOT_WHOLE,
    NUMBER_LOCALES,
    SPREADSHEET_ERROR,
    SUPPRESSED,
    PaymentGroupCodes,
    cell_format_problem,
    parse_bool,
    parse_count,
    parse_date,
    parse_month,
    parse_real,
    parse_text,
    read_number_text,
)
from loaders.errors import ERROR, NOTE, WARNING, LayoutProfileError, Problem
from loaders.layouts import MappedSheet

PROGRAMME_START = date(2011, 6, 1)
JOURNEY_ORDER = ("referral_date", "attachment_date", "job_start_date", "job_outcome_date")
AFTER_REFERRAL = (
    "first_contact_date",
    "initial_assessment_date",
    "action_plan_date",
    "exit_date",
    "exit_report_requested_date",
)
MAX_REF_LENGTH = 64
PARSERS = {
    F.DATE: parse_date,
    F.MONTH: parse_month,
    F.INT: parse_count,
    F.REAL: parse_real,
    F.BOOL: parse_bool,
    F.TEXT: parse_text,
}
# Which parser option each field type takes from the sheet's declared formats (layout profile keys).
LOCALE_OPTIONS = {F.INT: "number_locale", F.REAL: "number_locale", F.DATE: "date_order", F.MONTH: "date_order"}
PARSER_OPTION = {"number_locale": "locale", "date_order": "order"}
# Cell types that need no parsing for a field type (calamine returns dates as date/datetime objects).
FAST_TYPES = {F.DATE: (date, datetime)}
MESSAGES = {
    BAD_DATE: "{value!r} is not a date. Enter a date such as 03/04/2013.",
    BAD_NUMBER: "{value!r} is not a number. Enter a count such as 12.",
    NOT_WHOLE: "{value!r} is not a whole number. Counts cannot have decimals.",
    BAD_BOOL: "{value!r} is not Y or N. Enter Y if in-work support was offered, else N.",
    "bad_payment_group": "{value!r} is not a payment group. Use PG1 to PG9 (or a name such as 'JSA 18-24').",
    SPREADSHEET_ERROR: "{value!r} is a spreadsheet error: the formula in this cell failed. Correct the formula (or "
    "type the value), save, and send the file again.",
    SUPPRESSED: "{value!r} is a suppression marker, so the count is stored as unknown. Send true counts: "
    "wpmi suppresses small numbers itself when it publishes.",
}
LOCALE_FIX = (
    ' Declare the number format in the layout profile (number_locale = "en" for 1,204.5, or "de" for 1.204,5), '
    "or format the column as numbers in the spreadsheet, and send the file again."
)


def _show(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


def _readings(raw) -> str:
    """How an AMBIGUOUS_NUMBER cell reads each way: "could be 1.204 (a decimal point) or 1204 (a dot ...)"."""
    text = str(raw).strip()
    point, _ = read_number_text(text, EN)
    comma, _ = read_number_text(text, DE)
    if comma is None:  # every value ambiguous without a locale reads with a decimal comma; kept total
        return "does not read the same in every number format"
    dots = "dots" if text.count(".") > 1 else "a dot"
    if "," in text:
        comma_kind = f"{dots} between thousands and a decimal comma" if "." in text else "a decimal comma"
    else:
        comma_kind = f"{dots} between thousands"
    if point is None:
        return f"could be {_show(comma)} ({comma_kind}), and is not a number with a decimal point"
    point_kind = "a comma between thousands" if "," in text else "a decimal point"
    return f"could be {_show(point)} ({point_kind}) or {_show(comma)} ({comma_kind})"


def problem_message(code: str, raw, options: dict | None = None) -> str:
    """The plain message for a parser's problem code on one cell (options: the sheet's declared formats)."""
    if code == AMBIGUOUS_NUMBER:
        return f"{str(raw)!r} is ambiguous: it {_readings(raw)}.{LOCALE_FIX}"
    if code == NOT_IN_LOCALE:
        locale = (options or {}).get("number_locale")
        return (
            f'{str(raw)!r} is not a number as the layout profile\'s number_locale "{locale}" writes them '
            f"({NUMBER_LOCALES.get(locale or '', '')}). Correct the value, or the profile's number_locale."
        )
    if code == DATE_ORDER:
        day = parse_date(raw, order=MDY)[0]
        return (
            f"{str(raw)!r} is not a date day first (it would be {day:%d/%m/%Y} month first). If the file writes "
            'dates month first, declare date_order = "mdy" in its layout profile; otherwise correct the date.'
        )
    return MESSAGES[code].format(value=raw)


def sheet_options(mapped: MappedSheet, number_locale: str | None = None, date_order: str | None = None) -> dict:
    """The cell formats a sheet declares: arguments win, then attributes its layout profile put on the mapping.

    A value wpmi does not read is a LayoutProfileError (the file is rejected naming the key), never a guess."""
    options = {
        "number_locale": number_locale or getattr(mapped, "number_locale", None),
        "date_order": date_order or getattr(mapped, "date_order", None),
    }
    problem = cell_format_problem(options["number_locale"], options["date_order"])
    if problem:
        raise LayoutProfileError(f"Sheet {mapped.sheet!r}: {problem}")
    return options


def _parser(kind: str, pg_codes: PaymentGroupCodes, options: dict):
    """The parser for a field type, bound to the sheet's declared number locale or date order if it has one."""
    if kind == F.PAYMENT_GROUP:
        return pg_codes.parse
    parse = PARSERS[kind]
    option = LOCALE_OPTIONS.get(kind)
    if option and options.get(option):
        return partial(parse, **{PARSER_OPTION[option]: options[option]})
    return parse


@dataclass
class TypedSheet:
    """A mapped sheet with typed values by column, row flags and the problems found.

    `columns` is what gets written. `row(i)` gives one row as a dict, for the row rules that explain a
    problem; `rows` builds them all (small sheets only: a clean participant sheet never needs them). `flags`
    holds the warning codes of the rows that have any, by row index.
    """

    target: str
    sheet: str
    columns: dict[str, list]
    source_rows: list[int]
    flags: dict[int, set] = field(default_factory=lambda: defaultdict(set))
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.flags, defaultdict):
            self.flags = defaultdict(set, self.flags)

    def __len__(self) -> int:
        return len(self.source_rows)

    def row(self, i: int) -> dict:
        return {name: values[i] for name, values in self.columns.items()}

    @property
    def rows(self) -> list[dict]:
        return [self.row(i) for i in range(len(self))]


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _cell(mapped: MappedSheet, index: int, fname: str) -> tuple[int, str]:
    """Spreadsheet row and column letter of one record's field."""
    if (index, fname) in mapped.cells:
        return mapped.cells[(index, fname)]
    return mapped.source_rows[index], mapped.column_letters.get(fname, fname)


def _parse_column(values: list, parse, fast: tuple, required: bool) -> tuple[list, dict, dict]:
    """Parse one column: the key of each cell, and for each distinct key its typed value and (if any) problem code.

    Each distinct value is parsed once, because a file repeats the same dates and codes thousands of times.
    Cells are keyed by their value, or by (type, value) when the column mixes numbers and booleans (1, 1.0 and
    True are equal dict keys but not the same cell). Values and codes are kept in two dicts rather than one of
    (value, code) pairs: a column of unique references would otherwise leave thousands of live tuples for the
    cycle collector to walk.
    """
    typed_keys = len(set(map(type, values)) & _NUMBERS) > 1
    keys = [(v.__class__, v) for v in values] if typed_keys else values
    typed: dict = {}
    codes: dict = {}
    for key in set(keys):
        raw = key[1] if typed_keys else key
        kind = raw.__class__
        if kind in fast:  # a real date cell: no parser call
            typed[key] = raw.date() if kind is datetime else raw
        elif raw == "" and not required:
            typed[key] = None
        else:
            typed[key], code = parse(raw)
            if code:
                codes[key] = code
    return keys, typed, codes


_NUMBERS = frozenset({bool, int, float})


def type_sheet(
    mapped: MappedSheet,
    file: str,
    pg_codes: PaymentGroupCodes,
    *,
    number_locale: str | None = None,
    date_order: str | None = None,
) -> TypedSheet:
    """Parse every mapped cell into its field's type, reporting cells that do not parse (a column at a time).

    number_locale ("en", "de") and date_order ("dmy", "mdy") are the formats the layout profile declares; when
    not passed they are taken from the mapped sheet's attributes of those names, if its profile set them."""
    options = sheet_options(mapped, number_locale, date_order)
    spec = F.SHEETS_BY_NAME[mapped.target]
    n = len(mapped.source_rows)
    columns: dict[str, list] = {}
    flags: defaultdict[int, set] = defaultdict(set)
    problems: list[Problem] = []
    for f in spec.fields:
        values = mapped.raw.get(f.name)
        if values is None:
            columns[f.name] = [None] * n
            continue
        parse = _parser(f.type, pg_codes, options)
        keys, typed, codes = _parse_column(values, parse, FAST_TYPES.get(f.type, ()), f.required)
        columns[f.name] = list(map(typed.__getitem__, keys))
        bad = set(codes) | ({key for key, value in typed.items() if value is None} if f.required else set())
        if not bad:
            continue
        for i, (key, raw) in enumerate(zip(keys, values)):  # in row order, only for columns with a bad cell
            if key not in bad:
                continue
            code = codes.get(key)
            r, col = _cell(mapped, i, f.name)
            if code:
                severity = WARNING if code == SUPPRESSED else ERROR
                problems.append(
                    Problem(
                        code,
                        severity,
                        problem_message(code, raw, options),
                        file,
                        mapped.sheet,
                        r,
                        mapped.columns.get(f.name, col),
                        str(raw),
                    )
                )
                flags[i].add(code)
            else:
                problems.append(
                    Problem(
                        "missing_value",
                        ERROR,
                        f"{f.name} is required but empty. Fill it in or remove the row.",
                        file,
                        mapped.sheet,
                        r,
                        mapped.columns.get(f.name, col),
                        "",
                    )
                )
    return TypedSheet(mapped.target, mapped.sheet, columns, list(mapped.source_rows), flags, problems)


def _problem(sheet: TypedSheet, file: str, i: int, code: str, severity: str, column: str, value, message: str):
    sheet.problems.append(
        Problem(
            code,
            severity,
            message,
            file,
            sheet.sheet,
            sheet.source_rows[i],
            column,
            "" if value is None else str(value),
        )
    )
    if severity == WARNING:
        sheet.flags[i].add(code)


def _present(values: list) -> list:
    return [v for v in values if v is not None]


def _days(values: list) -> np.ndarray:
    """Dates as day numbers (None -> NaN, which compares False), so a whole column is compared at once.

    Through a dict of the distinct dates: ten times faster than numpy converting date objects itself."""
    ordinals = {d: float(d.toordinal()) for d in set(values) if d is not None}
    return np.array([ordinals.get(d, np.nan) for d in values])


# The row rules below screen whole columns first (C-speed min/max or numpy comparisons) and then explain only
# the rows the screen picks out, in row order, with the same per-row logic: a clean file of tens of thousands
# of rows costs a few column passes, and the messages are exactly what a row-by-row check would give.


def check_dates_in_range(sheet: TypedSheet, file: str, period_end: date) -> None:
    """No date before the programme began, none after the end of the reporting period."""
    spec = F.SHEETS_BY_NAME[sheet.target]
    date_fields = [f.name for f in spec.fields if f.type in (F.DATE, F.MONTH)]
    suspect: set[int] = set()
    for name in date_fields:
        high = None if sheet.target == "Projections" and name == "month" else period_end
        present = _present(sheet.columns[name])
        if present and (min(present) < PROGRAMME_START or high is not None and max(present) > high):
            suspect.update(
                i
                for i, d in enumerate(sheet.columns[name])
                if d is not None and (d < PROGRAMME_START or high is not None and d > high)
            )
    for i in sorted(suspect):
        row = sheet.row(i)
        for name in date_fields:
            d = row.get(name)
            if d is None:
                continue
            if d < PROGRAMME_START:
                _problem(
                    sheet,
                    file,
                    i,
                    "date_before_programme",
                    ERROR,
                    name,
                    d.isoformat(),
                    f"{d:%d/%m/%Y} is before the Work Programme began (01/06/2011). Check the year.",
                )
            elif d > period_end and not (sheet.target == "Projections" and name == "month"):
                _problem(
                    sheet,
                    file,
                    i,
                    "date_after_period",
                    ERROR,
                    name,
                    d.isoformat(),
                    f"{d:%d/%m/%Y} is after the end of the reporting period ({period_end:%d/%m/%Y}). "
                    "Dates cannot be later than the return they are in.",
                )


def _journey_suspects(sheet: TypedSheet) -> np.ndarray:
    """Rows where some pair of journey dates is out of order (a superset of the rows check_journeys reports)."""
    suspect = np.zeros(len(sheet.source_rows), dtype=bool)
    order = [_days(sheet.columns[name]) for name in JOURNEY_ORDER]
    for a, earlier in enumerate(order):
        for later in order[a + 1 :]:
            suspect |= later < earlier
    for name in AFTER_REFERRAL:
        suspect |= _days(sheet.columns[name]) < order[0]
    suspect |= _days(sheet.columns["exit_report_sent_date"]) < _days(sheet.columns["exit_report_requested_date"])
    return np.flatnonzero(suspect)


def check_journeys(sheet: TypedSheet, file: str) -> None:
    """Referral <= attachment <= job start <= job outcome, and nothing before the referral."""
    for i in _journey_suspects(sheet).tolist():
        row = sheet.row(i)
        previous = None
        for name in JOURNEY_ORDER:
            d = row.get(name)
            if d is None:
                continue
            if previous and d < row[previous]:
                _problem(
                    sheet,
                    file,
                    i,
                    "journey_order",
                    WARNING,
                    name,
                    d.isoformat(),
                    f"{name} ({d:%d/%m/%Y}) is before {previous} ({row[previous]:%d/%m/%Y}). "
                    "Check both dates; the row is kept but flagged.",
                )
            previous = name
        referral = row.get("referral_date")
        for name in AFTER_REFERRAL:
            d = row.get(name)
            if referral and d and d < referral:
                _problem(
                    sheet,
                    file,
                    i,
                    "journey_order",
                    WARNING,
                    name,
                    d.isoformat(),
                    f"{name} ({d:%d/%m/%Y}) is before referral_date ({referral:%d/%m/%Y}). "
                    "Check both dates; the row is kept but flagged.",
                )
        sent, requested = row.get("exit_report_sent_date"), row.get("exit_report_requested_date")
        if sent and requested and sent < requested:
            _problem(
                sheet,
                file,
                i,
                "journey_order",
                WARNING,
                "exit_report_sent_date",
                sent.isoformat(),
                f"exit_report_sent_date ({sent:%d/%m/%Y}) is before exit_report_requested_date "
                f"({requested:%d/%m/%Y}). Check both dates; the row is kept but flagged.",
            )


def check_duplicates(sheet: TypedSheet, file: str) -> None:
    """One row per key (participant_ref for Participants; month and group for returns)."""
    key = F.SHEETS_BY_NAME[sheet.target].key
    if not key or sheet.target == "Contacts":
        return
    keys = [k for k in zip(*(sheet.columns[name] for name in key)) if None not in k]
    if len(set(keys)) == len(keys):
        return
    seen: dict[tuple, int] = {}
    for i, row in enumerate(sheet.rows):
        k = tuple(row.get(name) for name in key)
        if any(v is None for v in k):
            continue
        if k in seen:
            shown = ", ".join(f"{name} {row.get(name)!s}" for name in key)
            _problem(
                sheet,
                file,
                i,
                "duplicate",
                ERROR,
                key[0],
                str(k[0]),
                f"{shown} appears more than once in this sheet (first at row {seen[k]}). Send one row for each.",
            )
        else:
            seen[k] = sheet.source_rows[i]


def _count_suspects(sheet: TypedSheet, count_fields: list[str]) -> range | list[int]:
    """All rows if any column could break a count rule, else none (screened a column at a time)."""
    columns = sheet.columns
    negative = any(min(_present(columns[name]), default=0) < 0 for name in count_fields)
    scores = _present(columns.get("satisfaction_mean", []))
    refs = _present(columns.get("participant_ref", []))
    if (
        negative
        or "complaints_received" in columns
        or (scores and (min(scores) < 1 or max(scores) > 5))
        or max(map(len, refs), default=0) > MAX_REF_LENGTH
    ):
        return range(len(sheet.source_rows))
    return []


def check_counts(sheet: TypedSheet, file: str) -> None:
    """Counts are not negative; satisfaction is 1-5; parts do not exceed their whole."""
    spec = F.SHEETS_BY_NAME[sheet.target]
    count_fields = [f.name for f in spec.fields if f.type == F.INT]
    for i in _count_suspects(sheet, count_fields):
        row = sheet.row(i)
        for name in count_fields:
            v = row.get(name)
            if v is not None and v < 0:
                _problem(
                    sheet, file, i, "negative_count", ERROR, name, v, f"{v} is negative. Counts cannot be below zero."
                )
        score = row.get("satisfaction_mean")
        if score is not None and not 1 <= score <= 5:
            _problem(
                sheet,
                file,
                i,
                "out_of_range",
                ERROR,
                "satisfaction_mean",
                score,
                f"{score} is outside the 1-5 satisfaction scale. Send the mean score from 1 to 5.",
            )
        received, resolved = row.get("complaints_received"), row.get("complaints_resolved_in_time")
        if received is not None and resolved is not None and resolved > received:
            _problem(
                sheet,
                file,
                i,
                "total_mismatch",
                ERROR,
                "complaints_resolved_in_time",
                resolved,
                f"complaints_resolved_in_time ({resolved}) is more than complaints_received ({received}). "
                "Resolved complaints are part of those received.",
            )
        if row.get("participant_ref") and len(row["participant_ref"]) > MAX_REF_LENGTH:
            _problem(
                sheet,
                file,
                i,
                "bad_reference",
                ERROR,
                "participant_ref",
                row["participant_ref"][:20] + "...",
                f"participant_ref is longer than {MAX_REF_LENGTH} characters. Use your short case reference.",
            )


def check_totals(mapped: MappedSheet, typed: TypedSheet, file: str, pg_codes: PaymentGroupCodes) -> None:
    """Stated totals (a Total row per month, a Total column per row) equal the sum of their parts."""
    if not mapped.totals:
        return
    by_month: dict[tuple, list] = {}
    by_group: dict[tuple, list] = {}
    for row in typed.rows:
        for measure in (k for k in row if k not in ("month", "payment_group")):
            by_month.setdefault((measure, row["month"]), []).append(row[measure])
            by_group.setdefault((measure, row["payment_group"]), []).append(row[measure])
    count = _parser(F.INT, pg_codes, sheet_options(mapped))
    for t in mapped.totals:
        stated, code = count(t["value"])
        if stated is None or code:
            continue
        if t["kind"] == "column":
            parts = by_month.get((t["measure"], t["month"]), [])
            where = f"{t['measure']} in {t['month']:%b %Y}"
        else:
            group, _ = pg_codes.parse(t["group"])
            parts = by_group.get((t["measure"], group), [])
            where = f"{t['measure']} for {t['group']}"
        if not parts or any(p is None for p in parts):
            continue  # a suppressed or bad part: the sum cannot be checked (already reported)
        if sum(parts) != stated:
            typed.problems.append(
                Problem(
                    "total_mismatch",
                    ERROR,
                    f"The stated total for {where} is {stated:,} but the parts add up to {sum(parts):,}. "
                    "Correct the parts or the total.",
                    file,
                    mapped.sheet,
                    t["row"],
                    t["column"],
                    str(t["value"]),
                )
            )


def sheet_notes(mapped: MappedSheet, file: str) -> list[Problem]:
    """Notes on what was ignored: unused columns and skipped rows."""
    notes = [
        Problem(
            "unused_column",
            NOTE,
            f"Column {name!r} is not used by wpmi and was ignored.",
            file,
            mapped.sheet,
            mapped.header_row,
            name,
            "",
        )
        for name in mapped.unused_columns
    ]
    for row, why in mapped.skipped_rows:
        severity = WARNING if why == "repeated header row" else NOTE
        notes.append(Problem("skipped_row", severity, f"Row skipped: {why}.", file, mapped.sheet, row, "", ""))
    return notes


def check_sheet(
    mapped: MappedSheet, typed: TypedSheet, file: str, pg_codes: PaymentGroupCodes, period_end: date
) -> None:
    """Run every rule that applies to a typed sheet (its problems list grows)."""
    check_dates_in_range(typed, file, period_end)
    if typed.target == "Participants":
        check_journeys(typed, file)
    check_duplicates(typed, file)
    check_counts(typed, file)
    check_totals(mapped, typed, file, pg_codes)
    typed.problems.extend(sheet_notes(mapped, file))
