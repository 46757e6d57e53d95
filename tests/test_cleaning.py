"""Cell formats (issue 13, item 5): ISO 8601 datetimes, number and date locales, and ambiguous numbers.

A value that could mean two numbers (`1.204`: 1.204 or 1204) or that is only a number with a decimal comma
(`4,2`) is never read silently: without a declared number locale it is an error naming the cell and the fix;
with `number_locale` declared in the layout profile it is read that way.
"""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import fields as F
from loaders import cleaning
from loaders.cleaning import (
    AMBIGUOUS_NUMBER,
    BAD_DATE,
    BAD_NUMBER,
    DATE_ORDER,
    NOT_IN_LOCALE,
    NOT_WHOLE,
    parse_count,
    parse_date,
    parse_month,
    parse_real,
)
from loaders.errors import LayoutProfileError
from loaders.layouts import MappedSheet, column_letter
from loaders.validation import type_sheet

CODES = cleaning.PaymentGroupCodes([{"code": f"PG{i}", "name": f"group {i}"} for i in range(1, 10)])

# --- ISO 8601 datetimes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2013-04-01T15:29:56",
        "2013-04-01T15:29:56.123",
        "2013-04-01T15:29:56.123456",
        "2013-04-01T15:29:56Z",
        "2013-04-01T15:29:56.000Z",
        "2013-04-01T15:29:56+01:00",
        "2013-04-01T23:30:00-05:00",  # the date as the sender wrote it, not moved to UTC (which is 2 April)
        "2013-04-01T15:29",
        "2013-04-01 15:29:56",
        "2013-04-01 15:29:56.5",
        " 2013-04-01T15:29:56 ",
    ],
)
def test_iso_8601_datetimes_are_read_as_their_date(text):
    assert parse_date(text) == (date(2013, 4, 1), None)
    assert parse_month(text) == (date(2013, 4, 1), None)


@pytest.mark.parametrize("text", ["2013-04-01T25:00:00", "2013-02-30T10:00:00", "2013-04-01T", "2013-04-01X10:00"])
def test_broken_iso_datetimes_are_bad_dates(text):
    assert parse_date(text) == (None, BAD_DATE)


def test_uk_dates_are_still_day_first_by_default():
    assert parse_date("03/04/2013") == (date(2013, 4, 3), None)
    assert parse_date("03/04/2013 10:15") == (date(2013, 4, 3), None)


def test_a_declared_month_first_date_order_reads_us_dates():
    assert parse_date("04/13/2013", order="mdy") == (date(2013, 4, 13), None)
    assert parse_date("04/03/2013", order="mdy") == (date(2013, 4, 3), None)
    assert parse_date("04/03/2013 10:15", order="mdy") == (date(2013, 4, 3), None)
    assert parse_date("2013-04-01T15:29:56", order="mdy") == (date(2013, 4, 1), None)  # ISO whatever the order
    assert parse_date("13/04/2013", order="mdy") == (None, BAD_DATE)
    assert parse_month("04/13/2013", order="mdy") == (date(2013, 4, 1), None)


def test_a_month_first_date_without_a_declared_order_says_how_to_declare_it():
    assert parse_date("04/13/2013") == (None, DATE_ORDER)


# --- numbers -------------------------------------------------------------------------------------------------

# Unambiguous whatever the locale: read with no locale declared, as today.
CLEAR_COUNTS = [
    ("1204", 1204),
    ("12", 12),
    ("0", 0),
    ("-3", -3),
    ("12.0", 12),
    ("1,204", 1204),  # a count cannot be 1.204, so the comma can only separate thousands (UK files do this)
    ("1,234,567", 1234567),
    ("1,234.0", 1234),
    ("1 204", 1204),
    ("1\u00a0204", 1204),
    (" 42 ", 42),
]


@pytest.mark.parametrize("text,number", CLEAR_COUNTS)
def test_unambiguous_counts_are_read_without_a_locale(text, number):
    assert parse_count(text) == (number, None)


@pytest.mark.parametrize(
    "text,number",
    [("4.25", 4.25), ("3.8", 3.8), ("0.125", 0.125), (".5", 0.5), ("1,234.5", 1234.5), ("12", 12.0), ("1e3", 1000.0)],
)
def test_unambiguous_decimals_are_read_without_a_locale(text, number):
    assert parse_real(text) == (number, None)


# Ambiguous without a locale: a dot followed by exactly three digits (1.204 or 1204?), a comma decimal (4,2 is
# 4.2, or 42 misread), dots between thousands, and in a decimal column a comma before three digits.
@pytest.mark.parametrize("text", ["1.204", "12.500", "1.000", "-1.204", "1.234.567", "1.234,5", "4,2", "12,50"])
def test_ambiguous_counts_are_errors_without_a_locale(text):
    assert parse_count(text) == (None, AMBIGUOUS_NUMBER)


@pytest.mark.parametrize("text", ["1.204", "4,2", "4,25", "1,204", "1.234,5", "1.234.567", "0,5"])
def test_ambiguous_decimals_are_errors_without_a_locale(text):
    assert parse_real(text) == (None, AMBIGUOUS_NUMBER)


@pytest.mark.parametrize(
    "text,count,real",
    [
        ("1.204", 1204, 1204.0),
        ("1.234.567", 1234567, 1234567.0),
        ("4,2", None, 4.2),
        ("1,204", None, 1.204),
        ("1.234,5", None, 1234.5),
        ("1 204,5", None, 1204.5),
        ("12", 12, 12.0),
        ("0,125", None, 0.125),
    ],
)
def test_a_decimal_comma_locale_reads_dots_as_thousands_and_commas_as_decimals(text, count, real):
    assert parse_count(text, locale="de") == ((count, None) if count is not None else (None, NOT_WHOLE))
    assert parse_real(text, locale="de") == (real, None)


@pytest.mark.parametrize(
    "text,count,real",
    [("1.204", None, 1.204), ("1,204", 1204, 1204.0), ("4.25", None, 4.25), ("1,234,567", 1234567, 1234567.0)],
)
def test_a_decimal_point_locale_reads_commas_as_thousands(text, count, real):
    assert parse_count(text, locale="en") == ((count, None) if count is not None else (None, NOT_WHOLE))
    assert parse_real(text, locale="en") == (real, None)


@pytest.mark.parametrize("text,locale", [("4,2", "en"), ("1.234,5", "en"), ("4.25", "de"), ("1,234.5", "de")])
def test_a_value_written_in_the_other_locale_is_an_error_not_a_guess(text, locale):
    assert parse_real(text, locale=locale) == (None, NOT_IN_LOCALE)


@pytest.mark.parametrize("text", ["4 2", "1,2,3", "1..2", "12,", "٣", "1_000", "nan", "inf", "1e400", "lots"])
def test_things_that_are_not_numbers_stay_bad_numbers(text):
    assert parse_count(text)[1] in (BAD_NUMBER, NOT_WHOLE)
    assert parse_real(text) == (None, BAD_NUMBER)


def test_number_cells_are_never_ambiguous():
    """A cell the spreadsheet stores as a number has no separators to misread."""
    assert parse_count(1204.0) == (1204, None)
    assert parse_real(1.204) == (1.204, None)
    assert parse_real(4.2, locale="de") == (4.2, None)


# --- through type_sheet: the error names the cell and the fix -----------------------------------------------


def _mapped(target: str, rows: list[list], **extra) -> MappedSheet:
    names = [f.name for f in F.SHEETS_BY_NAME[target].fields]
    mapped = MappedSheet(
        target=target,
        sheet="Return",
        header_row=1,
        columns={n: n.replace("_", " ").title() for n in names},
        column_letters={n: column_letter(i) for i, n in enumerate(names)},
        raw={n: [row[i] if i < len(row) else None for row in rows] for i, n in enumerate(names)},
        source_rows=list(range(2, len(rows) + 2)),
    )
    for key, value in extra.items():
        setattr(mapped, key, value)
    return mapped


MONTHLY_ROWS = [["2013-01", "PG1", "1.204", "12", "3", "1"], ["2013-02", "PG1", "1,204", "4,2", "3", "1"]]


def test_ambiguous_counts_are_errors_naming_file_sheet_row_column_and_the_fix():
    typed = type_sheet(_mapped("Monthly", MONTHLY_ROWS), "return.csv", CODES)
    errors = [(p.code, p.severity, p.file, p.sheet, p.row, p.column, p.value) for p in typed.problems]
    assert errors == [
        (AMBIGUOUS_NUMBER, "error", "return.csv", "Return", 2, "Referrals", "1.204"),
        (AMBIGUOUS_NUMBER, "error", "return.csv", "Return", 3, "Attachments", "4,2"),
    ]
    first, second = (p.message for p in typed.problems)
    assert first == (
        "'1.204' is ambiguous: it could be 1.204 (a decimal point) or 1204 (a dot between thousands). Declare the "
        'number format in the layout profile (number_locale = "en" for 1,204.5, or "de" for 1.204,5), or format '
        "the column as numbers in the spreadsheet, and send the file again."
    )
    assert second.startswith("'4,2' is ambiguous: it could be 4.2 (a decimal comma), and is not a number with a ")
    assert typed.columns["referrals"] == [None, 1204]


def test_a_declared_locale_reads_the_same_cells_without_errors():
    rows = [["2013-01", "PG1", "1.204", "12", "3", "1"], ["2013-02", "PG1", "2.050.000", "4", "3", "1"]]
    typed = type_sheet(_mapped("Monthly", rows), "return.csv", CODES, number_locale="de")
    assert typed.problems == []
    assert typed.columns["referrals"] == [1204, 2050000]


def test_the_locale_can_come_with_the_mapped_sheet():
    """The layout profile's number_locale and date_order travel on the MappedSheet to type_sheet."""
    rows = [["2013-01", "PG1", "1.204", "12", "3", "1"]]
    typed = type_sheet(_mapped("Monthly", rows, number_locale="de"), "return.csv", CODES)
    assert (typed.problems, typed.columns["referrals"]) == ([], [1204])
    participants = _mapped("Participants", [["P1", "PG1", "04/13/2013"]], date_order="mdy")
    assert type_sheet(participants, "f.csv", CODES).columns["referral_date"] == [date(2013, 4, 13)]


def test_a_value_in_the_wrong_locale_names_the_declared_locale():
    rows = [["2013-01", "PG1", "1,234.0", "12", "3", "1"]]
    typed = type_sheet(_mapped("Monthly", rows), "return.csv", CODES, number_locale="de")
    [problem] = typed.problems
    assert (problem.code, problem.row, problem.column) == (NOT_IN_LOCALE, 2, "Referrals")
    assert problem.message == (
        "'1,234.0' is not a number as the layout profile's number_locale \"de\" writes them (1.204,5: a dot "
        "between thousands, a decimal comma). Correct the value, or the profile's number_locale."
    )


def test_a_decimal_comma_score_is_an_error_not_forty_two():
    rows = [["2013-01", "3", "1", "20", "4,2"]]
    typed = type_sheet(_mapped("Feedback", rows), "feedback.csv", CODES)
    assert [(p.code, p.column, p.value) for p in typed.problems] == [(AMBIGUOUS_NUMBER, "Satisfaction Mean", "4,2")]
    assert typed.columns["satisfaction_mean"] == [None]
    assert type_sheet(_mapped("Feedback", rows), "f.csv", CODES, number_locale="de").columns["satisfaction_mean"] == [
        4.2
    ]


def test_iso_datetimes_type_as_dates_in_a_participant_sheet():
    rows = [["P1", "PG1", "2013-01-05T09:30:00Z", None, "2013-02-01 15:29:56"]]
    typed = type_sheet(_mapped("Participants", rows), "cms.csv", CODES)
    names = [f.name for f in F.PARTICIPANTS.fields]
    assert typed.problems == []
    assert typed.columns[names[2]] == [date(2013, 1, 5)]
    assert typed.columns[names[4]] == [date(2013, 2, 1)]


def test_a_month_first_date_names_the_date_order_fix():
    typed = type_sheet(_mapped("Participants", [["P1", "PG1", "04/13/2013"]]), "cms.csv", CODES)
    [problem] = typed.problems
    assert (problem.code, problem.row, problem.value) == (DATE_ORDER, 2, "04/13/2013")
    assert problem.message == (
        "'04/13/2013' is not a date day first (it would be 13/04/2013 month first). If the file writes dates "
        'month first, declare date_order = "mdy" in its layout profile; otherwise correct the date.'
    )


@pytest.mark.parametrize(
    "options,message",
    [
        (
            {"number_locale": "fr"},
            "Sheet 'Return': number_locale 'fr' is not one wpmi reads: use \"en\" (1,204.5: a comma between thousands, "
            'a decimal point) or "de" (1.204,5: a dot between thousands, a decimal comma).',
        ),
        (
            {"date_order": "ymd"},
            "Sheet 'Return': date_order 'ymd' is not one wpmi reads: use \"dmy\" (03/04/2013 is 3 April) or \"mdy\" "
            "(4 March).",
        ),
    ],
)
def test_an_unknown_locale_or_date_order_is_refused_not_guessed(options, message):
    with pytest.raises(LayoutProfileError) as raised:
        type_sheet(_mapped("Monthly", MONTHLY_ROWS), "return.csv", CODES, **options)
    assert str(raised.value) == message
    assert cleaning.cell_format_problem("de", "mdy") is None
