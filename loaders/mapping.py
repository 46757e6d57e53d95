"""How each source column was mapped, shown before anything lands, and what an unmatched column might be.

An unseen layout used to land silently wrong: `Started` and `Outcome` were not recognised, were dropped, and the
partner's job outcomes became 0. So every ingest reports, per mapped sheet, each source header with the wpmi
field it became, how it was matched (the field's own name, one of its synonyms, or a layout profile) and three
sample values, and each column it ignored. An ignored column whose values look like a field the sheet has no
column for (mostly dates, on or after the referral date) is suggested by name with the `--map` that would take
it: "`Outcome` (22 dates) might be job_outcome_date: add --map "Outcome=job_outcome_date" or a profile".

Sample values are quoted only because the personal-data scan has run on every cell before layouts are detected
(loaders/pipeline.py); a file with personal data never gets this far.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from dashboard import fields as F
from loaders.cleaning import normalise_label
from loaders.errors import NOTE, WARNING, Problem
from loaders.layouts import MappedSheet
from loaders.readers import Workbook

SAMPLES = 3


@dataclass(frozen=True)
class ColumnMapping:
    """One source column of one sheet and what wpmi made of it."""

    sheet: str
    target: str  # the wpmi sheet it was read as (Participants, Monthly, ...)
    source: str
    field: str | None  # None: ignored
    how: str  # "name", "synonym", "profile", "" when ignored
    samples: tuple[str, ...]

    def line(self) -> str:
        shown = ", ".join(self.samples) if self.samples else "no values"
        if self.field is None:
            return f"{self.source!r} ignored (e.g. {shown})"
        return f"{self.source!r} -> {self.field} ({self.how}; e.g. {shown})"


def _how(field: F.Field, source: str) -> str:
    label = normalise_label(source)
    if label == normalise_label(field.name):
        return "name"
    if label in {normalise_label(s) for s in field.synonyms}:
        return "synonym"
    return "profile"


def _shown(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)[:40]


def _samples(values: list) -> tuple[str, ...]:
    return tuple(_shown(v) for v in itertools.islice((v for v in values if v not in (None, "")), SAMPLES))


def _source_columns(book: Workbook, m: MappedSheet) -> dict[str, list]:
    """Header text -> the values under it, for every column of the sheet's (last) header row."""
    sheet = book.sheet(m.sheet)
    if sheet is None or m.header_row > len(sheet.rows):
        return {}
    header = sheet.rows[m.header_row - 1]
    body = sheet.rows[m.header_row :]
    return {
        str(h).strip(): [row[c] if c < len(row) else None for row in body]
        for c, h in enumerate(header)
        if h not in (None, "")
    }


def column_mappings(book: Workbook, mapped: list[MappedSheet]) -> list[ColumnMapping]:
    """Every source column of every mapped sheet, mapped or ignored, in sheet order."""
    out = []
    for m in mapped:
        spec = F.SHEETS_BY_NAME[m.target]
        by_name = {f.name: f for f in spec.fields}
        for field_name, header in m.columns.items():  # a mapped column's values are already in m.raw
            how = _how(by_name[field_name], str(header))
            out.append(ColumnMapping(m.sheet, m.target, str(header), field_name, how, _samples(m.raw[field_name])))
        sources = _source_columns(book, m) if m.unused_columns else {}  # only ignored columns need the sheet again
        for header in m.unused_columns:
            samples = _samples(sources.get(str(header).strip(), []))
            out.append(ColumnMapping(m.sheet, m.target, str(header), None, "", samples))
    return out


def _dates_on_or_after_referral(values: list, referrals: list) -> int:
    """How many values are dates no earlier than the same row's referral date (or dates at all, without one)."""
    count = 0
    for value, referred in zip(values, referrals):
        if isinstance(value, (date, datetime)):
            day = value.date() if isinstance(value, datetime) else value
            start = referred.date() if isinstance(referred, datetime) else referred
            if not isinstance(start, date) or day >= start:
                count += 1
    return count


def suggestions(book: Workbook, mapped: list[MappedSheet]) -> list[Problem]:
    """A warning for each ignored column whose values look like a date field the sheet has no column for."""
    problems = []
    for m in mapped:
        spec = F.SHEETS_BY_NAME[m.target]
        open_dates = [f for f in spec.fields if f.type == F.DATE and f.name not in m.columns]
        if not open_dates or not m.unused_columns:
            continue
        sources = _source_columns(book, m)
        referrals = m.raw.get("referral_date") or []
        for header in m.unused_columns:
            values = sources.get(str(header).strip(), [])
            filled = [v for v in values if v not in (None, "")]
            dated = _dates_on_or_after_referral(values, referrals or [None] * len(values))
            if not filled or dated < 0.8 * len(filled):
                continue
            best = _closest(str(header), open_dates)
            problems.append(
                Problem(
                    "unmatched_column",
                    WARNING,
                    f"{book.name}: sheet {m.sheet!r} column {header!r} ({dated} dates) was not used; it might be "
                    f'{best}: add --map "{header}={best}" or a layout profile (docs/layouts.md). Fields this sheet '
                    f"has no column for: {', '.join(f.name for f in open_dates)}.",
                    book.name,
                    m.sheet,
                    m.header_row,
                )
            )
    return problems


def _closest(header: str, candidates: list[F.Field]) -> str:
    """The candidate field whose name or synonyms are nearest the header (words in common first, then spelling)."""
    label = normalise_label(header)
    scored = []
    for f in candidates:
        names = [normalise_label(n) for n in (f.name, *f.synonyms)]
        words = set(label.split())
        overlap = max((len(words & set(n.split())) for n in names), default=0)
        ratio = max((difflib.SequenceMatcher(None, label, n).ratio() for n in names), default=0.0)
        scored.append((overlap, ratio, f.name))
    return max(scored)[2] if scored else candidates[0].name


def open_fields(columns: list[ColumnMapping]) -> dict[str, list[str]]:
    """Sheet -> the optional fields its mapped columns leave open: the choices for one of its ignored columns."""
    taken: dict[str, set[str]] = {}
    targets: dict[str, str] = {}
    for c in columns:
        targets[c.sheet] = c.target
        taken.setdefault(c.sheet, set()).update([c.field] if c.field else [])
    return {
        sheet: [name for name in F.SHEETS_BY_NAME[target].reportable_fields if name not in taken[sheet]]
        for sheet, target in targets.items()
    }


def mapping_notes(file: str, columns: list[ColumnMapping]) -> list[Problem]:
    """One note per sheet: how each of its columns was mapped (from column_mappings), for the report and screen."""
    notes = []
    for sheet in dict.fromkeys(c.sheet for c in columns):
        lines = [c.line() for c in columns if c.sheet == sheet]
        notes.append(Problem("column_mapping", NOTE, f"{file}: sheet {sheet!r}: " + "; ".join(lines), file, sheet))
    return notes


def profile_name(sender: str, file: str) -> str:
    """A profile name from the sender and the file: lower case letters, digits and underscores."""
    stem = file.rsplit(".", 1)[0]
    slug = re.sub(r"[^a-z0-9]+", "_", f"{sender}_{stem}".lower()).strip("_")
    return slug[:60] or "my_layout"


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def profile_toml(name: str, description: str, columns: list[ColumnMapping], chosen: dict[str, str]) -> str:
    """A layout profile (docs/layouts.md) that reads each sheet of `columns` the way it was mapped, with the
    ignored columns `chosen` (source header -> field) mapped too: what the Data page offers to save for a sender.

    Each sheet is matched by its exact name and each field by the header as written, so the profile fits this
    sender's files and not, by a loose match, another layout. Only sheets read a column per field are written
    (months or groups across the columns need a [sheets.wide] or [sheets.groups_across] written by hand)."""
    lines = [f"name = {_toml(name)}", f"description = {_toml(description)}"]
    for sheet in dict.fromkeys(c.sheet for c in columns):
        mine = [c for c in columns if c.sheet == sheet]
        fields: dict[str, list[str]] = {}
        for c in mine:
            field = c.field or chosen.get(c.source)
            if field:
                fields.setdefault(field, []).append(c.source)
        if not fields or any(c.source.startswith(("across: ", "the group columns")) for c in mine):
            continue
        cells = ", ".join(f"{f} = [{', '.join(_toml(s) for s in sources)}]" for f, sources in fields.items())
        lines += [
            "",
            "[[sheets]]",
            f"target = {_toml(mine[0].target)}",
            f"sheet = {_toml('^' + re.escape(sheet) + '$')}",
            f"columns = {{ {cells} }}",
        ]
    return "\n".join(lines) + "\n"
