"""Layout profiles: how a prime's MI workbook maps onto the wpmi sheets, declared in data/layouts/*.toml.

A profile says which sheets to read (a name pattern), how to find the header row (labels it contains, one
or two header rows), what each column is called (synonyms added to the data dictionary's), how to translate
values, and for aggregate returns with months across the columns, how to turn them long. A new prime's
layout is a new TOML file, not new code. Files no profile matches fall back to synonym detection.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dashboard import fields as F
from loaders.cleaning import normalise_label, parse_month
from loaders.errors import MissingColumns, NoMatchingLayout, WpmiError
from loaders.identifiers import kind_of
from loaders.profiles import DEFAULT_SKIP, LAYOUTS_DOC, LayoutProfile, SheetProfile, WideSpec, nearest_hint
from loaders.readers import SheetData, Workbook
from loaders.template import is_template

AUTO = "auto"
MAX_HEADER_SCAN = 40
SHOWN_HEADERS = 12  # header cells quoted per sheet when no layout fits
SHOWN_HEADER_CHARS = 40  # and each cut to this length


@dataclass
class MappedSheet:
    """A sheet's cells lined up under wpmi field names, with where each came from."""

    target: str
    sheet: str
    header_row: int  # spreadsheet row number of the (last) header row
    columns: dict[str, str]  # field -> header text as the sender wrote it
    column_letters: dict[str, str]  # field -> column letter
    raw: dict[str, list]  # field -> raw values
    source_rows: list[int]
    unused_columns: list[str] = field(default_factory=list)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, why)
    totals: list[dict] = field(default_factory=list)  # stated totals to check (wide layouts)
    # wide layouts only: (record index, field) -> (spreadsheet row, column letter) of the cell it came from
    cells: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)
    # the cell formats the layout profile declares, read by loaders/validation.py's type_sheet
    number_locale: str | None = None
    date_order: str | None = None


class ColumnMapError(WpmiError):
    """A column map (source header -> wpmi field) names a field wpmi does not have or a header the file lacks."""


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _synonyms(spec: F.Sheet, extra: dict[str, list[str]]) -> dict[str, list[str]]:
    """Normalised labels per field: profile synonyms first, then the data dictionary's."""
    out = {}
    for f in spec.fields:
        labels = list(extra.get(f.name, [])) + [f.name, f.name.replace("_", " "), *f.synonyms]
        seen, ordered = set(), []
        for label in labels:
            norm = normalise_label(label)
            if norm not in seen:
                seen.add(norm)
                ordered.append(norm)
        out[f.name] = ordered
    return out


def _header_labels(rows: list[list], index: int, header_rows: int) -> list[list[str]]:
    """For each column, the candidate labels: the combined multi-row header, then the last row alone."""
    last = rows[index]
    width = max(len(rows[i]) for i in range(index - header_rows + 1, index + 1))
    out = []
    for c in range(width):
        parts = []
        for i in range(index - header_rows + 1, index + 1):
            value = rows[i][c] if c < len(rows[i]) else ""
            text = normalise_label(value) if value not in (None, "") else ""
            if text and text not in parts:
                parts.append(text)
        lower = normalise_label(last[c]) if c < len(last) and last[c] not in (None, "") else ""
        out.append([x for x in dict.fromkeys([" ".join(parts), lower]) if x])
    return out


def _match_columns(
    labels: list[list[str]], synonyms: dict[str, list[str]], forced: Mapping[str, str] | None = None
) -> dict[str, int]:
    taken: dict[str, int] = {}
    used = set()
    # A column map's headers first (field -> normalised header): they override every synonym.
    for fname, label in (forced or {}).items():
        if fname not in synonyms:
            continue
        hit = next((c for c, cands in enumerate(labels) if c not in used and label in cands), None)
        if hit is not None:
            taken[fname] = hit
            used.add(hit)
    # Exact-synonym matching, in synonym priority order so a profile's own names win.
    for fname, syns in synonyms.items():
        if fname in taken:
            continue
        for syn in syns:
            hit = next((c for c, cands in enumerate(labels) if c not in used and syn in cands), None)
            if hit is not None:
                taken[fname] = hit
                used.add(hit)
                break
    return {f: taken[f] for f in synonyms if f in taken}  # in the data dictionary's order


def find_header(
    sheet: SheetData,
    spec: F.Sheet,
    synonyms: dict[str, list[str]],
    header_rows: int = 1,
    required_labels: list[str] | None = None,
    forced: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, int]] | None:
    """The header row index and field -> column index with the most matches (at least two fields)."""
    best = None
    required = [normalise_label(x) for x in (required_labels or [])]
    limit = min(len(sheet.rows), MAX_HEADER_SCAN)
    for i in range(header_rows - 1, limit):
        labels = _header_labels(sheet.rows, i, header_rows)
        flat = {x for cands in labels for x in cands}
        if required and not all(any(x == r or x.endswith(" " + r) for x in flat) for r in required):
            continue
        matched = _match_columns(labels, synonyms, forced)
        enough = len(matched) >= 2 and any(f in matched for f in spec.required_fields)
        if enough and (best is None or len(matched) > len(best[1])):
            best = (i, matched)
    return best


def nearest_names(found: str, spec: F.Sheet) -> list[str]:
    names = [f.name for f in spec.fields] + [s for f in spec.fields for s in f.synonyms]
    return difflib.get_close_matches(normalise_label(found), names, n=3, cutoff=0.5)


def missing_columns_error(
    file: str, sheet: SheetData, spec: F.Sheet, header_index: int | None, matched: dict[str, int]
) -> MissingColumns:
    missing = [f for f in spec.required_fields if f not in matched]
    found = []
    if header_index is not None:
        found = [str(v) for v in sheet.rows[header_index] if v not in (None, "")]
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name.replace("_", " "), [normalise_label(x) for x in found], n=2, cutoff=0.4)
        hints.append(f"{name}" + (f" (closest found: {', '.join(close)})" if close else ""))
    row = f" row {header_index + 1}" if header_index is not None else ""
    return MissingColumns(
        f"{file}, sheet {sheet.name!r}{row}: required column(s) missing: {'; '.join(hints)}. "
        f"Columns found: {', '.join(found) or 'none'}. Rename the columns to the wpmi names "
        f"(see `wpmi template`) or pass --layout with a profile that maps them."
    )


def _extract(
    sheet: SheetData, header_index: int, matched: dict[str, int], target: str, skip_pattern: str
) -> MappedSheet:
    header = sheet.rows[header_index]
    header_norm = [normalise_label(v) for v in header]
    skip = re.compile(skip_pattern, re.IGNORECASE)
    source_rows, kept, skipped = [], [], []
    first_header = next((h for h in header_norm if h), "")
    for i in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[i]
        first = (
            row[0]
            if row and row[0] != "" and row[0] is not None
            else next((v for v in row if v != "" and v is not None), None)
        )
        if first is None:
            continue
        if isinstance(first, str):
            # Only text rows can be totals, notes or a repeated header: numbers and dates skip these checks.
            if skip.match(first.strip().lower()):
                skipped.append((i + 1, "total or note row"))
                continue
            if (
                normalise_label(first) == first_header
                and [normalise_label(v) for v in row[: len(header_norm)]] == header_norm
            ):
                skipped.append((i + 1, "repeated header row"))
                continue
        source_rows.append(i + 1)
        kept.append(row)
    # A column at a time over the kept rows (CSV rows can be shorter than the header: missing cells are None).
    raw = {fname: [row[c] if c < len(row) else None for row in kept] for fname, c in matched.items()}
    used = set(matched.values())
    unused = [str(v) for c, v in enumerate(header) if c not in used and v not in (None, "")]
    return MappedSheet(
        target=target,
        sheet=sheet.name,
        header_row=header_index + 1,
        columns={f: str(header[c]) for f, c in matched.items()},
        column_letters={f: column_letter(c) for f, c in matched.items()},
        raw=raw,
        source_rows=source_rows,
        unused_columns=unused,
        skipped_rows=skipped,
    )


def map_sheet(
    book: Workbook, sheet: SheetData, profile: SheetProfile, forced: Mapping[str, str] | None = None
) -> MappedSheet | None:
    """Map one sheet with one sheet profile (and a column map's field -> header); None if no header is found."""
    if profile.wide:
        return map_wide_sheet(book, sheet, profile)
    if profile.groups_across:
        return map_groups_across(sheet, profile)
    synonyms = _synonyms(profile.spec, profile.columns)
    found = find_header(sheet, profile.spec, synonyms, profile.header_rows, profile.header_labels, forced)
    if found is None:
        return None
    index, matched = found
    if any(f not in matched for f in profile.spec.required_fields):
        raise missing_columns_error(book.name, sheet, profile.spec, index, matched)
    return _extract(sheet, index, matched, profile.target, profile.skip_rows)


def map_wide_sheet(book: Workbook, sheet: SheetData, profile: SheetProfile) -> MappedSheet | None:
    """Months across the columns -> one record per month and payment group, with stated totals kept."""
    wide = profile.wide
    if wide is None:
        raise ValueError(
            f"Sheet profile {profile.target!r} has no [wide] section: map it with map_sheet, which "
            "reads a sheet with its columns down the page."
        )
    measure_syns = {normalise_label(x) for x in wide.measure_column}
    group_syns = {normalise_label(x) for x in wide.group_column}
    totals = {normalise_label(x) for x in wide.total_labels}
    for i in range(min(len(sheet.rows), MAX_HEADER_SCAN)):
        labels = _header_labels(sheet.rows, i, profile.header_rows) if i >= profile.header_rows - 1 else []
        m_col = next((c for c, cands in enumerate(labels) if measure_syns & set(cands)), None)
        g_col = next((c for c, cands in enumerate(labels) if group_syns & set(cands)), None)
        if m_col is None or g_col is None:
            continue
        header = sheet.rows[i]
        months, total_col = {}, None
        for c, value in enumerate(header):
            if c in (m_col, g_col) or value in (None, ""):
                continue
            month, problem = parse_month(value)
            if month and not problem:
                months[c] = month
            elif normalise_label(value) in totals:
                total_col = c
        if not months:
            continue
        return _melt(book, sheet, profile, i, m_col, g_col, months, total_col, totals)
    return None


def _cell(row: list, column: int):
    """The value in `column` of a row, None past its end (rows are as long as their last filled cell)."""
    return row[column] if column < len(row) else None


def _melt(book, sheet, profile, header_index, m_col, g_col, months, total_col, totals) -> MappedSheet:
    wide = profile.wide
    measure_of = {normalise_label(s): m for m, syns in wide.measures.items() for s in [m, *syns]}
    skip = re.compile(profile.skip_rows, re.IGNORECASE)
    records: dict[tuple, dict] = {}
    stated_totals, skipped = [], []
    current_measure = None
    for i in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[i]
        m_raw, g_raw = _cell(row, m_col), _cell(row, g_col)
        if m_raw not in (None, ""):
            measure = measure_of.get(normalise_label(m_raw))
            if measure is None:
                if skip.match(str(m_raw).strip().lower()):
                    skipped.append((i + 1, "total or note row"))
                else:
                    skipped.append((i + 1, f"measure {m_raw!r} is not one wpmi uses"))
                current_measure = None
                continue
            current_measure = measure
        if current_measure is None or g_raw in (None, ""):
            continue
        is_total_row = normalise_label(g_raw) in totals
        for c, month in months.items():
            if is_total_row:
                stated_totals.append(
                    {
                        "kind": "column",
                        "measure": current_measure,
                        "month": month,
                        "value": _cell(row, c),
                        "row": i + 1,
                        "column": column_letter(c),
                    }
                )
                continue
            rec = records.setdefault((month, str(g_raw).strip()), {"row": i + 1})
            rec[current_measure] = _cell(row, c)
            rec.setdefault("_rows", {})[current_measure] = (i + 1, column_letter(c))
        if total_col is not None and not is_total_row:
            stated_totals.append(
                {
                    "kind": "row",
                    "measure": current_measure,
                    "group": str(g_raw).strip(),
                    "value": _cell(row, total_col),
                    "row": i + 1,
                    "column": column_letter(total_col),
                }
            )
    fields = ["month", "payment_group", *wide.measures]
    raw: dict[str, list] = {f: [] for f in fields}
    source_rows = []
    for (month, group), rec in records.items():
        raw["month"].append(month)
        raw["payment_group"].append(group)
        for m in wide.measures:
            raw[m].append(rec.get(m))
        source_rows.append(rec["row"])
    mapped = MappedSheet(
        target=profile.target,
        sheet=sheet.name,
        header_row=header_index + 1,
        columns={f: f for f in fields},
        column_letters={},
        raw=raw,
        source_rows=source_rows,
        skipped_rows=skipped,
        totals=stated_totals,
    )
    mapped.cells = {(idx, m): rec["_rows"][m] for idx, rec in enumerate(records.values()) for m in rec.get("_rows", {})}
    return mapped


def _across_headers(rows: list[list], index: int, header_rows: int) -> list[list[tuple[str, str]]]:
    """Per column, its header parts (normalised, as written) from the top header row down; a label in an upper
    row carries on to the right over blank cells (a merged "PG1" above "Referrals" and "Outcomes")."""
    width = max(len(rows[i]) for i in range(index - header_rows + 1, index + 1))
    out: list[list[tuple[str, str]]] = [[] for _ in range(width)]
    for i in range(index - header_rows + 1, index + 1):
        carried = ("", "")
        for c in range(width):
            value = _cell(rows[i], c)
            part = (normalise_label(value), str(value).strip()) if value not in (None, "") else ("", "")
            if i < index:  # an upper row: merged labels span blank cells
                carried = part if part[0] else carried
                part = carried
            if part[0]:
                out[c].append(part)
    return out


def _across_columns(parts: list[list[tuple[str, str]]], across, month_col: int) -> tuple[dict, list[int]]:
    """Column -> (payment group as written, measure) for the data columns, and the total columns."""
    totals = {normalise_label(x) for x in across.total_labels}
    labels = {normalise_label(x): m for m, syns in across.measures.items() for x in [m, m.replace("_", " "), *syns]}
    data, total_columns = {}, []
    for c, column in enumerate(parts):
        if c == month_col or not column:
            continue
        if any(norm in totals for norm, _ in column):
            total_columns.append(c)
            continue
        if across.measure:
            data[c] = (" ".join(written for _, written in column), across.measure)
            continue
        measure = next((labels[norm] for norm, _ in column if norm in labels), None)
        if measure is not None:
            data[c] = (" ".join(written for norm, written in column if labels.get(norm) != measure), measure)
            continue
        joined = " ".join(written for _, written in column)  # one header cell: "PG1 Referrals"
        words = normalise_label(joined)
        hit = next((x for x in sorted(labels, key=len, reverse=True) if words.endswith(" " + x)), None)
        if hit:
            data[c] = (joined[: len(joined) - len(hit)].strip(), labels[hit])
    return data, total_columns


def map_groups_across(sheet: SheetData, profile: SheetProfile) -> MappedSheet | None:
    """Months down the rows, payment groups across the columns -> one record per month and payment group.

    The header row is the first (of MAX_HEADER_SCAN) with a month column and at least one payment group column
    with a measure; blank months are skipped silently, total or note rows (skip_rows) with a reason, and columns
    of totals are reported as unused (the groups are loaded, not their sum)."""
    across = profile.groups_across
    if across is None:
        raise ValueError(f"Sheet profile {profile.target!r} has no [groups_across] section: map it with map_sheet.")
    month_labels = {normalise_label(x) for x in across.month_column}
    for i in range(profile.header_rows - 1, min(len(sheet.rows), MAX_HEADER_SCAN)):
        parts = _across_headers(sheet.rows, i, profile.header_rows)
        month_col = next((c for c, column in enumerate(parts) if column and column[-1][0] in month_labels), None)
        if month_col is None:
            continue
        data, total_columns = _across_columns(parts, across, month_col)
        if data:
            return _read_across(sheet, profile, i, month_col, data, total_columns)
    return None


def _read_across(sheet, profile: SheetProfile, header_index, month_col, data, total_columns) -> MappedSheet:
    skip = re.compile(profile.skip_rows, re.IGNORECASE)
    measures = list(dict.fromkeys(measure for _, measure in data.values()))
    raw: dict[str, list] = {f: [] for f in ("month", "payment_group", *measures)}
    source_rows: list[int] = []
    cells: dict[tuple[int, str], tuple[int, str]] = {}
    skipped = []
    for r in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[r]
        month = _cell(row, month_col)
        if month in (None, ""):
            continue
        if isinstance(month, str) and skip.match(month.strip().lower()):
            skipped.append((r + 1, "total or note row"))
            continue
        records: dict[str, int] = {}  # payment group as written -> record index
        for c, (group, measure) in data.items():
            if group not in records:
                records[group] = len(source_rows)
                source_rows.append(r + 1)
                raw["month"].append(month)
                raw["payment_group"].append(group)
                for m in measures:
                    raw[m].append(None)
            index = records[group]
            raw[measure][index] = _cell(row, c)
            cells[(index, measure)] = (r + 1, column_letter(c))
        for index in records.values():
            cells[(index, "month")] = (r + 1, column_letter(month_col))
    header = sheet.rows[header_index]
    mapped = MappedSheet(
        target=profile.target,
        sheet=sheet.name,
        header_row=header_index + 1,
        columns={
            "month": str(_cell(header, month_col)),
            "payment_group": "across: " + ", ".join(dict.fromkeys(group for group, _ in data.values())),
        }
        | {m: f"the group columns ({m})" for m in measures},
        column_letters={"month": column_letter(month_col)},
        raw=raw,
        source_rows=source_rows,
        unused_columns=[str(_cell(header, c)) for c in total_columns if _cell(header, c) not in (None, "")],
        skipped_rows=skipped,
    )
    mapped.cells = cells
    return mapped


def map_with_profile(
    book: Workbook, profile: LayoutProfile, forced: Mapping[str, str] | None = None
) -> list[MappedSheet]:
    """Apply a profile to a workbook: each sheet profile maps the first sheet it fits."""
    mapped, used = [], set()
    for sp in profile.sheets:
        pattern = re.compile(sp.sheet, re.IGNORECASE)
        hit = None
        for sheet in book.sheets:
            if sheet.name in used or not pattern.search(sheet.name):
                continue
            hit = map_sheet(book, sheet, sp, forced)
            if hit is not None:
                hit.number_locale, hit.date_order = sp.number_locale, sp.date_order
                used.add(sheet.name)
                break
        if hit is not None:
            mapped.append(hit)
        elif sp.required:
            return []
    return mapped


def detect_columns(book: Workbook, forced: Mapping[str, str] | None = None) -> list[MappedSheet]:
    """No profile fits: find each wpmi sheet by its data-dictionary synonyms."""
    mapped, used = [], set()
    for spec in F.SHEETS:
        candidates = sorted(book.sheets, key=lambda s: normalise_label(s.name) != normalise_label(spec.name))
        best = None
        for sheet in candidates:
            if sheet.name in used:
                continue
            synonyms = _synonyms(spec, {})
            found = find_header(sheet, spec, synonyms, forced=forced)
            if found and (best is None or len(found[1]) > len(best[1][1])):
                best = (sheet, found)
        if best is None:
            continue
        sheet, (index, matched) = best
        # A sheet named for another wpmi sheet is not taken by this one on a weak match.
        if normalise_label(sheet.name) in {normalise_label(s.name) for s in F.SHEETS if s is not spec}:
            continue
        if any(f not in matched for f in spec.required_fields):
            raise missing_columns_error(book.name, sheet, spec, index, matched)
        used.add(sheet.name)
        mapped.append(_extract(sheet, index, matched, spec.name, DEFAULT_SKIP))
    return mapped


def detect_layout(
    book: Workbook,
    profiles: dict[str, LayoutProfile],
    forced: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> tuple[str, LayoutProfile | None, list[MappedSheet]]:
    """Choose and apply a layout: the forced one, else the profile mapping most sheets, else synonyms.

    `column_map` (source header as written -> wpmi field, e.g. from --map) assigns each header to its field in
    whichever wpmi sheet has that field, before any synonym or profile name; ColumnMapError if a field is not
    one wpmi has or a header is not in the sheets read."""
    columns = column_map_fields(column_map)
    layout, profile, mapped = _detect_layout(book, profiles, forced, columns)
    if column_map:
        _check_column_map(book, column_map, mapped)
    return layout, profile, mapped


def column_map_fields(column_map: Mapping[str, str] | None) -> dict[str, str]:
    """A column map as field -> normalised header, checked: every field is one wpmi has, and mapped once."""
    fields = sorted({f.name for spec in F.SHEETS for f in spec.fields})
    out: dict[str, str] = {}
    for source, name in (column_map or {}).items():
        if name not in fields:
            hint = nearest_hint(name, fields, "fields")
            raise ColumnMapError(
                f"Column map {source!r}={name!r}: no wpmi field is called {name!r}{hint} "
                "See docs/template.md for every field."
            )
        if name in out:
            raise ColumnMapError(f"Column map: two headers are mapped to {name}; a field takes one column.")
        out[name] = normalise_label(source)
    return out


def _check_column_map(book: Workbook, column_map: Mapping[str, str], mapped: list[MappedSheet]) -> None:
    """Every mapped header was assigned to its field in some sheet read, else ColumnMapError naming the nearest."""
    for source, name in column_map.items():
        label = normalise_label(source)
        if any(name in m.columns and _same_header(label, m.columns[name]) for m in mapped):
            continue
        headers: dict[str, str] = {}  # normalised -> as written, over the header rows of the sheets read
        for m in mapped:
            sheet = book.sheet(m.sheet)
            row = sheet.rows[m.header_row - 1] if sheet and m.header_row <= len(sheet.rows) else []
            headers.update({normalise_label(v): _shown(v) for v in row if v not in (None, "")})
        where = ", ".join(f"{m.sheet!r} (read as {m.target})" for m in mapped)
        if label in headers:
            sheets = [s.name for s in F.SHEETS if any(f.name == name for f in s.fields)]
            problem = f"{source!r} is a column of {where}, but {name} belongs to {' or '.join(sheets)}"
        else:
            close = difflib.get_close_matches(label, list(headers), n=3, cutoff=0.6)
            nearest = f"; nearest: {', '.join(repr(headers[c]) for c in close)}" if close else ""
            problem = f"no column headed {source!r} in the header row of {where or 'any sheet read'}{nearest}"
        raise ColumnMapError(f"{book.name}: column map {source!r}={name}: {problem}.")


def _same_header(label: str, written: str) -> bool:
    """A normalised header from a column map is the header written (or, on a two-row header, ends with it)."""
    own = normalise_label(written)
    return label == own or label.endswith(" " + own) or own.endswith(" " + label)


def _detect_layout(
    book: Workbook, profiles: dict[str, LayoutProfile], forced: str | None, columns: dict[str, str]
) -> tuple[str, LayoutProfile | None, list[MappedSheet]]:
    if forced and forced != AUTO:
        if forced not in profiles:
            raise NoMatchingLayout(
                f"No layout profile named {forced!r}. Known layouts: {', '.join(sorted(profiles))}, auto."
            )
        mapped = map_with_profile(book, profiles[forced], columns)
        if not mapped:
            _score, reasons = profile_misses(book, profiles[forced])
            why = f": {'; '.join(reasons)}" if reasons else ""
            raise NoMatchingLayout(
                f"{book.name}: does not fit layout {forced!r}{why} (sheets: {', '.join(s.name for s in book.sheets)}). "
                "Check the sheet names and header labels against the profile, or drop --layout to auto-detect; "
                f"see {LAYOUTS_DOC} for what each profile key does."
            )
        return forced, profiles[forced], mapped
    template = next((p for p in profiles.values() if p.template), None)
    instructions = book.sheet(F.INSTRUCTIONS_SHEET)
    if template and instructions and is_template(instructions.rows):
        mapped = map_with_profile(book, template, columns)
        if mapped:
            return template.name, template, mapped
    best: tuple[str, LayoutProfile, list[MappedSheet]] | None = None
    for name, profile in profiles.items():
        if profile.template:
            continue
        try:
            mapped = map_with_profile(book, profile, columns)
        except MissingColumns:
            continue
        if mapped and (
            best is None or sum(len(m.source_rows) > 0 for m in mapped) > sum(len(m.source_rows) > 0 for m in best[2])
        ):
            best = (name, profile, mapped)
    if best:
        return best
    mapped = detect_columns(book, columns)
    if not mapped:
        raise NoMatchingLayout(no_layout_message(book, profiles))
    return AUTO, None, mapped


# --- "no MI found": what was seen, and the nearest profile ----------------------------------------------
# These messages quote sheet names and header cells. They are built only after the file's cells were scanned
# for personal data (loaders/pipeline.py runs find_personal_values before detect_layout), so a flagged value
# never reaches them.


def no_layout_message(book: Workbook, profiles: dict[str, LayoutProfile]) -> str:
    """Why no layout fits: each sheet with the headers seen, the closest profile and why it did not match."""
    seen = "; ".join(_sheet_seen(sheet) for sheet in book.sheets) or "none"
    parts = [f"{book.name}: no sheet looks like wpmi MI. Sheets and the headers seen: {seen}."]
    closest = _closest_profile(book, profiles)
    if closest is not None:
        name, reasons = closest
        parts.append(f"Closest layout profile: {name} ({'; '.join(reasons)}).")
    elif profiles:
        parts.append("No layout profile comes close: none matches a sheet name or finds a column.")
    if profiles:
        parts.append(f"Known layouts: {', '.join(sorted(profiles))}.")
    parts.append(
        "Use the standard template (`wpmi template OUT.xlsx`), pass --layout NAME, "
        f"or see {LAYOUTS_DOC} to write a layout profile."
    )
    return " ".join(parts)


def _shown(value) -> str:
    text = " ".join(str(value).split())
    if kind_of(text):  # never reached after the personal-data scan; kept so no caller can quote one
        return "[withheld]"
    return text if len(text) <= SHOWN_HEADER_CHARS else text[: SHOWN_HEADER_CHARS - 3] + "..."


def _header_guess(sheet: SheetData) -> int | None:
    """The row most like a header: the most text cells in the top rows, the first such row on a tie."""
    best, best_count = None, 0
    for i, row in enumerate(sheet.rows[:MAX_HEADER_SCAN]):
        count = sum(isinstance(v, str) and bool(v.strip()) for v in row)
        if count > best_count:
            best, best_count = i, count
    return best


def _sheet_seen(sheet: SheetData) -> str:
    index = _header_guess(sheet)
    if index is None:
        return f"{sheet.name!r} (no text in its first {MAX_HEADER_SCAN} rows)"
    cells = [_shown(v) for v in sheet.rows[index] if v is not None and str(v).strip()]
    more = len(cells) - SHOWN_HEADERS
    listed = ", ".join(cells[:SHOWN_HEADERS]) + (f" and {more} more" if more > 0 else "")
    return f"{sheet.name!r} row {index + 1}: {listed}"


def _closest_profile(book: Workbook, profiles: dict[str, LayoutProfile]) -> tuple[str, list[str]] | None:
    """The profile that came nearest (most columns recognised, then most sheet names matched) and its misses;
    None if none matched a sheet name or found a column."""
    best: tuple[tuple[int, int], str, list[str]] | None = None
    for name in sorted(profiles):
        score, reasons = profile_misses(book, profiles[name])
        if reasons and score > (0, 0) and (best is None or score > best[0]):
            best = (score, name, reasons)
    return (best[1], best[2]) if best else None


def profile_misses(book: Workbook, profile: LayoutProfile, limit: int = 4) -> tuple[tuple[int, int], list[str]]:
    """How near a profile comes to a workbook, (columns recognised, sheet names matched), and why it does not
    map it: up to `limit` reasons, none if it fits."""
    columns = sheets_matched = 0
    reasons = []
    if profile.template:
        instructions = book.sheet(F.INSTRUCTIONS_SHEET)
        if not (instructions and is_template(instructions.rows)):
            reasons.append(f"no {F.INSTRUCTIONS_SHEET!r} sheet with the template title {F.TEMPLATE_MARKER!r} in A1")
    all_optional = not any(sp.required for sp in profile.sheets)
    for sp in profile.sheets:
        counts = sp.required or all_optional  # an optional sheet's miss matters only if no sheet is required
        pattern = re.compile(sp.sheet, re.IGNORECASE)
        candidates = [s for s in book.sheets if pattern.search(s.name)]
        if not candidates:
            if counts:
                reasons.append(f"its {sp.target} sheet pattern {sp.sheet!r} matches no sheet name")
            continue
        sheets_matched += 1
        matched, why = max((_sheet_fit(sheet, sp) for sheet in candidates), key=lambda fit: fit[0])
        columns += matched
        if why and counts:
            reasons.append(why)
    return (columns, sheets_matched), reasons[:limit]


def _sheet_fit(sheet: SheetData, sp: SheetProfile) -> tuple[int, str]:
    """How many of a sheet profile's columns one sheet has, and why the profile does not map it ("" if it does)."""
    if sp.wide:
        return _wide_fit(sheet, sp, sp.wide)
    if sp.groups_across:
        fits = map_groups_across(sheet, sp) is not None
        return (3 if fits else 0), "" if fits else (
            f"on sheet {sheet.name!r} no header row has a month column "
            f"({', '.join(sp.groups_across.month_column)}) and payment groups across the columns"
        )
    spec = sp.spec
    synonyms = _synonyms(spec, sp.columns)
    labels_needed = [normalise_label(x) for x in sp.header_labels]
    best: tuple[int, dict[str, int], list[str]] | None = None
    for i in range(sp.header_rows - 1, min(len(sheet.rows), MAX_HEADER_SCAN)):
        labels = _header_labels(sheet.rows, i, sp.header_rows)
        flat = {x for cands in labels for x in cands}
        absent = [r for r in labels_needed if not any(x == r or x.endswith(" " + r) for x in flat)]
        matched = _match_columns(labels, synonyms)
        if best is None or (len(matched), -len(absent)) > (len(best[1]), -len(best[2])):
            best = (i, matched, absent)
    where = f"on sheet {sheet.name!r}"
    if best is None or not best[1]:
        needed = ", ".join(repr(x) for x in sp.header_labels)
        return 0, (
            f"{where} none of its {sp.target} columns were found"
            + (f" (its header must contain {needed})" if needed else "")
        )
    index, matched, absent = best
    found = ", ".join(f"{f} ({_shown(_cell(sheet.rows[index], c))})" for f, c in matched.items())
    missing = [f for f in spec.required_fields if f not in matched]
    problems = []
    if missing:
        problems.append(f"not the required {', '.join(missing)}")
    if absent:
        problems.append(f"not the header label {', '.join(repr(x) for x in absent)}")
    if len(matched) < 2:
        problems.append(f"only {len(matched)} column was recognised (at least 2 are needed)")
    why = f"{where} row {index + 1} it found {found} but {', and '.join(problems)}" if problems else ""
    return len(matched), why


def _wide_fit(sheet: SheetData, sp: SheetProfile, wide: WideSpec) -> tuple[int, str]:
    measure_syns = {normalise_label(x) for x in wide.measure_column}
    group_syns = {normalise_label(x) for x in wide.group_column}
    has_measure = has_group = has_months = False
    for i in range(sp.header_rows - 1, min(len(sheet.rows), MAX_HEADER_SCAN)):
        labels = _header_labels(sheet.rows, i, sp.header_rows)
        flat = {x for cands in labels for x in cands}
        row_measure, row_group = bool(measure_syns & flat), bool(group_syns & flat)
        row_months = any(parse_month(v)[0] and not parse_month(v)[1] for v in sheet.rows[i] if v not in (None, ""))
        if row_measure and row_group and row_months:
            return 3, ""
        if row_measure + row_group + row_months > has_measure + has_group + has_months:
            has_measure, has_group, has_months = row_measure, row_group, row_months
    lacking = [
        what
        for what, present in (
            (f"a measure column ({', '.join(wide.measure_column)})", has_measure),
            (f"a payment group column ({', '.join(wide.group_column)})", has_group),
            ("months across the columns", has_months),
        )
        if not present
    ]
    return has_measure + has_group + has_months, (
        f"on sheet {sheet.name!r} no header row has {' and '.join(lacking)} for its {sp.target} months-across layout"
    )
