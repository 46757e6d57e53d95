"""The analysts' contract: stable SQL views, documented in docs/data-model.md.

Plain SQL that SQLite (3.25+) and PostgreSQL both run. Only submissions whose status is 'current' count
(superseded and withdrawn ones stay in the database as history); which row wins where several current
submissions carry the same fact is dashboard/latest.py's `latest_rows`, and monthly flows are the ingest's
summary (dashboard/summaries.py), so each rule has one definition.
"""

from __future__ import annotations

from sqlalchemy import Connection

from dashboard import fields as F
from dashboard.latest import latest_rows

_ORG_COLUMNS = """
    k.cpa_code, cp.cpa_name, pr.prime_name AS prime, k.contract_id, pa.partner_id, pa.partner_name AS partner,
    pa.sector AS partner_sector, pa.tier AS partner_tier"""
_ORG_JOINS = """
    JOIN contract k ON k.contract_id = x.contract_id
    JOIN cpa cp ON cp.cpa_code = k.cpa_code
    JOIN prime pr ON pr.prime_id = k.prime_id
    JOIN partner pa ON pa.partner_id = x.partner_id"""

V_PARTICIPANTS = f"""
CREATE VIEW v_participants AS
SELECT {_ORG_COLUMNS},
    x.participant_ref, x.payment_group, x.referral_date, x.first_contact_date, x.attachment_date,
    x.initial_assessment_date, x.action_plan_date, x.job_start_date, x.job_outcome_date, x.exit_date,
    x.exit_report_requested_date, x.exit_report_sent_date, x.in_work_support_offered,
    x.referral_month, x.attachment_month, x.job_start_month, x.job_outcome_month,
    x.flags, x.submission_id, x.source_row, x.period
FROM {latest_rows(F.PARTICIPANTS)} x {_ORG_JOINS}
"""

# Monthly flows are defined once, by the summary kept at ingest (dashboard/summaries.py: participant rows by
# the month each milestone fell in, aggregate returns only for partner-contract-months no participant covers).
V_MONTHLY = f"""
CREATE VIEW v_monthly AS
SELECT {_ORG_COLUMNS},
    x.month, x.payment_group, x.referrals, x.attachments, x.job_starts, x.job_outcomes, x.basis
FROM monthly_summary x {_ORG_JOINS}
"""


def _latest_rows_view(name: str, sheet: F.Sheet) -> str:
    """A view of one sheet's fact rows (its fields), the latest current submission's row winning for each key."""
    columns = ", ".join(f"x.{f.name}" for f in sheet.fields)
    return f"""
CREATE VIEW {name} AS
SELECT {_ORG_COLUMNS}, {columns}, x.submission_id
FROM {latest_rows(sheet)} x {_ORG_JOINS}
"""


V_PROJECTIONS = _latest_rows_view("v_projections", F.PROJECTIONS)
V_FEEDBACK = _latest_rows_view("v_feedback", F.FEEDBACK)

V_STANDARDS = """
CREATE VIEW v_standards AS
SELECT st.standard_id, st.prime_id, pr.prime_name AS prime, st.cpa_scope, st.stage, st.title, st.quote,
    st.rule_kind, CASE WHEN st.rule_kind = 'qualitative' THEN 0 ELSE 1 END AS measurable,
    st.from_milestone, st.to_milestone, st.limit_days, st.day_basis, st.target_share, st.frequency_days,
    st.payment_groups, st.measurable_note, st.source
FROM standard st JOIN prime pr ON pr.prime_id = st.prime_id
"""

V_SUBMISSIONS = """
CREATE VIEW v_submissions AS
SELECT s.submission_id, s.file_name, s.sha256, s.status, s.superseded_by, s.period, s.layout,
    k.cpa_code, cp.cpa_name, pr.prime_name AS prime, s.contract_id, pa.partner_name AS partner,
    pa.sector AS partner_sector, s.rows_participants, s.rows_contacts, s.rows_monthly, s.rows_projections,
    s.rows_feedback, s.warnings, s.not_reported, s.loaded_at, s.loaded_by
FROM submission s
    JOIN contract k ON k.contract_id = s.contract_id
    JOIN cpa cp ON cp.cpa_code = k.cpa_code
    JOIN prime pr ON pr.prime_id = k.prime_id
    JOIN partner pa ON pa.partner_id = s.partner_id
"""

VIEWS = {
    "v_participants": V_PARTICIPANTS,
    "v_monthly": V_MONTHLY,
    "v_projections": V_PROJECTIONS,
    "v_feedback": V_FEEDBACK,
    "v_standards": V_STANDARDS,
    "v_submissions": V_SUBMISSIONS,
}


def drop_views(conn: Connection) -> None:
    """Drop every view (before tables they read are dropped: PostgreSQL refuses otherwise)."""
    for name in reversed(VIEWS):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")


def create_views(conn: Connection) -> None:
    """Drop and recreate every view, so a schema upgrade always leaves the current definitions."""
    drop_views(conn)
    for sql in VIEWS.values():
        conn.exec_driver_sql(sql)
