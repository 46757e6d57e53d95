"""The ingest service shared by `wpmi ingest` and the Data page: batches, withdrawals and the one report."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from dashboard.access import operator
from loaders import service
from loaders.demo import writers
from loaders.errors import ERROR, WARNING, Problem
from loaders.pipeline import LOADED, REJECTED, Ingestor, IngestResult
from tests.conftest import HEADER, participants


def read_csv_report(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_ingest_files_takes_paths_and_bytes_and_reports_each_as_it_goes(tmp_path, engine):
    path = writers.write_standard(tmp_path / "disk.xlsx", HEADER, participants(2))
    upload = writers.write_standard(tmp_path / "x.xlsx", HEADER, participants(3, payment_group=["PG1", "PG0", "PG2"]))
    seen = []
    results = service.ingest_files(
        engine,
        [("disk.xlsx", path), ("upload.xlsx", upload.read_bytes())],
        on_progress=lambda i, name, r: seen.append((i, name, r and r.status)),
    )
    assert [(r.file, r.status) for r in results] == [("disk.xlsx", LOADED), ("upload.xlsx", REJECTED)]
    assert seen == [
        (0, "disk.xlsx", None),
        (0, "disk.xlsx", LOADED),
        (1, "upload.xlsx", None),
        (1, "upload.xlsx", REJECTED),
    ]


def test_a_fault_in_one_file_rejects_it_and_the_batch_goes_on(tmp_path, engine, monkeypatch):
    first = writers.write_standard(tmp_path / "first.xlsx", HEADER, participants(2))
    second = writers.write_standard(tmp_path / "second.xlsx", HEADER, participants(3))
    real = Ingestor.ingest

    def fails_on_first(self, path, options=None, data=None, file_name=None):
        if file_name == "first.xlsx":
            raise KeyError("a bug in wpmi")
        return real(self, path, options, data, file_name)

    monkeypatch.setattr(Ingestor, "ingest", fails_on_first)
    results = service.ingest_files(engine, [("first.xlsx", first), ("second.xlsx", second)])
    assert [r.status for r in results] == [REJECTED, LOADED]
    assert [p.code for p in results[0].problems] == ["internal_error"]
    assert results[0].problems[0].message.startswith("first.xlsx: wpmi failed while loading this file (KeyError).")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT file_name FROM submission")).scalars().all() == ["second.xlsx"]


def test_withdraw_takes_a_submission_out_and_says_when_nothing_changed(tmp_path, engine):
    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2))
    sid = service.ingest_files(engine, [("a.xlsx", path)])[0].submission_id
    assert service.withdraw(engine, sid, access=operator("analyst"), reason="wrong contract")["changed"] is True
    assert service.withdraw(engine, sid, access=operator("analyst"), reason=None)["changed"] is False
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM submission")).scalar() == "withdrawn"
    with pytest.raises(service.SubmissionNotFound, match="There is no submission 999"):
        service.withdraw(engine, 999, access=operator("analyst"), reason=None)


def result_with(*problems: Problem) -> IngestResult:
    return IngestResult(file="north.xlsx", status=REJECTED, problems=list(problems))


def test_report_has_one_row_per_problem_with_spreadsheet_row_numbers():
    result = result_with(
        Problem(
            "bad_payment_group",
            ERROR,
            "'PG0' is not a payment group.",
            "north.xlsx",
            "Participants",
            3,
            "payment_group",
            "PG0",
        ),
        Problem("no_rows", WARNING, "The sheet is empty.", "north.xlsx", "Contacts"),
    )
    frame = service.report_frame([result])
    assert tuple(frame.columns) == service.REPORT_COLUMNS
    rows = read_csv_report(service.report_bytes([result], "csv"))
    assert [(r["file"], r["severity"], r["code"], r["sheet"], r["row"], r["column"], r["value"]) for r in rows] == [
        ("north.xlsx", "error", "bad_payment_group", "Participants", "3", "payment_group", "PG0"),
        ("north.xlsx", "warning", "no_rows", "Contacts", "", "", ""),
    ]


def test_csv_report_defuses_cells_a_spreadsheet_would_run_as_formulas():
    result = result_with(
        Problem(
            "bad_payment_group",
            ERROR,
            '=HYPERLINK("http://x")',
            "north.xlsx",
            "Participants",
            4,
            "payment_group",
            "=cmd|' /C calc'!A0",
        )
    )
    row = read_csv_report(service.report_bytes([result], "csv"))[0]
    assert (row["value"], row["message"]) == ("'=cmd|' /C calc'!A0", '\'=HYPERLINK("http://x")')


def test_json_report_keeps_each_file_with_its_summary():
    result = result_with(Problem("bad_payment_group", ERROR, "bad", "north.xlsx", "Participants", 3))
    data = json.loads(service.report_bytes([result], "json"))
    assert data[0]["status"] == REJECTED
    assert data[0]["summary"] == [{"severity": "error", "code": "bad_payment_group", "count": 1}]


def test_report_bytes_names_the_formats_it_writes():
    with pytest.raises(service.UnknownReportFormat, match="use one of csv, json"):
        service.report_bytes([], "xls")
