"""The ingest service: what `wpmi ingest`, `wpmi withdraw` and the Data page do, written once.

A batch of files (paths on disk or uploaded bytes) is ingested one file at a time, each its own transaction, and
one file's failure never stops the rest. A withdrawal is one transaction. The report has one row per problem
(file, severity, code, sheet, row, column, value, message): as CSV it goes through dashboard/exports.py, so a
value a spreadsheet would run as a formula is defused; as JSON it keeps each file's status and per-type counts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from dashboard import members, schema
from dashboard.access import Access, may_manage_members, may_withdraw
from dashboard.audit import audit
from dashboard.db import writing
from dashboard.exports import to_csv_bytes
from loaders.errors import ERROR, Problem, WpmiError
from loaders.identifiers import refuse_personal_typed
from loaders.organisation import Registry
from loaders.pipeline import REJECTED, IngestOptions, Ingestor, IngestResult
from loaders.store import SubmissionNotFound, withdraw_submission

# With the pipeline's and the store's names its callers need: the CLI and the Data page import one module.
__all__ = [
    "REJECTED",
    "REPORT_COLUMNS",
    "REPORT_FORMATS",
    "IngestOptions",
    "IngestResult",
    "MemberError",
    "NotAuthorised",
    "SubmissionNotFound",
    "UnknownReportFormat",
    "WpmiError",
    "ingest_files",
    "report_bytes",
    "report_frame",
    "withdraw",
]

MemberError = members.MemberError

REPORT_COLUMNS = ("file", "severity", "code", "sheet", "row", "column", "value", "message")
REPORT_FORMATS = ("csv", "json")

log = logging.getLogger("wpmi.ingest")

Source = Path | str | bytes
# on_progress(index, name, result): result is None as a file starts, its IngestResult when it is done.
OnProgress = Callable[[int, str, IngestResult | None], None]


class UnknownReportFormat(ValueError):
    """A report format other than those in REPORT_FORMATS."""


def ingest_files(
    engine: Engine,
    files: Iterable[tuple[str, Source]],
    options: IngestOptions | None = None,
    on_progress: OnProgress | None = None,
    profiles: dict | None = None,
) -> list[IngestResult]:
    """Ingest each (name, path or bytes) in order; a file that fails is a rejected result and the batch goes on.

    `profiles` are the layout profiles to detect with (default: the shipped ones and the layouts_dir setting's)."""
    ingestor = Ingestor(engine, profiles)
    results = []
    for index, (name, source) in enumerate(files):
        if on_progress:
            on_progress(index, name, None)
        results.append(_ingest_one(ingestor, name, source, options))
        if on_progress:
            on_progress(index, name, results[-1])
    return results


def _ingest_one(ingestor: Ingestor, name: str, source: Source, options: IngestOptions | None) -> IngestResult:
    try:
        if isinstance(source, bytes):
            return ingestor.ingest(Path(name), options, data=source, file_name=name)
        return ingestor.ingest(Path(source), options, file_name=name)
    except Exception as exc:  # a fault in wpmi itself (a bad file is a result, not an exception); it rolled back
        log.exception("wpmi failed on %s", name)
        # The exception's own text may quote a cell, so the report names only its type.
        message = (
            f"{name}: wpmi failed while loading this file ({type(exc).__name__}). Nothing from it was "
            "written; the other files were loaded as usual. This is a fault in wpmi, not in the file: "
            "please report it with the file."
        )
        return IngestResult(file=name, status=REJECTED, problems=[Problem("internal_error", ERROR, message, name)])


class NotAuthorised(PermissionError):
    """A write the person making it may not make; nothing was changed and the refusal was audited."""


def withdraw(engine: Engine, submission_id: int, *, access: Access, reason: str | None) -> dict:
    """Withdraw a submission in one transaction, if `access` may: {"changed": bool, "reinstated": [ids]}.

    SubmissionNotFound if there is none; NotAuthorised (audited, nothing changed) if the viewer may not.
    """
    refuse_personal_typed({"reason": reason}, "the withdrawal")  # the reason is kept in the audit log
    with writing(engine) as conn:
        s, k = schema.submission.c, schema.contract.c
        owner = conn.execute(
            select(s.partner_id, k.prime_id)
            .join_from(schema.submission, schema.contract, s.contract_id == k.contract_id)
            .where(s.submission_id == submission_id)
        ).first()
        if owner is None:
            raise SubmissionNotFound(f"There is no submission {submission_id}. See `v_submissions` or the Data page.")
        decision = may_withdraw(access, owner.partner_id, owner.prime_id)
        if not decision:
            audit(conn, "refused", submission_id=submission_id, actor=access.identity, detail=decision.reason)
        else:
            return withdraw_submission(conn, submission_id, actor=access.identity, reason=reason)
    raise NotAuthorised(f"Submission {submission_id} was not withdrawn: {decision.reason}.")


def add_member(
    engine: Engine,
    email: str,
    *,
    access: Access,
    role: str | None = None,
    partners: Iterable[str] = (),
    primes: Iterable[str] = (),
) -> tuple[str, int]:
    """Register `email` for the named partners or primes (role inferred from which), if `access` may change the
    registry: (role, rows added). NotAuthorised (audited, nothing changed), MemberError or UnknownOrganisation."""
    _authorise_registry_change(engine, access, f"add {email}")
    with writing(engine) as conn:
        registry = Registry(conn)
        partner_ids = [registry.resolve_partner(name, register=False)[0] for name in partners]
        prime_ids = [registry.resolve_prime(name) for name in primes]
        role = role or ("partner" if partner_ids else "prime" if prime_ids else None)
        if role is None:
            raise members.MemberError("Give a partner, a prime, or the role analyst or admin.")
        ids = [p for p in partner_ids if p is not None]  # resolve_partner without register gives an id or raises
        added = members.add_member(conn, email, role, partner_ids=ids, prime_ids=prime_ids, actor=access.identity)
    return role, added


def remove_member(engine: Engine, email: str, *, access: Access) -> int:
    """Remove `email` from the registry, if `access` may: rows removed (NotAuthorised, audited; MemberError)."""
    _authorise_registry_change(engine, access, f"remove {email}")
    with writing(engine) as conn:
        return members.remove_member(conn, email, actor=access.identity)


def _authorise_registry_change(engine: Engine, access: Access, what: str) -> None:
    decision = may_manage_members(access)
    if not decision:
        with writing(engine) as conn:
            audit(conn, "refused", actor=access.identity, detail=f"{what}: {decision.reason}")
        raise NotAuthorised(f"The member registry was not changed: {decision.reason}.")


def report_frame(results: Iterable[IngestResult]) -> pd.DataFrame:
    """One row per problem of every file, in REPORT_COLUMNS; row is as the spreadsheet numbers it, blank if none."""
    rows = [
        (r.file, p.severity, p.code, p.sheet, p.row, p.column, p.value, p.message) for r in results for p in r.problems
    ]
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")  # 3, not 3.0, when some problems have no row
    return frame


def report_bytes(results: Iterable[IngestResult], fmt: str) -> bytes:
    """The report as CSV (one row per problem, safe to open in a spreadsheet) or JSON (each file and its summary)."""
    if fmt == "csv":
        return to_csv_bytes(report_frame(results))
    if fmt == "json":
        return json.dumps([r.as_dict() for r in results], indent=2, default=str).encode("utf-8")
    raise UnknownReportFormat(f"Report format {fmt!r} is not one wpmi writes: use one of {', '.join(REPORT_FORMATS)}.")
