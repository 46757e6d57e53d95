"""Write one validated file as one submission, in one transaction.

The same bytes read the same way twice is a no-op (matched by sha256 and reading). A newer file for the same
partner, contract and period supersedes the older: the old one stays as history with status 'superseded', and
the views read only current submissions. Any failure rolls the whole file back.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Connection, select

from dashboard import fields as F
from dashboard import schema
from dashboard.audit import audit, now
from dashboard.bulk import bulk_insert
from dashboard.fields import SHEETS_BY_NAME
from dashboard.summaries import refresh_summaries
from loaders.cleaning import SUPPRESSED
from loaders.validation import TypedSheet

ROW_COUNT_COLUMNS = {
    "Participants": "rows_participants",
    "Contacts": "rows_contacts",
    "Monthly": "rows_monthly",
    "Projections": "rows_projections",
    "Feedback": "rows_feedback",
}


def find_submission_by_hash(conn: Connection, sha256: str, reading: str, layout: str | None):
    """The submission of these bytes read this way (`pipeline.reading_of`), if any. One loaded before readings
    were recorded (reading NULL) counts as read this way if it was read with `layout` (the caller passes None
    when this reading adds a --map, which no such load had)."""
    sub = schema.submission.c
    rows = conn.execute(select(schema.submission).where(sub.sha256 == sha256).order_by(sub.submission_id)).all()
    same = [r for r in rows if r.reading == reading or (r.reading is None and r.layout == layout)]
    return same[-1] if same else None


def _months(days: list) -> list:
    """The first of the month of each date (None stays None), computing each distinct date once."""
    first = {d: d.replace(day=1) for d in set(days) if d is not None}
    return [first.get(d) for d in days]


def _days_between(starts: list, ends: list) -> list:
    return [(e - s).days if s and e else None for s, e in zip(starts, ends)]


def fact_columns(typed: TypedSheet, submission_id: int) -> dict[str, list]:
    """Columns ready for insert: typed values plus submission id, source row, derived months and flags."""
    n = len(typed.source_rows)
    out = {f.name: typed.columns[f.name] for f in SHEETS_BY_NAME[typed.target].fields}
    out["submission_id"] = [submission_id] * n
    out["source_row"] = typed.source_rows
    if typed.target == "Participants":
        for date_col, month_col in schema.MONTH_COLUMNS.items():
            out[month_col] = _months(out[date_col])
        out["days_to_job_start"] = _days_between(out["referral_date"], out["job_start_date"])
        out["days_to_job_outcome"] = _days_between(out["referral_date"], out["job_outcome_date"])
        flags = out["flags"] = [None] * n
        for i, codes in typed.flags.items():
            flags[i] = ",".join(sorted(codes)) or None
    elif typed.target == "Monthly":
        out["suppressed"] = [SUPPRESSED in typed.flags.get(i, ()) for i in range(n)]
    return out


def write_submission(
    conn: Connection,
    *,
    file_name: str,
    sha256: str,
    partner_id: int,
    reading: str | None = None,
    contract_id: str,
    period: date,
    layout: str,
    sheets: list[TypedSheet],
    report: dict,
    actor: str | None,
    replaces: int | None = None,
    not_reported: dict[str, list[str]] | None = None,
) -> int:
    """Insert the submission and its facts, superseding any current one for the same key (and `replaces`, the
    submission the sender named, whatever its period); returns its id. `not_reported` names, per sheet, the optional
    fields the file has no column for (`pipeline.unreported_fields`)."""
    counts = {col: 0 for col in ROW_COUNT_COLUMNS.values()}
    for typed in sheets:
        counts[ROW_COUNT_COLUMNS[typed.target]] += len(typed)
    sub = schema.submission
    content = sorted({t.target for t in sheets if len(t)})
    inserted = conn.execute(
        sub.insert().values(
            file_name=file_name,
            sha256=sha256,
            reading=reading,
            partner_id=partner_id,
            contract_id=contract_id,
            period=period,
            layout=layout,
            content=",".join(content),
            status="current",
            warnings=report.get("warnings", 0),
            report_json=json.dumps(report, default=str),
            not_reported=F.not_reported_text(not_reported or {}),
            loaded_at=now(),
            loaded_by=actor,
            **counts,
        )
    ).inserted_primary_key
    assert inserted is not None, "a single-row INSERT into submission always returns its primary key"
    submission_id = inserted[0]
    for typed in sheets:
        bulk_insert(conn, schema.FACT_TABLES[typed.target], fact_columns(typed, submission_id))
    audit(
        conn,
        "submitted",
        submission_id=submission_id,
        file_name=file_name,
        sha256=sha256,
        actor=actor,
        detail=json.dumps({**counts, "warnings": report.get("warnings", 0)}),
    )
    supersede_covered(conn, submission_id, partner_id, contract_id, period, set(content), actor=actor)
    if replaces is not None:
        _supersede(conn, replaces, submission_id, actor=actor, detail=f"by submission {submission_id} (named)")
    refresh_summaries(conn, partner_id, contract_id)
    return submission_id


def supersede_covered(
    conn: Connection, submission_id: int, partner_id: int, contract_id: str, period: date, content: set[str], *, actor
) -> None:
    """The supersession rule, in one place: a submission supersedes every other current one for the same partner,
    contract and period whose kinds of data it covers (a caseload file and a separate feedback return for one
    month both stand)."""
    sub = schema.submission.c
    others = conn.execute(
        select(sub.submission_id, sub.content).where(
            sub.partner_id == partner_id,
            sub.contract_id == contract_id,
            sub.period == period,
            sub.status == "current",
            sub.submission_id != submission_id,
        )
    ).all()
    for old_id, old_content in others:
        if set(old_content.split(",")) <= content:
            _supersede(conn, old_id, submission_id, actor=actor, detail=f"by submission {submission_id}")


def _supersede(conn: Connection, old_id: int, by: int, *, actor, detail: str) -> None:
    sub = schema.submission
    conn.execute(
        sub.update()
        .where(sub.c.submission_id == old_id, sub.c.status == "current")
        .values(status="superseded", superseded_by=by)
    )
    audit(conn, "superseded", submission_id=old_id, actor=actor, detail=detail)


class SubmissionNotFound(LookupError):
    """No submission has that id."""


def withdraw_submission(conn: Connection, submission_id: int, *, actor: str | None, reason: str | None) -> dict:
    """Take a submission out of every view and summary; the rows stay as history, recorded with who and when."""
    sub = schema.submission
    row = conn.execute(select(sub).where(sub.c.submission_id == submission_id)).first()
    if row is None:
        raise SubmissionNotFound(f"There is no submission {submission_id}. See `v_submissions` or the Data page.")
    if row.status == "withdrawn":
        return {"submission_id": submission_id, "status": "withdrawn", "changed": False}
    conn.execute(sub.update().where(sub.c.submission_id == submission_id).values(status="withdrawn"))
    # What it had superseded comes back, so withdrawing a bad correction restores the return before it.
    restored = (
        conn.execute(
            select(sub.c.submission_id).where(sub.c.superseded_by == submission_id, sub.c.status == "superseded")
        )
        .scalars()
        .all()
    )
    for old_id in restored:
        conn.execute(sub.update().where(sub.c.submission_id == old_id).values(status="current", superseded_by=None))
        audit(
            conn,
            "reinstated",
            submission_id=old_id,
            actor=actor,
            detail=f"after submission {submission_id} was withdrawn",
        )
    audit(
        conn,
        "withdrawn",
        submission_id=submission_id,
        file_name=row.file_name,
        sha256=row.sha256,
        actor=actor,
        detail=reason,
    )
    refresh_summaries(conn, row.partner_id, row.contract_id)
    return {"submission_id": submission_id, "status": "withdrawn", "changed": True, "reinstated": restored}


def restore_submission(conn: Connection, submission_id: int, *, actor: str | None) -> None:
    """Bring a withdrawn or superseded submission back (the same bytes sent again), superseding as a new one would:
    every current one for the same partner, contract and period whose content it covers, newer ones included (the
    sender has said which file is right)."""
    sub = schema.submission
    row = conn.execute(select(sub).where(sub.c.submission_id == submission_id)).first()
    if row is None:
        raise SubmissionNotFound(
            f"There is no submission {submission_id} to restore. See `v_submissions` or the Data page."
        )
    conn.execute(sub.update().where(sub.c.submission_id == submission_id).values(status="current", superseded_by=None))
    content = set(row.content.split(","))
    supersede_covered(conn, submission_id, row.partner_id, row.contract_id, row.period, content, actor=actor)
    audit(
        conn,
        "restored",
        submission_id=submission_id,
        file_name=row.file_name,
        sha256=row.sha256,
        actor=actor,
        detail="the same file was ingested again",
    )
    refresh_summaries(conn, row.partner_id, row.contract_id)
