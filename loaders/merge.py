"""Several sheets of one aggregate return read as one table (an aggregate sent as one sheet per measure).

Each sheet is typed and checked on its own, so every problem names its own sheet, row and column; then the
records with the same key (month and payment group) are put together, a measure from each sheet. Two sheets
giving different values for the same measure of the same record is an error naming both cells' rows.
"""

from __future__ import annotations

from dashboard import fields as F
from loaders.errors import ERROR, Problem
from loaders.validation import TypedSheet

MERGED_TARGETS = (F.MONTHLY.name, F.PROJECTIONS.name)  # keyed by month and payment group, one measure per sheet


def merge_sheets(typed: list[TypedSheet], file: str) -> tuple[list[TypedSheet], list[Problem]]:
    """`typed` with the sheets of each aggregate target merged into one (others as they are), and the conflicts."""
    out: list[TypedSheet] = []
    problems: list[Problem] = []
    for target in dict.fromkeys(t.target for t in typed):
        sheets = [t for t in typed if t.target == target]
        if target not in MERGED_TARGETS or len(sheets) == 1:
            out.extend(sheets)
            continue
        merged, conflicts = _merge(sheets, F.SHEETS_BY_NAME[target], file)
        out.append(merged)
        problems.extend(conflicts)
    return out, problems


def _merge(sheets: list[TypedSheet], spec: F.Sheet, file: str) -> tuple[TypedSheet, list[Problem]]:
    names = [f.name for f in spec.fields]
    columns: dict[str, list] = {name: [] for name in names}
    rows: list[int] = []
    flags: dict[int, set] = {}
    where: dict[tuple, int] = {}  # key -> merged record index
    origin: dict[tuple[int, str], str] = {}  # (merged index, field) -> "sheet row n"
    problems: list[Problem] = []
    for sheet in sheets:
        for i in range(len(sheet.source_rows)):
            key = tuple(sheet.columns[k][i] for k in spec.key)
            if key not in where:
                where[key] = len(rows)
                rows.append(sheet.source_rows[i])
                for name in names:
                    columns[name].append(None)
            index = where[key]
            flags.setdefault(index, set()).update(sheet.flags.get(i, ()))
            for name in names:
                value = sheet.columns.get(name, [None] * len(sheet.source_rows))[i]
                if value is None:
                    continue
                here = f"sheet {sheet.sheet!r} row {sheet.source_rows[i]}"
                if columns[name][index] is not None and columns[name][index] != value and name not in spec.key:
                    problems.append(
                        Problem(
                            "conflicting_sheets",
                            ERROR,
                            f"{file}: {name} for {', '.join(map(str, key))} is {columns[name][index]} in "
                            f"{origin[(index, name)]} but {value} in {here}. Correct one of them.",
                            file,
                            sheet.sheet,
                            sheet.source_rows[i],
                        )
                    )
                    continue
                columns[name][index] = value
                origin.setdefault((index, name), here)
    label = " + ".join(s.sheet for s in sheets)
    merged = TypedSheet(spec.name, label, columns, rows, {i: f for i, f in flags.items() if f}, [])
    return merged, problems
