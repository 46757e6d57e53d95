"""Independent recounts for tests: the same figures the package keeps, worked out another way.

The package defines monthly flows once (dashboard/summaries.py, which v_monthly reads), so comparing the view
with the summary would prove nothing. These count the flows in plain SQL over v_participants and the latest
aggregate returns instead, as the view itself once did.
"""

MONTHLY_COLUMNS = (
    "partner_id, contract_id, month, payment_group, referrals, attachments, job_starts, job_outcomes, basis"
)

MONTHLY_FLOWS_FROM_FACTS = """
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
    SELECT partner_id, contract_id, month, payment_group, SUM(referrals) AS referrals,
           SUM(attachments) AS attachments, SUM(job_starts) AS job_starts, SUM(job_outcomes) AS job_outcomes,
           'participants' AS basis
    FROM flows GROUP BY partner_id, contract_id, month, payment_group
),
returns AS (
    SELECT m.*, s.partner_id, s.contract_id,
        ROW_NUMBER() OVER (PARTITION BY s.partner_id, s.contract_id, m.month, m.payment_group
                           ORDER BY s.period DESC, s.submission_id DESC) AS rn
    FROM monthly_return m JOIN submission s ON s.submission_id = m.submission_id
    WHERE s.status = 'current'
),
from_returns AS (
    SELECT r.partner_id, r.contract_id, r.month, r.payment_group, r.referrals, r.attachments, r.job_starts,
           r.job_outcomes, 'aggregate' AS basis
    FROM returns r
    WHERE r.rn = 1 AND NOT EXISTS (
        SELECT 1 FROM from_participants fp
        WHERE fp.partner_id = r.partner_id AND fp.contract_id = r.contract_id AND fp.month = r.month)
)
SELECT * FROM from_participants UNION ALL SELECT * FROM from_returns
ORDER BY 1, 2, 3, 4
"""
