"""Inspect a .xlsx, .xlsm or .ods zip package, without extracting it, before calamine is allowed to read it.

Calamine trusts what it is given, so each part is streamed once and checked: sizes (declared, then actual
bytes inflated against a running cap, which stops a zip bomb), encryption, DTDs and entities, and each
sheet's extent, formulas without saved values and error cells. The extent matters most: one cell reference
far out in the grid makes calamine allocate the whole grid and abort the process, so it is bounded before
calamine sees a sheet. `QuickScan` does that with a few regex searches per chunk as the sheet streams past,
for cells that carry plain references (as Excel, LibreOffice and openpyxl write them); `ExactSheetScan`, an
expat parse, takes over for anything else (cells without references, namespace prefixes, odd spacing) and
for sheets whose extent may be over the limits, so a rejection quotes exact numbers. Limits come from
loaders/limits.py; loaders/readers.py applies what is found here and does the reading.
"""

from __future__ import annotations

import codecs
import functools
import io
import itertools
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.parsers import expat

from loaders.errors import UnreadableFile
from loaders.limits import Limits

CHUNK = 64 * 1024  # zip members are inflated and scanned in pieces this size
MAX_PARTS = 10_000  # a real workbook has tens of parts, hundreds with many images
SMALL_PART = 16 << 20  # xl/workbook.xml and its relationships are parsed whole only below this size
ELEMENT_CAP = 1 << 20  # one cell's XML above this goes to the exact parse instead of being carried over
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound file: encrypted OOXML, or a legacy .xls
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}  # all that Excel and LibreOffice write
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
MAX_WIDENINGS = 2  # rescans of a sheet found wider than first thought (its header row is usually the widest)
LETTERS, DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
EXCEL_FIX = "Open the file in Excel, save a new copy and send that."

_SPACE = re.compile(rb"[ \t\r\n]*")
_FORMULA = re.compile(rb"<f[\s>/]")  # a formula element (not <formula1> of a data validation)
_PREFIXED = re.compile(rb":(?:c|f|si)[\s>/]")  # namespace-prefixed cells, formulas, strings: the exact parse copes
_QUOTED_E = re.compile(rb'"e"')  # regexes with a literal prefix search faster than `in` over XML
_CELL_REF = re.compile(rb'r="([A-Z]+)(\d+)"')
_PLAIN_REF = re.compile(rb'<c\sr="([A-Z]{1,3})([1-9]\d{0,6})"')  # a cell opening with a plain reference
_PLAIN_COLUMN = re.compile(rb'<c\sr="([A-Z]{1,3})[1-9]')
_VALUE = re.compile(rb"<v(?:\s[^>]*)?>[^<]")  # a <v> with text: a saved value
_TYPE_STR = re.compile(rb'\st\s*=\s*["\']str["\']')
_T_ATTR_BEFORE = re.compile(rb"\st\s*=\s*$")
_V_TEXT = re.compile(rb"<v(?:\s[^>]*)?>([^<]*)</v>")
_REF_PARTS = re.compile(r"([A-Za-z]*)(\d*)")
_ODS_ERROR = re.compile(rb'value-type="error"')
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s>/]")  # one entry of the shared-string table
_UNIQUE_COUNT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sst\s[^>]*?\buniqueCount\s*=\s*[\"'](\d+)[\"']")
_ODS_TABLE_NAME = re.compile(rb'<table:table\s[^>]*?table:name="([^"]*)"')
_ODS_NAMED = re.compile(rb'<table:named-(?:range|expression)\s[^>]*?table:name="([^"]*)"')


def column_name(number: int) -> str:
    """Spreadsheet column letters of a 1-based column number (1 -> A, 27 -> AA)."""
    letters = ""
    while number > 0:
        number, rem = divmod(number - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str) -> int:
    """The 1-based column number of spreadsheet column letters (A -> 1, AA -> 27)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


# --- cell references in the XML -------------------------------------------------------------------------------


def _at_most(text: str, alphabet: str) -> str:
    """A regex alternation for the column letters (or row numbers, no leading zeros) up to `text`."""
    first = alphabet[1] if alphabet == DIGITS else alphabet[0]
    any_ = f"[{alphabet[0]}-{alphabet[-1]}]"
    options = [f"[{first}-{alphabet[-1]}]{any_}{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    for i, ch in enumerate(text):  # as long, and smaller at the first difference
        low = first if i == 0 else alphabet[0]
        if ch > low:
            rest = f"{any_}{{{len(text) - i - 1}}}" if i < len(text) - 1 else ""
            options.append(f"{text[:i]}[{low}-{alphabet[alphabet.index(ch) - 1]}]{rest}")
    return "|".join([*options, text])


@functools.lru_cache(maxsize=1024)
def refs_beyond(rows: int, columns: int) -> re.Pattern:
    """A regex for any cell start that is not a plain reference within `rows` rows and `columns` columns."""
    plain = f'r="(?:{_at_most(column_name(columns), LETTERS)})(?:{_at_most(str(rows), DIGITS)})"'.encode()
    return re.compile(rb"<c(?:[>/]|\s(?!" + plain + rb"))")


@functools.lru_cache(maxsize=64)
def bad_string_index(strings: int) -> re.Pattern:
    """A regex for a text cell whose <v> is not an index into a table of `strings` shared strings. calamine
    reads an index it cannot parse (-1, 2**64, 1.5) as 0, so such a cell would silently show the wrong text."""
    valid = "0" + (f"|{_at_most(str(strings - 1), DIGITS)}" if strings > 1 else "")
    if strings == 0:
        valid = "(?!)"  # no table: no index is valid
    return re.compile(rb'<c\s[^>]*?\st="s"[^>]*>\s*<v>(?!(?:' + valid.encode() + rb")</v>)")


# --- the XML parts of a workbook, scanned as they stream past ------------------------------------------------


@dataclass
class PartScan:
    """What the scans found in one zip member."""

    exact_needed: bool = False  # the quick scan could not vouch for this part
    exact: bool = False  # parsed exactly
    extent: tuple[int, int] | None = None  # (rows, columns), from the exact parse
    formula_gaps: list[str] = field(default_factory=list)  # cells with a formula and no saved value ("B7")
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, "#REF!"), 1-based
    has_text: bool = False  # holds cells or shared strings
    long_gap: bool = False  # somewhere half the cell limit passes without a cell or shared string starting
    bad_string: str | None = None  # the first text cell ("B7") whose shared-string index is not in the table


class QuickScan:
    """Cheap checks on an XML part, fed in chunks. Each region scanned ends just before a '<', and a cell
    (<c>) or shared string (<si>) is carried over whole, so no tag is split and every cell is seen whole.

    No cell's text can be longer than its XML, so if every stretch of half the cell limit in a part holds the
    start of a cell or shared string, no cell is over the limit and nobody need count characters."""

    def __init__(self, limits: Limits, columns: int | None = None, strings: int = 0):
        self.limits = limits
        self.bad_index = bad_string_index(strings)
        self.window = max(1, limits.max_cell_chars // 2)
        # The grid a plain reference must fall in: 26 columns to begin with (a sheet with more is scanned again
        # with its own width), and as many rows as the row and cell limits then allow.
        self.columns = columns or min(limits.max_columns, 26)
        self.rows = min(limits.max_rows, limits.max_cells // self.columns)
        self.wider: int | None = None  # set when a row is wider than the grid: scan again this wide
        self.carry = b""
        self.scan = PartScan()

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self.scan.exact_needed or self.wider:
            return
        buf = self.carry + chunk
        cut = len(buf) if final else buf.rfind(b"<")
        if 0 < cut < len(buf):
            for start, end in ((b"<c", b"</c>"), (b"<si", b"</si>")):
                open_at = buf.rfind(start, 0, cut)
                if open_at >= 0 and buf.find(end, open_at, cut) < 0:
                    cut = open_at  # keep it whole: its formula and value, or all its text, are seen together
        elif cut < 0:
            cut = len(buf)
        region, self.carry = buf[:cut], buf[cut:]
        self._gaps(region)
        if len(self.carry) > ELEMENT_CAP or _PREFIXED.search(region) or not self._within_grid(region):
            self.scan.exact_needed = True
        if self.scan.exact_needed or self.wider:
            return
        if _FORMULA.search(region):
            self._formulas(region)
        if _QUOTED_E.search(region) or (b"'" in region and b"'e'" in region):
            self._errors(region)
        if self.scan.bad_string is None and (bad := self.bad_index.search(region)):
            ref = _CELL_REF.search(region, bad.start(), bad.end())
            self.scan.bad_string = (ref.group(1) + ref.group(2)).decode() if ref else "?"

    def _within_grid(self, region: bytes) -> bool:
        """False if a cell is not plain, or is outside the grid for a reason other than the sheet's width."""
        found = refs_beyond(self.rows, self.columns).search(region)
        if not found:
            return True
        plain = _PLAIN_REF.match(region, found.start())
        if not plain or column_number(plain.group(1).decode()) <= self.columns:
            return False  # not plain, or a row beyond what the limits allow: the exact parse counts
        widest = max(column_number(c.decode()) for c in _PLAIN_COLUMN.findall(region))
        if widest > self.limits.max_columns:
            return False
        self.wider = widest
        return True

    def _gaps(self, region: bytes) -> None:
        scan, w = self.scan, self.window
        if not scan.has_text:
            scan.has_text = b"<c " in region or b"<si" in region
        for k in range(0, len(region) - w + 1, w):
            if region.find(b"<c ", k, k + w) < 0 and region.find(b"<si", k, k + w) < 0:
                scan.long_gap = True
                return

    def _formulas(self, region: bytes) -> None:
        for m in _FORMULA.finditer(region):
            start, end = region.rfind(b"<c", 0, m.start()), region.find(b"</c>", m.end())
            if start < 0 or end < 0 or region.find(b"</c>", start, m.start()) >= 0:
                continue  # not inside a cell: calamine ignores it too
            cell = region[start:end]
            tag = cell[: cell.find(b">") + 1]
            if _VALUE.search(cell) or (_TYPE_STR.search(tag) and b"<v" in cell):
                continue  # a saved value (an empty one only for a text formula)
            ref = _CELL_REF.search(tag)
            self.scan.formula_gaps.append((ref.group(1) + ref.group(2)).decode() if ref else "?")

    def _errors(self, region: bytes) -> None:
        for quoted in (b'"e"', b"'e'"):
            pos = region.find(quoted)
            while pos >= 0:
                start = region.rfind(b"<", 0, pos)
                if region.startswith(b"<c", start) and _T_ATTR_BEFORE.search(region, start, pos):
                    tag_end, close = region.find(b">", pos), region.find(b"</c>", pos)
                    ref = _CELL_REF.search(region, start, tag_end)
                    own = region[tag_end - 1] != 47 and region.find(b"<c", tag_end, close) < 0  # not <c .../>
                    text = _V_TEXT.search(region, tag_end, close) if own else None
                    if ref and text and text.group(1):
                        self.scan.errors.append(
                            (
                                int(ref.group(2)),
                                column_number(ref.group(1).decode()),
                                text.group(1).decode("utf-8", "replace"),
                            )
                        )
                pos = region.find(quoted, pos + 3)


class ExactSheetScan:
    """A streaming parse of a worksheet that places every cell as calamine does (expat, DTDs refused)."""

    def __init__(self, strings: int = 0):
        self.scan = PartScan()
        self.strings = strings
        self.row = self.col = self.max_row = self.max_col = 0
        self.cell: dict | None = None
        self.in_value = False
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartDoctypeDeclHandler = self.parser.EntityDeclHandler = self._refuse

    def feed(self, chunk: bytes, final: bool = False) -> None:
        self.parser.Parse(chunk, final)
        if final:
            self.scan.extent = (self.max_row, self.max_col)

    @staticmethod
    def _refuse(*_):
        raise ValueError("a DTD inside the sheet")

    def _start(self, name: str, attrs: dict) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            r = attrs.get("r", "")
            self.row, self.col = (int(r) if r.isdigit() else self.row + 1), 0
        elif local == "c":
            row, col = self.row, self.col + 1  # a cell without a reference follows the one before it
            ref = attrs.get("r")
            if ref is not None:
                m = _REF_PARTS.fullmatch(ref)
                if not m or not m.group(2):
                    raise ValueError("a cell reference is not valid")  # not quoted: it could be anything
                row, col = int(m.group(2)), column_number(m.group(1)) or col
            self.col = col
            self.cell = {"row": row, "col": col, "t": attrs.get("t", "n"), "f": False, "v": None, "is": False}
        elif self.cell is not None:
            if local == "f":
                self.cell["f"] = True
            elif local == "v":
                self.cell["v"], self.in_value = [], True
            elif local == "is":
                self.cell["is"] = True

    def _text(self, data: str) -> None:
        if self.in_value:
            # Only a <c> opened inside this <v> (never in a real workbook) leaves no cell, or no value, to add to.
            if self.cell is None or self.cell["v"] is None:
                raise ValueError("a cell inside a cell's value")
            self.cell["v"].append(data)

    def _end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "v":
            self.in_value = False
        elif local == "c" and self.cell is not None:
            cell, self.cell = self.cell, None
            text = "".join(cell["v"]) if cell["v"] is not None else None
            if text is not None or cell["is"]:  # calamine keeps this cell, so it counts towards the extent
                self.max_row, self.max_col = max(self.max_row, cell["row"]), max(self.max_col, cell["col"])
            if cell["f"] and not text and not (cell["t"] == "str" and text is not None):
                self.scan.formula_gaps.append(f"{column_name(cell['col'])}{cell['row']}")
            if cell["t"] == "e" and text:
                self.scan.errors.append((cell["row"], cell["col"], text))
            valid_index = text is not None and text.isascii() and text.isdigit() and int(text) < self.strings
            if cell["t"] == "s" and text is not None and not valid_index and self.scan.bad_string is None:
                self.scan.bad_string = f"{column_name(cell['col'])}{cell['row']}"


def dtd_in_prolog(head: bytes) -> bool | None:
    """True if an XML part declares a DTD before its root element; None if no root element is in `head`."""
    if head.startswith(UTF16_BOMS):
        head = head.decode("utf-16", "replace").encode()
    pos = 3 if head.startswith(codecs.BOM_UTF8) else 0
    while True:
        space = _SPACE.match(head, pos)
        assert space is not None, "_SPACE matches the empty string, so it matches at any position"
        pos = space.end()
        if pos >= len(head):
            return None
        close = b"?>" if head.startswith(b"<?", pos) else b"-->" if head.startswith(b"<!--", pos) else None
        if close is None:
            return head.startswith(b"<!", pos)
        end = head.find(close, pos + 2)
        if end < 0:
            return None
        pos = end + len(close)


def ods_error_sheet(chunk: bytes, table: str) -> tuple[str | None, str]:
    """(sheet holding an error cell or None, the last sheet name seen) for a piece of an ODS content.xml."""
    hit = _ODS_ERROR.search(chunk)
    end = hit.start() if hit else len(chunk)
    names = _ODS_TABLE_NAME.findall(chunk, 0, end)
    if names:
        table = names[-1].decode("utf-8", "replace")
    return (table if hit else None), table


# --- the zip package ------------------------------------------------------------------------------------------


@dataclass
class PackageScan:
    """The scans of a workbook's parts that found something, and whether any cell might be over the limit."""

    parts: dict[str, PartScan] = field(default_factory=dict)
    long_cells: bool = False  # a part could hold a cell longer than the limit (or was parsed exactly)
    defined_names: list[str] = field(default_factory=list)  # an .ods file's named ranges (xlsx: defined_names())


def _what_it_looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith(b"%pdf"):
        return " (it looks like a PDF)"
    if head.startswith((b"<!doctype html", b"<html")):
        return " (it looks like a web page)"
    if head.startswith(b"<"):
        return " (it looks like an XML file)"
    if head and sum(32 <= b < 127 or b in b"\t\r\n" for b in head) > 0.95 * len(head):
        return " (it looks like a text or CSV file)"
    return ""


def open_package(data: bytes, name: str, suffix: str) -> zipfile.ZipFile:
    """The workbook's zip package, or an UnreadableFile saying what the bytes are instead."""
    if data.startswith(CFB_MAGIC):
        if ENCRYPTED_PACKAGE in data:
            raise UnreadableFile(
                f"{name}: the workbook is password-protected (Excel has encrypted it), so wpmi cannot read it. "
                "Save a copy without a password and send that."
            )
        raise UnreadableFile(
            f"{name}: is an old-style Excel .xls workbook saved with a {suffix} name. Open it in Excel, save it as "
            "an Excel Workbook (.xlsx) and send that."
        )
    if not data.startswith(b"PK"):
        raise UnreadableFile(
            f"{name}: cannot be read as a {suffix} workbook: it is not a real {suffix} workbook (it is not a zip "
            f"package); it may be a renamed file{_what_it_looks_like(data)}. Open it in Excel, check it is the "
            "right file, not renamed or damaged, and save it again."
        )
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise damaged(name, suffix, exc) from exc
    if len(members) > MAX_PARTS:
        raise UnreadableFile(
            f"{name}: the workbook package has {len(members):,} parts, far more than any real workbook. {EXCEL_FIX}"
        )
    if any(i.flag_bits & 0x1 for i in members):
        raise UnreadableFile(
            f"{name}: the workbook is password-protected (its zip package is encrypted). Save a "
            "copy without a password and send that."
        )
    bad = next((i.filename for i in members if i.compress_type not in ZIP_METHODS), None)
    if bad:
        raise UnreadableFile(
            f"{name}: part {bad!r} of the workbook is compressed in a way Excel never uses. {EXCEL_FIX}"
        )
    return package


def damaged(name: str, suffix: str, exc: Exception) -> UnreadableFile:
    return UnreadableFile(
        f"{name}: the {suffix} workbook is damaged or incomplete (its zip package is broken: {exc}); it may have "
        "been cut short on the way. Send it again; if this happens again, open it in Excel, save a new copy and "
        "send that."
    )


def too_big_unpacked(name: str, limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"{name}: expands to more than {limits.max_decompressed_mb:g} MB when unpacked (a zip bomb or an oversized "
        "workbook); limit WPMI_MAX_DECOMPRESSED_MB. Send a smaller file (split the return), or ask the wpmi "
        "administrator to raise the limit if the file is genuine."
    )


def stream_member(data: bytes, info: zipfile.ZipInfo, budget: list[int], name: str, limits: Limits):
    """A member's actual bytes, inflated chunk by chunk and charged to the shared budget, which stops a zip bomb
    as soon as it is spent. The inflater does not trust the declared size (zipfile would stop there, where
    calamine might not): a member that unpacks to more or less than it declares, or fails its CRC, is damaged."""
    header = data[info.header_offset : info.header_offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"part {info.filename!r} has no local header")
    start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) < info.compress_size:
        raise zipfile.BadZipFile(f"part {info.filename!r} is cut short")
    if info.compress_type == zipfile.ZIP_STORED:
        pieces = (bytes(raw[i : i + CHUNK]) for i in range(0, len(raw), CHUNK))
    else:
        pieces = _inflate(raw)
    size = crc = 0
    for piece in pieces:
        size += len(piece)
        budget[0] -= len(piece)
        if budget[0] < 0:
            raise too_big_unpacked(name, limits)
        crc = zlib.crc32(piece, crc)
        yield piece
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(
            f"part {info.filename!r} unpacks to {size:,} bytes, not the {info.file_size:,} it "
            "declares, or fails its checksum"
        )


def _inflate(raw: memoryview):
    """Raw deflate data, inflated at most CHUNK bytes at a time (so one call can never blow up)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for i in range(0, len(raw), CHUNK):
        piece = inflater.decompress(raw[i : i + CHUNK], CHUNK)
        while piece:
            yield piece
            piece = inflater.decompress(inflater.unconsumed_tail, CHUNK) if inflater.unconsumed_tail else b""
        if inflater.eof:
            return
    if tail := inflater.flush():
        yield tail


def inspect_package(package: zipfile.ZipFile, data: bytes, name: str, suffix: str, limits: Limits) -> PackageScan:
    """Stream every member once (nothing is extracted) and return what the scans found."""
    members = [i for i in package.infolist() if not i.is_dir()]
    if sum(i.file_size for i in members) > limits.max_decompressed_bytes:
        raise too_big_unpacked(name, limits)
    # The shared-string table first: the sheets' text cells are checked against the number of strings it holds.
    members.sort(key=lambda i: not _is_shared_strings(i.filename))
    budget, found, strings = [limits.max_decompressed_bytes], PackageScan(), 0
    for info in members:
        chunks = stream_member(data, info, budget, name, limits)
        first = next(chunks, b"")
        if not (first.startswith(UTF16_BOMS) or first.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] == b"<"):
            for _ in chunks:  # not XML, but inflated all the same: the cap and the CRC check see every byte
                pass
            continue
        if dtd_in_prolog(first) is not False:
            raise UnreadableFile(
                f"{name}: part {info.filename!r} contains an XML document type declaration (<!DOCTYPE or "
                "<!ENTITY), which real workbooks never have and which can hide an entity-expansion ('billion "
                f"laughs') attack. {EXCEL_FIX}"
            )
        if suffix == ".ods":
            table, tail = "", b""
            for chunk in itertools.chain([first], chunks):
                found.defined_names += [n.decode("utf-8", "replace") for n in _ODS_NAMED.findall(tail + chunk)]
                sheet, table = ods_error_sheet(tail + chunk, table)
                tail = chunk[-256:]  # so a marker split between two chunks is still seen
                if sheet is not None:
                    raise UnreadableFile(
                        f"{name}: sheet {sheet!r} holds formula error values (such as #DIV/0! or #REF!), which "
                        "cannot be read correctly from an .ods file. Fix the formulas (or paste the values), save, "
                        "and send it again."
                    )
            continue
        string_table = SharedStringCount(name, info.filename) if _is_shared_strings(info.filename) else None
        quick = QuickScan(limits, strings=strings)
        quick.scan.exact_needed = b"\x00" in first[:4] or first.startswith(UTF16_BOMS)  # UTF-16: leave to expat
        for chunk in itertools.chain([first], chunks):  # every chunk, even once the scan is done: the cap and
            quick.feed(chunk)  # the CRC check must see all of them
            if string_table:
                string_table.feed(chunk)
        quick.feed(b"", final=True)
        if string_table:
            strings = string_table.count()
        for _ in range(MAX_WIDENINGS):
            if not quick.wider:
                break
            quick = QuickScan(limits, quick.wider, strings)
            for chunk in stream_member(data, info, [limits.max_decompressed_bytes], name, limits):
                quick.feed(chunk)
            quick.feed(b"", final=True)
        exact = quick.scan.exact_needed or quick.wider
        scan = scan_exactly(data, info, name, limits, strings) if exact else quick.scan
        found.long_cells |= scan.exact or (scan.has_text and scan.long_gap)
        if scan.exact or scan.formula_gaps or scan.errors or scan.bad_string:
            found.parts[info.filename] = scan
    return found


def _is_shared_strings(member: str) -> bool:
    return posixpath.basename(member).lower() == "sharedstrings.xml"


class SharedStringCount:
    """The entries a shared-string table really holds, fed in chunks; `count` refuses a table that declares more:
    calamine reserves memory for the declared number before reading any, so a 2 KB file declaring four billion
    asks for 96 GB and aborts the process."""

    def __init__(self, name: str, member: str):
        self.name, self.member = name, member
        self.declared: int | None = None
        self.entries, self.carry = 0, b""

    def feed(self, chunk: bytes) -> None:
        buf = self.carry + chunk
        if self.declared is None and (found := _UNIQUE_COUNT.search(buf, 0, 4096)):
            self.declared = int(found.group(1))
        cut = buf.rfind(b"<")  # no tag is split: the part after the last '<' waits for the next chunk
        if cut < 0 or (cut == 0 and len(buf) > 64):  # a tag's name is in its first bytes: count it whole
            cut = len(buf)
        self.entries += len(_SHARED_STRING.findall(buf, 0, cut))
        self.carry = buf[cut:]

    def count(self) -> int:
        self.entries += len(_SHARED_STRING.findall(self.carry + b" "))
        self.carry = b""
        if self.declared is not None and self.declared > self.entries:
            raise UnreadableFile(
                f"{self.name}: part {self.member!r} declares {self.declared:,} shared strings but holds "
                f"{self.entries:,}, which no spreadsheet program writes (a file built to exhaust memory). {EXCEL_FIX}"
            )
        return self.entries


def scan_exactly(data: bytes, info: zipfile.ZipInfo, name: str, limits: Limits, strings: int = 0) -> PartScan:
    """The expat parse of a part the quick scan could not vouch for."""
    exact = ExactSheetScan(strings)
    try:
        for chunk in stream_member(data, info, [limits.max_decompressed_bytes], name, limits):
            exact.feed(chunk)
        exact.feed(b"", final=True)
    except (expat.ExpatError, ValueError) as exc:
        raise UnreadableFile(
            f"{name}: part {info.filename!r} of the workbook is damaged (its XML is not well "
            f"formed: {exc}). {EXCEL_FIX}"
        ) from exc
    exact.scan.exact = True
    return exact.scan


def sheet_parts(package: zipfile.ZipFile) -> dict[str, tuple[str, bool]]:
    """Worksheet member -> (sheet name, hidden), from xl/workbook.xml and its relationships."""
    book_part, rels_part = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
    try:
        if max(package.getinfo(book_part).file_size, package.getinfo(rels_part).file_size) > SMALL_PART:
            return {}
        book, rels = ET.fromstring(package.read(book_part)), ET.fromstring(package.read(rels_part))
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter() if r.tag.endswith("Relationship")}
    parts = {}
    for sheet in book.iter():
        if sheet.tag.rpartition("}")[2] != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.rpartition("}")[2] == "id"), None)
        target = targets.get(rid, "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts[member] = (sheet.get("name", member), sheet.get("state", "visible") != "visible")
    return parts


def defined_names(package: zipfile.ZipFile) -> list[str]:
    """The names a .xlsx workbook defines (named ranges), which its sender typed like any cell."""
    try:
        if package.getinfo("xl/workbook.xml").file_size > SMALL_PART:
            return []
        book = ET.fromstring(package.read("xl/workbook.xml"))
    except (KeyError, ET.ParseError):
        return []
    return [e.get("name", "") for e in book.iter() if e.tag.rpartition("}")[2] == "definedName"]
