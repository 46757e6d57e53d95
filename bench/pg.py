"""PostgreSQL figures: `python -m bench --postgres` (see docs/performance.md, section "PostgreSQL").

A throwaway PostgreSQL server (bench/pgserver.py's `start_server`: initdb + pg_ctl in a temporary directory,
run as the `postgres` user when root) is started, the demo is built into it at a scale that fits a short
run (default "small", about 50k participant journeys), and then, on PostgreSQL:

1. wpmi ingest throughput of one participant-level file, timed exactly as in bench/ingest.py (`Ingestor.ingest`
   alone, into a fresh database each run). The file is the SQLite step's own file (the largest standard
   participant file of the cached programme build) when that cache exists, so rows/s compare like for like;
   otherwise the largest such file of the PostgreSQL build.
2. query latency: bench/queries.py's functions and filters, median and p95.

The server is stopped and its directory removed at the end, even on errors. Results go to
bench/.cache/results_postgres.json, which bench/report.py appends to docs/performance.md on every run.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench import CACHE
from bench.pgserver import start_server

RAW = CACHE / "results_postgres.json"
SCALES = ("small", "quarter", "half", "programme")  # "small" is the demo's own; the others bench/builds.py's


@contextmanager
def server(log=print):
    """A running throwaway PostgreSQL server; stopped and its directory removed on exit, whatever happens."""

    def terminated(signum, frame):  # make `kill` (SIGTERM) unwind through the `finally` below too
        raise SystemExit(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, terminated)
    started = time.perf_counter()
    try:
        srv = start_server()
    except BaseException:
        signal.signal(signal.SIGTERM, previous)
        raise
    log(f"{srv.version} started on 127.0.0.1:{srv.port} in {srv.root} ({time.perf_counter() - started:.1f} s)")
    try:
        yield srv
    finally:
        srv.stop()
        signal.signal(signal.SIGTERM, previous)
        log(f"PostgreSQL server stopped; {srv.root} {'STILL EXISTS' if srv.root.exists() else 'removed'}")


def _settings(srv) -> dict:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=srv.port, user="postgres", dbname="postgres") as conn:
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('shared_buffers', "
            "'work_mem', 'fsync', 'synchronous_commit', 'full_page_writes', "
            "'max_parallel_workers_per_gather', 'effective_cache_size', 'jit')"
        ).fetchall()
    return dict(rows)


def _build(srv, scale: str, files_dir: Path, log=print) -> dict:
    from dashboard.db import make_engine
    from loaders.demo.build import build_demo, demo_truths

    if scale != "small":
        from bench.builds import _set_scale

        _set_scale(scale)
    url = srv.create_database("wpmi_bench_demo")
    log(f"building the {scale} demo (seed 2011) into PostgreSQL ...")
    started = time.perf_counter()
    summary = build_demo(url, scale=scale, seed=2011, quiet=True, files_dir=files_dir)
    seconds = time.perf_counter() - started
    log(f"  {summary}")
    log(f"  built in {seconds:.0f} s")
    engine = make_engine(url)
    truths = demo_truths(engine)
    engine.dispose()
    return {
        "url": url,
        "scale": scale,
        "build_seconds": seconds,
        "ingest_seconds": float(truths["ingest_seconds"]),
        "participants": sum(link["participants"] for link in truths["links"]),
    }


def _throughput_file(build_url: str, files_dir: Path, log=print):
    """(path, rows, sender, source): the SQLite step's file if its cache exists, else the PG build's largest."""
    from bench.ingest import largest_participant_file, sender_of

    sqlite_db, sqlite_files = CACHE / "programme.sqlite", CACHE / "files_programme"
    if sqlite_db.exists() and sqlite_files.is_dir():
        url = f"sqlite:///{sqlite_db}"
        path, rows = largest_participant_file(url, sqlite_files)
        return path, rows, sender_of(url, path.name), "the SQLite step's file (programme build)"
    path, rows = largest_participant_file(build_url, files_dir)
    return path, rows, sender_of(build_url, path.name), "the largest participant file of the PostgreSQL build"


def measure_ingest(srv, build: dict, files_dir: Path, runs: int, log=print) -> dict:
    """wpmi ingest of one participant file into a fresh PostgreSQL database per run, as .xlsx and as .csv."""
    from bench.ingest import _wpmi, participants_csv
    from bench.stats import summarise

    xlsx, rows, sender, source = _throughput_file(build["url"], files_dir, log)
    log(f"throughput file: {xlsx.name} ({xlsx.stat().st_size / 2**20:.1f} MiB, {rows:,} participant rows; {source})")
    work = CACHE / "work"
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / (xlsx.stem + "_participants.csv")
    if not csv_path.exists():
        csv_path = participants_csv(xlsx, csv_path)
    out = {}
    for path in (xlsx, csv_path):
        fmt = path.suffix[1:]
        times: list[float] = []
        loaded = {}
        for run in range(runs):
            url = srv.create_database("wpmi_bench_ingest")
            try:
                loaded = _wpmi(path, sender, url, times)
            finally:
                srv.drop_database(url)
            log(f"  {fmt} run {run + 1}/{runs}: wpmi {times[-1]:.2f} s")
        s = summarise(times)
        s["rows_per_second"] = rows / s["median"]
        out[fmt] = {
            "file": path.name,
            "source": source,
            "rows": rows,
            "bytes": path.stat().st_size,
            "wpmi_rows_loaded": loaded,
            "wpmi": s,
        }
        log(f"  {fmt}: {s['rows_per_second']:,.0f} rows/s (median {s['median']:.2f} s, p95 {s['p95']:.2f} s)")
    return out


def measure(scales: list[str], ingest_runs: int, query_calls: int, log=print) -> dict:
    """Every PostgreSQL figure; the server lives only inside this call.

    One server; each scale is built into its own database and its queries timed there. Ingest throughput
    does not depend on the database's size (each run ingests into a fresh one), so it is measured once.
    """
    from bench import queries

    started = time.perf_counter()
    result: dict = {"backend": "PostgreSQL", "scales": list(scales), "runs": []}
    with server(log) as srv:
        result["server"] = {"version": srv.version, "settings": _settings(srv)}
        for i, scale in enumerate(scales):
            files_dir = Path(tempfile.mkdtemp(prefix=f"wpmi-bench-pg-{scale}-"))
            try:
                build = _build(srv, scale, files_dir, log)
                if i == 0:
                    log(f"PostgreSQL ingest throughput ({ingest_runs} runs per format, fresh database each run)")
                    result["throughput"] = measure_ingest(srv, build, files_dir, ingest_runs, log)
            finally:
                shutil.rmtree(files_dir, ignore_errors=True)
            log(f"PostgreSQL query latency at {build['participants']:,} journeys ({query_calls} calls per function)")
            run = {
                "build": {k: v for k, v in build.items() if k != "url"},
                "queries": queries.measure_queries(build["url"], query_calls, log=log),
            }
            result["runs"].append(run)
            srv.drop_database(build["url"])  # free the disk before the next, larger build
    result["wall_seconds"] = time.perf_counter() - started
    return result
