"""Two writers at once, on SQLite and on PostgreSQL: both land, and the summaries count every file once.

Each test runs on both backends through conftest's `any_db_url` (ids [sqlite] and [postgresql]; the
PostgreSQL ones skip, with the reason, when no server can be had, unless WPMI_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from dashboard.db import make_engine, writing
from dashboard.reference import init_db
from loaders import store
from loaders.demo import writers
from loaders.organisation import register_partner
from loaders.pipeline import LOADED, Ingestor
from tests.conftest import HEADER, PARTNER, ROOT, rows, scalar
from tests.oracles import MONTHLY_COLUMNS, MONTHLY_FLOWS_FROM_FACTS


def journeys(n: int, prefix: str) -> pd.DataFrame:
    """`n` clean journeys referred from October 2012 to January 2013 (every other one starting a job)."""
    out = []
    for i in range(n):
        ref = date(2012, 10, 1) + timedelta(days=i % 120)
        out.append(
            {
                "participant_ref": f"{prefix}{i + 1:05d}",
                "payment_group": ["PG1", "PG2", "PG6"][i % 3],
                "referral_date": ref,
                "first_contact_date": ref + timedelta(2),
                "attachment_date": ref + timedelta(6),
                "initial_assessment_date": ref + timedelta(8),
                "action_plan_date": ref + timedelta(10),
                "job_start_date": ref + timedelta(30) if i % 2 == 0 else None,
                "job_outcome_date": None,
                "exit_date": None,
                "exit_report_requested_date": None,
                "exit_report_sent_date": None,
                "in_work_support_offered": "Y" if i % 2 == 0 else None,
            }
        )
    return pd.DataFrame(out)


def _wpmi_command() -> list[str]:
    script = Path(sys.executable).parent / "wpmi"
    return [str(script)] if script.exists() else [sys.executable, "-m", "loaders.cli"]


def test_two_processes_ingesting_at_once_both_land_with_consistent_totals(any_db_url, tmp_path):
    engine = make_engine(any_db_url)
    init_db(engine)
    other = "Wearside Skills Collective"
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
        register_partner(conn, other, "private", "specialist")
    # Two monthly returns of one partner contract (the case that shares summary rows) and one of another
    # partner in the same contract, each with its own participants.
    sizes = {"march.xlsx": 2500, "april.xlsx": 2000, "other.xlsx": 1500}
    files = [
        writers.write_standard(tmp_path / "march.xlsx", HEADER, journeys(sizes["march.xlsx"], "M")),
        writers.write_standard(
            tmp_path / "april.xlsx", dict(HEADER, period=date(2013, 4, 1)), journeys(sizes["april.xlsx"], "A")
        ),
        writers.write_standard(
            tmp_path / "other.xlsx", dict(HEADER, partner=other), journeys(sizes["other.xlsx"], "W")
        ),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*_wpmi_command(), "ingest", str(f), "--db", any_db_url, "-q"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    print(f"\n3 concurrent ingests into {any_db_url.split(':')[0]} took {time.perf_counter() - started:.1f} s")
    for f, p, (out, err) in zip(files, procs, outputs):
        assert p.returncode == 0, f"{f.name}: exit {p.returncode}\n{out}\n{err}"
    n = sum(sizes.values())
    expected_starts = sum((k + 1) // 2 for k in sizes.values())
    assert rows(engine, "SELECT status, COUNT(*) FROM submission GROUP BY status") == [("current", 3)]
    assert scalar(engine, "SELECT COUNT(*) FROM participant") == n
    assert scalar(engine, "SELECT COUNT(*) FROM v_participants") == n
    assert rows(engine, "SELECT SUM(referrals), SUM(attachments), SUM(job_starts) FROM v_monthly") == [
        (n, n, expected_starts)
    ]
    per_partner = {
        r[0]: r[1:]
        for r in rows(engine, "SELECT partner, SUM(referrals), SUM(job_starts) FROM v_monthly GROUP BY partner")
    }
    march_april = sizes["march.xlsx"] + sizes["april.xlsx"]
    assert per_partner == {
        PARTNER: (march_april, (sizes["march.xlsx"] + 1) // 2 + (sizes["april.xlsx"] + 1) // 2),
        other: (sizes["other.xlsx"], (sizes["other.xlsx"] + 1) // 2),
    }
    # The summaries kept at ingest agree with a recount of the facts: no lost or doubled rows from the
    # concurrent refreshes.
    assert rows(engine, f"SELECT {MONTHLY_COLUMNS} FROM monthly_summary ORDER BY 1, 2, 3, 4") == rows(
        engine, MONTHLY_FLOWS_FROM_FACTS
    )
    assert scalar(engine, "SELECT SUM(referrals) FROM cohort_summary") == n
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'submitted'") == 3
    engine.dispose()


def test_writers_to_one_partner_contract_queue_so_the_summaries_count_every_file(any_db_url, tmp_path, monkeypatch):
    """Deterministic version of the race above: each writer pauses before rebuilding the summaries until the
    other has written its facts too. If writers could overlap (PostgreSQL's READ COMMITTED without the write
    lock in dashboard.db.writing), both would meet there and each rebuild from a snapshot missing the other's
    rows. Queued writers never meet: the first gives up waiting, commits, and only then the second writes."""
    engine = make_engine(any_db_url)
    init_db(engine)
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    files = [
        writers.write_standard(tmp_path / "march.xlsx", HEADER, journeys(300, "M")),
        writers.write_standard(tmp_path / "april.xlsx", dict(HEADER, period=date(2013, 4, 1)), journeys(200, "A")),
    ]
    barrier, met = threading.Barrier(2, timeout=3), []
    real_refresh = store.refresh_summaries

    def refresh_once_both_have_written(conn, partner_id, contract_id):
        try:
            barrier.wait()
            met.append(partner_id)
        except threading.BrokenBarrierError:
            pass  # the other writer is queued behind this transaction
        return real_refresh(conn, partner_id, contract_id)

    monkeypatch.setattr(store, "refresh_summaries", refresh_once_both_have_written)
    results, errors = {}, []

    def ingest(path):
        try:
            results[path.name] = Ingestor(engine).ingest(path).status
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{path.name}: {exc!r}")

    threads = [threading.Thread(target=ingest, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and results == {"march.xlsx": LOADED, "april.xlsx": LOADED}
    assert met == [], "two write transactions ran at the same time"
    assert rows(engine, f"SELECT {MONTHLY_COLUMNS} FROM monthly_summary ORDER BY 1, 2, 3, 4") == rows(
        engine, MONTHLY_FLOWS_FROM_FACTS
    )
    assert scalar(engine, "SELECT SUM(referrals) FROM monthly_summary") == 500
    assert scalar(engine, "SELECT SUM(referrals) FROM cohort_summary") == 500
    engine.dispose()


def test_several_first_runs_at_once_on_a_new_database_create_it_once(any_db_url):
    """`wpmi ingest` initialises the database itself, so two first ingests can both find it empty."""
    if any_db_url.startswith("sqlite"):
        # The file itself must exist first: PRAGMA journal_mode=WAL on a brand-new file from several
        # connections at once can fail with "database is locked" (dashboard/db.py, _configure_sqlite).
        make_engine(any_db_url).connect().close()
    engines = [make_engine(any_db_url) for _ in range(4)]
    barrier, counts, errors = threading.Barrier(len(engines), timeout=30), [], []

    def first_run(engine):
        barrier.wait()
        try:
            counts.append(init_db(engine))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc)[:300])

    threads = [threading.Thread(target=first_run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(counts) == len(engines) and all(c == counts[0] for c in counts)
    assert scalar(engines[0], "SELECT COUNT(*) FROM contract") == 40
    assert scalar(engines[0], "SELECT COUNT(*) FROM v_standards") == counts[0]["standard"]
    for e in engines:
        e.dispose()
