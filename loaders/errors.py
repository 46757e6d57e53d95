"""Exceptions and the per-cell problem record that loaders report instead of tracebacks."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR, WARNING, NOTE = "error", "warning", "note"
WITHHELD = "[withheld: personal data]"


class WpmiError(Exception):
    """Base class: a problem wpmi can explain to the person who ran it."""


class UnreadableFile(WpmiError):
    """The file cannot be opened as a spreadsheet or CSV."""


class NoMatchingLayout(WpmiError):
    """No sheet of the file could be matched to a wpmi sheet or layout profile."""


class MissingColumns(WpmiError):
    """A sheet lacks columns wpmi needs, even after synonym matching."""


class UnknownOrganisation(WpmiError):
    """The partner, prime, CPA or contract named for a file is not known to wpmi."""


class LayoutProfileError(WpmiError):
    """A layout profile in data/layouts/ is malformed."""


class PersonalDataRefused(WpmiError):
    """A name or reason someone typed holds personal data; its message names the field, never the value."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about one cell, row, sheet or file."""

    code: str
    severity: str  # error | warning | note
    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None  # as the spreadsheet numbers it (1-based, header rows included)
    column: str = ""
    value: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(p for p in parts if p)
