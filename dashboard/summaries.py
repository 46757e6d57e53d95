"""Summary tables kept up to date at ingest, one partner-contract at a time, so pages never scan participants.

`monthly_summary` is the one definition of monthly flows (`v_monthly` reads it); `projection_summary` holds
what `v_projections` shows (both select through `latest.latest_rows`); `cohort_summary` the referral-cohort
counts that cohort rates need (windows from dashboard/cohorts.py); the `compliance_*` tables each standard's
outcome counts, days histogram and who missed. All are rebuilt for the partner and contract a submission
touches, inside the same transaction as the submission, so they can never disagree with the facts. The
partner contract's latest participant rows (kept in step by dashboard/latest.py) are read once and every
participant-based summary is counted from that frame; the aggregate-return and projection summaries stay in SQL.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

from dashboard import cohorts, compliance, latest, schema
from dashboard import fields as F
from dashboard.bulk import bulk_insert
from dashboard.db import read_frame

# Months with an aggregate return but no participant rows (partners who send counts only). Runs after the
# participant-based rows of the same partner contract are in, so "no participant rows" is a lookup.
REFRESH_MONTHLY_AGGREGATES = f"""
INSERT INTO monthly_summary (partner_id, contract_id, month, payment_group, referrals, attachments, job_starts,
                             job_outcomes, basis)
SELECT :partner, :contract, r.month, r.payment_group, r.referrals, r.attachments, r.job_starts, r.job_outcomes,
       'aggregate'
FROM {latest.latest_rows(F.MONTHLY, one_pair=True)} r
WHERE NOT EXISTS (SELECT 1 FROM monthly_summary ms WHERE ms.partner_id = :partner
                  AND ms.contract_id = :contract AND ms.month = r.month)
"""

# (date column, monthly_summary measure): a participant counts in the month of each date it has.
FLOWS = (
    ("referral_date", "referrals"),
    ("attachment_date", "attachments"),
    ("job_start_date", "job_starts"),
    ("job_outcome_date", "job_outcomes"),
)


REFRESH_PROJECTIONS = f"""
INSERT INTO projection_summary (partner_id, contract_id, month, payment_group, projected_referrals)
SELECT :partner, :contract, month, payment_group, projected_referrals
FROM {latest.latest_rows(F.PROJECTIONS, one_pair=True)} j
"""


def _frame(conn: Connection, sql: str, params: dict) -> pd.DataFrame:
    return read_frame(conn, text(sql), params)


def journeys(
    conn: Connection, partner_id: int, contract_id: str, returns: list[int] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest participant rows and all current contacts of one partner contract (`returns`: as
    `latest.latest_participants`)."""
    params = {"partner": partner_id, "contract": contract_id}
    people = latest.latest_participants(conn, partner_id, contract_id, returns)
    contacts = _frame(
        conn,
        """SELECT DISTINCT c.participant_ref, c.contact_date FROM contact c
        JOIN submission s ON s.submission_id = c.submission_id
        WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract""",
        params,
    )
    for column in people.columns:
        if column.endswith("_date"):
            people[column] = pd.to_datetime(people[column], format="ISO8601")
    contacts["contact_date"] = pd.to_datetime(contacts["contact_date"], format="ISO8601")
    return people, contacts


def evaluation_context(conn: Connection, partner_id: int, contract_id: str) -> dict | None:
    """Prime, CPA, nation and as-of date (end of the latest current period) for evaluating standards."""
    row = conn.execute(
        text("""SELECT k.prime_id, k.cpa_code, cp.nation, MAX(s.period) AS period
        FROM submission s JOIN contract k ON k.contract_id = s.contract_id JOIN cpa cp ON cp.cpa_code = k.cpa_code
        WHERE s.status = 'current' AND s.partner_id = :partner AND s.contract_id = :contract
        GROUP BY k.prime_id, k.cpa_code, cp.nation"""),
        {"partner": partner_id, "contract": contract_id},
    ).first()
    if row is None:
        return None
    as_of = (pd.Timestamp(row.period) + pd.offsets.MonthEnd(0)).date()
    return {"prime_id": row.prime_id, "cpa_code": row.cpa_code, "nation": row.nation, "as_of": as_of}


def standards_frame(conn: Connection) -> pd.DataFrame:
    return _frame(conn, "SELECT * FROM standard", {})


def _refresh_compliance(
    conn: Connection, partner_id: int, contract_id: str, people: pd.DataFrame, contacts: pd.DataFrame
) -> None:
    """Outcome counts per measurable standard of the partner's prime and CPA, as at its latest return."""
    context = evaluation_context(conn, partner_id, contract_id)
    if context is None or people.empty:
        return
    rules = compliance.applicable_standards(standards_frame(conn), context["prime_id"], context["cpa_code"])
    outcomes = compliance.evaluate(
        people, rules, nation=context["nation"], as_of=context["as_of"], contacts=contacts if len(contacts) else None
    )
    if outcomes.empty:
        return
    key = {"partner_id": partner_id, "contract_id": contract_id}
    counts = pd.crosstab(outcomes["standard_id"], outcomes["outcome"].astype(str))
    counts = counts.reindex(columns=list(compliance.OUTCOMES), fill_value=0).astype(int)
    _insert_frame(
        conn, schema.compliance_summary, counts.rename_axis("standard_id").reset_index(), as_of=context["as_of"], **key
    )
    measured = outcomes[outcomes["days"].notna()]
    histogram = measured.groupby(["standard_id", measured["days"].round().astype(int).rename("days")]).size()
    _insert_frame(conn, schema.compliance_days, histogram.rename("participants").reset_index(), **key)
    missed = outcomes[outcomes["outcome"] == compliance.MISSED]
    bulk_insert(
        conn,
        schema.compliance_missed,
        {
            "standard_id": missed["standard_id"].tolist(),
            "participant_ref": missed["participant_ref"].tolist(),
            "payment_group": missed["payment_group"].tolist(),
            "days": [None if pd.isna(d) else int(round(float(d))) for d in missed["days"]],
            **{name: [value] * len(missed) for name, value in key.items()},
        },
    )


def _month_start(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.to_timestamp()


def _insert_frame(conn: Connection, table, frame: pd.DataFrame, **constant) -> None:
    """Insert a small frame (dates as Timestamps) plus constant columns through the bulk path."""
    if frame.empty:
        return
    columns = {
        c: [v.date() for v in frame[c]] if frame[c].dtype.kind == "M" else frame[c].tolist() for c in frame.columns
    }
    columns.update({name: [value] * len(frame) for name, value in constant.items()})
    bulk_insert(conn, table, columns)


def monthly_flows_of(people: pd.DataFrame) -> pd.DataFrame:
    """Referrals, attachments, job starts and job outcomes per calendar month and payment group.

    `people` is one row per participant (the latest row); this is what `v_monthly` shows for them.
    """
    parts = [
        pd.DataFrame(
            {
                "month": _month_start(people.loc[people[column].notna(), column]),
                "payment_group": people.loc[people[column].notna(), "payment_group"],
                "measure": measure,
            }
        )
        for column, measure in FLOWS
    ]
    long = pd.concat(parts, ignore_index=True)
    counts = long.groupby(["month", "payment_group", "measure"]).size().unstack("measure", fill_value=0)
    counts = counts.reindex(columns=[m for _, m in FLOWS], fill_value=0).astype(int)
    return counts.reset_index().rename_axis(columns=None)


def cohorts_of(people: pd.DataFrame) -> pd.DataFrame:
    """Per referral month and payment group: referrals, attachments, and job starts/outcomes within each of
    cohorts.WINDOW_DAYS after referral and in all (from the days since referral, as `v_participants` stores them)."""
    referred = people[people["referral_date"].notna()]
    days_to_start = (referred["job_start_date"] - referred["referral_date"]).dt.days
    days_to_outcome = (referred["job_outcome_date"] - referred["referral_date"]).dt.days
    flags = pd.DataFrame(
        {
            "referral_month": _month_start(referred["referral_date"]),
            "payment_group": referred["payment_group"],
            "referrals": 1,
            "attachments": referred["attachment_date"].notna(),
            **{
                f"{measure}_{cohorts.window_suffix(months)}": cohorts.within_window(days, months)
                for months in cohorts.WINDOW_DAYS
                for measure, days in (("job_starts", days_to_start), ("job_outcomes", days_to_outcome))
            },
            "job_starts": referred["job_start_date"].notna(),
            "job_outcomes": referred["job_outcome_date"].notna(),
        }
    )
    return flags.groupby(["referral_month", "payment_group"]).sum().astype(int).reset_index()


def refresh_summaries(conn: Connection, partner_id: int, contract_id: str) -> None:
    """Rebuild every summary for one partner and contract (call inside the writing transaction).

    The partner contract's latest participant rows are read once and every participant-based summary is
    counted from them: reading them is the expensive part, counting a few thousand rows is not.
    """
    params = {"partner": partner_id, "contract": contract_id}
    for table in SUMMARY_TABLES:
        conn.execute(text(f"DELETE FROM {table.name} WHERE partner_id = :partner AND contract_id = :contract"), params)
    returns = latest.sync(conn, partner_id, contract_id)
    people, contacts = journeys(conn, partner_id, contract_id, returns)
    key = {"partner_id": partner_id, "contract_id": contract_id}
    if not people.empty:
        _insert_frame(conn, schema.monthly_summary, monthly_flows_of(people), basis="participants", **key)
        _insert_frame(conn, schema.cohort_summary, cohorts_of(people), **key)
    conn.execute(text(REFRESH_MONTHLY_AGGREGATES), params)
    conn.execute(text(REFRESH_PROJECTIONS), params)
    _refresh_compliance(conn, partner_id, contract_id, people, contacts)


SUMMARY_TABLES = (
    schema.monthly_summary,
    schema.cohort_summary,
    schema.projection_summary,
    schema.compliance_summary,
    schema.compliance_days,
    schema.compliance_missed,
)


def refresh_all_summaries(conn: Connection) -> int:
    """Rebuild the summaries of every partner contract with a submission (after an upgrade); returns how many."""
    pairs = conn.execute(text("SELECT DISTINCT partner_id, contract_id FROM submission")).all()
    for partner_id, contract_id in pairs:
        refresh_summaries(conn, partner_id, contract_id)
    return len(pairs)
