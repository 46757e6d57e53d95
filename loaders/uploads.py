"""Upload handling for the Data page: the same pipeline as `wpmi ingest`, plus cell previews for the report."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd

from loaders.errors import ERROR
from loaders.pipeline import IngestOptions, IngestResult, Ingestor
from loaders.readers import read_file
from loaders.template import write_template

PREVIEW_ROWS = 2  # rows either side of a bad cell


def ingest_upload(ingestor: Ingestor, name: str, data: bytes, options: IngestOptions) -> IngestResult:
    """Run one uploaded file through the loader (nothing touches disk but the database)."""
    return ingestor.ingest(Path(name), options, data=data, file_name=name)


def report_frame(result: IngestResult) -> pd.DataFrame:
    """One row per problem: severity, type, sheet, row, column, value, fix-it note."""
    rows = [{"severity": p.severity, "type": p.code, "sheet": p.sheet, "row": p.row, "column": p.column,
             "value": p.value, "what to do": p.message} for p in result.problems]
    return pd.DataFrame(rows, columns=["severity", "type", "sheet", "row", "column", "value", "what to do"])


def preview_around(name: str, data: bytes, sheet: str, row: int) -> pd.DataFrame | None:
    """The spreadsheet rows around `row` (1-based), as the sender sees them, for an error in a known cell."""
    try:
        book = read_file(Path(name), data)
    except Exception:  # the file could not be read at all: nothing to preview
        return None
    found = book.sheet(sheet)
    if found is None or row is None:
        return None
    start, end = max(0, row - 1 - PREVIEW_ROWS), min(len(found.rows), row + PREVIEW_ROWS)
    width = max((len(r) for r in found.rows[start:end]), default=0)
    frame = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in found.rows[start:end]],
                         index=range(start + 1, end + 1))
    frame.columns = [_letter(i) for i in range(width)]
    return frame.astype(str).replace({"None": "", "nan": ""})


def _letter(index: int) -> str:
    from loaders.layouts import column_letter

    return column_letter(index)


def first_errors(result: IngestResult, limit: int = 5):
    """The first few errors that point at a cell (for previews)."""
    return [p for p in result.problems if p.severity == ERROR and p.row and p.sheet][:limit]


def template_bytes() -> bytes:
    """The blank standard template as bytes, for the download button."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_template(Path(tmp) / "wpmi_template.xlsx")
        return path.read_bytes()


def to_buffer(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
