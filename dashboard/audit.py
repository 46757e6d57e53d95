"""The audit log: one row per write or refused write, with who did it. The only code that inserts into it.

Every write records the identity that made it: the verified e-mail of a signed-in member, or the operator at
the command line (`--actor`, else the OS user). A refused write is recorded too, with the same identity, so a
refusal that changed nothing is still on the record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from dashboard import schema


def now() -> datetime:
    """The current time in UTC, without a zone (as every timestamp column stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def audit(
    conn: Connection, action: str, *, submission_id=None, file_name=None, sha256=None, actor=None, detail=None
) -> None:
    """Record one event in the audit log (inside the caller's transaction)."""
    conn.execute(
        schema.audit_log.insert().values(
            at=now(),
            action=action,
            submission_id=submission_id,
            file_name=file_name,
            sha256=sha256,
            actor=actor,
            detail=detail,
        )
    )
