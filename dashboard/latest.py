"""Which row wins, written once; and the latest row of each participant of a partner contract, kept in step.

The rule (`latest_rows`): only current submissions count, and where the same key (a participant, a month and
payment group, ...) appears in several current submissions of one partner contract, the row from the latest
reporting period wins, then the latest submission, then the latest spreadsheet row. The views, the summaries
and the kept rows below all select through it.

A partner that sends a cumulative caseload every month has one current submission per month, so ranking every
one of them at every ingest costs more as the history grows (`python -m bench.steady` measures it).

`participant_current` keeps the winning rows for partner contracts with two or more current participant
returns, and `participant_current_state` records which current submissions they reflect. `sync` brings a pair
up to date: when the only change is one newer submission, its rows are upserted over the ones they beat; any
other change (a supersession, a withdrawal, a restore, an upgrade) rebuilds the pair from the facts. A pair with
a single current participant return keeps no copy: its rows are read straight from it.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

from dashboard.db import read_frame
from dashboard.fields import JOURNEY_MILESTONES, PARTICIPANTS, Sheet

# What the summaries need of each participant, in this order: its fields, then the submission its row came from
# (whose not_reported fields are unknown for it, never zero).
FIELDS = ("participant_ref", "payment_group", *JOURNEY_MILESTONES, "in_work_support_offered")
COLUMNS = (*FIELDS, "submission_id")
_KEPT = ("participant_ref", "period", "submission_id", "source_row", *FIELDS[1:])
_PAIR = "partner_id = :partner AND contract_id = :contract"


def latest_rows(sheet: Sheet, *, one_pair: bool = False) -> str:
    """A parenthesised subquery (alias it) of the winning rows of `sheet`'s table: its columns plus the
    submission's partner_id, contract_id and period. The sheet's `key` names one fact (besides partner and
    contract); `one_pair` restricts it to the :partner and :contract parameters."""
    if not sheet.key:
        raise ValueError(
            f"Sheet {sheet.name} declares no key, so no row of it can win over another: "
            "give it a key in dashboard/fields.py"
        )
    pair = " AND s.partner_id = :partner AND s.contract_id = :contract" if one_pair else ""
    partition = ", ".join(["s.partner_id", "s.contract_id", *(f"f.{key}" for key in sheet.key)])
    table = sheet.table
    return f"""(SELECT * FROM (
    SELECT f.*, s.partner_id, s.contract_id, s.period,
        ROW_NUMBER() OVER (PARTITION BY {partition}
                           ORDER BY s.period DESC, s.submission_id DESC, f.source_row DESC) AS latest_rank
    FROM {table} f JOIN submission s ON s.submission_id = f.submission_id
    WHERE s.status = 'current'{pair}
) ranked WHERE latest_rank = 1)"""


_PARTICIPANTS_OF_PAIR = latest_rows(PARTICIPANTS, one_pair=True)
REBUILD = f"""
INSERT INTO participant_current (partner_id, contract_id, {", ".join(_KEPT)})
SELECT :partner, :contract, {", ".join(_KEPT)} FROM {_PARTICIPANTS_OF_PAIR} x
"""
# The same rule, incrementally: the newest submission has the highest id, so its row wins wherever its period
# is not older than the kept one.
UPSERT = f"""
INSERT INTO participant_current (partner_id, contract_id, {", ".join(_KEPT)})
SELECT :partner, :contract, {", ".join("s.period" if c == "period" else f"p.{c}" for c in _KEPT)}
FROM participant p JOIN submission s ON s.submission_id = p.submission_id
WHERE p.submission_id = :submission
ON CONFLICT (partner_id, contract_id, participant_ref) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in _KEPT[1:])}
WHERE excluded.period >= participant_current.period
"""


def current_returns(conn: Connection, partner_id: int, contract_id: str) -> list[int]:
    """Ids of the partner contract's current submissions with participant rows, ascending."""
    return list(
        conn.execute(
            text(
                f"SELECT submission_id FROM submission WHERE status = 'current' AND {_PAIR} AND rows_participants > 0 "
                "ORDER BY submission_id"
            ),
            {"partner": partner_id, "contract": contract_id},
        ).scalars()
    )


def _repeats_a_reference(conn: Connection, submission_id: int) -> bool:
    # One upsert cannot update a row twice (PostgreSQL refuses); a file naming someone twice is rebuilt instead.
    return bool(
        conn.execute(
            text("SELECT COUNT(*) > COUNT(DISTINCT participant_ref) FROM participant WHERE submission_id = :s"),
            {"s": submission_id},
        ).scalar()
    )


def sync(conn: Connection, partner_id: int, contract_id: str) -> list[int]:
    """Bring the pair's kept rows in step with its current submissions (inside the writing transaction);
    returns those submissions, for `latest_participants`."""
    params = {"partner": partner_id, "contract": contract_id}
    returns = current_returns(conn, partner_id, contract_id)
    wanted = ",".join(map(str, returns)) if len(returns) > 1 else None
    state = conn.execute(text(f"SELECT submission_ids FROM participant_current_state WHERE {_PAIR}"), params).scalar()
    if state == wanted:
        return returns
    # `wanted` is set only when there are two or more returns, so under it returns[-1] is the newest one.
    if wanted and state and state.split(",") == wanted.split(",")[:-1] and not _repeats_a_reference(conn, returns[-1]):
        conn.execute(text(UPSERT), {**params, "submission": returns[-1]})
    else:
        conn.execute(text(f"DELETE FROM participant_current WHERE {_PAIR}"), params)
        if wanted:
            conn.execute(text(REBUILD), params)
    conn.execute(text(f"DELETE FROM participant_current_state WHERE {_PAIR}"), params)
    if wanted:
        conn.execute(
            text(
                "INSERT INTO participant_current_state (partner_id, contract_id, submission_ids) "
                "VALUES (:partner, :contract, :ids)"
            ),
            {**params, "ids": wanted},
        )
    return returns


def latest_participants(
    conn: Connection, partner_id: int, contract_id: str, returns: list[int] | None = None
) -> pd.DataFrame:
    """One row per participant (COLUMNS): the latest of the pair's current submissions that mention them.

    Reads the kept rows, so call `sync` first wherever submissions may have changed status (and pass what
    it returned as `returns`, to save asking again).
    """
    params = {"partner": partner_id, "contract": contract_id}
    if returns is None:
        returns = current_returns(conn, partner_id, contract_id)
    columns = ", ".join(COLUMNS)
    if len(returns) > 1:
        return read_frame(conn, text(f"SELECT {columns} FROM participant_current WHERE {_PAIR}"), params)
    if returns:
        people = read_frame(
            conn, text(f"SELECT {columns} FROM participant WHERE submission_id = :s"), {"s": returns[0]}
        )
        if people["participant_ref"].is_unique:
            return people
    # A single return that names someone twice (or none at all): rank its rows.
    return read_frame(conn, text(f"SELECT {columns} FROM {_PARTICIPANTS_OF_PAIR} x"), params)
