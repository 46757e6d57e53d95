"""What the Data page shows beside an upload's report: the sender's rows around a bad cell, and the blank template.

Ingesting, withdrawing and the report itself are loaders/service.py, shared with the CLI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from loaders.errors import ERROR, WITHHELD, Problem
from loaders.layouts import column_letter
from loaders.mapping import ColumnMapping, open_fields, profile_name, profile_toml
from loaders.pipeline import IngestResult
from loaders.sandbox import read_untrusted
from loaders.template import write_template

PREVIEW_ROWS = 2  # rows either side of a bad cell
PREVIEW_ERRORS = 5  # errors that get a preview, in report order


def cell_previews(name: str, data: bytes, result: IngestResult) -> list[tuple[Problem, pd.DataFrame]]:
    """The first few errors that point at a cell, each with the rows around it as the sender sees them.

    An error whose value was withheld as personal data gets no preview: its cell is never shown, not even to
    the sender.
    """
    located = [p for p in result.problems if p.severity == ERROR and p.row and p.sheet][:PREVIEW_ERRORS]
    located = [p for p in located if p.value != WITHHELD]
    if not located:
        return []
    try:
        book = read_untrusted(Path(name), data)
    except Exception:  # the file could not be read at all: nothing to preview
        return []
    previews = []
    for problem in located:
        found = book.sheet(problem.sheet)
        if found is not None and problem.row:
            previews.append((problem, _rows_around(found.rows, problem.row)))
    return previews


def _rows_around(rows: list, row: int) -> pd.DataFrame:
    """Spreadsheet rows `row` (1-based) +- PREVIEW_ROWS, indexed by row number, columns by letter."""
    start, end = max(0, row - 1 - PREVIEW_ROWS), min(len(rows), row + PREVIEW_ROWS)
    width = max((len(r) for r in rows[start:end]), default=0)
    frame = pd.DataFrame(
        [list(r) + [None] * (width - len(r)) for r in rows[start:end]], index=range(start + 1, end + 1)
    )
    frame.columns = [column_letter(i) for i in range(width)]
    return frame.astype(str).replace({"None": "", "nan": ""})


__all__ = ["cell_previews", "mapping_frame", "open_fields", "profile_name", "profile_toml", "template_bytes"]


def mapping_frame(columns: list[ColumnMapping]) -> pd.DataFrame:
    """How each source column was mapped, as the Data page's table shows it."""
    return pd.DataFrame(
        [
            {
                "sheet": c.sheet,
                "read as": c.target,
                "column in the file": c.source,
                "wpmi field": c.field or "(not used)",
                "matched by": c.how,
                "sample values": ", ".join(c.samples),
            }
            for c in columns
        ]
    )


def template_bytes() -> bytes:
    """The blank standard template as bytes, for the download button."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_template(Path(tmp) / "wpmi_template.xlsx").read_bytes()
