"""Periods and supersession a sender can see (issue 13, item 3): an inferred period is a warning, every load says
what it supersedes, a correction that lands in an earlier month is warned about and can name what it replaces,
and the bytes of a superseded return make it current again."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text

from loaders.pipeline import IngestOptions
from loaders.service import REJECTED, ingest_files
from tests.conftest import CPA, PARTNER, PRIME
from tests.hostile import journeys, table

SENDER = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA)  # no period: the file states none either


def returns(tmp_path, name: str, last_referral: date, n: int = 5):
    """A plain participant sheet (no header block) whose latest date is `last_referral`."""
    rows = journeys(n)
    rows[-1] = [rows[-1][0], "PG1", last_referral, None, None, None, None]
    return table(tmp_path / name, rows)


def ingest(engine, path, options=SENDER):
    return ingest_files(engine, [(path.name, path)], options)[0]


def status_of(engine, submission_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT status FROM submission WHERE submission_id = :s"), {"s": submission_id}
        ).scalar()


def codes(result) -> dict[str, str]:
    return {p.code: p.message for p in result.problems}


def test_an_inferred_period_is_a_warning_that_says_how(engine, tmp_path):
    result = ingest(engine, returns(tmp_path, "april.xlsx", date(2013, 4, 20)))
    assert result.status == "loaded" and result.period == date(2013, 4, 1)
    assert "period_inferred" in {p.code for p in result.warnings}
    assert "wpmi used April 2013, the month of the latest date in the file" in codes(result)["period_inferred"]


def test_a_stated_period_is_no_warning(engine, tmp_path):
    result = ingest(engine, returns(tmp_path, "april.xlsx", date(2013, 4, 20)), IngestOptions(
        partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-04"
    ))  # fmt: skip
    assert "period_inferred" not in codes(result)


def test_every_load_says_what_it_supersedes(engine, tmp_path):
    first = ingest(engine, returns(tmp_path, "first.xlsx", date(2013, 4, 20)))
    assert "supersedes nothing" in codes(first)["supersedes"]
    second = ingest(engine, returns(tmp_path, "second.xlsx", date(2013, 4, 22), n=6))
    assert f"supersedes submission {first.submission_id} (first.xlsx)" in codes(second)["supersedes"]


def test_a_correction_that_infers_an_earlier_period_is_warned_and_replaces_cleanly_when_named(engine, tmp_path):
    original = ingest(engine, returns(tmp_path, "original.xlsx", date(2013, 4, 2)))  # a typo: April for March
    corrected = returns(tmp_path, "corrected.xlsx", date(2013, 3, 30))
    silent = ingest(engine, corrected, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, dry_run=True))
    warning = codes(silent)["later_return_wins"]
    assert f"submission {original.submission_id} (original.xlsx, April 2013)" in warning
    assert f"--replaces {original.submission_id}" in warning
    fixed = ingest(
        engine, corrected, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, replaces=original.submission_id)
    )
    assert fixed.status == "loaded" and fixed.period == date(2013, 4, 1)  # the replaced return's period
    assert status_of(engine, original.submission_id) == "superseded"
    assert f"supersedes submission {original.submission_id}" in codes(fixed)["supersedes"]


def test_replacing_another_senders_return_is_refused(engine, tmp_path):
    other = ingest(
        engine, returns(tmp_path, "other.xlsx", date(2013, 4, 2)), IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA)
    )
    elsewhere = IngestOptions(partner=PARTNER, prime="Avanta", cpa=CPA, replaces=other.submission_id)
    result = ingest(engine, returns(tmp_path, "mine.xlsx", date(2013, 4, 3)), elsewhere)
    assert result.status == REJECTED
    assert "names a return of another partner or contract" in codes(result)["WrongReplacement"]
    assert status_of(engine, other.submission_id) == "current"


@pytest.mark.parametrize("replaces", [999, "withdrawn"])
def test_replacing_a_submission_that_is_not_there_is_refused(engine, tmp_path, replaces):
    if replaces == "withdrawn":
        from dashboard.access import operator
        from loaders.service import withdraw

        gone = ingest(engine, returns(tmp_path, "gone.xlsx", date(2013, 4, 2)))
        withdraw(engine, gone.submission_id, access=operator("test"), reason=None)
        replaces = gone.submission_id
    options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, replaces=int(replaces))
    result = ingest(engine, returns(tmp_path, "new.xlsx", date(2013, 4, 3)), options)
    assert result.status == REJECTED and "WrongReplacement" in codes(result)


def test_the_bytes_of_a_superseded_return_make_it_current_again(engine, tmp_path):
    good = returns(tmp_path, "good.xlsx", date(2013, 4, 20))
    first = ingest(engine, good)
    bad = ingest(engine, returns(tmp_path, "bad.xlsx", date(2013, 4, 21), n=6))
    assert status_of(engine, first.submission_id) == "superseded"
    again = ingest(engine, good)
    assert again.status == "restored" and again.submission_id == first.submission_id
    assert (status_of(engine, first.submission_id), status_of(engine, bad.submission_id)) == ("current", "superseded")


def test_a_file_without_a_milestone_column_warns_naming_each_measure_it_does_not_report(engine, tmp_path):
    path = table(
        tmp_path / "short.xlsx", [r[:3] for r in journeys(3)], ["participant_ref", "payment_group", "referral_date"]
    )
    result = ingest(engine, path, IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03"))
    assert result.status == "loaded"
    warning = codes(result)["not_reported"]
    assert "has no column for first_contact_date, attachment_date" in warning and "job_outcome_date" in warning


def test_require_turns_a_missing_milestone_column_into_an_error(engine, tmp_path):
    path = table(
        tmp_path / "short.xlsx", [r[:3] for r in journeys(3)], ["participant_ref", "payment_group", "referral_date"]
    )
    options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03", require=("job_outcome_date",))
    result = ingest(engine, path, options)
    assert result.status == REJECTED
    assert "has no column for job_outcome_date, which --require or the layout" in codes(result)["required_not_reported"]


def test_require_with_a_misspelt_field_is_a_usage_error(tmp_path, db_url):
    from loaders.cli import main

    path = table(tmp_path / "short.xlsx", journeys(2))
    assert main(["ingest", str(path), "--db", db_url, "--require", "job_outcome", "-q"]) == 2


def test_the_cli_summary_prints_the_warnings_a_sender_must_see(tmp_path, db_url, engine, capsys, monkeypatch):
    from loaders.cli import main

    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping inside the messages compared

    path = table(
        tmp_path / "short.xlsx", [r[:3] for r in journeys(3)], ["participant_ref", "payment_group", "referral_date"]
    )
    args = ["ingest", str(path), "--db", db_url, "-q", "--partner", PARTNER, "--prime", PRIME, "--cpa", str(CPA)]
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "warning: short.xlsx: sheet 'Participants' (Participants) has no column for" in out
    assert "the reporting period is not stated" in out


# --- the same bytes read another way are a new load ------------------------------------------------------------
def _cms(tmp_path):
    from datetime import timedelta

    rows = [[f"P{i:04d}", "PG1", date(2013, 1, 2) + timedelta(days=i), date(2013, 9, 1)] for i in range(6)]
    return table(tmp_path / "cms.xlsx", rows, ["Ref", "PG", "Referred", "Outcome"])


def _outcomes(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COALESCE(SUM(job_outcomes), -1) FROM v_monthly")).scalar()


def test_the_same_bytes_with_another_mapping_are_a_new_load_that_supersedes_the_old_reading(engine, tmp_path):
    path = _cms(tmp_path)
    stated = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-09")
    first = ingest(engine, path, stated)
    assert first.status == "loaded" and _outcomes(engine) == -1  # Outcome unmatched: not reported
    remapped = replace(stated, column_map={"Outcome": "job_outcome_date"})
    second = ingest(engine, path, remapped)
    assert second.status == "loaded" and second.submission_id != first.submission_id
    assert status_of(engine, first.submission_id) == "superseded" and _outcomes(engine) == 6
    assert ingest(engine, path, remapped).status == "unchanged"  # read the same way again: nothing to do


def test_a_withdrawn_file_sent_again_with_another_mapping_is_loaded_not_restored(engine, tmp_path):
    from dashboard.access import operator
    from loaders.service import withdraw

    path = _cms(tmp_path)
    stated = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-09")
    first = ingest(engine, path, stated)
    withdraw(engine, first.submission_id, access=operator("analyst"), reason="wrong columns")
    again = ingest(engine, path, replace(stated, column_map={"Outcome": "job_outcome_date"}))
    assert again.status == "loaded" and status_of(engine, first.submission_id) == "withdrawn"
    assert _outcomes(engine) == 6


def test_a_database_that_allowed_each_file_once_is_rebuilt_to_allow_another_reading(tmp_path):
    from dashboard.db import make_engine, writing
    from dashboard.reference import init_db
    from loaders.organisation import register_partner

    url = f"sqlite:///{tmp_path / 'legacy.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    stated = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-09")
    first = ingest(engine, _cms(tmp_path), stated)
    raw = engine.raw_connection()  # make it as a database from before readings: UNIQUE(sha256), no reading
    cur = raw.cursor()
    cur.execute("PRAGMA foreign_keys=OFF")
    for (view,) in cur.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
        cur.execute(f"DROP VIEW {view}")
    cur.execute("UPDATE submission SET reading = NULL")
    cur.execute("CREATE UNIQUE INDEX legacy_sha ON submission (sha256)")
    cur.execute("PRAGMA foreign_keys=ON")
    raw.close()
    init_db(engine)
    second = ingest(engine, _cms(tmp_path), replace(stated, column_map={"Outcome": "job_outcome_date"}))
    assert second.status == "loaded" and status_of(engine, first.submission_id) == "superseded"
    assert _outcomes(engine) == 6
