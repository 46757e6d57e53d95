"""Regression tests for the real bugs mypy pointed at (each failed on the code before its fix)."""

from __future__ import annotations

import io
import typing
import zipfile

import pytest
from openpyxl import Workbook

from dashboard.db import writing
from loaders import store
from loaders.errors import UnreadableFile
from loaders.layouts import map_wide_sheet
from loaders.profiles import SheetProfile
from loaders.readers import SheetData, read_file

SHEET = "xl/worksheets/sheet1.xml"
# Namespace-prefixed cells send the part to the exact (expat) scan; the second row's value holds a cell.
NESTED_CELL_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
    b'<x:row r="1"><x:c t="inlineStr"><x:is><x:t>participant_ref</x:t></x:is></x:c></x:row>'
    b'<x:row r="2"><x:c><x:v>1<x:c/>2</x:v></x:c></x:row>'
    b"</x:sheetData></x:worksheet>"
)


def workbook_with_sheet_xml(xml: bytes) -> bytes:
    wb = Workbook()
    wb.active.append(["participant_ref"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, xml if info.filename == SHEET else src.read(info.filename))
    return out.getvalue()


def test_a_cell_inside_a_cell_value_is_reported_as_damaged_xml_not_as_a_fault_in_wpmi():
    # Before: ExactSheetScan._text indexed a None cell, a TypeError that surfaced as "cannot be read (TypeError)
    # ... send the file to the wpmi team" instead of the damaged-XML message.
    with pytest.raises(UnreadableFile, match="is damaged .*XML is not well formed: a cell inside a cell's value"):
        read_file("nested.xlsx", workbook_with_sheet_xml(NESTED_CELL_SHEET))


def test_restoring_a_submission_that_does_not_exist_raises_submission_not_found(engine):
    # Before: AttributeError ('NoneType' object has no attribute 'content').
    with pytest.raises(store.SubmissionNotFound, match="There is no submission 999"), writing(engine) as conn:
        store.restore_submission(conn, 999, actor="test")


def test_write_submission_annotations_resolve():
    # Before: NameError: name 'date' is not defined (the annotation named a type store.py never imported).
    hints = typing.get_type_hints(store.write_submission)
    assert hints["period"].__name__ == "date"


def test_map_wide_sheet_needs_a_wide_profile():
    # Before: AttributeError ('NoneType' object has no attribute 'measure_column').
    with pytest.raises(ValueError, match="has no \\[wide\\] section"):
        map_wide_sheet(None, SheetData("Monthly", [["month"]]), SheetProfile(target="Monthly"))
