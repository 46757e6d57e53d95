"""Find personal data in a workbook, and in names people type, before anything is stored.

wpmi holds pseudonymous participant references only. A file with a National Insurance number, an email
address, a phone number or a postcode in any cell, in its file name, a sheet name (hidden sheets too) or a
defined name, or with a column that looks like names, dates of birth, addresses or contact details, is
rejected. What counts as one of those identifiers, in any disguise (separators, zero-width characters,
look-alike letters, full-width forms, lower case, glued to other text), is loaders/identifiers.py. Problems
say where, never what: the value is withheld from the report, the database and the logs, and so is a file or
sheet name that is itself personal data.

Names a person types (a partner or prime on the command line or the Data page, a withdrawal reason) are
checked by `find_personal_typed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePath

from loaders.cleaning import normalise_label
from loaders.errors import ERROR, WITHHELD, Problem
from loaders.identifiers import (
    MATCHERS,
    NINO_KIND,
    could_match,
    kind_of,
    normalise,
    normalise_joined,
    reference_shape,
    typed_message,
    wrap,
)
from loaders.layouts import MappedSheet, column_letter
from loaders.readers import Workbook

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


class _Prefilter:
    """Whether a text's normalised form matches any pattern at all: a superset, so a miss proves no match."""

    def search(self, text: str) -> bool:
        return could_match(wrap(normalise(text)))


_ANY = _Prefilter()


def _looks_personal(text: str) -> str | None:
    """The kind of personal identifier `text` holds, in any disguise, or None."""
    return kind_of(text)


# A sheet's distinct text values are searched at once, normalised and joined by NUL (wrapped in NUL, as
# loaders/identifiers.py expects): normalising drops any NUL inside a value, and no pattern
# matches across a NUL, so the joined text holds exactly the matches of each value alone. One C-speed pass of
# each pattern clears a clean sheet; each match is judged where it lies; only a sheet with a real hit is then
# read cell by cell, to say where.
_SEPARATOR = "\x00"


def _joined(values: list[str]) -> str:
    """The values, each normalised, joined and wrapped by NUL."""
    raw = _SEPARATOR.join(values)
    if raw.count(_SEPARATOR) != max(len(values) - 1, 0):  # some value holds a NUL itself: normalise each
        return wrap(_SEPARATOR.join(map(normalise, values)))
    return wrap(normalise_joined(raw))


# A suffix-less NI number and a reference such as WP-012345 have the same shape. But a sheet's references
# follow one scheme, while people's NI numbers do not share a prefix: HMRC uses hundreds of prefixes, and twenty
# people with the same two letters (written the same way, e.g. `WP-999999`) are not a real list. So in one
# sheet, a suffix-less shape held by this many distinct values is read as the sheet's reference scheme and
# not flagged. The price, a known gap: a suffix-less NI number written exactly like the references around
# it, with their prefix, is missed. A number with its suffix letter, or with the QQ or TN
# prefix, is never taken for a reference, nor is a shape fewer values share (a small file is judged strictly).
REFERENCE_SCHEME_MIN = 20


def _personal_in(values: list[str]) -> dict[str, str]:
    """{normalised value: kind} for every value that holds personal data, from one pass of each pattern."""
    text, found = _joined(values), dict[str, str]()
    shapes: dict[str, set[str]] = {}  # suffix-less NI numbers by how they are written, until the scheme is known

    def value_at(match) -> str:
        start = text.rfind(_SEPARATOR, 0, match.start() + 1) + 1  # a whole-value match starts at its NUL
        return text[start : text.find(_SEPARATOR, match.end())]

    for kind, pattern, counts in MATCHERS:  # in reporting order: a value's first kind is the one reported
        for match in pattern.finditer(text):
            if counts is None or counts(match, text):
                shape = reference_shape(match) if kind == NINO_KIND else None
                if shape is None:
                    found.setdefault(value_at(match), kind)
                else:
                    shapes.setdefault(shape, set()).add(value_at(match))
        if kind == NINO_KIND:
            for same in shapes.values():
                if len(same) < REFERENCE_SCHEME_MIN:
                    for value in same:
                        found.setdefault(value, NINO_KIND)
            shapes.clear()
    return found


def _text_values(rows: Iterable[Iterable]) -> list[str]:
    return list({v for row in rows for v in row if isinstance(v, str)})  # each distinct value once


def _sheet_may_hold_personal_data(rows) -> bool:
    """Whether any text cell of `rows` could match a pattern (a superset of the cell-by-cell scan)."""
    return could_match(_joined(_text_values(rows)))


def _kind_of_name(name: str) -> str | None:
    """kind_of a name, or of its stem: `s w 1 a 1 a a.xlsx` is a postcode as a whole value before its suffix."""
    stem = PurePath(name).stem
    return kind_of(name) or (kind_of(stem) if stem and stem != name else None)


def _problem(message: str, file: str, sheet: str = "", row: int | None = None, column: str = "") -> Problem:
    return Problem("personal_data", ERROR, f"{message} {FIX}", file, sheet, row, column, WITHHELD)


def find_personal_values(book: Workbook) -> list[Problem]:
    """Every name and text cell in the workbook that holds personal data, each a problem that withholds it.

    Looked at: the file name, every sheet name (hidden sheets' too), every defined name, and every text cell of
    every sheet read. A file or sheet whose own name is personal data is called WITHHELD in every problem, so
    the name goes nowhere either.
    """
    problems = []
    file_kind = _kind_of_name(book.name)
    file = WITHHELD if file_kind else book.name
    if file_kind:
        problems.append(_problem(f"The file name looks like {file_kind}.", file))
    sheet_kinds = [kind_of(sheet.name) for sheet in book.sheets]
    for i, kind in enumerate(sheet_kinds, start=1):
        if kind:
            problems.append(_problem(f"The name of sheet {i} looks like {kind}.", file, WITHHELD))
    for i, name in enumerate(book.hidden_sheets, start=1):
        kind = kind_of(name)
        if kind:
            problems.append(_problem(f"The name of hidden sheet {i} looks like {kind}.", file, WITHHELD))
    for i, name in enumerate(book.defined_names, start=1):
        kind = kind_of(name)
        if kind:
            problems.append(_problem(f"Defined name {i} (a named range) looks like {kind}.", file))
    for sheet, sheet_kind in zip(book.sheets, sheet_kinds):
        values = _text_values(sheet.rows)
        personal = _personal_in(values)
        if not personal:
            continue
        where = WITHHELD if sheet_kind else sheet.name
        flagged = {v: personal[n] for v in values if (n := normalise(v)) in personal}
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                kind = flagged.get(value) if isinstance(value, str) else None
                if kind:
                    problems.append(_problem(f"This cell looks like {kind}.", file, where, r + 1, column_letter(c)))
    return problems


def find_personal_typed(fields: Mapping[str, str | None], source: str) -> list[Problem]:
    """One error per typed field (e.g. {"partner": ..., "reason": ...}) that holds personal data.

    `source` says where it was typed ("command line", "Data page"). The problem names the field and the kind of
    identifier, never the value. A value is judged whole and, like a file name, without its suffix.
    """
    return [
        Problem("personal_data", ERROR, typed_message(name, source, kind), value=WITHHELD)
        for name, value in fields.items()
        if value not in (None, "") and (kind := _kind_of_name(str(value)))
    ]


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
