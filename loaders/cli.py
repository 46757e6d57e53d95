"""The `wpmi` command line: init, ingest, withdraw, template, demo.

Exit codes: 0 when everything asked for succeeded, 1 when any file was rejected, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dashboard.db import make_engine, resolve_url
from loaders.errors import WpmiError
from loaders.organisation import SECTORS, TIERS
from loaders.pipeline import REJECTED, IngestOptions, Ingestor, IngestResult
from loaders.readers import SUPPORTED_SUFFIXES
from dashboard.reference import init_db

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
REPORT_COLUMNS = ("file", "severity", "code", "sheet", "row", "column", "value", "message")
console = Console(stderr=True)


class UsageError(WpmiError):
    """The command line asked for something impossible (exit 2)."""


def collect_files(paths: list[str]) -> list[Path]:
    """Files named, plus every supported file inside named folders (sorted, so runs are repeatable)."""
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


def write_report(results: list[IngestResult], target: Path) -> None:
    """Every problem of every file, as JSON (with summaries) or CSV (one row per problem)."""
    if target.suffix.lower() == ".json":
        target.write_text(json.dumps([r.as_dict() for r in results], indent=2, default=str), encoding="utf-8")
        return
    if target.suffix.lower() != ".csv":
        raise UsageError(f"--report {target}: use a .json or .csv file name.")
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        for r in results:
            for p in r.problems:
                writer.writerow([r.file, p.severity, p.code, p.sheet, p.row, p.column, p.value, p.message])


def print_summary(results: list[IngestResult], out: Console) -> None:
    table = Table(title="wpmi ingest")
    for col in ("file", "status", "layout", "partner", "contract", "period", "rows", "errors", "warnings"):
        table.add_column(col)
    for r in results:
        style = "red" if r.status == REJECTED else None
        table.add_row(r.file, r.status, r.layout, r.partner, r.contract_id,
                      r.period.strftime("%Y-%m") if r.period else "", str(sum(r.rows.values())),
                      str(len(r.errors)), str(len(r.warnings)), style=style)
    out.print(table)
    for r in results:
        if r.status != REJECTED:
            continue
        out.print(f"[bold red]{r.file} rejected[/]: " + "; ".join(
            f"{code} x{n}" for sev, code, n in r.summary_by_type() if sev == "error"))
        for p in r.errors[:10]:
            out.print(f"  {p.where()}: {p.message}")
        if len(r.errors) > 10:
            out.print(f"  ... and {len(r.errors) - 10} more (use --report FILE.csv for all)")


def cmd_ingest(args) -> int:
    files = collect_files(args.paths)
    engine = make_engine(args.db)
    init_db(engine)
    ingestor = Ingestor(engine)
    options = IngestOptions(layout=args.layout, partner=args.partner, prime=args.prime, cpa=args.cpa,
                            period=args.period, register_partner=args.register_partner, sector=args.sector,
                            tier=args.tier, dry_run=args.dry_run, actor=args.actor)
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[rows]:,} rows"), console=console, disable=args.quiet) as progress:
        task = progress.add_task("ingesting", total=len(files), rows=0)
        rows = 0
        for path in files:
            progress.update(task, description=path.name[:40])
            result = ingestor.ingest(path, options)
            results.append(result)
            rows += sum(result.rows.values())
            progress.update(task, advance=1, rows=rows)
    if args.report:
        write_report(results, Path(args.report))
    print_summary(results, Console())
    return EXIT_REJECTED if any(r.status == REJECTED for r in results) else EXIT_OK


def cmd_init(args) -> int:
    counts = init_db(make_engine(args.db))
    Console().print(f"Database ready at {resolve_url(args.db)}: " +
                    ", ".join(f"{n} {table}" for table, n in counts.items()))
    return EXIT_OK


def cmd_template(args) -> int:
    from loaders.template import write_template

    header = {k: v for k, v in (("partner", args.partner), ("prime", args.prime), ("cpa", args.cpa),
                                ("period", args.period)) if v}
    path = write_template(Path(args.out), header=header or None)
    Console().print(f"Wrote the wpmi MI template to {path}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from loaders.demo.build import build_demo

    summary = build_demo(args.db, scale=args.scale, seed=args.seed, replace=args.replace,
                         files_dir=Path(args.files) if args.files else None, quiet=args.quiet)
    Console().print(summary)
    return EXIT_OK


def cmd_withdraw(args) -> int:
    from dashboard.db import writing
    from loaders.store import SubmissionNotFound, withdraw_submission

    engine = make_engine(args.db)
    init_db(engine)
    try:
        with writing(engine) as conn:
            outcome = withdraw_submission(conn, args.submission_id, actor=args.actor, reason=args.reason)
    except SubmissionNotFound as exc:
        raise UsageError(str(exc)) from exc
    if not outcome["changed"]:
        Console().print(f"Submission {args.submission_id} was already withdrawn; nothing changed.")
    else:
        back = outcome["reinstated"]
        Console().print(f"Withdrew submission {args.submission_id}; it no longer counts in any view."
                        + (f" Reinstated the submission(s) it had superseded: {back}." if back else "")
                        + " Ingest the same file again to restore it.")
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
    p.add_argument("--partner", help="partner name, when the file does not say")
    p.add_argument("--prime", help="prime name, when the file does not say")
    p.add_argument("--cpa", type=int, choices=range(1, 19), metavar="N", help="CPA number 1-18")
    p.add_argument("--period", help="reporting month YYYY-MM, when the file does not say")
    p.add_argument("--register-partner", action="store_true", help="register an unknown partner name")
    p.add_argument("--sector", choices=SECTORS, default="unknown", help="sector of a newly registered partner")
    p.add_argument("--tier", choices=TIERS, default="unknown", help="tier of a newly registered partner")
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    p.add_argument("--report", metavar="FILE", help="write every problem to FILE.json or FILE.csv")
    p.add_argument("--actor", help="who is loading (recorded in the audit log)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = with_db(sub.add_parser("withdraw", help="withdraw a submission from every view (kept as history)"))
    p.add_argument("submission_id", type=int, metavar="SUBMISSION_ID")
    p.add_argument("--reason", help="why (recorded in the audit log)")
    p.add_argument("--actor", help="who is withdrawing it (recorded in the audit log)")
    p.set_defaults(func=cmd_withdraw)

    p = sub.add_parser("template", help="write the standard MI template workbook")
    p.add_argument("out", metavar="OUT.xlsx")
    for flag in ("--partner", "--prime", "--period"):
        p.add_argument(flag, help=f"pre-fill the header block's {flag[2:]}")
    p.add_argument("--cpa", type=int, choices=range(1, 19), metavar="N")
    p.set_defaults(func=cmd_template)

    p = with_db(sub.add_parser("demo", help="build a synthetic demo programme through the real loader"))
    p.add_argument("--scale", choices=("tiny", "small", "programme"), default="small",
                   help="tiny (tests, seconds), small (about a minute, what `make run` builds) or programme (1.8m)")
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
        console.print(f"[red]wpmi: {exc}[/]")
        return EXIT_USAGE
    except WpmiError as exc:
        console.print(f"[red]wpmi: {exc}[/]")
        return EXIT_REJECTED


if __name__ == "__main__":
    sys.exit(main())
