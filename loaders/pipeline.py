"""Ingest one file: read -> detect layout -> map -> validate -> write, all or nothing.

`ingest_file` never raises for a bad file: it returns an IngestResult whose problems say what is wrong and
where. Only a fault in wpmi itself or the database escapes as an exception, and then the transaction has
been rolled back.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from dashboard import fields as F
from dashboard import schema
from dashboard.access import Access, Decision, may_register_partner, may_upload, may_withdraw, operator
from dashboard.db import writing
from loaders.cleaning import PaymentGroupCodes
from loaders.errors import ERROR, NOTE, WARNING, WITHHELD, Problem, WpmiError
from loaders.layouts import detect_layout
from loaders.mapping import ColumnMapping, column_mappings, mapping_notes, suggestions
from loaders.merge import merge_sheets
from loaders.organisation import Registry, read_header_meta, register_partner, resolve_sender
from loaders.privacy import find_personal_columns, find_personal_typed, find_personal_values
from loaders.profiles import LayoutProfile, load_profiles
from loaders.sandbox import read_untrusted
from loaders.store import audit, find_submission_by_hash, restore_submission, write_submission
from loaders.validation import check_sheet, end_of_month, type_sheet

log = logging.getLogger("wpmi.ingest")

LOADED, REJECTED, UNCHANGED, VALID, RESTORED = "loaded", "rejected", "unchanged", "valid (dry run)", "restored"


@dataclass
class IngestOptions:
    """What the person ingesting told wpmi about the files."""

    layout: str | None = None
    partner: str | None = None
    prime: str | None = None
    cpa: int | str | None = None
    period: str | None = None
    register_partner: bool = False
    sector: str = "unknown"
    tier: str = "unknown"
    dry_run: bool = False
    actor: str | None = None  # who runs the command line (--actor, else the OS user); ignored when `access` is set
    access: Access | None = None  # the signed-in viewer (Data page); None: the operator at the command line
    replaces: int | None = None  # the submission this file corrects, named by the sender (--replaces)
    require: tuple[str, ...] = ()  # optional fields that must have a column in this file (--require)
    column_map: dict[str, str] = field(default_factory=dict)  # source header -> wpmi field, ad hoc (--map)

    @property
    def viewer(self) -> Access:
        return self.access if self.access is not None else operator(self.actor or "command line")

    @property
    def identity(self) -> str:
        """Who is recorded in the audit log for this write."""
        return self.viewer.identity


@dataclass
class IngestResult:
    """The outcome of one file: status, what landed, and every problem found."""

    file: str
    status: str
    sha256: str = ""
    layout: str = ""
    submission_id: int | None = None
    partner: str = ""
    contract_id: str = ""
    period: date | None = None
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    columns: list[ColumnMapping] = field(default_factory=list)  # how each source column was mapped, or ignored

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def summary_by_type(self) -> list[tuple[str, str, int]]:
        """(severity, code, count), errors first, as the report groups them."""
        counts = Counter((p.severity, p.code) for p in self.problems)
        order = {ERROR: 0, WARNING: 1, NOTE: 2}
        return sorted(((s, c, n) for (s, c), n in counts.items()), key=lambda t: (order[t[0]], -t[2], t[1]))

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "sha256": self.sha256,
            "layout": self.layout,
            "submission_id": self.submission_id,
            "partner": self.partner,
            "contract_id": self.contract_id,
            "period": self.period.isoformat() if self.period else None,
            "rows": self.rows,
            "summary": [{"severity": s, "code": c, "count": n} for s, c, n in self.summary_by_type()],
            "problems": [p.as_dict() for p in self.problems],
        }


class Ingestor:
    """Holds what every file needs (profiles, payment groups) so a folder of files loads them once."""

    def __init__(self, engine: Engine, profiles: dict[str, LayoutProfile] | None = None):
        self.engine = engine
        self.profiles = profiles if profiles is not None else load_profiles()
        with engine.connect() as conn:
            self.payment_groups = [dict(r._mapping) for r in conn.execute(select(schema.payment_group))]

    def _codes(self, profile: LayoutProfile | None) -> PaymentGroupCodes:
        extra = {}
        for sp in profile.sheets if profile else ():
            extra.update(sp.values.get("payment_group", {}))
        return PaymentGroupCodes(self.payment_groups, extra)

    def ingest(
        self,
        path: Path | str,
        options: IngestOptions | None = None,
        data: bytes | None = None,
        file_name: str | None = None,
    ) -> IngestResult:
        """Ingest one file (from disk, or `data` bytes from an upload)."""
        options = options or IngestOptions()
        path = Path(path)
        name = file_name or path.name
        named = find_personal_typed({"file name": name}, "upload or command line")
        if named:  # refused before the name is used anywhere: not in a message, the audit log or a log line
            result = IngestResult(file=WITHHELD, status=REJECTED, problems=[replace(p, file=WITHHELD) for p in named])
            self._record_rejection(result, options)
            return result
        typed = {"partner": options.partner, "prime": options.prime, "period": options.period, "layout": options.layout}
        personal = find_personal_typed(typed, "command line or Data page")
        if personal:  # before the file is read: nothing typed with personal data goes further
            result = IngestResult(file=name, status=REJECTED, problems=[replace(p, file=name) for p in personal])
            self._record_rejection(result, options)
            return result
        result = IngestResult(file=name, status=REJECTED)
        try:
            self._ingest(path, options, data, result)
        except WpmiError as exc:
            result.problems.append(Problem(type(exc).__name__, ERROR, str(exc), name))
        except OperationalError as exc:  # read-only database, full disk, lock timeout: the transaction rolled back
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            result.status = REJECTED
            result.problems.append(
                Problem(
                    "database_error",
                    ERROR,
                    f"{name}: the database refused the write "
                    f"({reason}). Nothing from this file was written. Check that the "
                    "database is writable and its disk has space, then run the same command "
                    "again.",
                    name,
                )
            )
            log.warning("database refused %s: %s", name, reason)
            return result
        if result.status == REJECTED:
            log.info("rejected %s: %d error(s)", name, len(result.errors))
            self._record_rejection(result, options)
        return result

    def _replaced(self, submission_id: int | None, file: str):
        """The submission a file says it corrects (--replaces), which must exist and not be withdrawn."""
        if submission_id is None:
            return None
        sub = schema.submission
        with self.engine.connect() as conn:
            row = conn.execute(select(sub).where(sub.c.submission_id == submission_id)).first()
        if row is None or row.status == "withdrawn":
            state = "there is no such submission" if row is None else "it has been withdrawn"
            raise WrongReplacement(
                f"{file}: --replaces {submission_id}: {state}. See the Data page's history or v_submissions for the id."
            )
        return row

    def _record_rejection(self, result: IngestResult, options: IngestOptions) -> None:
        if options.dry_run:
            return
        codes = ", ".join(f"{c} x{n}" for s, c, n in result.summary_by_type() if s == ERROR)
        refusal = next((p.message for p in result.problems if p.code == NOT_AUTHORISED), None)
        with writing(self.engine) as conn:
            audit(
                conn,
                "refused" if refusal else "rejected",
                file_name=result.file,
                sha256=result.sha256 or None,
                actor=options.identity,
                detail=refusal or codes,
            )

    def _ingest(self, path: Path, options: IngestOptions, data: bytes | None, result: IngestResult) -> None:
        book = read_untrusted(path, data, name=result.file)  # in the limited worker process
        book.path = Path(result.file)
        result.sha256 = book.sha256
        personal = find_personal_values(book)
        if personal:
            # Stop before layout detection, whose messages quote header cells: a flagged value goes nowhere.
            result.problems.extend(personal)
            return
        layout, profile, mapped = detect_layout(book, self.profiles, options.layout, column_map=options.column_map)
        result.layout = layout
        personal = find_personal_columns(book, mapped)
        if personal:
            result.problems.extend(personal)
            return  # nothing else is looked at, so no personal value can reach a report or a row
        # The same bytes read the same way are the same load; read another way (another layout, a fixed profile,
        # a --map) they are a new one, which supersedes the old reading like any correction.
        reading = reading_of(layout, profile, options.column_map)
        with self.engine.connect() as conn:
            existing = find_submission_by_hash(conn, book.sha256, reading, None if options.column_map else layout)
        if existing is not None and existing.status in ("withdrawn", "superseded") and not options.dry_run:
            with self.engine.connect() as conn:
                decision = may_upload(options.viewer, existing.partner_id, _prime_of(conn, existing.contract_id))
            if not decision:
                result.problems.append(_refusal(result.file, decision))
                return
            with writing(self.engine) as conn:
                restore_submission(conn, existing.submission_id, actor=options.identity)
            result.status, result.submission_id = RESTORED, existing.submission_id
            result.problems.append(
                Problem(
                    "restored",
                    NOTE,
                    f"Submission {existing.submission_id} "
                    f"({existing.file_name}) had been {existing.status}; it is current again, and any other "
                    "return for the same partner, contract and period that it covers is superseded.",
                    result.file,
                )
            )
            return
        if existing is not None:
            result.status, result.submission_id = UNCHANGED, existing.submission_id
            result.problems.append(
                Problem(
                    "unchanged",
                    NOTE,
                    f"Identical to submission {existing.submission_id} ({existing.file_name}), read the same "
                    "way (same layout and mapping); nothing to do.",
                    result.file,
                )
            )
            return
        result.columns = column_mappings(book, mapped)
        result.problems.extend(
            mapping_notes(book.name, result.columns)
        )  # how each column was mapped, before anything lands
        result.problems.extend(suggestions(book, mapped))
        require = (*options.require, *(profile.require if profile else ()))  # the sender's and the layout's
        result.problems.extend(not_reported(mapped, result.file, require))
        if result.errors:
            return
        codes = self._codes(profile)
        typed = [type_sheet(m, result.file, codes) for m in mapped]
        if not any(len(t) for t in typed):
            sheets = ", ".join(f"{m.sheet} (header row {m.header_row})" for m in mapped)
            result.problems.append(
                Problem(
                    "no_data",
                    ERROR,
                    f"No data rows found under the header in: {sheets}. Fill in at least one sheet.",
                    result.file,
                )
            )
            return
        meta = read_header_meta(book, profile, mapped)
        replaced = self._replaced(options.replaces, result.file)
        stated = meta.get("period") or options.period
        cli = {
            "partner": options.partner,
            "prime": options.prime,
            "cpa": options.cpa,
            # A correction of a named submission is for its period unless the file or the sender says otherwise.
            "period": options.period or (None if stated or replaced is None else f"{replaced.period:%Y-%m}"),
            "register_partner": options.register_partner,
        }
        inferred = infer_period(typed)
        with self.engine.connect() as conn:
            sender = resolve_sender(Registry(conn), meta, cli, inferred, result.file)
        result.partner, result.contract_id, result.period = sender.partner_name, sender.contract_id, sender.period
        if replaced is not None and (replaced.partner_id, replaced.contract_id) != (
            sender.partner_id,
            sender.contract_id,
        ):
            raise WrongReplacement(
                f"{result.file}: --replaces {replaced.submission_id} names a return of another partner or contract "
                f"({replaced.file_name}); a file can only correct its own sender's return. Check the submission id."
            )
        if not stated and replaced is None:
            result.problems.append(
                Problem(
                    "period_inferred",
                    WARNING,
                    f"{result.file}: the reporting period is not stated (no header block, title, --period or Data page "
                    f"field), so wpmi used {sender.period:%B %Y}, the month of the latest date in the file. If that is "
                    "not the month this return is for, send it again with --period YYYY-MM (or --replaces ID to "
                    "correct an earlier return).",
                    result.file,
                )
            )
        with self.engine.connect() as conn:
            decision = may_upload(
                options.viewer, None if sender.register else sender.partner_id, _prime_of(conn, sender.contract_id)
            )
            if decision and replaced is not None:  # replacing is withdrawing the named return
                decision = may_withdraw(
                    options.viewer, replaced.partner_id, _prime_of(conn, replaced.contract_id) or ""
                )
            if not sender.register:
                result.problems.extend(_later_returns(conn, sender, result.file))
        if decision and sender.register:
            decision = may_register_partner(options.viewer)
        if not decision:  # before anything is checked or written: the refusal is the answer
            result.problems.append(_refusal(result.file, decision))
            return
        for m, t in zip(mapped, typed):
            check_sheet(m, t, result.file, codes, end_of_month(sender.period))
            result.problems.extend(t.problems)
        typed, conflicts = merge_sheets(typed, result.file)  # an aggregate sent as one sheet per measure
        result.problems.extend(conflicts)
        result.rows = {t.target: len(t) for t in typed}
        if result.errors:
            return
        if options.dry_run:
            result.status = VALID
            return
        report = {
            "warnings": len(result.warnings),
            "problems": [p.as_dict() for p in result.problems if p.severity != ERROR][:1000],
        }
        with writing(self.engine) as conn:
            partner_id = sender.partner_id
            if sender.register:
                partner_id = register_partner(conn, sender.partner_name, options.sector, options.tier)
            # resolve_partner gives no id only for a partner to register, and that branch has just set one.
            assert partner_id is not None, "a registered partner always has an id"
            result.submission_id = write_submission(
                conn,
                file_name=result.file,
                sha256=book.sha256,
                reading=reading,
                partner_id=partner_id,
                contract_id=sender.contract_id,
                period=sender.period,
                layout=layout,
                sheets=typed,
                report=report,
                actor=options.identity,
                replaces=replaced.submission_id if replaced is not None else None,
                not_reported=unreported_fields(mapped),
            )
            result.problems.append(_superseded_note(conn, result.submission_id, result.file))
        result.status = LOADED
        log.info("loaded %s as submission %s", result.file, result.submission_id)


NOT_AUTHORISED = "not_authorised"


class WrongReplacement(WpmiError):
    """--replaces names a submission this file cannot correct."""


def _later_returns(conn, sender, file: str) -> list[Problem]:
    """A warning when a current return for the same partner and contract has a later period: for a participant in
    both, its rows win (latest period first), so this file would change nothing for them."""
    sub = schema.submission.c
    later = conn.execute(
        select(sub.submission_id, sub.file_name, sub.period)
        .where(
            sub.partner_id == sender.partner_id,
            sub.contract_id == sender.contract_id,
            sub.status == "current",
            sub.period > sender.period,
        )
        .order_by(sub.period.desc(), sub.submission_id.desc())
        .limit(1)
    ).first()
    if later is None:
        return []
    return [
        Problem(
            "later_return_wins",
            WARNING,
            f"{file}: submission {later.submission_id} ({later.file_name}, {later.period:%B %Y}) is a current return "
            f"for the same partner and contract with a later period than this file's {sender.period:%B %Y}: for any "
            "participant in both, its rows win. If this file corrects it, send it again with --replaces "
            f"{later.submission_id} (or --period {later.period:%Y-%m}).",
            file,
        )
    ]


def reading_of(layout: str, profile: LayoutProfile | None, column_map: dict[str, str]) -> str:
    """A fingerprint of how a file was read: the layout, every rule of its profile (columns, formats, locale)
    and the ad hoc --map. The same bytes with another reading are a new load, not "unchanged"."""
    rules = {k: v for k, v in asdict(profile).items() if k not in ("path", "overrides")} if profile else None
    text = json.dumps({"layout": layout, "profile": rules, "map": sorted(column_map.items())}, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def unreported_fields(mapped) -> dict[str, list[str]]:
    """Per target sheet (Participants, Monthly ...), the optional fields no sheet read for it has a column for,
    in the sheet's order: what the file does not report, stored with the submission so that they stay unknown,
    never zero. (An aggregate sent as one sheet per measure reports the measures of all its sheets.)"""
    missing: dict[str, list[str]] = {}
    for target in dict.fromkeys(m.target for m in mapped):
        present = {name for m in mapped if m.target == target for name in m.columns}
        fields = [name for name in F.SHEETS_BY_NAME[target].reportable_fields if name not in present]
        if fields:
            missing[target] = fields
    return missing


def not_reported(mapped, file: str, require: tuple[str, ...] = ()) -> list[Problem]:
    """A warning per target naming each optional field (a milestone, a feedback measure) the file has no column
    for, or an error for those the sender required (--require, a profile's require): a missing column must never
    pass for 'none happened'."""
    problems = []
    for target, missing in unreported_fields(mapped).items():
        sheet = " + ".join(m.sheet for m in mapped if m.target == target)
        required = [name for name in missing if name in require]
        if required:
            problems.append(
                Problem(
                    "required_not_reported",
                    ERROR,
                    f"{file}: sheet {sheet!r} has no column for {', '.join(required)}, which --require or the layout "
                    "profile's require asks for. Add the column, map it with --map SOURCE=FIELD or a layout profile "
                    "(docs/layouts.md), or drop it from what is required.",
                    file,
                    sheet,
                )
            )
        problems.append(
            Problem(
                "not_reported",
                WARNING,
                f"{file}: sheet {sheet!r} ({target}) has no column for {', '.join(missing)}: this file does not "
                "report them, so wpmi stores them as not reported (blank, never zero) and leaves this return out "
                "of the rates that need them. If the file has such a column under another name, map it with --map "
                "SOURCE=FIELD or a layout profile (docs/layouts.md); --require FIELD makes a missing column an error.",
                file,
                sheet,
            )
        )
    return problems


def unknown_required(require: tuple[str, ...]) -> list[str]:
    """The names in --require that are not optional fields of any sheet (a misspelling must not pass silently)."""
    optional = F.optional_fields()
    return [name for name in require if name not in optional]


def _superseded_note(conn, submission_id: int, file: str) -> Problem:
    """What this load superseded, or that it superseded nothing (every load says which)."""
    sub = schema.submission.c
    gone = conn.execute(
        select(sub.submission_id, sub.file_name).where(sub.superseded_by == submission_id).order_by(sub.submission_id)
    ).all()
    said = (
        "supersedes " + ", ".join(f"submission {i} ({name})" for i, name in gone)
        if gone
        else "supersedes nothing: no current return for the same partner, contract and period holds what it holds"
    )
    return Problem("supersedes", NOTE, f"{file}: {said}.", file)


def _refusal(file: str, decision: Decision) -> Problem:
    return Problem(
        NOT_AUTHORISED,
        ERROR,
        f"{file}: not loaded: {decision.reason}. Nothing was written; the refusal is in the audit log.",
        file,
    )


def _prime_of(conn, contract_id: str | None) -> str | None:
    k = schema.contract.c
    return conn.execute(select(k.prime_id).where(k.contract_id == contract_id)).scalar() if contract_id else None


def infer_period(typed) -> date | None:
    """The latest month any date in the file falls in: the period when the file does not state one."""
    latest = None
    date_fields = {s.name: [f.name for f in s.fields if f.type in (F.DATE, F.MONTH)] for s in F.SHEETS}
    for t in typed:
        if t.target == "Projections":
            continue  # projections run ahead of the return they come with
        for name in date_fields[t.target]:
            dates = [d for d in t.columns[name] if d is not None]
            if dates and (latest is None or max(dates) > latest):
                latest = max(dates)
    return latest.replace(day=1) if latest else None
