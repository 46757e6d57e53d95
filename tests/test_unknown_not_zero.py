"""Unknown is not zero (issue 13, item 1): a measure a file has no column for is stored as not reported, NULL
in the summaries and views, left out of both sides of its rates with the reason, and never counted as a missed
standard; mapping the column brings the true counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import text

from dashboard import benchmarks as bm
from dashboard import overview, queries
from dashboard.db import make_engine, writing
from dashboard.reference import init_db
from dashboard.views import drop_views
from loaders.organisation import register_partner
from loaders.pipeline import IngestOptions
from loaders.service import ingest_files
from tests.conftest import CPA, PARTNER, PRIME
from tests.hostile import table

FIRST = date(2012, 1, 2)
# A CMS extract in a layout wpmi has never seen: `Started` (attachment) and `Outcome` match no field.
HEADERS = ["Ref", "PG", "Referred", "Started", "Job start", "Outcome"]
PEOPLE, ATTACHED, STARTED, OUTCOMES = 60, 45, 20, 9
OPTIONS = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-12")
MAPPED = IngestOptions(
    partner=PARTNER,
    prime=PRIME,
    cpa=CPA,
    period="2013-12",
    column_map={"Started": "attachment_date", "Outcome": "job_outcome_date"},
)


def extract(path, n: int = PEOPLE):
    rows = []
    for i in range(n):
        referred = FIRST + timedelta(days=i)
        attached = referred + timedelta(days=10) if i < ATTACHED else None
        started = referred + timedelta(days=60) if i < STARTED else None
        outcome = referred + timedelta(days=250) if i < OUTCOMES else None
        rows.append([f"P{i:04d}", "PG1", referred, attached, started, outcome])
    return table(path, rows, HEADERS)


def ingest(engine, path, options=OPTIONS):
    (result,) = ingest_files(engine, [(path.name, path)], options)
    return result


def monthly(engine) -> dict[str, int | None]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT SUM(referrals) AS referrals, COUNT(attachments) AS attachments_known, "
                "SUM(attachments) AS attachments, COUNT(job_outcomes) AS outcomes_known, "
                "SUM(job_outcomes) AS job_outcomes, SUM(job_starts) AS job_starts, COUNT(*) AS months FROM v_monthly"
            )
        ).one()
    return dict(row._mapping)


def test_a_column_the_file_does_not_have_is_not_reported_and_null_never_zero(engine, tmp_path):
    result = ingest(engine, extract(tmp_path / "cms.xlsx"))
    assert result.status == "loaded"
    warning = next(p.message for p in result.warnings if p.code == "not_reported")
    assert "attachment_date" in warning and "job_outcome_date" in warning and "never zero" in warning
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT not_reported FROM submission")).scalar()
    assert "Participants.attachment_date" in stored.split(",") and "Participants.job_outcome_date" in stored
    flows = monthly(engine)
    # Referrals and job starts are reported; attachments and outcomes are unknown in every month, not 0.
    assert (flows["referrals"], flows["job_starts"]) == (PEOPLE, STARTED)
    assert flows["attachments_known"] == 0 and flows["outcomes_known"] == 0
    assert flows["attachments"] is None and flows["job_outcomes"] is None


def test_mapping_the_columns_lands_the_true_counts(engine, tmp_path):
    result = ingest(engine, extract(tmp_path / "cms.xlsx"), MAPPED)
    assert result.status == "loaded"
    assert "not_reported" not in {p.code for p in result.warnings} or "job_outcome_date" not in next(
        p.message for p in result.warnings if p.code == "not_reported"
    )
    flows = monthly(engine)
    assert (flows["referrals"], flows["attachments"], flows["job_starts"], flows["job_outcomes"]) == (
        PEOPLE,
        ATTACHED,
        STARTED,
        OUTCOMES,
    )


def test_a_measure_not_reported_is_left_out_of_both_sides_of_its_rate_with_the_reason(engine, tmp_path):
    ingest(engine, extract(tmp_path / "cms.xlsx"))
    cohorts = queries.cohort_totals(engine, as_of=date(2014, 12, 1))
    assert cohorts["start_cohort"].sum() == PEOPLE and cohorts["job_starts"].sum() == STARTED
    # Outcomes and attachments: nothing known, so no denominator either (not a 0% rate), and it says why.
    assert cohorts["outcome_cohort"].sum() == 0 and cohorts["attach_cohort"].sum() == 0
    assert cohorts["job_outcomes_not_reported"].max() == 1 and cohorts["attached_not_reported"].max() == 1
    assert cohorts["job_starts_not_reported"].max() == 0
    outcome = bm.MEASURES["job_outcome_rate"]
    assert bm.rates(cohorts, "partner", outcome).empty
    (why,) = bm.not_reported_units(cohorts, "partner", outcome)
    assert PARTNER in why


def test_the_overview_totals_leave_an_unreporting_partner_out_and_say_so(engine, tmp_path):
    with writing(engine) as conn:
        register_partner(conn, "Second Partner", "private", "end_to_end")
    ingest(engine, extract(tmp_path / "cms.xlsx"))  # no outcome column
    ingest(
        engine,
        extract(tmp_path / "full.xlsx", n=30),
        IngestOptions(
            partner="Second Partner",
            prime=PRIME,
            cpa=CPA,
            period="2013-12",
            column_map={"Started": "attachment_date", "Outcome": "job_outcome_date"},
        ),
    )
    flows = queries.flow_totals(engine)
    totals = overview.flow_totals_of(flows)
    assert totals["job_outcomes"] == OUTCOMES  # the second partner's 9, not 9 + 0
    assert overview.not_reporting(flows)["job_outcomes"] == 1
    rates = overview.flow_rate_counts(flows).set_index("measure")
    # Attachment rate: the first partner's 60 referrals leave the denominator with its unknown attachments.
    assert rates.loc["Attachment rate (attachments / referrals)"].tolist() == [30, 30]


def test_a_standard_whose_milestone_is_not_reported_is_not_counted_as_missed(engine, tmp_path):
    # Seetec (CPA 1) requires first contact within 3 days of referral; this file has no first contact column.
    rows = [[f"S{i:03d}", "PG1", FIRST + timedelta(days=i)] for i in range(20)]
    path = table(tmp_path / "seetec.xlsx", rows, ["participant_ref", "payment_group", "referral_date"])
    options = IngestOptions(partner=PARTNER, prime="Seetec", cpa=1, period="2013-12")
    assert ingest(engine, path, options).status == "loaded"
    with engine.connect() as conn:
        missed = conn.execute(
            text("SELECT COALESCE(SUM(missed), 0) FROM compliance_summary WHERE standard_id = 'seetec-01'")
        ).scalar()
    assert missed == 0


def test_an_older_database_gains_the_column_and_nullable_summaries_on_init(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    with writing(engine) as conn:  # as a database made before 'not reported' existed
        drop_views(conn)
        conn.exec_driver_sql("ALTER TABLE submission DROP COLUMN not_reported")
        conn.exec_driver_sql("DROP TABLE cohort_summary")
        conn.exec_driver_sql(
            "CREATE TABLE cohort_summary (partner_id INTEGER NOT NULL, contract_id VARCHAR(60) NOT NULL, "
            "referral_month DATE NOT NULL, payment_group VARCHAR(8) NOT NULL, referrals INTEGER NOT NULL, "
            "job_outcomes INTEGER NOT NULL, PRIMARY KEY (partner_id, contract_id, referral_month, payment_group))"
        )
    init_db(engine)
    with engine.connect() as conn:
        columns = {r[1]: r[3] for r in conn.exec_driver_sql("PRAGMA table_info(submission)")}
        cohort = {r[1]: r[3] for r in conn.exec_driver_sql("PRAGMA table_info(cohort_summary)")}
    assert "not_reported" in columns
    assert cohort["job_outcomes"] == 0 and cohort["referrals"] == 1  # notnull flags: outcomes may now be NULL


def two_row_caseload(path, n: int = 40):
    """The issue's file: a notes sheet first, then a caseload sheet under a two-row merged header whose
    `Started` and `Outcome` match no wpmi field."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Read me"
    wb.active.append(["Caseload report from the partner's system"])
    ws = wb.create_sheet("Caseload")
    ws.append(["Participant", None, "Milestones", None, None, None, None, None, None])
    ws.merge_cells("A1:B1")
    ws.merge_cells("C1:I1")
    ws.append(
        ["Ref", "PG", "Referred", "Started", "First contact", "Assessment", "Action plan", "Job start", "Outcome"]
    )
    for i in range(n):
        referred = FIRST + timedelta(days=i)
        attached = referred + timedelta(days=9) if i % 4 else None
        outcome = referred + timedelta(days=300) if i % 8 == 1 else None
        ws.append([f"C{i:04d}", "PG1", referred, attached, referred, attached, attached, None, outcome])
    wb.save(path)
    return path, sum(1 for i in range(n) if i % 4), sum(1 for i in range(n) if i % 8 == 1)


def test_the_two_row_header_file_warns_and_stays_null_without_a_mapping_and_is_right_with_one(engine, tmp_path):
    path, attached, outcomes = two_row_caseload(tmp_path / "caseload.xlsx")
    result = ingest(engine, path)
    assert result.status == "loaded"
    codes = {p.code for p in result.warnings}
    assert {"not_reported", "unmatched_column"} <= codes
    assert (monthly(engine)["attachments"], monthly(engine)["job_outcomes"]) == (None, None)
    mapped = ingest(
        engine, path, replace(OPTIONS, column_map={"Started": "attachment_date", "Outcome": "job_outcome_date"})
    )
    assert mapped.status == "loaded"  # the same bytes read another way: a new load, not "unchanged"
    flows = monthly(engine)
    assert (flows["referrals"], flows["attachments"], flows["job_outcomes"]) == (40, attached, outcomes)
