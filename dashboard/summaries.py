"""Summary tables kept up to date at ingest, one partner-contract at a time, so pages never scan participants.

`monthly_summary` holds exactly what `v_monthly` shows, `projection_summary` what `v_projections` shows, and
`cohort_summary` the referral-cohort counts that cohort rates need. Both are rebuilt for the partner and contract a submission touches, inside the same
transaction as the submission, so they can never disagree with the facts. The SQL is the views' logic with
the partner and contract filter pushed inside the window functions, where the database can use the index.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

from dashboard import compliance, schema

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


REFRESH_PROJECTIONS = """
INSERT INTO projection_summary (partner_id, contract_id, month, payment_group, projected_referrals)
WITH latest AS (
    SELECT j.month, j.payment_group, j.projected_referrals,
        ROW_NUMBER() OVER (PARTITION BY j.month, j.payment_group ORDER BY s.period DESC, s.submission_id DESC) AS rn
    FROM projection j JOIN submission s ON s.submission_id = j.submission_id
    WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract
)
SELECT :partner, :contract, month, payment_group, projected_referrals FROM latest WHERE rn = 1
"""

PARTICIPANT_COLUMNS = ("participant_ref, payment_group, referral_date, first_contact_date, attachment_date, "
                       "initial_assessment_date, action_plan_date, job_start_date, job_outcome_date, exit_date, "
                       "exit_report_requested_date, exit_report_sent_date, in_work_support_offered")


def _frame(conn: Connection, sql: str, params: dict) -> pd.DataFrame:
    result = conn.execute(text(sql), params)
    columns = list(result.keys())
    rows = result.fetchall()
    # Column-wise construction: several times faster than a DataFrame of Row objects.
    return pd.DataFrame({c: [r[i] for r in rows] for i, c in enumerate(columns)}, columns=columns)


def journeys(conn: Connection, partner_id: int, contract_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest participant rows and all current contacts of one partner contract."""
    params = {"partner": partner_id, "contract": contract_id}
    people = _frame(conn, f"WITH latest AS ({_LATEST_PARTICIPANTS}) SELECT {PARTICIPANT_COLUMNS} FROM latest "
                          "WHERE rn = 1", params)
    contacts = _frame(conn, """SELECT DISTINCT c.participant_ref, c.contact_date FROM contact c
        JOIN submission s ON s.submission_id = c.submission_id
        WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract""", params)
    for column in people.columns:
        if column.endswith("_date"):
            people[column] = pd.to_datetime(people[column], format="ISO8601")
    contacts["contact_date"] = pd.to_datetime(contacts["contact_date"], format="ISO8601")
    return people, contacts


def evaluation_context(conn: Connection, partner_id: int, contract_id: str) -> dict | None:
    """Prime, CPA, nation and as-of date (end of the latest current period) for evaluating standards."""
    row = conn.execute(text("""SELECT k.prime_id, k.cpa_code, cp.nation, MAX(s.period) AS period
        FROM submission s JOIN contract k ON k.contract_id = s.contract_id JOIN cpa cp ON cp.cpa_code = k.cpa_code
        WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract
        GROUP BY k.prime_id, k.cpa_code, cp.nation"""), {"partner": partner_id, "contract": contract_id}).first()
    if row is None:
        return None
    as_of = (pd.Timestamp(row.period) + pd.offsets.MonthEnd(0)).date()
    return {"prime_id": row.prime_id, "cpa_code": row.cpa_code, "nation": row.nation, "as_of": as_of}


def standards_frame(conn: Connection) -> pd.DataFrame:
    return _frame(conn, "SELECT * FROM standard", {})


def refresh_compliance(conn: Connection, partner_id: int, contract_id: str) -> None:
    """Outcome counts per measurable standard of the partner's prime and CPA, as at its latest return."""
    params = {"partner": partner_id, "contract": contract_id}
    conn.execute(text("DELETE FROM compliance_summary WHERE partner_id = :partner AND contract_id = :contract"),
                 params)
    context = evaluation_context(conn, partner_id, contract_id)
    if context is None:
        return
    people, contacts = journeys(conn, partner_id, contract_id)
    if people.empty:
        return
    rules = compliance.applicable_standards(standards_frame(conn), context["prime_id"], context["cpa_code"])
    outcomes = compliance.evaluate(people, rules, nation=context["nation"], as_of=context["as_of"],
                                   contacts=contacts if len(contacts) else None)
    if outcomes.empty:
        return
    counts = pd.crosstab(outcomes["standard_id"], outcomes["outcome"].astype(str))
    rows = [{"partner_id": partner_id, "contract_id": contract_id, "standard_id": sid, "as_of": context["as_of"],
             **{o: int(counts.loc[sid].get(o, 0)) for o in compliance.OUTCOMES}} for sid in counts.index]
    conn.execute(text("""INSERT INTO compliance_summary (partner_id, contract_id, standard_id, as_of, met, missed,
        pending, not_applicable) VALUES (:partner_id, :contract_id, :standard_id, :as_of, :met, :missed, :pending,
        :not_applicable)"""), rows)


def refresh_summaries(conn: Connection, partner_id: int, contract_id: str) -> None:
    """Rebuild every summary for one partner and contract (call inside the writing transaction)."""
    params = {"partner": partner_id, "contract": contract_id}
    for table, sql in (("monthly_summary", REFRESH_MONTHLY), ("cohort_summary", REFRESH_COHORTS),
                       ("projection_summary", REFRESH_PROJECTIONS)):
        conn.execute(text(f"DELETE FROM {table} WHERE partner_id = :partner AND contract_id = :contract"), params)
        conn.execute(text(sql), params)
    refresh_compliance(conn, partner_id, contract_id)


SUMMARY_TABLES = (schema.monthly_summary, schema.cohort_summary, schema.projection_summary, schema.compliance_summary)


def refresh_all_summaries(conn: Connection) -> int:
    """Rebuild the summaries of every partner contract with a submission (after an upgrade); returns how many."""
    pairs = conn.execute(text("SELECT DISTINCT partner_id, contract_id FROM submission")).all()
    for partner_id, contract_id in pairs:
        refresh_summaries(conn, partner_id, contract_id)
    return len(pairs)
