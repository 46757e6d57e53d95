"""Writing: all or nothing per file, same bytes twice is a no-op, newer returns supersede older ones.

Every test runs on SQLite and on PostgreSQL: this module's `db_url` (and so conftest's `engine` and `ingestor`)
stands on conftest's `any_db_url`, ids [sqlite] and [postgresql]. The PostgreSQL ones skip, with the reason,
when no server can be had, unless WPMI_REQUIRE_POSTGRES=1. A test that holds only on SQLite says SQLITE_ONLY.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import event, inspect, text

from dashboard.db import make_engine, read_frame
from dashboard.reference import init_db
from loaders import store
from loaders.demo import writers
from loaders.pipeline import LOADED, REJECTED, UNCHANGED
from tests.conftest import FACT_TABLES, HEADER, participants, rows
from tests.conftest import scalar as count

SQLITE_ONLY = pytest.mark.parametrize("any_db_url", ["sqlite"], indirect=True)
VIEWS = {"v_participants", "v_monthly", "v_projections", "v_feedback", "v_standards", "v_submissions"}


@pytest.fixture
def db_url(any_db_url) -> str:
    """An initialised, empty database (reference data loaded) on each backend in turn."""
    engine = make_engine(any_db_url)
    init_db(engine)
    engine.dispose()
    return any_db_url


def snapshot(engine) -> dict:
    """Every row of every table except the audit log (which records attempts by design)."""
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=repr) for t in FACT_TABLES}


def as_stored(engine, iso: str):
    """A stored date as the backend hands it back: SQLite as ISO text, PostgreSQL as a date."""
    return iso if engine.dialect.name == "sqlite" else date.fromisoformat(iso)


def test_init_is_idempotent_and_loads_reference_data(any_db_url):
    engine = make_engine(any_db_url)
    first = init_db(engine)
    second = init_db(engine)
    assert first == second
    assert (first["cpa"], first["contract"], first["payment_group"]) == (18, 40, 9)
    assert count(engine, "SELECT COUNT(*) FROM cpa") == 18
    assert count(engine, "SELECT COUNT(*) FROM contract") == 40
    assert count(engine, "SELECT COUNT(*) FROM payment_group") == 9
    assert count(engine, "SELECT COUNT(*) FROM standard") == first["standard"] > 0
    assert count(engine, "SELECT COUNT(*) FROM v_standards") == first["standard"]
    assert count(engine, "SELECT end_date FROM contract WHERE contract_id = 'CPA18-ncg'") == as_stored(
        engine, "2015-03-31"
    )
    assert set(inspect(engine).get_view_names()) == VIEWS
    engine.dispose()


def test_same_bytes_twice_is_a_no_op(tmp_path, engine, ingestor):
    path = writers.write_standard(tmp_path / "t.xlsx", HEADER, participants())
    first = ingestor.ingest(path)
    before = snapshot(engine)
    second = ingestor.ingest(path)
    assert (first.status, second.status) == (LOADED, UNCHANGED)
    assert second.submission_id == first.submission_id
    assert second.problems[0].message == (
        f"Identical to submission {first.submission_id} (t.xlsx), read the same way (same layout and mapping); "
        "nothing to do."
    )
    assert snapshot(engine) == before
    assert before["participant"] and before["monthly_summary"]


def test_newer_return_for_the_same_period_supersedes_and_history_is_kept(tmp_path, engine, ingestor):
    old = ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    new = ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3)))
    assert old.status == new.status == LOADED
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT submission_id, status, superseded_by FROM submission ORDER BY 1")).all()
        assert [tuple(r) for r in rows] == [
            (old.submission_id, "superseded", new.submission_id),
            (new.submission_id, "current", None),
        ]
        assert conn.execute(text("SELECT COUNT(*) FROM participant")).scalar() == 5  # history kept
        assert conn.execute(text("SELECT COUNT(*) FROM v_participants")).scalar() == 3  # views show the latest
        assert conn.execute(text("SELECT SUM(referrals) FROM monthly_summary")).scalar() == 3
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_log ORDER BY audit_id"))]
    assert actions == ["registered", "submitted", "submitted", "superseded"]


def test_a_separate_feedback_return_for_the_same_period_does_not_supersede_the_caseload(tmp_path, engine, ingestor):
    ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    import pandas as pd

    feedback = pd.DataFrame(
        [
            {
                "month": date(2013, 3, 1),
                "complaints_received": 2,
                "complaints_resolved_in_time": 2,
                "satisfaction_responses": 10,
                "satisfaction_mean": 4.2,
            }
        ]
    )
    ingestor.ingest(writers.write_standard(tmp_path / "f.xlsx", HEADER, feedback=feedback))
    assert count(engine, "SELECT COUNT(*) FROM submission WHERE status = 'current'") == 2
    assert count(engine, "SELECT COUNT(*) FROM v_participants") == 2
    assert count(engine, "SELECT SUM(complaints_received) FROM v_feedback") == 2


def test_later_period_updates_a_participant_and_keeps_the_others(tmp_path, engine, ingestor):
    ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    april = dict(HEADER, period=date(2013, 4, 1))
    update = participants(1, job_outcome_date=[date(2013, 4, 20)])
    assert ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", april, update)).status == LOADED
    assert rows(engine, "SELECT participant_ref, job_outcome_date FROM v_participants ORDER BY 1") == [
        ("P00001", as_stored(engine, "2013-04-20")),
        ("P00002", None),
    ]
    # Derived columns are stored as each backend types them (a month, a boolean, a whole number of days).
    assert (
        rows(
            engine,
            "SELECT referral_month, in_work_support_offered, days_to_job_start FROM participant "
            "WHERE participant_ref = 'P00001' ORDER BY submission_id",
        )
        == [(as_stored(engine, "2013-01-01"), True, 30)] * 2
    )
    # The summaries rank the two current returns the same way: each participant once, at its latest state.
    assert count(engine, "SELECT SUM(referrals) || '/' || SUM(job_outcomes) FROM cohort_summary") == "2/1"
    assert count(engine, "SELECT SUM(referrals) || '/' || SUM(job_outcomes) FROM monthly_summary") == "2/1"


def test_failure_mid_write_leaves_the_database_unchanged(tmp_path, engine, ingestor, monkeypatch):
    ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    before = snapshot(engine)
    audits_before = count(engine, "SELECT COUNT(*) FROM audit_log")
    real_audit = store.audit

    def failing_audit(conn, action, **kwargs):
        if action == "submitted":  # after the submission row and every fact row were inserted
            raise RuntimeError("disk full")
        return real_audit(conn, action, **kwargs)

    monkeypatch.setattr(store, "audit", failing_audit)
    with pytest.raises(RuntimeError, match="disk full"):
        ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3)))
    assert snapshot(engine) == before
    assert count(engine, "SELECT COUNT(*) FROM audit_log") == audits_before
    # The connection went back to the pool clean: the next file lands normally.
    monkeypatch.setattr(store, "audit", real_audit)
    assert ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3))).status == LOADED


def test_rejected_file_leaves_the_database_unchanged_but_is_audited(tmp_path, engine, ingestor):
    bad_path = writers.write_standard(tmp_path / "bad.xlsx", HEADER, participants(2, payment_group=["PG1", "PG99"]))
    before = snapshot(engine)  # first into an empty database ...
    result = ingestor.ingest(bad_path)
    assert result.status == "rejected"
    assert snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT action, file_name, detail FROM audit_log WHERE action = 'rejected'")
        ).one() == ("rejected", "bad.xlsx", "bad_payment_group x1")
    ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    before = snapshot(engine)  # ... then into one holding a return
    assert ingestor.ingest(bad_path).status == REJECTED
    assert snapshot(engine) == before
    assert (
        rows(engine, "SELECT action, file_name, detail FROM audit_log WHERE action = 'rejected'")
        == [("rejected", "bad.xlsx", "bad_payment_group x1")] * 2
    )


def test_every_fact_row_keeps_its_submission_and_spreadsheet_row(tmp_path, engine, ingestor):
    result = ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT submission_id, source_row, participant_ref FROM participant ORDER BY 2")).all()
        sub = conn.execute(text("SELECT file_name, sha256, rows_participants, period, loaded_at FROM submission")).one()
    assert [tuple(r) for r in rows] == [(result.submission_id, 2, "P00001"), (result.submission_id, 3, "P00002")]
    assert sub[:4] == ("a.xlsx", result.sha256, 2, as_stored(engine, "2013-03-01")) and sub[4]


def test_dry_run_validates_without_writing(tmp_path, engine, ingestor):
    from loaders.pipeline import VALID, IngestOptions

    before = snapshot(engine)
    result = ingestor.ingest(
        writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)), IngestOptions(dry_run=True)
    )
    assert result.status == VALID and result.rows["Participants"] == 2
    assert snapshot(engine) == before


def test_withdrawing_removes_a_submission_from_every_view_and_reingesting_restores_it(tmp_path, engine, ingestor):
    from dashboard.db import writing
    from loaders.pipeline import RESTORED
    from loaders.store import withdraw_submission

    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(3))
    first = ingestor.ingest(path)
    with writing(engine) as conn:
        withdraw_submission(conn, first.submission_id, actor="analyst", reason="wrong contract")
    assert count(engine, "SELECT COUNT(*) FROM v_participants") == 0
    assert count(engine, "SELECT COUNT(*) FROM monthly_summary") == 0
    assert count(engine, "SELECT COUNT(*) FROM cohort_summary") == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action, actor, detail FROM audit_log WHERE action = 'withdrawn'")).one() == (
            "withdrawn",
            "analyst",
            "wrong contract",
        )
    again = ingestor.ingest(path)
    assert (again.status, again.submission_id) == (RESTORED, first.submission_id)
    assert count(engine, "SELECT COUNT(*) FROM v_participants") == 3
    assert count(engine, "SELECT SUM(referrals) FROM monthly_summary") == 3


def test_withdrawing_a_correction_reinstates_the_return_it_replaced(tmp_path, engine, ingestor):
    from dashboard.db import writing
    from loaders.store import withdraw_submission

    old = ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2)))
    new = ingestor.ingest(writers.write_standard(tmp_path / "b.xlsx", HEADER, participants(3)))
    with writing(engine) as conn:
        outcome = withdraw_submission(conn, new.submission_id, actor=None, reason=None)
    assert outcome["reinstated"] == [old.submission_id]
    assert count(engine, "SELECT COUNT(*) FROM v_participants") == 2


def test_cli_withdraw_names_a_missing_submission(db_url, capsys):
    from loaders.cli import main

    assert main(["withdraw", "999", "--db", db_url]) == 2


def test_init_fills_a_summary_table_added_by_an_upgrade(tmp_path, engine, ingestor):
    ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(3)))
    with engine.begin() as conn:
        # As if the database predates the table (v_monthly, which now reads it, read the facts then).
        conn.execute(text("DROP VIEW v_monthly"))
        conn.execute(text("DROP TABLE monthly_summary"))
    init_db(engine)
    assert count(engine, "SELECT SUM(referrals) FROM monthly_summary") == 3


@SQLITE_ONLY  # the old layout and the check read SQLite's own catalogue
def test_init_remakes_summaries_from_before_they_were_keyed_and_refills_them(tmp_path, engine, ingestor):
    ingestor.ingest(writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(3)))
    with engine.begin() as conn:  # the layout of an older version: no primary key, an index instead
        conn.execute(text("DROP TABLE cohort_summary"))
        conn.execute(
            text(
                "CREATE TABLE cohort_summary (partner_id INTEGER, contract_id VARCHAR(60), "
                "referral_month DATE, payment_group VARCHAR(8), referrals INTEGER, attachments INTEGER, "
                "job_starts_12m INTEGER, job_outcomes_12m INTEGER, job_starts_24m INTEGER, "
                "job_outcomes_24m INTEGER, job_starts INTEGER, job_outcomes INTEGER)"
            )
        )
    init_db(engine)
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'cohort_summary'")).scalar()
    assert "PRIMARY KEY" in sql and "WITHOUT ROWID" in sql
    assert count(engine, "SELECT SUM(referrals) FROM cohort_summary") == 3


def _latest_rows_agree_with_the_view(engine) -> int:
    """The rows the summaries count (dashboard/latest.py) are the rows v_participants shows; returns how many."""
    from dashboard import latest

    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT DISTINCT partner_id, contract_id FROM submission")).all()
        kept = pd.concat([latest.latest_participants(conn, p, k) for p, k in pairs], ignore_index=True)
        view = read_frame(conn, text(f"SELECT {', '.join(latest.COLUMNS)} FROM v_participants"))
    key = ["participant_ref", "job_start_date", "job_outcome_date", "attachment_date"]
    assert sorted(kept[key].astype(str).itertuples(index=False)) == sorted(
        view[key].astype(str).itertuples(index=False)
    )
    assert count(engine, "SELECT COALESCE(SUM(referrals), 0) FROM cohort_summary") == len(view)
    return len(view)


def test_monthly_caseloads_backfills_corrections_and_withdrawals_keep_the_latest_rows_right(tmp_path, engine, ingestor):
    """Monthly caseloads, a late backfill, a correction, its withdrawal and a newer month."""
    from dashboard.db import writing
    from loaders.store import withdraw_submission

    def month(period, n, name, **changes):
        path = writers.write_standard(tmp_path / name, dict(HEADER, period=period), participants(n, **changes))
        result = ingestor.ingest(path)
        assert result.status == LOADED, [p.message for p in result.errors]
        return result

    month(date(2013, 3, 1), 2, "mar.xlsx")
    assert _latest_rows_agree_with_the_view(engine) == 2
    month(date(2013, 4, 1), 3, "apr.xlsx", job_outcome_date=[date(2013, 4, 20), None, None])  # one newer row
    assert _latest_rows_agree_with_the_view(engine) == 3
    assert count(engine, "SELECT COUNT(*) FROM participant_current") == 3  # two current returns: rows kept
    # A late February file: older than what is kept, so it wins only for someone nobody else mentions.
    month(date(2013, 2, 1), 4, "feb.xlsx", job_start_date=[date(2013, 2, 27)] * 4)
    assert _latest_rows_agree_with_the_view(engine) == 4
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT participant_ref, job_outcome_date FROM v_participants")).all())
    assert str(stored["P00001"]) == "2013-04-20"  # April's row still wins over February's
    correction = month(date(2013, 4, 1), 3, "apr_fixed.xlsx")  # supersedes April: the pair is rebuilt
    assert _latest_rows_agree_with_the_view(engine) == 4
    with writing(engine) as conn:
        withdraw_submission(conn, correction.submission_id, actor=None, reason=None)  # April's first file is back
    assert _latest_rows_agree_with_the_view(engine) == 4
    with engine.connect() as conn:
        assert (
            str(
                conn.execute(
                    text("SELECT job_outcome_date FROM v_participants WHERE participant_ref = 'P00001'")
                ).scalar()
            )
            == "2013-04-20"
        )
    statements = []

    def record(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    month(date(2013, 5, 1), 3, "may.xlsx", job_outcome_date=[None, date(2013, 5, 9), None])  # newest wins
    event.remove(engine, "before_cursor_execute", record)
    kept = [sql for sql in statements if "INSERT INTO participant_current " in sql]
    assert len(kept) == 1 and "ON CONFLICT" in kept[0]  # one newer return: upserted, not rebuilt
    assert _latest_rows_agree_with_the_view(engine) == 4
    with engine.connect() as conn:
        outcomes = dict(conn.execute(text("SELECT participant_ref, job_outcome_date FROM v_participants")).all())
    assert (outcomes["P00001"], str(outcomes["P00002"])) == (None, "2013-05-09")  # May restates P00001 without one
