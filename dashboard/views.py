"""The analysts' contract: stable SQL views, documented in docs/data-model.md.

Plain SQL that SQLite (3.25+) and PostgreSQL both run. Only submissions whose status is 'current' count
(superseded and withdrawn ones stay in the database as history). Where one participant appears in several
current submissions of the same partner and contract (monthly caseload files), the row from the latest
reporting period wins.
"""

from __future__ import annotations

from sqlalchemy import Connection

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
FROM (
    SELECT p.*, s.partner_id, s.contract_id, s.period,
        ROW_NUMBER() OVER (PARTITION BY s.partner_id, s.contract_id, p.participant_ref
                           ORDER BY s.period DESC, s.submission_id DESC, p.source_row DESC) AS rn
    FROM participant p JOIN submission s ON s.submission_id = p.submission_id
    WHERE s.status = 'current'
) x {_ORG_JOINS}
WHERE x.rn = 1
"""

# Participant rows give flows by the month each milestone fell in; aggregate returns fill in only the
# partner-contract-months that no participant-level data covers, so nothing is counted twice.
V_MONTHLY = f"""
CREATE VIEW v_monthly AS
WITH flows AS (
    SELECT partner_id, contract_id, referral_month AS month, payment_group,
           1 AS referrals, 0 AS attachments, 0 AS job_starts, 0 AS job_outcomes
    FROM v_participants WHERE referral_month IS NOT NULL
    UNION ALL
    SELECT partner_id, contract_id, attachment_month, payment_group, 0, 1, 0, 0
    FROM v_participants WHERE attachment_month IS NOT NULL
    UNION ALL
    SELECT partner_id, contract_id, job_start_month, payment_group, 0, 0, 1, 0
    FROM v_participants WHERE job_start_month IS NOT NULL
    UNION ALL
    SELECT partner_id, contract_id, job_outcome_month, payment_group, 0, 0, 0, 1
    FROM v_participants WHERE job_outcome_month IS NOT NULL
),
from_participants AS (
    SELECT partner_id, contract_id, month, payment_group,
           SUM(referrals) AS referrals, SUM(attachments) AS attachments,
           SUM(job_starts) AS job_starts, SUM(job_outcomes) AS job_outcomes,
           'participants' AS basis
    FROM flows GROUP BY partner_id, contract_id, month, payment_group
),
latest_returns AS (
    SELECT m.*, s.partner_id, s.contract_id,
        ROW_NUMBER() OVER (PARTITION BY s.partner_id, s.contract_id, m.month, m.payment_group
                           ORDER BY s.period DESC, s.submission_id DESC) AS rn
    FROM monthly_return m JOIN submission s ON s.submission_id = m.submission_id
    WHERE s.status = 'current'
),
from_returns AS (
    SELECT r.partner_id, r.contract_id, r.month, r.payment_group,
           r.referrals, r.attachments, r.job_starts, r.job_outcomes, 'aggregate' AS basis
    FROM latest_returns r
    WHERE r.rn = 1 AND NOT EXISTS (
        SELECT 1 FROM from_participants fp
        WHERE fp.partner_id = r.partner_id AND fp.contract_id = r.contract_id AND fp.month = r.month)
),
x AS (SELECT * FROM from_participants UNION ALL SELECT * FROM from_returns)
SELECT {_ORG_COLUMNS},
    x.month, x.payment_group, x.referrals, x.attachments, x.job_starts, x.job_outcomes, x.basis
FROM x {_ORG_JOINS}
"""

def _latest_rows_view(name: str, table: str, key: str, columns: str) -> str:
    """A view of one fact table's rows, the latest current submission's row winning for each key."""
    return f"""
CREATE VIEW {name} AS
SELECT {_ORG_COLUMNS}, {columns}, x.submission_id
FROM (
    SELECT f.*, s.partner_id, s.contract_id,
        ROW_NUMBER() OVER (PARTITION BY s.partner_id, s.contract_id, {key}
                           ORDER BY s.period DESC, s.submission_id DESC) AS rn
    FROM {table} f JOIN submission s ON s.submission_id = f.submission_id
    WHERE s.status = 'current'
) x {_ORG_JOINS}
WHERE x.rn = 1
"""


V_PROJECTIONS = _latest_rows_view("v_projections", "projection", "f.month, f.payment_group",
                                  "x.month, x.payment_group, x.projected_referrals")
V_FEEDBACK = _latest_rows_view("v_feedback", "feedback", "f.month",
                               "x.month, x.complaints_received, x.complaints_resolved_in_time, "
                               "x.satisfaction_responses, x.satisfaction_mean")

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
    s.rows_feedback, s.warnings, s.loaded_at, s.loaded_by
FROM submission s
    JOIN contract k ON k.contract_id = s.contract_id
    JOIN cpa cp ON cp.cpa_code = k.cpa_code
    JOIN prime pr ON pr.prime_id = k.prime_id
    JOIN partner pa ON pa.partner_id = s.partner_id
"""

# Order matters: v_monthly reads v_participants.
VIEWS = {
    "v_participants": V_PARTICIPANTS,
    "v_monthly": V_MONTHLY,
    "v_projections": V_PROJECTIONS,
    "v_feedback": V_FEEDBACK,
    "v_standards": V_STANDARDS,
    "v_submissions": V_SUBMISSIONS,
}


def create_views(conn: Connection) -> None:
    """Drop and recreate every view, so a schema upgrade always leaves the current definitions."""
    for name in reversed(VIEWS):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    for sql in VIEWS.values():
        conn.exec_driver_sql(sql)
