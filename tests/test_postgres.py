"""The database promises hold on a real PostgreSQL server too, not only on SQLite.

A throwaway PostgreSQL server is started for the session by tests/postgres.py (skipped, with the reason, only
when none can be had on this machine; CI sets WPMI_REQUIRE_POSTGRES=1 so it cannot skip there). The same
checks as test_store.py and test_demo.py, the dashboard's queries compared row for row with SQLite on the same
demo, and two processes ingesting at once into either backend.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import queries
from dashboard.db import make_engine, writing
from loaders import store
from loaders.demo import writers
from loaders.demo.build import build_demo, demo_truths
from loaders.organisation import register_partner
from loaders.pipeline import LOADED, REJECTED, RESTORED, UNCHANGED, Ingestor
from dashboard.reference import init_db
from tests.conftest import HEADER, PARTNER, participants
from tests.postgres import pg_server, pg_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("referrals", "attachments", "job_starts", "job_outcomes")
FACT_TABLES = ("submission", "participant", "contact", "monthly_return", "projection", "feedback", "partner",
               "monthly_summary", "cohort_summary", "compliance_summary")


def snapshot(engine) -> dict:
    """Every row of every table except the audit log (which records attempts by design)."""
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=repr) for t in FACT_TABLES}


def scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


@pytest.fixture
def pg_engine(pg_url):
    """An initialised PostgreSQL database with the test partner registered (as conftest's `engine`)."""
    engine = make_engine(pg_url)
    init_db(engine)
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_ingestor(pg_engine) -> Ingestor:
    return Ingestor(pg_engine)


# --- schema, reference data and the write path ---------------------------------------------------------

def test_init_db_twice_on_postgres_is_idempotent_and_loads_the_reference_data(pg_url):
    engine = make_engine(pg_url)
    first = init_db(engine)
    second = init_db(engine)
    assert first == second
    assert (first["cpa"], first["contract"], first["payment_group"]) == (18, 40, 9)
    assert scalar(engine, "SELECT COUNT(*) FROM cpa") == 18
    assert scalar(engine, "SELECT COUNT(*) FROM contract") == 40
    assert scalar(engine, "SELECT COUNT(*) FROM payment_group") == 9
    assert scalar(engine, "SELECT COUNT(*) FROM standard") == first["standard"] > 0
    assert scalar(engine, "SELECT COUNT(*) FROM v_standards") == first["standard"]
    assert scalar(engine, "SELECT end_date FROM contract WHERE contract_id = 'CPA18-ncg'") == date(2015, 3, 31)
    views = {r[0] for r in rows(engine, "SELECT table_name FROM information_schema.views "
                                        "WHERE table_schema = 'public'")}
    assert views == {"v_participants", "v_monthly", "v_projections", "v_feedback", "v_standards", "v_submissions"}
    engine.dispose()


def test_same_bytes_twice_on_postgres_is_a_no_op(tmp_path, pg_engine, pg_ingestor):
    path = writers.write_standard(tmp_path / "t.xlsx", HEADER, participants())
    first = pg_ingestor.ingest(path)
    before = snapshot(pg_engine)
    second = pg_ingestor.ingest(path)
    assert (first.status, second.status) == (LOADED, UNCHANGED)
    assert second.submission_id == first.submission_id
    assert snapshot(pg_engine) == before
    assert before["participant"] and before["monthly_summary"]


def test_newer_return_on_postgres_supersedes_and_keeps_history(tmp_path, pg_engine, pg_ingestor):
    old = pg_ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    new = pg_ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3)))
    assert old.status == new.status == LOADED
    assert rows(pg_engine, "SELECT submission_id, status, superseded_by FROM submission ORDER BY 1") == [
        (old.submission_id, "superseded", new.submission_id), (new.submission_id, "current", None)]
    assert scalar(pg_engine, "SELECT COUNT(*) FROM participant") == 5  # history kept
    assert scalar(pg_engine, "SELECT COUNT(*) FROM v_participants") == 3  # views show the latest
    assert scalar(pg_engine, "SELECT SUM(referrals) FROM monthly_summary") == 3
    assert [r[0] for r in rows(pg_engine, "SELECT action FROM audit_log ORDER BY audit_id")] == [
        "registered", "submitted", "submitted", "superseded"]


def test_monthly_caseloads_on_postgres_keep_the_latest_rows_right(tmp_path, pg_engine, pg_ingestor):
    from tests.test_store import check_caseload_history

    check_caseload_history(tmp_path, pg_engine, pg_ingestor)

def test_later_period_on_postgres_updates_a_participant_and_keeps_the_others(tmp_path, pg_engine, pg_ingestor):
    pg_ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    april = dict(HEADER, period=date(2013, 4, 1))
    update = participants(1, job_outcome_date=[date(2013, 4, 20)])
    assert pg_ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", april, update)).status == LOADED
    assert rows(pg_engine, "SELECT participant_ref, job_outcome_date FROM v_participants ORDER BY 1") == [
        ("P00001", date(2013, 4, 20)), ("P00002", None)]
    assert rows(pg_engine, "SELECT referral_month, in_work_support_offered, days_to_job_start FROM participant "
                           "WHERE participant_ref = 'P00001' ORDER BY submission_id") == [
        (date(2013, 1, 1), True, 30), (date(2013, 1, 1), True, 30)]


def test_rejected_file_on_postgres_leaves_every_table_unchanged_but_is_audited(tmp_path, pg_engine, pg_ingestor):
    pg_ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    before = snapshot(pg_engine)
    bad = participants(2, payment_group=["PG1", "PG99"])
    result = pg_ingestor.ingest(writers.write_standard(tmp_path / "bad.xlsx", HEADER, bad))
    assert result.status == REJECTED
    assert snapshot(pg_engine) == before
    assert rows(pg_engine, "SELECT action, file_name, detail FROM audit_log WHERE action = 'rejected'") == [
        ("rejected", "bad.xlsx", "bad_payment_group x1")]


def test_failure_mid_write_on_postgres_rolls_the_whole_file_back(tmp_path, pg_engine, pg_ingestor, monkeypatch):
    pg_ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    before = snapshot(pg_engine)
    audits_before = scalar(pg_engine, "SELECT COUNT(*) FROM audit_log")
    real_audit = store.audit

    def failing_audit(conn, action, **kwargs):
        if action == "submitted":  # after the submission row and every fact row were inserted
            raise RuntimeError("disk full")
        return real_audit(conn, action, **kwargs)

    monkeypatch.setattr(store, "audit", failing_audit)
    with pytest.raises(RuntimeError, match="disk full"):
        pg_ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3)))
    assert snapshot(pg_engine) == before
    assert scalar(pg_engine, "SELECT COUNT(*) FROM audit_log") == audits_before
    # The connection went back to the pool clean: the next file lands normally.
    monkeypatch.setattr(store, "audit", real_audit)
    assert pg_ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3))).status == LOADED


def test_withdrawing_on_postgres_empties_the_views_and_reingesting_restores_it(tmp_path, pg_engine, pg_ingestor):
    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(3))
    first = pg_ingestor.ingest(path)
    with writing(pg_engine) as conn:
        store.withdraw_submission(conn, first.submission_id, actor="analyst", reason="wrong contract")
    assert scalar(pg_engine, "SELECT COUNT(*) FROM v_participants") == 0
    assert scalar(pg_engine, "SELECT COUNT(*) FROM monthly_summary") == 0
    again = pg_ingestor.ingest(path)
    assert (again.status, again.submission_id) == (RESTORED, first.submission_id)
    assert scalar(pg_engine, "SELECT SUM(referrals) FROM monthly_summary") == 3


def _every_sheet(tmp_path) -> Path:
    """One return with all five sheets: dates, blanks, booleans, reals and a suppressed count."""
    people = participants(6, exit_date=[None, None, None, None, date(2013, 3, 20), None],
                          in_work_support_offered=["Y", "N", None, "Y", "N", None])
    contacts = pd.DataFrame({"participant_ref": ["P00001", "P00001", "P00002"],
                             "contact_date": [date(2013, 1, 9), date(2013, 2, 6), date(2013, 1, 10)],
                             "mode": ["phone", "face to face", None]})
    monthly = pd.DataFrame({"month": [date(2012, 12, 1), date(2012, 12, 1)], "payment_group": ["PG1", "PG2"],
                            "referrals": [7, "*"], "attachments": [6, 2], "job_starts": [1, 0],
                            "job_outcomes": [0, 0]})
    projections = pd.DataFrame({"month": [date(2013, 1, 1), date(2013, 2, 1)], "payment_group": ["PG1", "PG1"],
                                "projected_referrals": [9, 11]})
    feedback = pd.DataFrame({"month": [date(2013, 1, 1), date(2013, 2, 1)], "complaints_received": [2, 0],
                             "complaints_resolved_in_time": [1, 0], "satisfaction_responses": [12, 0],
                             "satisfaction_mean": [4.25, None]})
    return writers.write_standard(tmp_path / "every_sheet.xlsx", HEADER, people, contacts, monthly, projections,
                                  feedback)


def test_every_fact_and_summary_row_reads_back_from_postgres_as_from_sqlite(tmp_path, pg_engine, engine):
    """The bulk insert path of each backend (dashboard.bulk) stores the same values: compare table by table."""
    path = _every_sheet(tmp_path)
    on_sqlite, on_postgres = Ingestor(engine).ingest(path), Ingestor(pg_engine).ingest(path)
    assert on_sqlite.status == on_postgres.status == LOADED, on_postgres.problems[:3]
    assert on_postgres.rows == on_sqlite.rows and all(on_sqlite.rows.values())
    for table in FACT_TABLES:
        if table in ("submission", "partner"):
            continue  # ids, timestamps and reports differ by design
        sql = f"SELECT * FROM {table}"
        assert canonical(pd.DataFrame(rows(pg_engine, sql))) == canonical(pd.DataFrame(rows(engine, sql))), table
    for view in ("v_participants", "v_monthly", "v_projections", "v_feedback"):
        sql = f"SELECT * FROM {view}"
        assert canonical(pd.DataFrame(rows(pg_engine, sql))) == canonical(pd.DataFrame(rows(engine, sql))), view
    assert scalar(pg_engine, "SELECT COUNT(*) FROM monthly_return WHERE suppressed AND referrals IS NULL") == 1


# --- the tiny demo on PostgreSQL, and every dashboard query against SQLite's answers ----------------------

@pytest.fixture(scope="module")
def pg_demo(pg_server):
    """The tiny demo (seed 7, as conftest's SQLite `demo_db`) built on PostgreSQL through the real loader."""
    url = pg_server.create_database("wpmi_demo")
    started = time.perf_counter()
    build_demo(url, scale="tiny", seed=7, quiet=True)
    print(f"\ntiny demo built on PostgreSQL in {time.perf_counter() - started:.1f} s")
    engine = make_engine(url)
    yield engine
    engine.dispose()
    pg_server.drop_database(url)


@pytest.fixture(scope="module")
def sqlite_demo(demo_db):
    engine = make_engine(demo_db)
    yield engine
    engine.dispose()


def test_tiny_demo_on_postgres_v_monthly_totals_match_the_generators_truths(pg_demo):
    truths = demo_truths(pg_demo)
    assert truths["synthetic"] is True and truths["seed"] == 7
    seen = {(r[0], r[1]): tuple(r[2:]) for r in rows(
        pg_demo, "SELECT partner, contract_id, SUM(referrals), SUM(attachments), SUM(job_starts), "
                 "SUM(job_outcomes) FROM v_monthly GROUP BY partner, contract_id")}
    expected = {(link["partner"], link["contract_id"]): tuple(link[m] for m in MEASURES) for link in truths["links"]}
    assert seen == expected
    assert scalar(pg_demo, "SELECT COUNT(*) FROM v_participants") == sum(
        link["participants"] for link in truths["links"])
    projected = {(r[0], r[1]): r[2] for r in rows(
        pg_demo, "SELECT partner, contract_id, SUM(projected_referrals) FROM v_projections GROUP BY 1, 2")}
    expected_projected = {(link["partner"], link["contract_id"]): link["projected_referrals"]
                          for link in truths["links"]}
    assert projected == {k: v for k, v in expected_projected.items() if v}  # tiny partners may have no profile
    rejected = {r[0] for r in rows(pg_demo, "SELECT file_name FROM audit_log WHERE action = 'rejected'")}
    assert rejected == {f["file"] for f in truths["expected_rejections"]}


def test_monthly_summary_maintained_at_ingest_on_postgres_equals_v_monthly(pg_demo):
    columns = "partner_id, contract_id, month, payment_group, referrals, attachments, job_starts, job_outcomes, basis"
    view = rows(pg_demo, f"SELECT {columns} FROM v_monthly ORDER BY 1, 2, 3, 4")
    summary = rows(pg_demo, f"SELECT {columns} FROM monthly_summary ORDER BY 1, 2, 3, 4")
    assert summary == view and len(view) > 1000
    (n, starts) = rows(pg_demo, "SELECT SUM(referrals), SUM(job_starts) FROM cohort_summary")[0]
    assert (n, starts) == rows(pg_demo, "SELECT COUNT(*), COUNT(job_start_date) FROM v_participants")[0]


def _value(v):
    """One cell in a form both backends agree on: SQLite hands dates back as text, PostgreSQL as dates."""
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (datetime, pd.Timestamp)):
        return v.date().isoformat() if v == datetime.combine(v.date(), datetime.min.time()) else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, Decimal, np.integer, np.floating)):
        return round(float(v), 9)
    return v


def canonical(result):
    """Columns and the sorted rows of a query's answer, with each cell through _value."""
    if isinstance(result, dict):
        return {k: canonical(v) for k, v in result.items()}
    if isinstance(result, pd.DataFrame):
        frame = result.reset_index(drop=True)
        cells = sorted((tuple(_value(v) for v in row) for row in frame.itertuples(index=False, name=None)),
                       key=repr)
        return list(frame.columns), cells
    return _value(result)


def _cell(name):
    """A drill-down query on the demo context's compliance cell."""
    return lambda e, c: getattr(queries, name)(e, c["partner_id"], c["contract_id"], c["standard_id"])


FILTERED = queries.Filters(payment_groups=("PG1", "PG2", "PG6"), period_from=date(2012, 1, 1),
                           period_to=date(2015, 12, 1))
QUERIES = {
    "has_data": lambda e, c: queries.has_data(e),
    "latest_month": lambda e, c: queries.latest_month(e),
    "synthetic_note": lambda e, c: queries.synthetic_note(e),
    "demo_truths": lambda e, c: {k: v for k, v in queries.demo_truths(e).items() if not k.endswith("seconds")},
    "filter_options": lambda e, c: queries.filter_options(e),
    "flow_totals": lambda e, c: queries.flow_totals(e),
    "flow_totals filtered": lambda e, c: queries.flow_totals(e, FILTERED),
    "flow_totals one cpa and sector": lambda e, c: queries.flow_totals(e, queries.Filters(cpa=5, sector="vcs")),
    "cohort_totals": lambda e, c: queries.cohort_totals(e, as_of=c["as_of"]),
    "cohort_totals 24 months filtered": lambda e, c: queries.cohort_totals(e, FILTERED, as_of=c["as_of"], months=24),
    "cohort_series": lambda e, c: queries.cohort_series(e, as_of=c["as_of"]),
    "projections_vs_actuals": lambda e, c: queries.projections_vs_actuals(e),
    "projections_vs_actuals filtered": lambda e, c: queries.projections_vs_actuals(e, FILTERED),
    "feedback_totals": lambda e, c: queries.feedback_totals(e),
    "feedback_totals filtered": lambda e, c: queries.feedback_totals(e, FILTERED),
    "submissions": lambda e, c: queries.submissions(e).drop(columns=["loaded_at"]),
    "coverage": lambda e, c: queries.coverage(e),
    "minimum_performance_levels": lambda e, c: queries.minimum_performance_levels(e),
    "standards": lambda e, c: queries.standards(e),
    "compliance_cells": lambda e, c: queries.compliance_cells(e),
    "compliance_cells filtered": lambda e, c: queries.compliance_cells(e, FILTERED),
    "compliance_cells as at a cut-off": lambda e, c: queries.compliance_cells(e, as_of_limit=date(2016, 12, 31)),
    "compliance_by_partner": lambda e, c: queries.compliance_by_partner(e),
    **{name: _cell(name) for name in ("standard_counts", "standard_days", "standard_missed")},
}


@pytest.fixture(scope="module")
def demo_context(sqlite_demo):
    as_of = queries.latest_month(sqlite_demo)
    with sqlite_demo.connect() as conn:  # a cell with measured days and someone who missed, for the drill-downs
        partner_id, contract_id, standard_id = conn.execute(text(
            "SELECT partner_id, contract_id, standard_id FROM compliance_missed WHERE days IS NOT NULL "
            "ORDER BY partner_id, contract_id, standard_id LIMIT 1")).one()
    return {"as_of": as_of, "partner_id": partner_id, "contract_id": contract_id, "standard_id": standard_id}


def test_every_dashboard_query_function_is_exercised_here():
    public = {name for name, f in vars(queries).items() if callable(f) and getattr(f, "__module__", "") ==
              queries.__name__ and not name.startswith("_") and not isinstance(f, type)}
    covered = {name.split()[0] for name in QUERIES} | {"maturity_cutoffs"}  # pure date arithmetic, no SQL
    assert public <= covered, f"add these to QUERIES: {sorted(public - covered)}"


@pytest.mark.parametrize("name", list(QUERIES))
def test_dashboard_query_on_postgres_answers_exactly_as_on_sqlite_for_the_same_demo(name, pg_demo, sqlite_demo,
                                                                                 demo_context):
    on_sqlite = QUERIES[name](sqlite_demo, demo_context)
    on_postgres = QUERIES[name](pg_demo, demo_context)
    if isinstance(on_sqlite, pd.DataFrame):
        assert len(on_postgres) == len(on_sqlite)
    assert canonical(on_postgres) == canonical(on_sqlite)


def test_dashboard_queries_on_the_demo_are_not_empty(sqlite_demo, demo_context):
    # Guards the comparison above against passing on two empty answers.
    for name in ("flow_totals", "cohort_totals", "projections_vs_actuals", "compliance_cells", "feedback_totals",
                 "submissions", "standard_counts", "standard_days", "standard_missed", "flow_totals filtered", "compliance_cells filtered"):
        assert len(QUERIES[name](sqlite_demo, demo_context)) > 0, name


# --- two processes ingesting at the same time, on either backend --------------------------------------------

def journeys(n: int, prefix: str) -> pd.DataFrame:
    """`n` clean journeys referred from October 2012 to January 2013 (every other one starting a job)."""
    out = []
    for i in range(n):
        ref = date(2012, 10, 1) + timedelta(days=i % 120)
        out.append({
            "participant_ref": f"{prefix}{i + 1:05d}", "payment_group": ["PG1", "PG2", "PG6"][i % 3],
            "referral_date": ref, "first_contact_date": ref + timedelta(2), "attachment_date": ref + timedelta(6),
            "initial_assessment_date": ref + timedelta(8), "action_plan_date": ref + timedelta(10),
            "job_start_date": ref + timedelta(30) if i % 2 == 0 else None, "job_outcome_date": None,
            "exit_date": None, "exit_report_requested_date": None, "exit_report_sent_date": None,
            "in_work_support_offered": "Y" if i % 2 == 0 else None,
        })
    return pd.DataFrame(out)


def _wpmi_command() -> list[str]:
    script = Path(sys.executable).parent / "wpmi"
    return [str(script)] if script.exists() else [sys.executable, "-m", "loaders.cli"]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'concurrent.sqlite'}"
    return request.getfixturevalue("pg_url")


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
        writers.write_standard(tmp_path / "april.xlsx", dict(HEADER, period=date(2013, 4, 1)),
                               journeys(sizes["april.xlsx"], "A")),
        writers.write_standard(tmp_path / "other.xlsx", dict(HEADER, partner=other), journeys(sizes["other.xlsx"], "W")),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    procs = [subprocess.Popen([*_wpmi_command(), "ingest", str(f), "--db", any_db_url, "-q"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
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
        (n, n, expected_starts)]
    per_partner = {r[0]: r[1:] for r in rows(engine, "SELECT partner, SUM(referrals), SUM(job_starts) FROM v_monthly "
                                                     "GROUP BY partner")}
    march_april = sizes["march.xlsx"] + sizes["april.xlsx"]
    assert per_partner == {
        PARTNER: (march_april, (sizes["march.xlsx"] + 1) // 2 + (sizes["april.xlsx"] + 1) // 2),
        other: (sizes["other.xlsx"], (sizes["other.xlsx"] + 1) // 2)}
    # The summaries kept at ingest agree with the views: no lost or doubled rows from the concurrent refreshes.
    columns = "partner_id, contract_id, month, payment_group, referrals, attachments, job_starts, job_outcomes, basis"
    assert rows(engine, f"SELECT {columns} FROM monthly_summary ORDER BY 1, 2, 3, 4") == rows(
        engine, f"SELECT {columns} FROM v_monthly ORDER BY 1, 2, 3, 4")
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
    files = [writers.write_standard(tmp_path / "march.xlsx", HEADER, journeys(300, "M")),
             writers.write_standard(tmp_path / "april.xlsx", dict(HEADER, period=date(2013, 4, 1)),
                                    journeys(200, "A"))]
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
    columns = "partner_id, contract_id, month, payment_group, referrals, attachments, job_starts, job_outcomes, basis"
    assert rows(engine, f"SELECT {columns} FROM monthly_summary ORDER BY 1, 2, 3, 4") == rows(
        engine, f"SELECT {columns} FROM v_monthly ORDER BY 1, 2, 3, 4")
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
