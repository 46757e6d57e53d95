"""Read .xlsx, .xlsm, .ods and .csv files into plain rows of cell values, refusing broken and hostile files.

python-calamine is the fast path for workbooks: it reads cached cell values only, so macros in .xlsm never
run and formulas give their last computed value. Merged header cells are filled across their range so a
two-row header reads the same whether or not the sender merged it.

Calamine trusts what it is given, so a workbook's zip package is inspected first by loaders/package.py
(sizes, encryption, DTDs, each sheet's extent, formulas and error cells); this module applies what that
finds, then reads. Limits come from loaders/limits.py.

Every failure is an UnreadableFile whose message starts with the file name and says what to do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import traceback
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine

from loaders.errors import UnreadableFile
from loaders.limits import Limits
from loaders.package import (
    EXCEL_FIX,
    UTF16_BOMS,
    column_name,
    damaged,
    defined_names,
    inspect_package,
    open_package,
    sheet_parts,
)

log = logging.getLogger("wpmi.readers")

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".ods"}
LEGACY_SUFFIXES = {".xls", ".xlsb"}  # binary formats whose sheets cannot be inspected before calamine reads them
CSV_SUFFIXES = {".csv", ".txt"}
READABLE_SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES
SUPPORTED_SUFFIXES = READABLE_SUFFIXES | LEGACY_SUFFIXES  # picked up from folders; legacy ones get a fix-it note
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
    defined_names: list[str] = field(default_factory=list)  # a workbook's named ranges, which a sender types too

    @property
    def name(self) -> str:
        return self.path.name

    def sheet(self, name: str) -> SheetData | None:
        return next((s for s in self.sheets if s.name == name), None)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- limits on a sheet ----------------------------------------------------------------------------------------


def check_extent(name: str, sheet: str, rows: int, columns: int, limits: Limits) -> None:
    """Refuse a sheet whose grid (as the reader would allocate it) is over the row, column or cell limits."""
    if rows > limits.max_rows:
        raise UnreadableFile(
            f"{name}: sheet {sheet!r} has {rows:,} rows, more than the {limits.max_rows:,} wpmi reads (limit "
            "WPMI_MAX_ROWS). Split the return into smaller files, or delete stray content far below the data, "
            "and send it again."
        )
    if columns > limits.max_columns:
        raise UnreadableFile(
            f"{name}: sheet {sheet!r} has {columns:,} columns, more than the {limits.max_columns:,} wpmi reads "
            "(limit WPMI_MAX_COLUMNS). Delete unused columns, or stray content far to the right of the data, and "
            "send it again."
        )
    if rows * columns > limits.max_cells:
        raise UnreadableFile(
            f"{name}: sheet {sheet!r} spans {rows:,} rows by {columns:,} columns, more than the "
            f"{limits.max_cells:,} cells wpmi reads (limit WPMI_MAX_CELLS). Delete stray content far below or to "
            "the right of the data, or split the return, and send it again."
        )


def check_cell_sizes(name: str, sheet: str, rows: list[list], limits: Limits) -> None:
    """Refuse a sheet with a text cell longer than the cell limit, naming the cell."""
    limit = limits.max_cell_chars
    texts = [v for row in rows for v in row if v.__class__ is str]
    if not texts or max(map(len, texts)) <= limit:
        return
    r, c = next(
        (r, c) for r, row in enumerate(rows) for c, v in enumerate(row) if v.__class__ is str and len(v) > limit
    )
    raise cell_too_long(name, sheet, r + 1, c + 1, len(rows[r][c]), limits)


def cell_too_long(name: str, sheet: str, row: int, column: int, length: int, limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"{name}: sheet {sheet!r} row {row} column {column_name(column)} holds {length:,} characters, more than "
        f"the {limits.max_cell_chars:,} a cell may hold (limit WPMI_MAX_CELL_CHARS). Shorten or remove that cell "
        "and send the file again."
    )


# --- workbooks ------------------------------------------------------------------------------------------------


def read_workbook_bytes(data: bytes, path: Path, limits: Limits | None = None) -> Workbook:
    """Inspect a workbook's package, then parse it with calamine; raise UnreadableFile with a fix-it note."""
    limits = limits or Limits.from_env()
    name, suffix = path.name, path.suffix.lower()
    package = open_package(data, name, suffix)
    try:
        found = inspect_package(package, data, name, suffix, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise damaged(name, suffix, exc) from exc
    parts = sheet_parts(package) if found.parts else {}
    errors: dict[str, list] = {}
    for member, scan in found.parts.items():
        sheet, hidden = parts.get(member, (member, True))
        if scan.extent:
            check_extent(name, sheet, *scan.extent, limits)
        if hidden:
            continue  # never read: neither its formulas nor its error cells matter
        if scan.bad_string:
            raise UnreadableFile(
                f"{name}: sheet {sheet!r} cell {scan.bad_string} points at a shared string that is not in the "
                f"workbook's string table, so its text cannot be known. {EXCEL_FIX}"
            )
        if scan.formula_gaps:
            raise UnreadableFile(
                f"{name}: sheet {sheet!r} cell {scan.formula_gaps[0]} holds a formula with no saved value: open the "
                "file in Excel, let it calculate, save, and send it again."
            )
        errors[sheet] = scan.errors
    count_chars = suffix == ".ods" or found.long_cells
    book = Workbook(path=path, sha256=file_sha256(data))
    book.defined_names = list(dict.fromkeys(defined_names(package) if suffix != ".ods" else found.defined_names))
    try:
        wb = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        _read_sheets(wb, book, errors, limits, count_chars)
    except UnreadableFile:
        raise
    except calamine.PasswordError as exc:
        raise UnreadableFile(
            f"{name}: the workbook is password-protected. Save a copy without a password and send that."
        ) from exc
    except Exception as exc:  # calamine raises several types for corrupt or foreign files
        raise UnreadableFile(
            f"{name}: cannot be read as a {path.suffix} workbook ({type(exc).__name__}: {str(exc)[:200]}). "
            "Check the file is a real Excel/ODS workbook, not renamed or damaged, and save it again."
        ) from exc
    if not book.sheets:
        if book.hidden_sheets:
            raise UnreadableFile(
                f"{name}: the workbook has no visible sheets (hidden sheets: "
                f"{', '.join(book.hidden_sheets)}). Unhide the data sheets and send it again."
            )
        raise UnreadableFile(f"{name}: the workbook has no sheets. Check it is the right file and send it again.")
    if not any(s.rows for s in book.sheets):
        raise UnreadableFile(
            f"{name}: the workbook is empty: its sheets ({', '.join(s.name for s in book.sheets)}) "
            "hold no cells. Check it is the right file, fill in the MI return and send it again."
        )
    return book


def _read_sheets(wb, book: Workbook, errors: dict[str, list], limits: Limits, count_chars: bool) -> None:
    """Visible worksheets into `book`, each checked against the limits before calamine builds its rows."""
    for meta in wb.sheets_metadata:
        if str(meta.visible).lower().endswith(("hidden", "veryhidden")):
            book.hidden_sheets.append(meta.name)
            continue
        if not str(meta.typ).lower().endswith("worksheet"):
            continue  # chart and dialog sheets hold no cells
        sheet = wb.get_sheet_by_name(meta.name)
        end = sheet.end
        if end is None:
            rows = []
        else:
            check_extent(book.name, meta.name, end[0] + 1, end[1] + 1, limits)
            rows = sheet.to_python(skip_empty_area=False)
        for r, c, text in errors.get(meta.name, ()):
            if r <= len(rows) and c <= len(rows[r - 1]) and rows[r - 1][c - 1] in ("", None):
                rows[r - 1][c - 1] = text  # calamine reads an error cell as blank: keep the '#REF!' visible
        if count_chars:
            check_cell_sizes(book.name, meta.name, rows, limits)
        _fill_merged(sheet, rows)
        book.sheets.append(SheetData(name=meta.name, rows=rows))


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


# --- CSV ------------------------------------------------------------------------------------------------------


def decode_csv(data: bytes, name: str) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), else Windows-1252; a file mixing the two is refused."""
    if data.startswith(UTF16_BOMS):
        raise UnreadableFile(
            f"{name}: is saved as UTF-16 ('Unicode text'), which wpmi does not read. Save it as "
            "'CSV UTF-8 (comma delimited)' and send it again."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if not data.decode("utf-8", "ignore").isascii():  # UTF-8 letters elsewhere: cp1252 would garble them
            raise UnreadableFile(
                f"{name}: mixes text encodings: some lines are UTF-8 but line {line} is not, so its accented "
                "letters cannot all be read correctly. Save the whole file as 'CSV UTF-8 (comma delimited)' and "
                "send it again."
            ) from exc
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnreadableFile(
            f"{name}: line {line} holds a character that is neither UTF-8 nor Windows-1252 text. "
            "Save the file as 'CSV UTF-8 (comma delimited)' and send it again."
        ) from exc


def read_csv_bytes(data: bytes, path: Path, limits: Limits | None = None) -> Workbook:
    """A CSV as a one-sheet workbook named after the file, checked against the limits row by row."""
    limits = limits or Limits.from_env()
    name, sheet = path.name, path.stem
    text = decode_csv(data, name)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UnreadableFile(
            f"{name}: contains binary data (line {line}), so it is not a CSV. Export the sheet as "
            "CSV and send it again."
        )
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    if csv.field_size_limit() <= len(text):
        csv.field_size_limit(len(text) + 1)  # process-wide and only ever raised: the cell limit is checked below
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[list] = []
    try:
        for row in reader:
            if len(rows) == limits.max_rows:
                check_extent(name, sheet, len(rows) + 1 + sum(1 for _ in reader), 1, limits)
            check_extent(name, sheet, 1, len(row), limits)
            if row and max(map(len, row)) > limits.max_cell_chars:
                c = next(c for c, v in enumerate(row) if len(v) > limits.max_cell_chars)
                raise cell_too_long(name, sheet, len(rows) + 1, c + 1, len(row[c]), limits)
            rows.append(row)
    except csv.Error as exc:
        detail = (
            "a value longer than a cell may hold, or a quote that is never closed"
            if "field larger than field limit" in str(exc)
            else str(exc)
        )
        raise UnreadableFile(
            f"{name}: line {reader.line_num} cannot be read as CSV ({detail}). Check the quotes on "
            "that line, save the file as CSV UTF-8 and send it again."
        ) from exc
    return Workbook(path=path, sha256=file_sha256(data), sheets=[SheetData(name=sheet, rows=rows)])


# --- any file -------------------------------------------------------------------------------------------------


def read_file(path: Path | str, data: bytes | None = None, limits: Limits | None = None) -> Workbook:
    """Read a supported file (from disk, or from `data` when it came by upload); raises only UnreadableFile."""
    path, limits = Path(path), limits or Limits.from_env()  # a bad WPMI_MAX_* setting raises ValueError here
    try:
        return _read_file(path, data, limits)
    except UnreadableFile:
        raise
    except MemoryError as exc:
        raise UnreadableFile(
            f"{path.name}: is too large to read in the memory available. Split the return into "
            "smaller files and send them again."
        ) from exc
    except Exception as exc:  # a fault in wpmi or a library: still a plain message, never a traceback
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.warning(
            "reading %s failed: %s at %s:%s", path.name, type(exc).__name__, Path(frame.filename).name, frame.lineno
        )  # no exception text: it could quote a cell
        raise UnreadableFile(
            f"{path.name}: cannot be read ({type(exc).__name__}). {EXCEL_FIX} If that fails too, "
            "send the file to the wpmi team."
        ) from exc


def _read_file(path: Path, data: bytes | None, limits: Limits) -> Workbook:
    name, suffix = path.name, path.suffix.lower()
    if suffix in LEGACY_SUFFIXES:
        raise UnreadableFile(
            f"{name}: is an old-style Excel {suffix} workbook, which wpmi does not open. Open it in "
            "Excel, save it as an Excel Workbook (.xlsx) and send that."
        )
    if suffix not in READABLE_SUFFIXES:
        raise UnreadableFile(
            f"{name}: wpmi reads {', '.join(sorted(READABLE_SUFFIXES))} files, not "
            f"{suffix or 'a file with no extension'}. Save it as .xlsx or .csv and send it again."
        )
    if data is None:
        try:
            size = path.stat().st_size
            if size > limits.max_file_bytes:
                raise too_big(name, size, limits)
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFile(
                f"{name}: cannot be read from disk ({exc.strerror}). Check the path and that you may read the file."
            ) from exc
    if not data:
        raise UnreadableFile(f"{name}: the file is empty.")
    if len(data) > limits.max_file_bytes:
        raise too_big(name, len(data), limits)
    if suffix in CSV_SUFFIXES:
        return read_csv_bytes(data, path, limits)
    return read_workbook_bytes(data, path, limits)


def too_big(name: str, size: int, limits: Limits) -> UnreadableFile:
    shown = f"{size / 1024:,.1f} KB" if size < 1024 * 1024 else f"{size / (1024 * 1024):,.1f} MB"
    return UnreadableFile(
        f"{name}: is {shown}, more than the {limits.max_file_mb:g} MB wpmi accepts (limit WPMI_MAX_FILE_MB). Split "
        "the return into smaller files, or ask the wpmi administrator to raise the limit."
    )
