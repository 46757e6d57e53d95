"""The `wpmi` command line: init, ingest, withdraw, members, template, demo.

The command line acts as the data owner (whoever holds the database credentials): every write is allowed and
recorded in the audit log with `--actor`, else the OS user.

Exit codes: 0 when everything asked for succeeded, 1 when any file was rejected, 2 on a usage error.
Each command imports what it needs when it runs, so `wpmi --help` answers before pandas, SQLAlchemy or rich
load (tests/test_cli.py checks; `python -m bench.startup` times it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loaders.errors import WpmiError

if TYPE_CHECKING:  # for annotations only: importing them costs `wpmi --help` a second
    from rich.console import Console

    from loaders.pipeline import IngestResult

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
# Warnings printed in full under the summary table, whatever the file's status (the rest are in --report).
SHOWN_WARNINGS = ("not_reported", "period_inferred", "later_return_wins", "unmatched_column")
MAPPING_SHOWN_UP_TO = 10  # files in one run whose column mapping is printed (all of it is in --report)


class UsageError(WpmiError):
    """The command line asked for something impossible (exit 2)."""


class _OrganisationChoices(Sequence):
    """dashboard.schema's SECTORS or TIERS, read only when argparse checks a value or prints the help.

    dashboard.schema imports SQLAlchemy, which `wpmi --help` should not wait for.
    """

    def __init__(self, name: str):
        self.name = name

    def _values(self) -> tuple[str, ...]:
        from dashboard import schema

        return getattr(schema, self.name)

    def __getitem__(self, index):
        return self._values()[index]

    def __len__(self) -> int:
        return len(self._values())


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _stdout() -> Console:
    from rich.console import Console

    return Console()


def collect_files(paths: list[str]) -> list[Path]:
    """Files named, plus every supported file inside named folders (sorted, so runs are repeatable)."""
    from loaders.readers import SUPPORTED_SUFFIXES

    files = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        elif p.exists():
            files.append(p)
        else:
            raise UsageError(f"{raw}: no such file or folder.")
    if not files:
        raise UsageError(f"No {', '.join(sorted(SUPPORTED_SUFFIXES))} files found in {', '.join(paths)}.")
    return files


def report_format(target: Path) -> str:
    """The report format a --report file name asks for (checked before any file is ingested)."""
    from loaders.service import REPORT_FORMATS

    fmt = target.suffix.lower().removeprefix(".")
    if fmt not in REPORT_FORMATS:
        raise UsageError(f"--report {target}: use a .json or .csv file name.")
    return fmt


def write_report(results: list[IngestResult], target: Path) -> None:
    """Every problem of every file, as JSON (with summaries) or CSV (one row per problem, spreadsheet-safe)."""
    from loaders.service import report_bytes

    target.write_bytes(report_bytes(results, report_format(target)))


def print_summary(results: list[IngestResult], out: Console) -> None:
    """The table of files and, for each rejected file, its error counts and first errors."""
    from rich.table import Table

    from loaders.service import REJECTED

    table = Table(title="wpmi ingest")
    for col in ("file", "status", "layout", "partner", "contract", "period", "rows", "errors", "warnings"):
        table.add_column(col)
    for r in results:
        style = "red" if r.status == REJECTED else None
        table.add_row(
            r.file,
            r.status,
            r.layout,
            r.partner,
            r.contract_id,
            r.period.strftime("%Y-%m") if r.period else "",
            str(sum(r.rows.values())),
            str(len(r.errors)),
            str(len(r.warnings)),
            style=style,
        )
    out.print(table)
    for r in results:
        if len(results) <= MAPPING_SHOWN_UP_TO:
            for p in r.problems:
                if p.code == "column_mapping":
                    out.print(f"mapping: {p.message}", markup=False, highlight=False)
        for p in r.warnings:
            if p.code in SHOWN_WARNINGS:  # what a sender must see even when the file lands
                out.print(f"[yellow]warning[/]: {p.message}", markup=True, highlight=False)
        if r.status != REJECTED:
            continue
        out.print(
            f"[bold red]{r.file} rejected[/]: "
            + "; ".join(f"{code} x{n}" for sev, code, n in r.summary_by_type() if sev == "error")
        )
        for p in r.errors[:10]:
            out.print(f"  {p.where()}: {p.message}")
        if len(r.errors) > 10:
            out.print(f"  ... and {len(r.errors) - 10} more (use --report FILE.csv for all)")


def cmd_ingest(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from dashboard.db import make_engine
    from dashboard.reference import init_db
    from loaders.service import REJECTED, IngestOptions, ingest_files

    files = collect_files(args.paths)
    from loaders.pipeline import unknown_required

    if unknown := unknown_required(tuple(args.require)):
        raise UsageError(
            f"--require {','.join(unknown)}: not an optional field of the template. See docs/template.md "
            "for the field names."
        )
    if args.report:
        report_format(Path(args.report))
    from loaders.profiles import load_profiles

    # The shipped profiles plus the user's folder (--layouts, else WPMI_LAYOUTS_DIR), each checked: a malformed
    # profile stops the run before anything loads.
    profiles = load_profiles(extra_dir=_layouts_folder(args.layouts))
    engine = make_engine(args.db)
    init_db(engine)
    options = IngestOptions(
        layout=args.layout,
        partner=args.partner,
        prime=args.prime,
        cpa=args.cpa,
        period=args.period,
        register_partner=args.register_partner,
        sector=args.sector,
        tier=args.tier,
        dry_run=args.dry_run,
        actor=actor_of(args),
        replaces=args.replaces,
        require=tuple(args.require),
        column_map=_column_map(args.map),
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        console=_stderr(),
        disable=args.quiet,
    ) as progress:
        task = progress.add_task("ingesting", total=len(files), rows=0)
        rows = 0

        def show_progress(index, name, result):
            nonlocal rows
            if result is None:
                progress.update(task, description=name[:40])
                return
            rows += sum(result.rows.values())
            progress.update(task, advance=1, rows=rows)

        batch = [(path.name, path) for path in files]
        results = ingest_files(engine, batch, options, on_progress=show_progress, profiles=profiles)
    if args.report:
        write_report(results, Path(args.report))
    print_summary(results, _stdout())
    return EXIT_REJECTED if any(r.status == REJECTED for r in results) else EXIT_OK


def cmd_init(args) -> int:
    from dashboard.db import make_engine, resolve_url
    from dashboard.reference import init_db

    counts = init_db(make_engine(args.db))
    _stdout().print(
        f"Database ready at {resolve_url(args.db)}: " + ", ".join(f"{n} {table}" for table, n in counts.items())
    )
    return EXIT_OK


def cmd_template(args) -> int:
    from loaders.template import write_template

    header = {
        k: v
        for k, v in (("partner", args.partner), ("prime", args.prime), ("cpa", args.cpa), ("period", args.period))
        if v
    }
    path = write_template(Path(args.out), header=header or None)
    _stdout().print(f"Wrote the wpmi MI template to {path}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from loaders.demo.build import build_demo

    summary = build_demo(
        args.db,
        scale=args.scale,
        seed=args.seed,
        replace=args.replace,
        files_dir=Path(args.files) if args.files else None,
        quiet=args.quiet,
    )
    _stdout().print(summary)
    return EXIT_OK


def _column_map(pairs: list[str] | None) -> dict[str, str]:
    """--map "SOURCE=FIELD" (repeatable) as {source header: wpmi field}; a pair without '=' is a usage error."""
    mapping = {}
    for pair in pairs or ():
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise UsageError(
                f'--map {pair!r}: write it as --map "SOURCE HEADER=wpmi_field", e.g. "Outcome=job_outcome_date".'
            )
        mapping[source.strip()] = target.strip()
    return mapping


def actor_of(args) -> str:
    """Who is acting at the command line, for the audit log: --actor, else the OS user."""
    import getpass

    return args.actor or f"{getpass.getuser()} (command line)"


def cmd_withdraw(args) -> int:
    from dashboard.access import operator
    from dashboard.db import make_engine
    from dashboard.reference import init_db
    from loaders.service import SubmissionNotFound, withdraw

    engine = make_engine(args.db)
    init_db(engine)
    try:
        outcome = withdraw(engine, args.submission_id, access=operator(actor_of(args)), reason=args.reason)
    except SubmissionNotFound as exc:
        raise UsageError(str(exc)) from exc
    if not outcome["changed"]:
        _stdout().print(f"Submission {args.submission_id} was already withdrawn; nothing changed.")
    else:
        back = outcome["reinstated"]
        _stdout().print(
            f"Withdrew submission {args.submission_id}; it no longer counts in any view."
            + (f" Reinstated the submission(s) it had superseded: {back}." if back else "")
            + " Ingest the same file again to restore it."
        )
    return EXIT_OK


def cmd_members(args) -> int:
    """wpmi members add|remove|list: the member registry (dashboard/members.py), changed through the service."""
    from dashboard import members
    from dashboard.access import operator
    from dashboard.db import make_engine
    from dashboard.reference import init_db
    from loaders import service

    engine = make_engine(args.db)
    init_db(engine)
    out = _stdout()
    if args.action == "list":
        with engine.connect() as conn:
            rows = members.list_members(conn)
        from rich.table import Table

        table = Table(title=f"wpmi members ({len({r['email'] for r in rows})})")
        for col in ("email", "role", "organisation", "added_at", "added_by"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["email"], r["role"], r["organisation"], f"{r['added_at']:%Y-%m-%d %H:%M}", r["added_by"])
        out.print(table)
        return EXIT_OK
    if not args.email:
        raise UsageError(f"wpmi members {args.action} needs the member's e-mail address.")
    access = operator(actor_of(args))
    try:
        if args.action == "remove":
            removed = service.remove_member(engine, args.email, access=access)
            out.print(f"Removed {args.email} ({removed} registry row(s)); they see public figures from now on.")
            return EXIT_OK
        role, added = service.add_member(
            engine, args.email, access=access, role=args.role, partners=args.partner or (), primes=args.prime or ()
        )
    except service.MemberError as exc:
        raise UsageError(str(exc)) from exc
    done = f" ({added} row(s) added)." if added else " already; nothing changed."
    out.print(f"{args.email} is a {role} member{done}")
    return EXIT_OK


def _layouts_folder(raw: str | None) -> Path | None:
    """--layouts DIR, checked: a folder (a usage error before anything is read otherwise)."""
    if not raw:
        return None
    folder = Path(raw)
    if not folder.is_dir():
        raise UsageError(f"--layouts {raw}: no such folder (it should hold your layout profiles, *.toml).")
    return folder


def _profile_matches(profile) -> str:
    """One line of what a layout profile matches."""
    if profile.template:
        return "the wpmi standard template (its Instructions sheet's A1 marker)"
    parts = []
    for sp in profile.sheets:
        how = "months across the columns" if sp.wide else f"header with {', '.join(sp.header_labels)}"
        part = f"{sp.target} from sheets matching {sp.sheet!r}"
        if sp.wide or sp.header_labels:
            part += f" ({how})"
        parts.append(part + ("" if sp.required else ", optional"))
    return "; ".join(parts)


def cmd_layouts(args) -> int:
    """wpmi layouts list|check|explain: the layout profiles, checked and explained without loading anything."""
    from loaders import layouts
    from loaders import profiles as profile_language

    out = _stdout()

    def say(text: str = "") -> None:
        out.print(text, markup=False, highlight=False, soft_wrap=True)

    if args.action != "list" and not args.target:
        raise UsageError(f"wpmi layouts {args.action} needs a {'profile' if args.action == 'check' else 'file'}.")
    folder = _layouts_folder(args.layouts)
    with profile_language.user_layouts(folder):
        if args.action == "check":
            return _layouts_check(args.target, layouts, say)
        profiles = profile_language.load_profiles()
        if args.action == "list":
            for name in sorted(profiles):
                p = profiles[name]
                where = "shipped" if p.path and p.path.parent == profile_language.LAYOUTS_DIR else f"yours: {p.path}"
                if p.overrides:
                    where += f"; replaces the shipped {p.overrides.name}"
                say(f"{name}  ({where})")
                say(f"    matches: {_profile_matches(p)}")
                if p.description:
                    say(f"    {p.description}")
            return EXIT_OK
        return _layouts_explain(Path(args.target), profiles, layouts, say)


def _layouts_check(target: str, layouts, say) -> int:
    from loaders import profiles as profile_language

    path = Path(target)
    if not (path.suffix == ".toml" or path.exists()):
        profiles = profile_language.load_profiles()
        if target not in profiles:
            import difflib

            close = [n for n in sorted(profiles) if target in n] or difflib.get_close_matches(
                target, list(profiles), n=2
            )
            hint = f"; did you mean {' or '.join(close)}?" if close else f" (known: {', '.join(sorted(profiles))})"
            raise UsageError(f"layouts check {target}: no such profile file or profile name{hint}")
        path = profiles[target].path or path
    if not path.is_file():
        raise UsageError(f"layouts check {target}: no such file.")
    problems = profile_language.check_profile_file(path)
    for problem in problems:
        say(problem)
    if problems:
        say(f"{len(problems)} problem(s): see docs/layouts.md for every key.")
        return EXIT_REJECTED
    say(f"{path}: OK")
    return EXIT_OK


def _layouts_explain(path: Path, profiles, layouts, say) -> int:
    from loaders.errors import NoMatchingLayout
    from loaders.privacy import find_personal_values
    from loaders.sandbox import read_untrusted

    if not path.is_file():
        raise UsageError(f"layouts explain {path}: no such file.")
    book = read_untrusted(path)  # in the limited worker process, as ingest reads it
    personal = find_personal_values(book)
    if personal:  # nothing from the file is quoted: the same refusal as ingest's
        for p in personal:
            say(f"{p.where()}: {p.message}")
        return EXIT_REJECTED
    try:
        name, profile, mapped = layouts.detect_layout(book, profiles)
    except NoMatchingLayout as exc:
        say(str(exc))
        return EXIT_REJECTED
    if profile is not None:
        say(f"{book.name}: layout {name} ({profile.path})")
        if profile.template:
            say("  why: its Instructions sheet starts with the wpmi template marker")
        else:
            say(f"  why: it maps {len(mapped)} sheet(s) with data, the most of the profiles tried")
    else:
        say(f"{book.name}: layout auto (no profile fits; each sheet found by the data dictionary's names)")
    for other in sorted(profiles):
        if other == name:
            continue
        _score, reasons = layouts.profile_misses(book, profiles[other], limit=1)
        say(f"  not {other}: {reasons[0] if reasons else 'fits, but maps fewer sheets'}")
    for m in mapped:
        say(f"sheet {m.sheet!r} -> {m.target} (header row {m.header_row}, {len(m.source_rows)} data rows)")
        for field_name, header in m.columns.items():
            say(f"  {header!r} -> {field_name}")
        for header in m.unused_columns:
            say(f"  {header!r} ignored")
    say("Nothing was loaded. `wpmi ingest FILE --dry-run` validates every cell.")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wpmi", description="Ingest Work Programme partner MI and benchmark it.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each file as it lands")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p):
        p.add_argument("--db", help="database URL (default: $WPMI_DB_URL, else sqlite:///data/wpmi.sqlite)")
        return p

    p = with_db(sub.add_parser("init", help="create the schema and load reference data (idempotent)"))
    p.set_defaults(func=cmd_init)

    p = with_db(sub.add_parser("ingest", help="validate and load MI files or folders"))
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--layout", help="layout profile name from data/layouts (default: detect)")
    p.add_argument("--layouts", metavar="DIR", help="a folder of your own layout profiles (default: $WPMI_LAYOUTS_DIR)")
    p.add_argument("--partner", help="partner name, when the file does not say")
    p.add_argument("--prime", help="prime name, when the file does not say")
    p.add_argument("--cpa", type=int, choices=range(1, 19), metavar="N", help="CPA number 1-18")
    p.add_argument("--period", help="reporting month YYYY-MM, when the file does not say")
    p.add_argument("--register-partner", action="store_true", help="register an unknown partner name")
    p.add_argument(
        "--map",
        action="append",
        metavar='"SOURCE=FIELD"',
        help="map a source column header to a wpmi field for this run (repeatable), e.g. "
        '"Outcome=job_outcome_date"; overrides the layout\'s own matching',
    )
    p.add_argument(
        "--require",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=[],
        metavar="FIELD,...",
        help="optional fields the files must have a column for (e.g. job_start_date,job_outcome_date): a file "
        "without one is rejected instead of warned about",
    )
    p.add_argument(
        "--replaces",
        type=int,
        metavar="SUBMISSION_ID",
        help="the earlier return this file corrects: it is superseded whatever the periods (and its period is used "
        "when the file states none)",
    )
    # A metavar, so that argparse lists the choices only when it prints this command's help.
    p.add_argument(
        "--sector",
        choices=_OrganisationChoices("SECTORS"),
        default="unknown",
        metavar="SECTOR",
        help="sector of a newly registered partner: %(choices)s",
    )
    p.add_argument(
        "--tier",
        choices=_OrganisationChoices("TIERS"),
        default="unknown",
        metavar="TIER",
        help="tier of a newly registered partner: %(choices)s",
    )
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    p.add_argument("--report", metavar="FILE", help="write every problem to FILE.json or FILE.csv")
    p.add_argument("--actor", help="who is loading (recorded in the audit log; default: the OS user)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = with_db(sub.add_parser("withdraw", help="withdraw a submission from every view (kept as history)"))
    p.add_argument("submission_id", type=int, metavar="SUBMISSION_ID")
    p.add_argument("--reason", help="why (recorded in the audit log)")
    p.add_argument("--actor", help="who is withdrawing it (recorded in the audit log; default: the OS user)")
    p.set_defaults(func=cmd_withdraw)

    p = with_db(sub.add_parser("members", help="add, remove or list who may sign in as a member, and their role"))
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("email", nargs="?", help="the e-mail the member signs in with (verified by the identity provider)")
    p.add_argument(
        "--role",
        choices=("partner", "prime", "analyst", "admin"),
        help="partner (default with --partner), prime (default with --prime), analyst or admin",
    )
    p.add_argument("--partner", action="append", metavar="NAME", help="a partner the member works for (repeatable)")
    p.add_argument("--prime", action="append", metavar="NAME", help="a prime the member works for (repeatable)")
    p.add_argument("--actor", help="who is changing the registry (recorded in the audit log; default: the OS user)")
    p.set_defaults(func=cmd_members)

    p = sub.add_parser("layouts", help="list, check or explain the layout profiles (nothing is loaded)")
    p.add_argument("action", choices=("list", "check", "explain"))
    p.add_argument("target", nargs="?", metavar="PROFILE|FILE", help="check: a profile file or name; explain: a file")
    p.add_argument("--layouts", metavar="DIR", help="a folder of your own profiles (default: $WPMI_LAYOUTS_DIR)")
    p.set_defaults(func=cmd_layouts)

    p = sub.add_parser("template", help="write the standard MI template workbook")
    p.add_argument("out", metavar="OUT.xlsx")
    for flag in ("--partner", "--prime", "--period"):
        p.add_argument(flag, help=f"pre-fill the header block's {flag[2:]}")
    p.add_argument("--cpa", type=int, choices=range(1, 19), metavar="N")
    p.set_defaults(func=cmd_template)

    p = with_db(sub.add_parser("demo", help="build a synthetic demo programme through the real loader"))
    p.add_argument(
        "--scale",
        choices=("tiny", "small", "programme"),
        default="small",
        help="tiny (tests, seconds), small (about a minute, what `make run` builds) or programme (1.8m)",
    )
    p.add_argument("--seed", type=int, default=2011)
    p.add_argument("--replace", action="store_true", help="delete an existing demo database first")
    p.add_argument("--files", metavar="DIR", help="where to write the MI files (default: a temporary folder)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except UsageError as exc:
        _stderr().print(f"[red]wpmi: {exc}[/]")
        return EXIT_USAGE
    except WpmiError as exc:
        _stderr().print(f"[red]wpmi: {exc}[/]")
        return EXIT_REJECTED


if __name__ == "__main__":
    sys.exit(main())
