"""Find personal data in a workbook before anything is stored.

wpmi holds pseudonymous participant references only. A file with a National Insurance number, an email
address, a phone number or a postcode in any cell, or with a column that looks like names, dates of birth,
addresses or contact details, is rejected. Problems say where, never what: the value is withheld from the
report, the database and the logs.
"""

from __future__ import annotations

import re

from loaders.cleaning import normalise_label
from loaders.errors import ERROR, WITHHELD, Problem
from loaders.layouts import MappedSheet, column_letter
from loaders.readers import Workbook

# The NINO shape: two letters, six digits, a suffix A-D. Deliberately wider than HMRC's valid prefixes, so
# that example and temporary numbers (QQ 12 34 56 C) are caught too: a false alarm costs a resend, a miss
# costs a breach.
NINO = r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"
EMAIL = r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"
PHONE = r"(?<![\d/.-])(?:\+44\s?|0)(?:7\d{3}|[12]\d{2,3})[\s-]?\d{3}[\s-]?\d{3,4}(?![\d/.-])"
POSTCODE = r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s\d[ABD-HJLNP-UW-Z]{2})\b"
PATTERNS = (
    ("a National Insurance number", re.compile(NINO, re.IGNORECASE)),
    ("an email address", re.compile(EMAIL)),
    ("a phone number", re.compile(PHONE)),
    ("a postcode", re.compile(POSTCODE)),
)
# Column headers (normalised) that mean personal data, and what they are.
PERSONAL_COLUMNS = {
    "name": "names",
    "full name": "names",
    "first name": "names",
    "forename": "names",
    "forenames": "names",
    "surname": "names",
    "last name": "names",
    "family name": "names",
    "customer name": "names",
    "participant name": "names",
    "client name": "names",
    "claimant name": "names",
    "title name": "names",
    "dob": "dates of birth",
    "d o b": "dates of birth",
    "date of birth": "dates of birth",
    "birth date": "dates of birth",
    "birthdate": "dates of birth",
    "address": "addresses",
    "address line 1": "addresses",
    "address 1": "addresses",
    "street": "addresses",
    "home address": "addresses",
    "postcode": "addresses",
    "post code": "addresses",
    "town": "addresses",
    "phone": "phone numbers",
    "telephone": "phone numbers",
    "tel": "phone numbers",
    "mobile": "phone numbers",
    "mobile number": "phone numbers",
    "phone number": "phone numbers",
    "contact number": "phone numbers",
    "email": "emails",
    "e mail": "emails",
    "email address": "emails",
    "ni number": "National Insurance numbers",
    "nino": "National Insurance numbers",
    "national insurance number": "National Insurance numbers",
    "ni no": "National Insurance numbers",
    "nat ins no": "National Insurance numbers",
}
FIX = "wpmi never stores personal data: remove it and send the file again (use pseudonymous references)."


# Prefilters, so most cells cost one C-speed regex call: every pattern needs a digit or an @, and the
# alternation of all four (case-insensitive, so a superset) rules out the rest before each is tried alone.
_NEEDS = re.compile(r"[\d@]")
_ANY = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in PATTERNS), re.IGNORECASE)


def _looks_personal(text: str) -> str | None:
    if not _NEEDS.search(text) or not _ANY.search(text):
        return None
    for kind, pattern in PATTERNS:
        if pattern.search(text):
            return kind
    return None


# Cells are joined with NUL for a whole-sheet scan: no pattern matches NUL (it is neither a word character,
# whitespace, nor in any lookaround set), so a match can never span two cells, and NUL around a cell looks to
# every pattern exactly like the start or end of a string. So a sheet whose distinct text values, joined, hold
# no match has no matching cell: one C-speed search proves it, and only a sheet with a hit is read cell by cell.
_SEPARATOR = "\x00"


def _sheet_may_hold_personal_data(rows) -> bool:
    text = _SEPARATOR.join({v for row in rows for v in row if isinstance(v, str)})  # each distinct value once
    return bool(_NEEDS.search(text)) and bool(_ANY.search(text))


def find_personal_values(book: Workbook) -> list[Problem]:
    """Every text cell anywhere in the workbook that matches a personal-data pattern."""
    problems = []
    for sheet in book.sheets:
        if not _sheet_may_hold_personal_data(sheet.rows):
            continue
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and len(value) >= 5:
                    kind = _looks_personal(value)
                    if kind:
                        problems.append(
                            Problem(
                                "personal_data",
                                ERROR,
                                f"This cell looks like {kind}. {FIX}",
                                book.name,
                                sheet.name,
                                r + 1,
                                column_letter(c),
                                WITHHELD,
                            )
                        )
    return problems


def find_personal_columns(book: Workbook, mapped: list[MappedSheet]) -> list[Problem]:
    """Header cells of the mapped sheets that name personal data (whatever the column holds)."""
    problems = []
    for m in mapped:
        sheet = book.sheet(m.sheet)
        if sheet is None or m.header_row > len(sheet.rows):
            continue
        for row_index in range(max(0, m.header_row - 2), m.header_row):
            for c, value in enumerate(sheet.rows[row_index]):
                kind = PERSONAL_COLUMNS.get(normalise_label(value)) if isinstance(value, str) else None
                if kind:
                    problems.append(
                        Problem(
                            "personal_data",
                            ERROR,
                            f"Column {value!r} looks like it holds {kind}. {FIX}",
                            book.name,
                            m.sheet,
                            row_index + 1,
                            column_letter(c),
                            WITHHELD,
                        )
                    )
    return problems
