"""Turn raw cell values into typed values: dates, months, counts, flags and payment-group codes.

Each parser takes one raw value and returns (value, problem_code) where problem_code is None when the cell
was clean. Number and date parsers also take the formats a layout profile declares (`locale` "en"/"de" for
numbers written as text, `order` "dmy"/"mdy" for dates); without them a number that reads two ways is an
error, never a guess (see read_number_text). Parsers never raise on bad input: the mapper turns codes into
report lines. Results for repeated strings are cached, since MI columns repeat the same few hundred dates and
labels.
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
# Month first (date_order = "mdy" in a layout profile, for US-style exports). Only the numeric forms change
# meaning; ISO dates and dates with a month name read the same in either order.
US_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%m.%d.%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)
DMY, MDY = "dmy", "mdy"
DATE_ORDERS = {DMY: UK_DATE_FORMATS, MDY: US_DATE_FORMATS}  # the values a profile's date_order may take
# An ISO 8601 date and time: 2013-04-01T15:29:56, with a space for the T, fractional seconds, a zone (Z,
# +01:00). Read by datetime.fromisoformat, and the date kept as written: a zone is the sender's, and moving
# 23:30-05:00 to UTC would put the event on the next day.
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}")
MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y", "%b-%y", "%b-%Y", "%B-%y", "%m/%Y", "%Y/%m", "%b %y", "%B %y")
TRUE_WORDS = frozenset({"y", "yes", "true", "1", "t", "offered"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "f", "not offered"})

# Problem codes the parsers return.
BAD_DATE, BAD_NUMBER, BAD_BOOL, SUPPRESSED, NOT_WHOLE = "bad_date", "bad_number", "bad_bool", "suppressed", "not_whole"
AMBIGUOUS_NUMBER = "ambiguous_number"  # could be two numbers, or is one only with a decimal comma: no locale said
NOT_IN_LOCALE = "number_not_in_locale"  # not a number as the declared number_locale writes them
DATE_ORDER = "date_order"  # not a date day first, but one month first: say date_order = "mdy" if that is meant
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

    def parser_with_format(value, **formats):
        if is_spreadsheet_error(value):
            return None, SPREADSHEET_ERROR
        return parse(value, **formats)

    # Only parsers that take a declared format (locale=, order=) pay for passing keywords: a column of
    # 100,000 distinct references goes through parse_text once per cell.
    wrapper = parser_with_format if parse.__code__.co_argcount > 1 else parser
    wrapper.__name__, wrapper.__doc__ = parse.__name__, parse.__doc__
    return wrapper


def is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in EMPTY_MARKERS


def is_suppressed(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in SUPPRESSION_MARKERS


@lru_cache(maxsize=65_536)
def _parse_date_text(text: str, order: str = DMY) -> date | None:
    if ISO_DATETIME.match(text):
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            return None
    for fmt in DATE_ORDERS[order]:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _date_problem(text: str, order: str) -> str:
    """BAD_DATE, or DATE_ORDER when a day-first reading failed but a month-first one works (04/13/2013)."""
    return DATE_ORDER if order == DMY and _parse_date_text(text, MDY) else BAD_DATE


@refuses_errors
def parse_date(value, order: str = DMY):
    """A date from a date/datetime, an Excel serial number, or a UK/ISO date string (US with order="mdy")."""
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
    parsed = _parse_date_text(text, order)
    return (parsed, None) if parsed else (None, _date_problem(text, order))


@lru_cache(maxsize=4096)
def _parse_month_text(text: str, order: str = DMY) -> date | None:
    for fmt in MONTH_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    parsed = _parse_date_text(text, order)
    return parsed.replace(day=1) if parsed else None


@refuses_errors
def parse_month(value, order: str = DMY):
    """The first day of the month a cell names ('2013-03', 'Mar 2013', 'Mar-13', or any date in it)."""
    if is_blank(value) or is_suppressed(value):
        return None, None
    if isinstance(value, (date, datetime)) or isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed, problem = parse_date(value)
        return (parsed.replace(day=1) if parsed else None), problem
    text = str(value).strip()
    parsed = _parse_month_text(text, order)
    return (parsed, None) if parsed else (None, _date_problem(text, order))


# --- numbers written as text ------------------------------------------------------------------------------------
#
# A cell the spreadsheet stores as a number is never ambiguous. Text is: "1.204" is 1.204 with a decimal point
# and 1204 with a dot between thousands (German, French, Dutch... exports), and "4,2" is 4.2 with a decimal
# comma but was read as 42 by a parser that dropped commas. A layout profile may declare the file's
# number_locale: "en" (1,204.5: comma between thousands, decimal point) or "de" (1.204,5: dot between
# thousands, decimal comma). Spaces (and no-break spaces) between groups of three digits are read in both.
#
# Without a declared locale wpmi reads UK conventions, but only where no other reading exists:
# - read:  "1204", "4.25" (a dot not followed by exactly three digits cannot separate thousands), "0.125" (a
#          leading 0 is no thousands group), "1,234,567" and "1,234.5" (commas between groups of three, then a
#          point: only UK), and in a count column "1,204" (a count cannot be 1.204, so the comma separates
#          thousands: UK partner files write counts this way, and the demo does too);
# - error (AMBIGUOUS_NUMBER, naming the cell and the fix): one dot followed by exactly three digits ("1.204",
#          "12.000": a count of 12, or 12000?), a comma decimal ("4,2", "12,50", which UK conventions do not
#          read at all and which was once silently 42), dots between thousands ("1.234.567", "1.234,5": the
#          file is in a decimal-comma locale, whose other values are ambiguous), and in a decimal column
#          "1,204" (1204 or 1.204).
# With a declared locale a value is read by that locale's rules only; one that does not fit them ("4.25" under
# "de") is NOT_IN_LOCALE rather than a guess.
EN, DE = "en", "de"
NUMBER_LOCALES = {
    EN: "1,204.5: a comma between thousands, a decimal point",
    DE: "1.204,5: a dot between thousands, a decimal comma",
}
_SPACED = re.compile(r"^[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?$")  # 1 204, 1 204,5 (after no-break spaces -> " ")
_COMMA_GROUPS = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")  # 1,234,567 or 1,234.5 (one comma + point)
_DOT_GROUPS = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")  # 1.234.567 or 1.234,5
_EXPONENT = re.compile(r"^\d*\.?\d+[eE][+-]?\d+$")


def cell_format_problem(number_locale: str | None, date_order: str | None) -> str | None:
    """Why a layout profile's number_locale or date_order is not one wpmi reads (None when both are fine).

    For the profile loader to check a profile when it is read, and for type_sheet to refuse to guess."""
    if number_locale is not None and number_locale not in NUMBER_LOCALES:
        shown = " or ".join(f'"{k}" ({v})' for k, v in NUMBER_LOCALES.items())
        return f"number_locale {number_locale!r} is not one wpmi reads: use {shown}."
    if date_order is not None and date_order not in DATE_ORDERS:
        return f'date_order {date_order!r} is not one wpmi reads: use "dmy" (03/04/2013 is 3 April) or "mdy" (4 March).'
    return None


def _number(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def read_number_text(text: str, locale: str | None = None, whole: bool = False) -> tuple[float | None, str | None]:
    """A number written as text, by `locale`'s rules or (None) UK rules where unambiguous; see the notes above.

    `whole` says the column holds counts, where "1,204" can only be 1204. Returns (number, None) or (None, code).
    Not cached: type_sheet already parses each distinct value of a column once.
    """
    text = text.strip()
    if not text.isascii():
        text = text.replace("\u00a0", " ").replace("\u202f", " ")
        if not text.isascii():  # float() reads Arabic-Indic and full-width digits; a partner file does not mean them
            return None, BAD_NUMBER
    if " " in text:
        if not _SPACED.match(text):
            return None, BAD_NUMBER
        text = text.replace(" ", "")
    sign = ""
    if text[:1] in "+-":
        sign, text = text[0], text[1:]
    if text.isdigit():
        return _number(sign + text), None
    dots, commas = text.count("."), text.count(",")
    if dots + commas == 1:
        head, mark, tail = text.partition("." if dots else ",")
        if tail.isdigit() and (head.isdigit() or not head):
            # Exactly three digits after the one mark, after 1-3 digits (not a leading 0): a decimal, or a
            # separator between thousands.
            grouped = len(tail) == 3 and 1 <= len(head) <= 3 and head[0] != "0"
            if mark == ".":
                if locale == DE:
                    return (_number(sign + head + tail), None) if grouped else (None, NOT_IN_LOCALE)
                if grouped and locale is None:
                    return None, AMBIGUOUS_NUMBER
                return _number(sign + text), None
            if locale == DE:
                return _number(f"{sign}{head}.{tail}"), None
            if grouped and (locale == EN or whole):
                return _number(sign + head + tail), None
            return None, (NOT_IN_LOCALE if locale == EN else AMBIGUOUS_NUMBER)
    if commas and _COMMA_GROUPS.match(text):
        return (None, NOT_IN_LOCALE) if locale == DE else (_number(sign + text.replace(",", "")), None)
    if dots and _DOT_GROUPS.match(text):
        if locale == DE:
            return _number(sign + text.replace(".", "").replace(",", ".")), None
        return None, (NOT_IN_LOCALE if locale == EN else AMBIGUOUS_NUMBER)
    if _EXPONENT.match(text):  # 1.2E+04, as some exports write large numbers
        return (None, NOT_IN_LOCALE) if locale == DE else (_number(sign + text), None)
    return None, BAD_NUMBER


@refuses_errors
def parse_count(value, locale: str | None = None):
    """A whole number; '1,234' and '12.0' are accepted; '*', '<5' and '-' mean suppressed (unknown).

    Text is read by read_number_text: '1.204' and '4,2' are AMBIGUOUS_NUMBER unless a locale is declared."""
    if is_suppressed(value):
        return None, SUPPRESSED
    if is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, BAD_NUMBER
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, BAD_NUMBER
        return (int(value), None) if value.is_integer() else (None, NOT_WHOLE)
    text = str(value)
    if len(text) < 16 and text.isdigit() and text.isascii():  # the common case, before any pattern
        return int(text), None
    number, code = read_number_text(text, locale, True)
    if number is None:
        return None, code or BAD_NUMBER
    return (int(number), None) if number.is_integer() else (None, NOT_WHOLE)


@refuses_errors
def parse_real(value, locale: str | None = None):
    """A decimal number ('3.8'; '4,2' only with a declared decimal-comma locale, else AMBIGUOUS_NUMBER)."""
    if is_blank(value) or is_suppressed(value):
        return None, None
    if isinstance(value, bool):
        return None, BAD_NUMBER
    if isinstance(value, (int, float)):
        return (float(value), None) if math.isfinite(value) else (None, BAD_NUMBER)
    number, code = read_number_text(str(value), locale, False)
    return (number, None) if number is not None else (None, code or BAD_NUMBER)


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
