"""Turn raw cell values into typed values: dates, months, counts, flags and payment-group codes.

Each parser takes one raw value and returns (value, problem_code) where problem_code is None when the cell
was clean. Parsers never raise on bad input: the mapper turns codes into report lines. Results for repeated
strings are cached, since MI columns repeat the same few hundred dates and labels.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from dashboard.fields import EMPTY_MARKERS, SUPPRESSION_MARKERS

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's serial day 0 (after its 1900 leap-year bug)
SERIAL_RANGE = (20_000, 80_000)  # 1954..2119: numbers outside are not plausible dates
UK_DATE_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y", "%b-%y", "%b-%Y", "%B-%y", "%m/%Y", "%Y/%m", "%b %y", "%B %y")
TRUE_WORDS = frozenset({"y", "yes", "true", "1", "t", "offered"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "f", "not offered"})
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.0+)?$")

# Problem codes the parsers return.
BAD_DATE, BAD_NUMBER, BAD_BOOL, SUPPRESSED, NOT_WHOLE = "bad_date", "bad_number", "bad_bool", "suppressed", "not_whole"
SPREADSHEET_ERROR = "spreadsheet_error"
# What a cell shows when its formula failed; the reader puts these back where calamine leaves a blank.
EXCEL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)


def is_spreadsheet_error(value) -> bool:
    return isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS


def refuses_errors(parse):
    """Wrap a parser so a formula error value is reported as such, whatever the column's type."""

    def parser(value):
        if is_spreadsheet_error(value):
            return None, SPREADSHEET_ERROR
        return parse(value)

    parser.__name__, parser.__doc__ = parse.__name__, parse.__doc__
    return parser


def is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in EMPTY_MARKERS


def is_suppressed(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in SUPPRESSION_MARKERS


@lru_cache(maxsize=65_536)
def _parse_date_text(text: str) -> date | None:
    for fmt in UK_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@refuses_errors
def parse_date(value):
    """A date from a date/datetime, an Excel serial number, or a UK/ISO date string."""
    if is_blank(value) or is_suppressed(value):
        return None, None
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, bool):
        return None, BAD_DATE
    if isinstance(value, (int, float)):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return EXCEL_EPOCH + timedelta(days=int(value)), None
        return None, BAD_DATE
    text = str(value).strip()
    if text.isascii() and text.replace(".", "", 1).isdigit():  # '²' is a digit to isdigit(), not to float()
        return parse_date(float(text))
    parsed = _parse_date_text(text)
    return (parsed, None) if parsed else (None, BAD_DATE)


@lru_cache(maxsize=4096)
def _parse_month_text(text: str) -> date | None:
    for fmt in MONTH_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    parsed = _parse_date_text(text)
    return parsed.replace(day=1) if parsed else None


@refuses_errors
def parse_month(value):
    """The first day of the month a cell names ('2013-03', 'Mar 2013', 'Mar-13', or any date in it)."""
    if is_blank(value) or is_suppressed(value):
        return None, None
    if isinstance(value, (date, datetime)) or isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed, problem = parse_date(value)
        return (parsed.replace(day=1) if parsed else None), problem
    parsed = _parse_month_text(str(value).strip())
    return (parsed, None) if parsed else (None, BAD_DATE)


@refuses_errors
def parse_count(value):
    """A whole number; '1,234' and '12.0' are accepted; '*', '<5' and '-' mean suppressed (unknown)."""
    if is_suppressed(value):
        return None, SUPPRESSED
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, BAD_NUMBER
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        return (int(value), None) if value.is_integer() else (None, NOT_WHOLE)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None, BAD_NUMBER
    if math.isnan(number) or math.isinf(number):
        return None, BAD_NUMBER
    return (int(number), None) if number.is_integer() else (None, NOT_WHOLE)


@refuses_errors
def parse_real(value):
    """A decimal number ('3.8', '4,1' is not accepted: use a point)."""
    if is_blank(value) or is_suppressed(value):
        return None, None
    if isinstance(value, bool):
        return None, BAD_NUMBER
    if isinstance(value, (int, float)):
        return float(value), None
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        return None, BAD_NUMBER
    return (number, None) if math.isfinite(number) else (None, BAD_NUMBER)


@refuses_errors
def parse_bool(value):
    """Y/N, Yes/No, True/False, 1/0."""
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return value, None
    text = str(value).strip().lower()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if text in TRUE_WORDS:
        return True, None
    if text in FALSE_WORDS:
        return False, None
    return None, BAD_BOOL


@refuses_errors
def parse_text(value):
    """Text, trimmed; whole numbers that a spreadsheet turned into floats lose their '.0'."""
    if is_blank(value):
        return None, None
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    if isinstance(value, (date, datetime)):
        return value.isoformat(), None
    return str(value).strip(), None


_NON_WORD = re.compile(r"[^a-z0-9+]+")


@lru_cache(maxsize=65_536)
def _normalise(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def normalise_label(text) -> str:
    """Lower case, punctuation to single spaces: how headers and codes are compared."""
    return _normalise(text if isinstance(text, str) else str(text))


class PaymentGroupCodes:
    """Recognises payment groups written as codes (PG1, PG 1, pg01) or names (JSA 18-24)."""

    def __init__(self, groups: list[dict], extra: dict[str, str] | None = None):
        self.codes = [g["code"] for g in groups]
        self._lookup: dict[str, str] = {}
        for g in groups:
            number = g["code"][2:]
            for label in (
                g["code"],
                f"PG {number}",
                f"PG0{number}",
                f"payment group {number}",
                g.get("name"),
                g.get("short_name"),
            ):
                if label:
                    self._lookup[normalise_label(label)] = g["code"]
        for label, code in (extra or {}).items():
            self._lookup[normalise_label(label)] = code

    def parse(self, value):
        if is_spreadsheet_error(value):
            return None, SPREADSHEET_ERROR
        if is_blank(value):
            return None, None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            value = f"PG{value}"
        code = self._lookup.get(normalise_label(value))
        return (code, None) if code else (None, "bad_payment_group")
