"""A corpus of broken and hostile MI files, each built by code in a temporary folder at test time.

Nothing binary is committed: every file is written here from its recipe, so a case can be read, changed
and reviewed as code. `CASES` lists what wpmi must do with each file and the message the sender must see;
tests/test_hostile_files.py runs every one through the real loader.
"""

from __future__ import annotations

import csv
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

from loaders.readers import column_name

EXCEL_DAY_ZERO = date(1899, 12, 30)
PARTICIPANT_COLUMNS = [
    "participant_ref",
    "payment_group",
    "referral_date",
    "attachment_date",
    "job_start_date",
    "job_outcome_date",
    "exit_date",
]
MONTHLY_COLUMNS = ["month", "payment_group", "referrals", "attachments", "job_starts", "job_outcomes"]
CONTACT_COLUMNS = ["participant_ref", "contact_date", "mode"]
FORMULA_INJECTIONS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1:A2)")


def journeys(n: int = 3) -> list[list]:
    """`n` clean participant rows (wpmi column order), referred from 3 January 2013 and attached a week later."""
    first = date(2013, 1, 2)
    return [
        [f"P{i:04d}", "PG1", first + timedelta(days=i % 60), first + timedelta(days=i % 60 + 8), None, None, None]
        for i in range(1, n + 1)
    ]


# --- cells and sheets written as raw SpreadsheetML, for what openpyxl will not write ----------------------


@dataclass(frozen=True)
class Formula:
    """A formula cell; `cached` is the value Excel saved with it (None: never calculated)."""

    expr: str
    cached: object = None


@dataclass(frozen=True)
class ErrorCell:
    """A cell holding a formula error such as #REF!, as Excel saves it."""

    text: str


@dataclass(frozen=True)
class Raw:
    """A cell's XML exactly as given (for malformed or hostile cells)."""

    xml: str


def _serial(day: date) -> int:
    return (day - EXCEL_DAY_ZERO).days


def cell_xml(ref: str, value) -> str:
    if isinstance(value, Raw):
        return value.xml
    if isinstance(value, ErrorCell):
        return f'<c r="{ref}" t="e"><v>{escape(value.text)}</v></c>' if value.text else f'<c r="{ref}" t="e"/>'
    if isinstance(value, Formula):
        cached = value.cached
        if cached is None:
            return f'<c r="{ref}"><f>{escape(value.expr)}</f><v></v></c>'
        if isinstance(cached, str):
            return f'<c r="{ref}" t="str"><f>{escape(value.expr)}</f><v>{escape(cached)}</v></c>'
        number = _serial(cached) if isinstance(cached, date) else cached
        return f'<c r="{ref}"><f>{escape(value.expr)}</f><v>{number}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"><v>{_serial(value)}</v></c>'  # a serial number: wpmi reads these as dates
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def sheet_xml(rows: list[list], prolog: str = "") -> str:
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{column_name(c)}{r}", v) for c, v in enumerate(row, start=1) if v is not None)
        body.append(f'<row r="{r}">{cells}</row>')
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )


def raw_xlsx(
    path: Path, sheets: list[tuple[str, str]], hidden: tuple[str, ...] = (), extra: dict[str, bytes] | None = None
) -> Path:
    """A minimal but valid .xlsx package: (sheet name, sheet XML) pairs, in order."""
    ns = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    sheet_list = "".join(
        f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"'
        f"{' state=' + chr(34) + 'hidden' + chr(34) if n in hidden else ''}/>"
        for i, (n, _) in enumerate(sheets, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
        '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+'
        f'xml"/>{overrides}</Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships {ns}><Relationship Id="rId1" Type='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
        'workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org'
        '/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheet_list}</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships {ns}>{rels}'
        "</Relationships>",
        **{f"xl/worksheets/sheet{i}.xml": xml for i, (_, xml) in enumerate(sheets, start=1)},
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, content in parts.items():
            z.writestr(member, content)
        for member, content in (extra or {}).items():
            z.writestr(member, content)
    return path


def table(
    path: Path,
    rows: list[list],
    columns=PARTICIPANT_COLUMNS,
    sheet: str = "Participants",
    title: list[list] | None = None,
    text_cells: bool = False,
) -> Path:
    """A one-sheet workbook written by openpyxl: optional title rows, a header row, then `rows`."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in [*(title or []), columns, *rows]:
        ws.append(row)
    if text_cells:  # openpyxl would save text starting with '=' as a formula: keep every string a string
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    wb.save(path)
    return path


# --- builders for each kind of bad file ------------------------------------------------------------------


def renamed_csv(path: Path) -> Path:
    path.write_text("participant_ref,payment_group,referral_date\nP0001,PG1,05/01/2013\n")
    return path


def renamed_web_page(path: Path) -> Path:
    path.write_text("<!DOCTYPE html><html><body><table><tr><td>P0001</td></tr></table></body></html>")
    return path


def truncated(path: Path) -> Path:
    data = table(path, journeys(20)).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupted(path: Path) -> Path:
    """A real workbook with bytes inside the sheet's compressed data overwritten: the zip directory is intact."""
    table(path, journeys(200))
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    return path


def compound_file(path: Path, encrypted: bool) -> Path:
    """An OLE2 compound file, as Excel saves a password-protected workbook (or an old .xls)."""
    names = ("EncryptionInfo", "EncryptedPackage") if encrypted else ("Workbook",)
    directory = b"".join(n.encode("utf-16-le").ljust(64, b"\0") + bytes(64) for n in names)
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HH", 0x3E, 3) + bytes(482)
    path.write_bytes(header + directory + bytes(4096))
    return path


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def no_sheets(path: Path) -> Path:
    return raw_xlsx(path, [])


def blank_sheet(path: Path) -> Path:
    return raw_xlsx(path, [("Sheet1", sheet_xml([]))])


def hidden_only(path: Path) -> Path:
    return raw_xlsx(path, [("Participants", sheet_xml([PARTICIPANT_COLUMNS, *journeys()]))], hidden=("Participants",))


def with_macros(path: Path) -> Path:
    """A macro-enabled workbook: a VBA project rides along; wpmi reads the values and never runs it."""
    table(path.with_suffix(".xlsx"), journeys())
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Attribute VB_Name = "Module1"\nSub AutoOpen()\nShell "calc"\nEnd Sub'
    with zipfile.ZipFile(path.with_suffix(".xlsx")) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            out.writestr(item, content)
        out.writestr("xl/vbaProject.bin", vba)
    path.with_suffix(".xlsx").unlink()
    return path


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


def entity_bomb(path: Path) -> Path:
    rows = [
        PARTICIPANT_COLUMNS,
        ["P0001", "PG1", date(2013, 1, 5)],
        [Raw('<c r="A3" t="inlineStr"><is><t>&lol9;</t></is></c>')],
    ]
    return raw_xlsx(path, [("Participants", sheet_xml(rows, prolog=BILLION_LAUGHS))])


def zip_bomb(path: Path, lie: bool = False) -> Path:
    """8 MB of zeros (8 KB compressed) riding in a workbook; `lie` declares it as 1,000 bytes."""
    raw_xlsx(
        path,
        [("Participants", sheet_xml([PARTICIPANT_COLUMNS, *journeys()]))],
        extra={"xl/media/image1.bin": bytes(8 * 1024 * 1024)},
    )
    if lie:
        data = bytearray(path.read_bytes())
        name = b"xl/media/image1.bin"
        local = zipfile.ZipFile(path).getinfo(name.decode()).header_offset
        central = data.find(b"PK\x01\x02")
        while data[central + 46 : central + 46 + len(name)] != name:
            central = data.find(b"PK\x01\x02", central + 4)
        struct.pack_into("<I", data, local + 22, 1000)  # local header: uncompressed size
        struct.pack_into("<I", data, central + 24, 1000)  # central directory: uncompressed size
        path.write_bytes(bytes(data))
    return path


def far_cell(path: Path, ref: str) -> Path:
    """A couple of real rows and one value at `ref`: calamine would allocate the whole grid up to it."""
    rows = [PARTICIPANT_COLUMNS, ["P0001", "PG1", date(2013, 1, 5)]]
    xml = sheet_xml(rows).replace(
        "</sheetData>",
        f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{ref}"><v>1</v></c></row></sheetData>',
    )
    return raw_xlsx(path, [("Participants", xml)])


def unreferenced_cells(path: Path) -> Path:
    """30,000 empty cells with no references push one value far to the right, then a row far below."""
    xml = sheet_xml([PARTICIPANT_COLUMNS]).replace(
        "</sheetData>",
        "<row>" + "<c/>" * 30_000 + '<c><v>1</v></c></row><row r="900000"><c r="A900000"><v>1</v>'
        "</c></row></sheetData>",
    )
    return raw_xlsx(path, [("Participants", xml)])


def huge_cell(path: Path) -> Path:
    rows = [PARTICIPANT_COLUMNS + ["notes"], *journeys(2)]
    rows[2] = rows[2] + ["x" * 5_000_000]
    return raw_xlsx(path, [("Participants", sheet_xml(rows))])


def huge_csv_field(path: Path) -> Path:
    path.write_text(
        'participant_ref,payment_group,referral_date,notes\nP0001,PG1,05/01/2013,"' + "x" * 3_000_000 + '"\n'
    )
    return path


def wide(path: Path, columns: int) -> Path:
    return table(
        path,
        [r + [None] * (columns - 8) + ["x"] for r in journeys()],
        PARTICIPANT_COLUMNS + [f"extra {i}" for i in range(8, columns + 1)],
    )


def formulas(path: Path, cached: bool) -> Path:
    """Participants with a computed column; `cached` as Excel saves it, else as a program writes it unsaved."""
    rows = [PARTICIPANT_COLUMNS + ["days to attach"]]
    for i, r in enumerate(journeys(), start=2):
        rows.append(r + [Formula(f"D{i}-C{i}", (r[3] - r[2]).days if cached else None)])
    rows[2][0] = Formula('"P"&TEXT(2,"0000")', "P0002" if cached else None)  # a formula giving the reference
    return raw_xlsx(path, [("Participants", sheet_xml(rows))])


def error_cells(path: Path, where: str) -> Path:
    if where == "monthly":
        rows = [MONTHLY_COLUMNS, [date(2013, 1, 1), "PG1", ErrorCell("#DIV/0!"), 1, 0, 0]]
        return raw_xlsx(path, [("Monthly", sheet_xml(rows))])
    rows = [PARTICIPANT_COLUMNS + ["rate"], *[r + [0.5] for r in journeys()]]
    if where == "date":
        rows[2][2] = ErrorCell("#REF!")
    elif where == "ref":
        rows[2][0] = ErrorCell("#REF!")
    else:  # an unused computed column: nothing wpmi stores depends on it
        rows[2][7] = ErrorCell("#DIV/0!")
    return raw_xlsx(path, [("Participants", sheet_xml(rows))])


def mixed_encodings(path: Path) -> Path:
    lines = [
        b"participant_ref,payment_group,referral_date,office",
        "P0001,PG1,05/01/2013,Carré Street".encode(),
        "P0002,PG1,06/01/2013,Carré Street".encode("cp1252"),
        "P0003,PG1,07/01/2013,Hôtel Lane".encode(),
    ]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return path


def csv_with_nul(path: Path) -> Path:
    path.write_bytes(b"participant_ref,payment_group,referral_date\nP0001,PG1,05/01/2013\nP0002\x00,PG1,06/01/2013\n")
    return path


def utf16_csv(path: Path) -> Path:
    path.write_bytes("participant_ref,payment_group,referral_date\nP0001,PG1,05/01/2013\n".encode("utf-16"))
    return path


def repeated_header(path: Path) -> Path:
    rows = journeys(4)
    return table(path, rows[:2] + [PARTICIPANT_COLUMNS] + rows[2:])


def ods_with_errors(path: Path) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
        'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation'
        ':names:experimental:calc:xmlns:calcext:1.0" office:version="1.2"><office:body><office:spreadsheet>'
        '<table:table table:name="Monthly"><table:table-row>'
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
            for c in MONTHLY_COLUMNS
        )
        + '</table:table-row><table:table-row><table:table-cell office:value-type="date" office:date-value='
        '"2013-01-01"/><table:table-cell office:value-type="string"><text:p>PG1</text:p></table:table-cell>'
        '<table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0" '
        'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    return _ods(path, content)


def csv_file(path: Path, rows: list[list], columns=PARTICIPANT_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [columns, *[[v.strftime("%d/%m/%Y") if isinstance(v, date) else v for v in r] for r in rows]]
        )
    return path


# --- files built to exhaust the reader, and paths that are not files -------------------------------------

SST_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def shared_strings_bomb(path: Path) -> Path:
    """About 2 KB: a shared-string table that declares four billion entries and holds one. calamine reserves
    96 GB for the declared count before reading any, and the process aborts (SIGABRT) before Python sees it."""
    table = f'<sst xmlns="{SST_NS}" count="4000000000" uniqueCount="4000000000"><si><t>P0001</t></si></sst>'
    rows = [PARTICIPANT_COLUMNS[:3], [Raw('<c r="A2" t="s"><v>0</v></c>'), "PG1", date(2013, 1, 5)]]
    return raw_xlsx(path, [("Participants", sheet_xml(rows))], extra={"xl/sharedStrings.xml": table})


def string_index(path: Path, index: str) -> Path:
    """A text cell whose shared-string index is not in the table: calamine reads -1, 2**64 or 1.5 as 0."""
    table = f'<sst xmlns="{SST_NS}" count="2" uniqueCount="2"><si><t>P0001</t></si><si><t>P0002</t></si></sst>'
    rows = [
        PARTICIPANT_COLUMNS[:3],
        [Raw('<c r="A2" t="s"><v>1</v></c>'), "PG1", date(2013, 1, 5)],
        [Raw(f'<c r="A3" t="s"><v>{index}</v></c>'), "PG1", date(2013, 1, 6)],
    ]
    return raw_xlsx(path, [("Participants", sheet_xml(rows))], extra={"xl/sharedStrings.xml": table})


def ods_repeat_bomb(path: Path, rows: int = 100_000, columns: int = 200) -> Path:
    """Under 1 KB: one .ods cell repeated `rows` x `columns` times, within the grid limits, which calamine
    expands cell by cell (20 million cells take it past 2 GB and several seconds)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
        'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="Participants"><table:table-row table:number-rows-repeated='
        f'"{rows}"><table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    return _ods(path, content)


def _ods(path: Path, content: str) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:'
            'manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:'
            'full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def named_pipe(path: Path) -> Path:
    """A FIFO with a spreadsheet's name: opening it to read would wait for a writer for ever."""
    os.mkfifo(path)
    return path


def link_to(target: str):
    def build(path: Path) -> Path:
        path.symlink_to(target)
        return path

    return build


def link_to_good_file(path: Path) -> Path:
    real = table(path.with_name("real_" + path.name), journeys(3))
    path.symlink_to(real)
    return path


# --- the table -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input: how to build it, and what wpmi must make of it."""

    id: str
    file: str  # the file name the sender used
    build: Callable[[Path], Path]
    status: str  # "rejected" or "loaded" (loaded where the documented behaviour is to land with warnings)
    message: str  # the first error (or, for loaded files, the expected warning or note) starts with this
    contains: str = ""  # and contains this (where the start alone varies)
    code: str = "UnreadableFile"  # the problem code of that message
    where: tuple = ()  # (sheet, row, column) of that problem, where it points at a cell
    env: dict[str, str] = field(default_factory=dict)  # limits lowered for the case, so it runs fast
    options: bool = True  # pass --partner/--prime/--cpa/--period (the files carry no header block)
    planted: tuple[str, ...] = ()  # personal data that must appear nowhere afterwards
    stored: tuple[tuple[str, str, str], ...] = ()  # (table, column, value) that must be stored exactly
    rows: int | None = None  # participant rows that must land (for loaded files)
    gap: str = ""  # a known gap in another module: the case is expected to fail until it is fixed


def _c(id, file, build, status, message, **kw) -> Case:
    return Case(id, file, build, status, message, **kw)


PII = "wpmi never stores personal data: remove it and send the file again (use pseudonymous references)."
CASES = [
    # Files that are not what their name says.
    _c(
        "not_a_workbook",
        "returns.xlsx",
        renamed_csv,
        "rejected",
        "returns.xlsx: cannot be read as a .xlsx workbook: it is not a real .xlsx workbook (it is not a zip "
        "package); it may be a renamed file (it looks like a text or CSV file). Open it in Excel, check it is the "
        "right file, not renamed or damaged, and save it again.",
    ),
    _c(
        "web_page_renamed",
        "returns.xlsx",
        renamed_web_page,
        "rejected",
        "returns.xlsx: cannot be read as a .xlsx workbook: it is not a real .xlsx workbook (it is not a zip "
        "package); it may be a renamed file (it looks like a web page).",
    ),
    _c(
        "truncated_zip",
        "returns.xlsx",
        truncated,
        "rejected",
        "returns.xlsx: the .xlsx workbook is damaged or incomplete (its zip package is broken:",
    ),
    _c(
        "corrupt_zip",
        "returns.xlsx",
        corrupted,
        "rejected",
        "returns.xlsx: the .xlsx workbook is damaged or incomplete (its zip package is broken:",
    ),
    _c(
        "password_protected",
        "returns.xlsx",
        lambda p: compound_file(p, encrypted=True),
        "rejected",
        "returns.xlsx: the workbook is password-protected (Excel has encrypted it), so wpmi cannot read it. Save a "
        "copy without a password and send that.",
    ),
    _c(
        "old_xls_renamed",
        "returns.xlsx",
        lambda p: compound_file(p, encrypted=False),
        "rejected",
        "returns.xlsx: is an old-style Excel .xls workbook saved with a .xlsx name. Open it in Excel, save it as "
        "an Excel Workbook (.xlsx) and send that.",
    ),
    _c(
        "legacy_xls",
        "returns.xls",
        lambda p: compound_file(p, encrypted=False),
        "rejected",
        "returns.xls: is an old-style Excel .xls workbook, which wpmi does not open.",
    ),
    # Empty, hidden, macro-enabled.
    _c("zero_bytes", "returns.xlsx", zero_bytes, "rejected", "returns.xlsx: the file is empty."),
    _c(
        "zip_without_sheets",
        "returns.xlsx",
        no_sheets,
        "rejected",
        "returns.xlsx: the workbook has no sheets. Check it is the right file and send it again.",
    ),
    _c(
        "blank_sheet",
        "returns.xlsx",
        blank_sheet,
        "rejected",
        "returns.xlsx: the workbook is empty: its sheets (Sheet1) hold no cells.",
    ),
    _c(
        "only_hidden_sheets",
        "returns.xlsx",
        hidden_only,
        "rejected",
        "returns.xlsx: the workbook has no visible sheets (hidden sheets: Participants). Unhide the data sheets and "
        "send it again.",
    ),
    _c("xlsm_with_macros", "returns.xlsm", with_macros, "loaded", "", code="", rows=3),
    # Bombs and oversized files (limits lowered where a real-size file would make the test slow).
    _c(
        "xml_entity_bomb",
        "returns.xlsx",
        entity_bomb,
        "rejected",
        "returns.xlsx: part 'xl/worksheets/sheet1.xml' contains an XML document type declaration (<!DOCTYPE or "
        "<!ENTITY), which real workbooks never have and which can hide an entity-expansion ('billion laughs') "
        "attack.",
    ),
    _c(
        "zip_bomb_declared",
        "returns.xlsx",
        zip_bomb,
        "rejected",
        "returns.xlsx: expands to more than 1 MB when unpacked (a zip bomb or an oversized workbook); limit "
        "WPMI_MAX_DECOMPRESSED_MB.",
        env={"WPMI_MAX_DECOMPRESSED_MB": "1"},
    ),
    _c(
        "zip_bomb_lying_size",
        "returns.xlsx",
        lambda p: zip_bomb(p, lie=True),
        "rejected",
        "returns.xlsx: expands to more than 1 MB when unpacked (a zip bomb or an oversized workbook); limit "
        "WPMI_MAX_DECOMPRESSED_MB.",
        env={"WPMI_MAX_DECOMPRESSED_MB": "1"},
    ),
    _c(
        "zip_member_lying_size",
        "returns.xlsx",
        lambda p: zip_bomb(p, lie=True),
        "rejected",
        "returns.xlsx: the .xlsx workbook is damaged or incomplete (its zip package is broken: part "
        "'xl/media/image1.bin' unpacks to 8,388,608 bytes, not the 1,000 it declares",
    ),
    _c(
        "too_many_rows",
        "returns.xlsx",
        lambda p: table(p, journeys(60)),
        "rejected",
        "returns.xlsx: sheet 'Participants' has 61 rows, more than the 50 wpmi reads (limit WPMI_MAX_ROWS).",
        env={"WPMI_MAX_ROWS": "50"},
    ),
    _c(
        "too_many_columns",
        "returns.xlsx",
        lambda p: wide(p, 25),
        "rejected",
        "returns.xlsx: sheet 'Participants' has 25 columns, more than the 20 wpmi reads (limit WPMI_MAX_COLUMNS).",
        env={"WPMI_MAX_COLUMNS": "20"},
    ),
    _c(
        "far_off_cell",
        "returns.xlsx",
        lambda p: far_cell(p, "XFD1048576"),
        "rejected",
        "returns.xlsx: sheet 'Participants' has 16,384 columns, more than the 200 wpmi reads",
    ),
    _c(
        "sparse_grid_within_row_and_column_limits",
        "returns.xlsx",
        lambda p: far_cell(p, "GR400000"),
        "rejected",
        "returns.xlsx: sheet 'Participants' spans 400,000 rows by 200 columns, more than the 30,000,000 cells wpmi "
        "reads (limit WPMI_MAX_CELLS).",
    ),
    _c(
        "cells_without_references",
        "returns.xlsx",
        unreferenced_cells,
        "rejected",
        "returns.xlsx: sheet 'Participants' has 30,001 columns, more than the 200 wpmi reads",
    ),
    _c(
        "cell_of_5_mb",
        "returns.xlsx",
        huge_cell,
        "rejected",
        "returns.xlsx: sheet 'Participants' row 3 column H holds 5,000,000 characters, more than the 32,767 a cell "
        "may hold (limit WPMI_MAX_CELL_CHARS). Shorten or remove that cell and send the file again.",
    ),
    _c(
        "csv_field_of_3_mb",
        "returns.csv",
        huge_csv_field,
        "rejected",
        "returns.csv: sheet 'returns' row 2 column D holds 3,000,000 characters, more than the 32,767 a cell may "
        "hold (limit WPMI_MAX_CELL_CHARS).",
    ),
    _c(
        "file_over_size_limit",
        "returns.xlsx",
        lambda p: table(p, journeys(3)),
        "rejected",
        "returns.xlsx: is ",
        contains=" KB, more than the 0.002 MB wpmi accepts (limit WPMI_MAX_FILE_MB).",
        env={"WPMI_MAX_FILE_MB": "0.002"},
    ),
    # Formulas and formula errors.
    _c(
        "formulas_with_saved_values",
        "returns.xlsx",
        lambda p: formulas(p, cached=True),
        "loaded",
        "",
        code="",
        rows=3,
        stored=(("participant", "participant_ref", "P0002"),),
    ),
    _c(
        "formula_without_saved_value",
        "returns.xlsx",
        lambda p: formulas(p, cached=False),
        "rejected",
        "returns.xlsx: sheet 'Participants' cell H2 holds a formula with no saved value: open the file in Excel, "
        "let it calculate, save, and send it again.",
    ),
    _c(
        "error_ref_in_date",
        "returns.xlsx",
        lambda p: error_cells(p, "date"),
        "rejected",
        "'#REF!' is a spreadsheet error: the formula in this cell failed.",
        code="spreadsheet_error",
        where=("Participants", 3, "referral_date"),
    ),
    _c(
        "error_div0_in_count",
        "returns.xlsx",
        lambda p: error_cells(p, "monthly"),
        "rejected",
        "'#DIV/0!' is a spreadsheet error: the formula in this cell failed.",
        code="spreadsheet_error",
        where=("Monthly", 2, "referrals"),
    ),
    _c(
        "error_in_unused_column",
        "returns.xlsx",
        lambda p: error_cells(p, "unused"),
        "loaded",
        "Column 'rate' is not used by wpmi and was ignored.",
        code="unused_column",
        rows=3,
    ),
    _c(
        "error_ref_in_participant_ref",
        "returns.xlsx",
        lambda p: error_cells(p, "ref"),
        "rejected",
        "'#REF!' is a spreadsheet error",
        code="spreadsheet_error",
        where=("Participants", 3, "participant_ref"),
    ),
    _c(
        "ods_error_cells",
        "returns.ods",
        ods_with_errors,
        "rejected",
        "returns.ods: sheet 'Monthly' holds formula error values (such as #DIV/0! or #REF!), which cannot be read "
        "correctly from an .ods file.",
    ),
    # Bad values, checked cell by cell.
    _c(
        "text_in_count_column",
        "returns.xlsx",
        lambda p: table(p, [[date(2013, 1, 1), "PG1", "lots", 1, 0, 0]], MONTHLY_COLUMNS, "Monthly"),
        "rejected",
        "'lots' is not a number. Enter a count such as 12.",
        code="bad_number",
        where=("Monthly", 2, "referrals"),
    ),
    _c(
        "negative_count",
        "returns.xlsx",
        lambda p: table(p, [[date(2013, 1, 1), "PG1", -3, 1, 0, 0]], MONTHLY_COLUMNS, "Monthly"),
        "rejected",
        "-3 is negative. Counts cannot be below zero.",
        code="negative_count",
        where=("Monthly", 2, "referrals"),
    ),
    _c(
        "date_in_1900",
        "returns.xlsx",
        lambda p: table(p, [["P0001", "PG1", date(1900, 1, 5)]]),
        "rejected",
        "05/01/1900 is before the Work Programme began (01/06/2011). Check the year.",
        code="date_before_programme",
        where=("Participants", 2, "referral_date"),
    ),
    _c(
        "date_in_2099",
        "returns.xlsx",
        lambda p: table(p, [["P0001", "PG1", date(2099, 1, 5)]]),
        "rejected",
        "05/01/2099 is after the end of the reporting period (31/03/2013).",
        code="date_after_period",
        where=("Participants", 2, "referral_date"),
    ),
    _c(
        "impossible_journey",
        "returns.xlsx",
        lambda p: table(p, [["P0001", "PG1", date(2013, 1, 5), date(2013, 1, 20), date(2013, 1, 10)]]),
        "loaded",
        "job_start_date (10/01/2013) is before attachment_date (20/01/2013).",
        code="journey_order",
        where=("Participants", 2, "job_start_date"),
        rows=1,
    ),
    _c(
        "superscript_digit_in_date",
        "returns.xlsx",
        lambda p: table(p, [["P0001", "PG1", "²"]]),
        "rejected",
        "'²' is not a date. Enter a date such as 03/04/2013.",
        code="bad_date",
        where=("Participants", 2, "referral_date"),
    ),
    _c(
        "unknown_payment_group",
        "returns.xlsx",
        lambda p: table(p, [["P0001", "PG12", date(2013, 1, 5)]]),
        "rejected",
        "'PG12' is not a payment group.",
        code="bad_payment_group",
        where=("Participants", 2, "payment_group"),
    ),
    _c(
        "duplicate_participant_refs",
        "returns.xlsx",
        lambda p: table(p, [["P0001", "PG1", date(2013, 1, 5)], ["P0001", "PG2", date(2013, 1, 6)]]),
        "rejected",
        "participant_ref P0001 appears more than once in this sheet (first at row 2).",
        code="duplicate",
        where=("Participants", 3, "participant_ref"),
    ),
    _c(
        "repeated_header_mid_sheet",
        "returns.xlsx",
        repeated_header,
        "loaded",
        "Row skipped: repeated header row.",
        code="skipped_row",
        where=("Participants", 4, ""),
        rows=4,
    ),
    # CSV encodings and binary content.
    _c(
        "mixed_encodings_csv",
        "returns.csv",
        mixed_encodings,
        "rejected",
        "returns.csv: mixes text encodings: some lines are UTF-8 but line 3 is not, so its accented letters cannot "
        "all be read correctly. Save the whole file as 'CSV UTF-8 (comma delimited)' and send it again.",
    ),
    _c(
        "csv_with_nul_bytes",
        "returns.csv",
        csv_with_nul,
        "rejected",
        "returns.csv: contains binary data (line 3), so it is not a CSV.",
    ),
    _c(
        "utf16_csv",
        "returns.csv",
        utf16_csv,
        "rejected",
        "returns.csv: is saved as UTF-16 ('Unicode text'), which wpmi does not read.",
    ),
    # Personal data, anywhere: rejected, and the value appears nowhere afterwards.
    _c(
        "ni_number_as_participant_ref",
        "returns.xlsx",
        lambda p: table(p, [["QQ123456C", "PG1", date(2013, 1, 5)]]),
        "rejected",
        f"This cell looks like a National Insurance number. {PII}",
        code="personal_data",
        where=("Participants", 2, "A"),
        planted=("QQ123456C",),
    ),
    _c(
        "email_in_title_row",
        "returns.xlsx",
        lambda p: table(p, journeys(), title=[["Caseload sent by jo.bloggs@example.org"]]),
        "rejected",
        f"This cell looks like an email address. {PII}",
        code="personal_data",
        where=("Participants", 1, "A"),
        planted=("jo.bloggs@example.org",),
    ),
    _c(
        "phone_in_unused_column",
        "returns.xlsx",
        lambda p: table(p, [r + ["call 07700 900123"] for r in journeys()], PARTICIPANT_COLUMNS + ["notes"]),
        "rejected",
        f"This cell looks like a phone number. {PII}",
        code="personal_data",
        where=("Participants", 2, "H"),
        planted=("07700 900123",),
    ),
    _c(
        "postcode_in_unused_column",
        "returns.xlsx",
        lambda p: table(p, [r + ["SW1A 1AA"] for r in journeys()], PARTICIPANT_COLUMNS + ["office"]),
        "rejected",
        f"This cell looks like a postcode. {PII}",
        code="personal_data",
        where=("Participants", 2, "H"),
        planted=("SW1A 1AA",),
    ),
    _c(
        "name_column",
        "returns.xlsx",
        lambda p: table(p, [r + ["Fotheringay-Phipps"] for r in journeys()], PARTICIPANT_COLUMNS + ["Surname"]),
        "rejected",
        f"Column 'Surname' looks like it holds names. {PII}",
        code="personal_data",
        where=("Participants", 1, "H"),
        planted=("Fotheringay-Phipps",),
    ),
    _c(
        "date_of_birth_column",
        "returns.xlsx",
        lambda p: table(p, [r + [date(1979, 2, 28)] for r in journeys()], PARTICIPANT_COLUMNS + ["Date of birth"]),
        "rejected",
        f"Column 'Date of birth' looks like it holds dates of birth. {PII}",
        code="personal_data",
        where=("Participants", 1, "H"),
        planted=("1979-02-28", "28/02/1979"),
    ),
    _c(
        "email_as_header_of_incomplete_sheet",
        "returns.xlsx",
        lambda p: table(
            p, [["P0001", date(2013, 1, 5), "x"]], ["participant_ref", "referral_date", "jo.bloggs@example.org"]
        ),
        "rejected",
        f"This cell looks like an email address. {PII}",
        code="personal_data",
        where=("Participants", 1, "C"),
        planted=("jo.bloggs@example.org",),
    ),
    _c(
        "ni_number_in_csv",
        "returns.csv",
        lambda p: csv_file(p, [["P0001", "PG1", date(2013, 1, 5), None, None, None, "AB 12 34 56 D"]]),
        "rejected",
        f"This cell looks like a National Insurance number. {PII}",
        code="personal_data",
        where=("returns", 2, "G"),
        planted=("AB 12 34 56 D",),
    ),
    # Formula-injection text is data: stored exactly as sent (exports neutralise it).
    _c(
        "formula_injection_in_participant_ref",
        "returns.xlsx",
        lambda p: table(
            p,
            [[FORMULA_INJECTIONS[0], "PG1", date(2013, 1, 5)], [FORMULA_INJECTIONS[1], "PG1", date(2013, 1, 6)]],
            text_cells=True,
        ),
        "loaded",
        "",
        code="",
        rows=2,
        stored=(
            ("participant", "participant_ref", FORMULA_INJECTIONS[0]),
            ("participant", "participant_ref", FORMULA_INJECTIONS[1]),
        ),
    ),
    _c(
        "formula_injection_in_text_field",
        "returns.xlsx",
        lambda p: table(
            p, [["P0001", date(2013, 1, 7), FORMULA_INJECTIONS[2]]], CONTACT_COLUMNS, "Contacts", text_cells=True
        ),
        "loaded",
        "",
        code="",
        stored=(("contact", "mode", FORMULA_INJECTIONS[2]),),
    ),
    _c(
        "formula_injection_in_csv",
        "returns.csv",
        lambda p: csv_file(p, [[FORMULA_INJECTIONS[0], "PG1", date(2013, 1, 5)]]),
        "loaded",
        "",
        code="",
        rows=1,
        stored=(("participant", "participant_ref", FORMULA_INJECTIONS[0]),),
    ),
    # Files built to exhaust the reader, read in the limited worker process (loaders/sandbox.py).
    _c(
        "shared_strings_bomb",
        "returns.xlsx",
        shared_strings_bomb,
        "rejected",
        "returns.xlsx: part 'xl/sharedStrings.xml' declares 4,000,000,000 shared strings but holds 1, which no "
        "spreadsheet program writes (a file built to exhaust memory).",
    ),
    *[
        _c(
            f"shared_string_index_{label}",
            "returns.xlsx",
            lambda p, v=index: string_index(p, v),
            "rejected",
            "returns.xlsx: sheet 'Participants' cell A3 points at a shared string that is not in the workbook's "
            "string table, so its text cannot be known.",
        )
        for label, index in (("minus_one", "-1"), ("two_to_the_64", str(2**64)), ("fraction", "1.5"), ("past_end", "2"))
    ],
    _c(
        "ods_repeated_cells_over_memory_limit",
        "returns.ods",
        ods_repeat_bomb,
        "rejected",
        "returns.ods: could not be read safely: the reader stopped (signal SIGABRT), which happens when a file asks "
        "for more than the 512 MB of memory wpmi allows (limit WPMI_PARSE_MEMORY_MB)",
        env={"WPMI_PARSE_MEMORY_MB": "512"},
    ),
    _c(
        "ods_repeated_cells_over_cpu_limit",
        "returns.ods",
        ods_repeat_bomb,
        "rejected",
        "returns.ods: could not be read safely: reading it used more than the 0.5 CPU seconds wpmi allows (limit "
        "WPMI_PARSE_CPU_SECONDS).",
        env={"WPMI_PARSE_MEMORY_MB": "8192", "WPMI_PARSE_CPU_SECONDS": "0.5"},
    ),
    _c(
        "ods_repeated_cells_over_clock_limit",
        "returns.ods",
        ods_repeat_bomb,
        "rejected",
        "returns.ods: could not be read safely: reading it took longer than the 0.5 seconds wpmi allows (limit "
        "WPMI_PARSE_WALL_SECONDS).",
        env={"WPMI_PARSE_MEMORY_MB": "8192", "WPMI_PARSE_WALL_SECONDS": "0.5"},
    ),
    _c(
        "reply_over_size_limit",
        "returns.xlsx",
        lambda p: table(p, journeys(50)),
        "rejected",
        "returns.xlsx: could not be read safely: what it holds comes to ",
        contains="once read, more than the 0.001 MB wpmi accepts (limit WPMI_PARSE_RESULT_MB).",
        env={"WPMI_PARSE_RESULT_MB": "0.001"},
    ),
    # Paths that are not regular files.
    _c(
        "named_pipe",
        "returns.csv",
        named_pipe,
        "rejected",
        "returns.csv: is not a regular file (it is a named pipe), so wpmi does not read it.",
    ),
    _c(
        "symlink_to_dev_zero",
        "returns.csv",
        link_to("/dev/zero"),
        "rejected",
        "returns.csv: is not a regular file (it is a device), so wpmi does not read it.",
    ),
    _c("symlink_to_a_good_file", "returns.xlsx", link_to_good_file, "loaded", "", code="", rows=3),
]
