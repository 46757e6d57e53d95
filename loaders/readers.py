"""Read .xlsx, .xlsm, .ods and .csv files into plain rows of cell values.

python-calamine is the fast path for workbooks: it reads cached cell values only, so macros in .xlsm never
run and formulas give their last computed value. Merged header cells are filled across their range so a
two-row header reads the same whether or not the sender merged it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine

from loaders.errors import UnreadableFile

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".ods", ".xls", ".xlsb"}
CSV_SUFFIXES = {".csv", ".txt"}
SUPPORTED_SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES
CSV_ENCODINGS = ("utf-8-sig", "cp1252")
HEADER_SCAN_ROWS = 40  # merged ranges are only filled in this many top rows: that is where headers live


@dataclass
class SheetData:
    """The cell values of one sheet: rows[0] is spreadsheet row 1."""

    name: str
    rows: list[list]
    hidden: bool = False


@dataclass
class Workbook:
    """A file's sheets in order, with its name and content hash."""

    path: Path
    sha256: str
    sheets: list[SheetData] = field(default_factory=list)
    hidden_sheets: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def sheet(self, name: str) -> SheetData | None:
        return next((s for s in self.sheets if s.name == name), None)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fill_merged(sheet, rows: list[list]) -> None:
    try:
        ranges = sheet.merged_cell_ranges or []
    except Exception:  # pragma: no cover - calamine raises for formats without merge info
        return
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= HEADER_SCAN_ROWS or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                if row[c] in ("", None):
                    row[c] = value


def read_workbook_bytes(data: bytes, path: Path) -> Workbook:
    """Parse workbook bytes with calamine; raise UnreadableFile with a fix-it note on failure."""
    book = Workbook(path=path, sha256=file_sha256(data))
    try:
        wb = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise UnreadableFile(
            f"{path.name}: the workbook is password-protected. Save a copy without a password and send that."
        ) from exc
    except Exception as exc:  # calamine raises several types for corrupt or foreign files
        raise UnreadableFile(
            f"{path.name}: cannot be read as a {path.suffix} workbook ({type(exc).__name__}: {exc}). "
            "Check the file is a real Excel/ODS workbook, not renamed or damaged, and save it again."
        ) from exc
    for meta in wb.sheets_metadata:
        hidden = str(getattr(meta, "visible", "")).lower().endswith(("hidden", "veryhidden"))
        if hidden:
            book.hidden_sheets.append(meta.name)
            continue
        sheet = wb.get_sheet_by_name(meta.name)
        rows = sheet.to_python(skip_empty_area=False)
        _fill_merged(sheet, rows)
        book.sheets.append(SheetData(name=meta.name, rows=rows))
    if not book.sheets:
        detail = f" (hidden sheets: {', '.join(book.hidden_sheets)})" if book.hidden_sheets else ""
        raise UnreadableFile(f"{path.name}: the workbook has no visible sheets{detail}. Unhide the data sheets.")
    return book


def decode_csv(data: bytes, name: str) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), else Windows-1252."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"{name}: not UTF-8 or Windows-1252 text. Save the CSV as UTF-8.")  # pragma: no cover


def read_csv_bytes(data: bytes, path: Path) -> Workbook:
    """A CSV as a one-sheet workbook named after the file."""
    text = decode_csv(data, path.name)
    if "\x00" in text:
        raise UnreadableFile(f"{path.name}: contains binary data, so it is not a CSV. Export the sheet as CSV.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [list(r) for r in csv.reader(io.StringIO(text), dialect)]
    return Workbook(path=path, sha256=file_sha256(data), sheets=[SheetData(name=path.stem, rows=rows)])


def read_file(path: Path | str, data: bytes | None = None) -> Workbook:
    """Read a supported file (from disk, or from `data` when it came by upload)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(
            f"{path.name}: wpmi reads {', '.join(sorted(SUPPORTED_SUFFIXES))} files, not {suffix or 'no extension'}."
        )
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"{path}: cannot be read ({exc.strerror}).") from exc
    if not data:
        raise UnreadableFile(f"{path.name}: the file is empty.")
    if suffix in CSV_SUFFIXES:
        return read_csv_bytes(data, path)
    return read_workbook_bytes(data, path)
