"""Summary tables kept up to date at ingest, one partner-contract at a time, so pages never scan participants.

`monthly_summary` holds exactly what `v_monthly` shows and `cohort_summary` the referral-cohort counts that
cohort rates need. Both are rebuilt for the partner and contract a submission touches, inside the same
transaction as the submission, so they can never disagree with the facts. The SQL is the views' logic with
the partner and contract filter pushed inside the window functions, where the database can use the index.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_LATEST_PARTICIPANTS = """
    SELECT p.*, s.partner_id, s.contract_id,
        ROW_NUMBER() OVER (PARTITION BY p.participant_ref
                           ORDER BY s.period DESC, s.submission_id DESC, p.source_row DESC) AS rn
    FROM participant p JOIN submission s ON s.submission_id = p.submission_id
    WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract
"""

REFRESH_MONTHLY = f"""
INSERT INTO monthly_summary (partner_id, contract_id, month, payment_group, referrals, attachments, job_starts,
                             job_outcomes, basis)
WITH latest AS ({_LATEST_PARTICIPANTS}),
pp AS (SELECT * FROM latest WHERE rn = 1),
flows AS (
    SELECT referral_month AS month, payment_group, 1 AS r, 0 AS a, 0 AS s, 0 AS o FROM pp
        WHERE referral_month IS NOT NULL
    UNION ALL SELECT attachment_month, payment_group, 0, 1, 0, 0 FROM pp WHERE attachment_month IS NOT NULL
    UNION ALL SELECT job_start_month, payment_group, 0, 0, 1, 0 FROM pp WHERE job_start_month IS NOT NULL
    UNION ALL SELECT job_outcome_month, payment_group, 0, 0, 0, 1 FROM pp WHERE job_outcome_month IS NOT NULL
),
from_participants AS (
    SELECT month, payment_group, SUM(r) AS referrals, SUM(a) AS attachments, SUM(s) AS job_starts,
           SUM(o) AS job_outcomes
    FROM flows GROUP BY month, payment_group
),
returns AS (
    SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.month, m.payment_group
                                   ORDER BY s.period DESC, s.submission_id DESC) AS rn
    FROM monthly_return m JOIN submission s ON s.submission_id = m.submission_id
    WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract
)
SELECT :partner, :contract, month, payment_group, referrals, attachments, job_starts, job_outcomes, 'participants'
FROM from_participants
UNION ALL
SELECT :partner, :contract, r.month, r.payment_group, r.referrals, r.attachments, r.job_starts, r.job_outcomes,
       'aggregate'
FROM returns r
WHERE r.rn = 1 AND NOT EXISTS (SELECT 1 FROM from_participants fp WHERE fp.month = r.month)
"""

REFRESH_COHORTS = f"""
INSERT INTO cohort_summary (partner_id, contract_id, referral_month, payment_group, referrals, attachments,
                            job_starts_12m, job_outcomes_12m, job_starts_24m, job_outcomes_24m, job_starts,
                            job_outcomes)
WITH latest AS ({_LATEST_PARTICIPANTS})
SELECT :partner, :contract, referral_month, payment_group, COUNT(*),
    SUM(CASE WHEN attachment_date IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN days_to_job_start <= 365 THEN 1 ELSE 0 END),
    SUM(CASE WHEN days_to_job_outcome <= 365 THEN 1 ELSE 0 END),
    SUM(CASE WHEN days_to_job_start <= 730 THEN 1 ELSE 0 END),
    SUM(CASE WHEN days_to_job_outcome <= 730 THEN 1 ELSE 0 END),
    SUM(CASE WHEN job_start_date IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN job_outcome_date IS NOT NULL THEN 1 ELSE 0 END)
FROM latest WHERE rn = 1 AND referral_month IS NOT NULL
GROUP BY referral_month, payment_group
"""


def refresh_summaries(conn: Connection, partner_id: int, contract_id: str) -> None:
    """Rebuild both summaries for one partner and contract (call inside the writing transaction)."""
    params = {"partner": partner_id, "contract": contract_id}
    for table, sql in (("monthly_summary", REFRESH_MONTHLY), ("cohort_summary", REFRESH_COHORTS)):
        conn.execute(text(f"DELETE FROM {table} WHERE partner_id = :partner AND contract_id = :contract"), params)
        conn.execute(text(sql), params)
