"""`python -m bench`: the programme-scale benchmark, end to end (see bench/__init__.py and docs/performance.md)."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version

from bench import CACHE, ROOT

DOC = ROOT / "docs" / "performance.md"
RAW = CACHE / "results.json"
PG_RAW = CACHE / "results_postgres.json"


def machine() -> dict:
    import duckdb

    with open("/proc/meminfo") as fh:
        mem_kib = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": mem_kib / 2**20,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "duckdb": duckdb.__version__,
        "streamlit": version("streamlit"),
        "pandas": version("pandas"),
        "python_calamine": version("python-calamine"),
        "load_average_start": os.getloadavg(),
    }


def code_version() -> str:
    """The commit measured, marked '+changes' when the working tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        return "unknown"
    return (commit or "unknown") + (" +changes" if dirty else "")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scale",
        choices=["auto", "programme", "half"],
        default="auto",
        help="programme: 1.8M vs 900k journeys; half: 900k vs 450k; auto (default): programme "
        "unless building it would overrun --build-budget",
    )
    parser.add_argument(
        "--build-budget",
        type=float,
        default=1200,
        help="seconds the two demo builds may take together before auto scales down (1200)",
    )
    parser.add_argument("--ingest-runs", type=int, default=5, help="repetitions per way and format (5)")
    parser.add_argument("--query-calls", type=int, default=20, help="calls per query function (20)")
    parser.add_argument("--page-runs", type=int, default=3, help="renders per page (3)")
    parser.add_argument(
        "--startup-runs", type=int, default=15, help="fresh processes per command for the start-up times (15)"
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["throughput", "memory", "sandbox", "queries", "duckdb", "pages", "growth", "steady", "startup"],
        help="leave a part out (repeatable; for trying the bench itself)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: print the table and rewrite docs/performance.md from the last results",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also measure on a throwaway PostgreSQL server (bench/pg.py): ingest throughput and "
        "query latency; kept in bench/.cache/results_postgres.json and docs/performance.md",
    )
    parser.add_argument(
        "--postgres-only",
        action="store_true",
        help="measure only PostgreSQL (implies --postgres); the SQLite section of "
        "docs/performance.md is regenerated unchanged from bench/.cache/results.json",
    )
    parser.add_argument(
        "--postgres-scale",
        default="small",
        help="comma-separated demo scales to build into PostgreSQL, in order: small (~54k "
        "journeys, about 1 min), quarter (450k), half (900k), programme (1.8M); default small",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    command = "make bench" if os.environ.get("MAKELEVEL") else shlex.join(["python", "-m", "bench", *sys.argv[1:]])

    def log(message: str) -> None:
        elapsed = time.perf_counter() - started
        print(f"[{int(elapsed // 60):02d}:{int(elapsed % 60):02d}] {message}", flush=True)

    if args.postgres or args.postgres_only:
        from bench import pg, report

        scales = [s.strip() for s in args.postgres_scale.split(",") if s.strip()]
        unknown = [s for s in scales if s not in pg.SCALES]
        if unknown or not scales:
            raise SystemExit(f"--postgres-scale: unknown scale(s) {unknown}; choose from {', '.join(pg.SCALES)}")
        CACHE.mkdir(parents=True, exist_ok=True)
        log(
            f"PostgreSQL: measuring at {', '.join(scales)} ({args.ingest_runs} ingest runs per format, "
            f"{args.query_calls} calls per query function)"
        )
        pg_results = pg.measure(scales, args.ingest_runs, args.query_calls, log=log)
        pg_results.update(
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            command=command,
            code=code_version(),
            arguments=vars(args),
        )
        PG_RAW.write_text(json.dumps(pg_results, indent=2, default=str))
        sqlite_results = json.loads(RAW.read_text()) if RAW.exists() else None
        report.print_postgres(pg_results, sqlite_results)
        log(f"wrote {PG_RAW.relative_to(ROOT)}")
        if args.postgres_only:
            if not args.no_docs and sqlite_results:
                figs = report.figures(sqlite_results)
                report.write_outputs(sqlite_results, figs, DOC, RAW, PG_RAW)
                log(f"wrote {DOC.relative_to(ROOT)} (SQLite section regenerated unchanged from {RAW.name})")
            log(f"done in {(time.perf_counter() - started) / 60:.1f} min")
            return 0

    if args.report_only:
        from bench import report

        results = json.loads(RAW.read_text())
        figs = report.figures(results)
        report.print_table(figs)
        report.write_outputs(
            results | {"figures": [vars(f) | {"status": f.status} for f in figs]}, figs, DOC, RAW, PG_RAW
        )
        return 0

    from bench import builds, duck, ingest, ingest_one, pages, queries, report, sandbox, startup, steady

    CACHE.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "code": code_version(),
        "machine": machine(),
        "arguments": vars(args),
    }
    log(f"wpmi benchmark on {results['machine']['nproc']} CPUs, Python {results['machine']['python']}")
    load = os.getloadavg()[0]
    if load > 0.5 * results["machine"]["nproc"]:
        log(f"WARNING: load average {load:.1f} before starting: other work on this machine will slow the figures")

    log("step 0: the demo builds")
    full, half, note = builds.plan_scales(args.scale, args.build_budget, log=log)
    results["scale_note"] = note
    results["builds"] = {
        key: {k: str(v) if k in ("path", "files_dir") else v for k, v in vars(b).items()}
        for key, b in (("full", full), ("half", half))
    }
    log(f"measuring at: {note}")
    work = CACHE / "work"

    if "throughput" not in args.skip:
        log(f"step 1: ingest throughput ({args.ingest_runs} runs per way and format)")
        results["throughput"] = ingest.measure_throughput(full, args.ingest_runs, work, log=log)
    if "memory" not in args.skip:
        log("step 2: peak memory of one ingest")
        results["memory"] = ingest_one.measure_memory(full, work, log=log)
    if "sandbox" not in args.skip:
        log("step 2b: what reading in the limited worker process adds, per file and over the whole build")
        results["sandbox"] = sandbox.measure(full.files_dir, args.ingest_runs, log=log)
    results["queries"] = {}
    if "queries" not in args.skip:
        log(f"step 3: query latency at {full.participants:,} journeys ({args.query_calls} calls per function)")
        results["queries"]["full"] = queries.measure_queries(full.url, args.query_calls, log=log)
    if "duckdb" not in args.skip:
        log("step 3b: the DuckDB reference over the raw rows")
        results["duckdb"] = duck.measure_reference(full, args.query_calls, log=log)
    if "pages" not in args.skip:
        log(f"step 4: page render times ({args.page_runs} cold-cache runs per page)")
        results["pages"] = pages.measure_pages(full.url, args.page_runs, log=log)
    if "growth" not in args.skip:
        log(f"step 5: growth, {half.participants:,} -> {full.participants:,} journeys")
        growth = {
            "ingest_exponent": math.log(full.ingest_seconds / half.ingest_seconds)
            / math.log(full.participants / half.participants)
        }
        if "full" in results["queries"]:
            results["queries"]["half"] = queries.measure_queries(half.url, args.query_calls, log=log)
            ratios = {
                name: s["p95"] / results["queries"]["half"]["functions"][name]["p95"]
                for name, s in results["queries"]["full"]["functions"].items()
            }
            growth["query_p95_ratio"] = ratios
            growth["query_p95_ratio_median"] = sorted(ratios.values())[len(ratios) // 2]
        results["growth"] = growth
    if "steady" not in args.skip:
        log("step 6: steady state, one partner's cumulative caseload every month for two years")
        months, alone = steady.measure(24, 600, log=log)
        results["steady"] = {"months": months, "last_alone_seconds": alone}
    if "startup" not in args.skip:
        log(
            f"step 7: start-up, `wpmi --help` and `wpmi ingest` of one small file against `python -c pass` "
            f"({args.startup_runs} fresh processes each)"
        )
        results["startup"] = startup.measure(args.startup_runs, log=log)

    results["wall_seconds"] = time.perf_counter() - started
    results["machine"]["load_average_end"] = os.getloadavg()
    figs = report.figures(results)
    report.print_table(figs)
    results["figures"] = [vars(f) | {"status": f.status} for f in figs]
    if args.no_docs:
        RAW.write_text(json.dumps(results, indent=2, default=str))
    else:
        report.write_outputs(results, figs, DOC, RAW, PG_RAW)
        log(f"wrote {DOC.relative_to(ROOT)} and {RAW.relative_to(ROOT)}")
    log(f"done in {results['wall_seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
