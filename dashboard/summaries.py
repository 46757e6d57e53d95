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
from sqlalchemy import Connection, Integer, text

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


# The cohort_summary columns each participant field feeds: unknown (NULL) in a cell holding anyone whose latest
# row comes from a return without that field's column.
COHORT_MEASURES = {
    "attachment_date": ("attachments",),
    "job_start_date": (*(f"job_starts_{cohorts.window_suffix(m)}" for m in cohorts.WINDOW_DAYS), "job_starts"),
    "job_outcome_date": (*(f"job_outcomes_{cohorts.window_suffix(m)}" for m in cohorts.WINDOW_DAYS), "job_outcomes"),
}


def unknown_fields(conn: Connection, people: pd.DataFrame, partner_id: int, contract_id: str) -> dict[str, pd.Series]:
    """Per participant field some current return of the pair does not report (submission.not_reported): which of
    `people` (the latest rows, with their submission_id) have it unknown. Fields every return reports are absent."""
    rows = conn.execute(
        text(
            "SELECT submission_id, not_reported FROM submission WHERE status = 'current' AND partner_id = :partner "
            "AND contract_id = :contract AND not_reported IS NOT NULL"
        ),
        {"partner": partner_id, "contract": contract_id},
    ).all()
    lacking: dict[str, list[int]] = {}
    for submission_id, stored in rows:
        for field in F.parse_not_reported(stored).get(F.PARTICIPANTS.name, ()):
            lacking.setdefault(field, []).append(submission_id)
    masks = {field: people["submission_id"].isin(ids) for field, ids in lacking.items()}
    return {field: mask for field, mask in masks.items() if mask.any()}


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
    conn: Connection,
    partner_id: int,
    contract_id: str,
    people: pd.DataFrame,
    contacts: pd.DataFrame,
    unknown: dict[str, pd.Series] | None = None,
) -> None:
    """Outcome counts per measurable standard of the partner's prime and CPA, as at its latest return.

    A participant whose return does not report a standard's start or end milestone (`unknown`) is left out of
    that standard: not met, not missed, not counted."""
    context = evaluation_context(conn, partner_id, contract_id)
    if context is None or people.empty:
        return
    rules = compliance.applicable_standards(standards_frame(conn), context["prime_id"], context["cpa_code"])
    outcomes = compliance.evaluate(
        people, rules, nation=context["nation"], as_of=context["as_of"], contacts=contacts if len(contacts) else None
    )
    outcomes = _without_unknown(outcomes, rules, people, unknown or {})
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


def _without_unknown(
    outcomes: pd.DataFrame, rules: pd.DataFrame, people: pd.DataFrame, unknown: dict[str, pd.Series]
) -> pd.DataFrame:
    """`outcomes` without the (standard, participant) pairs whose start or end milestone the participant's return
    does not report: an unreported date must not read as a standard missed."""
    if not unknown or outcomes.empty:
        return outcomes
    keep = pd.Series(True, index=outcomes.index)
    for field, mask in unknown.items():
        refs = set(people.loc[mask, "participant_ref"])
        uses = rules.loc[(rules["from_milestone"] == field) | (rules["to_milestone"] == field), "standard_id"]
        keep &= ~(outcomes["standard_id"].isin(set(uses)) & outcomes["participant_ref"].isin(refs))
    return outcomes[keep]


def _month_start(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.to_timestamp()


def _cells(values: pd.Series, kind) -> list:
    """A column's values as the database takes them: dates as dates, and in an integer column a count that is
    unknown (NaN: not reported) as NULL and the others as ints."""
    if values.dtype.kind == "M":
        return [v.date() for v in values]
    if values.dtype.kind == "f" and isinstance(kind, Integer):
        return [None if pd.isna(v) else int(v) for v in values]
    return values.tolist()


def _insert_frame(conn: Connection, table, frame: pd.DataFrame, **constant) -> None:
    """Insert a small frame (dates as Timestamps) plus constant columns through the bulk path."""
    if frame.empty:
        return
    columns = {c: _cells(frame[c], table.c[c].type) for c in frame.columns}
    columns.update({name: [value] * len(frame) for name, value in constant.items()})
    bulk_insert(conn, table, columns)


def monthly_flows_of(people: pd.DataFrame, unknown: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Referrals, attachments, job starts and job outcomes per calendar month and payment group.

    `people` is one row per participant (the latest row); this is what `v_monthly` shows for them. `unknown`
    (from `unknown_fields`) marks participants whose return does not report a milestone: such a milestone could
    fall in any month from their referral on, so its count is unknown (NaN) in every month of their payment group
    from the earliest such referral, never a count of the others passed off as the total.
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
    for column, measure in FLOWS:
        mask = (unknown or {}).get(column)
        if mask is None or not mask.any():
            continue
        counts = counts.astype(float)
        last = counts.index.get_level_values("month").max()
        starts = _month_start(people.loc[mask, "referral_date"]).groupby(people.loc[mask, "payment_group"]).min()
        for group, start in starts.items():
            months = pd.date_range(start, max(start, last), freq="MS")
            cells = pd.MultiIndex.from_product([months, [group]], names=counts.index.names)
            counts = counts.reindex(counts.index.union(cells), fill_value=0.0)
            counts.loc[cells, measure] = float("nan")
    return counts.reset_index().rename_axis(columns=None)


def cohorts_of(people: pd.DataFrame, unknown: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Per referral month and payment group: referrals, attachments, and job starts/outcomes within each of
    cohorts.WINDOW_DAYS after referral and in all (from the days since referral, as `v_participants` stores them).

    A measure is unknown (NaN) in a cell holding anyone whose return does not report it (`unknown`, from
    `unknown_fields`): the rates leave that cell out of the measure's numerator and denominator alike.
    """
    referred = people[people["referral_date"].notna()]
    days_to_start = (referred["job_start_date"] - referred["referral_date"]).dt.days
    days_to_outcome = (referred["job_outcome_date"] - referred["referral_date"]).dt.days
    keys = {"referral_month": _month_start(referred["referral_date"]), "payment_group": referred["payment_group"]}
    flags = pd.DataFrame(
        {
            **keys,
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
    counts = flags.groupby(["referral_month", "payment_group"]).sum().astype(int)
    for field, columns in COHORT_MEASURES.items():
        mask = (unknown or {}).get(field)
        if mask is None or not mask.any():
            continue
        unknown_here = pd.DataFrame({**keys, "n": mask.loc[referred.index]}).groupby(list(keys))["n"].sum() > 0
        counts = counts.astype(float)
        counts.loc[unknown_here.reindex(counts.index, fill_value=False), list(columns)] = float("nan")
    return counts.reset_index()


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
    unknown = unknown_fields(conn, people, partner_id, contract_id) if not people.empty else {}
    if not people.empty:
        _insert_frame(conn, schema.monthly_summary, monthly_flows_of(people, unknown), basis="participants", **key)
        _insert_frame(conn, schema.cohort_summary, cohorts_of(people, unknown), **key)
    conn.execute(text(REFRESH_MONTHLY_AGGREGATES), params)
    conn.execute(text(REFRESH_PROJECTIONS), params)
    _refresh_compliance(conn, partner_id, contract_id, people, contacts, unknown)


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
