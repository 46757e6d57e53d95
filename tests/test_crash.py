"""Crashes and broken storage: a killed ingest leaves a consistent database, and rerunning completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.db import make_engine
from loaders.demo import writers
from loaders.pipeline import REJECTED, Ingestor
from tests.conftest import HEADER, participants

WPMI = [sys.executable, "-m", "loaders.cli"]


def big_participants(n: int):
    """`n` simple journeys: a referral and an attachment each."""
    from datetime import date, timedelta

    import pandas as pd

    frame = participants(1).iloc[[0] * n].reset_index(drop=True)
    frame["participant_ref"] = [f"K{i:07d}" for i in range(n)]
    frame["referral_date"] = [date(2012, 1, 1) + timedelta(days=i % 400) for i in range(n)]
    frame["attachment_date"] = [d + timedelta(days=5) for d in frame["referral_date"]]
    for column in (
        "first_contact_date",
        "initial_assessment_date",
        "action_plan_date",
        "job_start_date",
        "in_work_support_offered",
    ):
        frame[column] = None
    return pd.DataFrame(frame)


def consistent(engine) -> None:
    """No half submission: every submission's recorded rows exist, and summaries equal the views."""
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        for sid, expected in conn.execute(text("SELECT submission_id, rows_participants FROM submission")):
            found = conn.execute(text("SELECT COUNT(*) FROM participant WHERE submission_id = :s"), {"s": sid})
            assert found.scalar() == expected
        orphans = conn.execute(
            text(
                "SELECT COUNT(*) FROM participant p LEFT JOIN submission s "
                "ON s.submission_id = p.submission_id WHERE s.submission_id IS NULL"
            )
        ).scalar()
        assert orphans == 0
        view = conn.execute(text("SELECT COALESCE(SUM(referrals), 0) FROM v_monthly")).scalar()
        summary = conn.execute(text("SELECT COALESCE(SUM(referrals), 0) FROM monthly_summary")).scalar()
        assert view == summary


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0, 3.5])
def test_sigkill_mid_ingest_leaves_a_consistent_database_and_rerun_completes(delay, tmp_path, db_url, engine):
    path = writers.write_standard(tmp_path / "big.xlsx", HEADER, big_participants(30_000))
    command = [*WPMI, "ingest", str(path), "--db", db_url, "-q"]
    proc = subprocess.Popen(
        command, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    consistent(engine)
    rerun = subprocess.run(
        command, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    consistent(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM v_participants")).scalar() == 30_000


def test_read_only_database_gives_a_clear_error_not_a_traceback(tmp_path, db_url, engine):
    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(3))
    database = db_url.removeprefix("sqlite:///")
    read_only = make_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    result = Ingestor(read_only).ingest(path)
    assert result.status == REJECTED
    assert result.errors[0].code == "database_error"
    assert "readonly database" in result.errors[0].message
    assert result.errors[0].message.endswith("then run the same command again.")


def test_full_disk_gives_a_clear_error_and_writes_nothing(tmp_path, db_url, engine):
    from sqlalchemy import event

    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, big_participants(5_000))
    full = make_engine(db_url)

    @event.listens_for(full, "connect")
    def _cap(dbapi_conn, _record):  # the database may not grow: what a full disk looks like to SQLite
        dbapi_conn.execute(f"PRAGMA max_page_count = {dbapi_conn.execute('PRAGMA page_count').fetchone()[0]}")

    result = Ingestor(full).ingest(path)
    assert result.status == REJECTED and result.errors[0].code == "database_error"
    assert "full" in result.errors[0].message
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM submission")).scalar() == 0


def test_browser_upload_and_cli_ingest_at_the_same_time_both_land(tmp_path, db_url, engine, monkeypatch):
    from datetime import date

    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    cli_file = writers.write_standard(tmp_path / "cli.xlsx", HEADER, big_participants(20_000))
    upload = writers.write_standard(
        tmp_path / "upload.xlsx", dict(HEADER, period=date(2013, 2, 1)), participants(3)
    ).read_bytes()
    proc = subprocess.Popen(
        [*WPMI, "ingest", str(cli_file), "--db", db_url, "-q"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    monkeypatch.setenv("WPMI_DB_URL", db_url)
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=120)
    at.run()
    at.file_uploader(key="uploads").upload("upload.xlsx", upload, "application/octet-stream").run()
    at.button(key="up_go").click().run()
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output
    assert not at.exception and any("upload.xlsx**: loaded" in s.value for s in at.success)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM submission WHERE status = 'current'")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM participant")).scalar() == 20_003
