"""Ingest one file into a fresh database, in its own process, so the parent can read its peak memory.

python -m bench.ingest_one FILE --db URL --partner NAME --prime NAME --cpa N --period YYYY-MM
python -m bench.ingest_one --imports-only      # the baseline: wpmi imported, nothing ingested
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_one")
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--db")
    parser.add_argument("--partner")
    parser.add_argument("--prime")
    parser.add_argument("--cpa", type=int)
    parser.add_argument("--period")
    parser.add_argument("--sector", default="unknown")
    parser.add_argument("--tier", default="unknown")
    parser.add_argument("--imports-only", action="store_true")
    args = parser.parse_args(argv)

    from bench.ingest import Sender, fresh_wpmi_db, ingest_options
    from loaders.pipeline import LOADED, Ingestor  # noqa: F401  (the baseline imports what an ingest imports)

    if args.imports_only:
        print(json.dumps({"status": "imported", "vm_hwm_kib": _peak_rss_kib()}))
        return 0
    sender = Sender(args.partner, args.prime, args.cpa, args.period, args.sector, args.tier)
    engine = fresh_wpmi_db(args.db, sender, register=args.file.suffix != ".csv")
    started = time.perf_counter()
    result = Ingestor(engine).ingest(args.file, ingest_options(args.file, sender))
    print(
        json.dumps(
            {
                "status": result.status,
                "rows": result.rows,
                "seconds": time.perf_counter() - started,
                "vm_hwm_kib": _peak_rss_kib(),
            }
        )
    )
    return 0 if result.status == LOADED else 1


# Linux carries a process's peak RSS across fork and exec, so a child started straight from the (large)
# benchmark process would report the benchmark's own peak. A small launcher process starts the child
# instead and reads RUSAGE_CHILDREN once it has exited.
LAUNCHER = """import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr[-4000:],
                  "max_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _peak_rss_kib() -> int:
    """This process's own peak resident set (VmHWM), in KiB."""
    with open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith("VmHWM:")).split()[1])


def run_measured(args: list[str]) -> dict:
    """Run `python -m bench.ingest_one ARGS` in a fresh process and return its output and peak RSS (KiB)."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "bench.ingest_one", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(launched.stdout)
    if out["returncode"] != 0:
        raise RuntimeError(
            f"bench.ingest_one {' '.join(args)} failed ({out['returncode']}):\n{out['stdout']}\n{out['stderr']}"
        )
    return {"max_rss_kib": out["max_rss_kib"], **json.loads(out["stdout"].strip().splitlines()[-1])}


def measure_memory(build, workdir: Path, log=print) -> dict:
    """Peak RSS of a process that ingests the build's largest file, and of one that only imports wpmi."""
    from bench.ingest import largest_file, sender_of

    baseline = run_measured(["--imports-only"])
    path = largest_file(build.files_dir)
    sender = sender_of(build.url, path.name)
    db = workdir / "memory.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    log(f"  ingesting {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in a fresh process ...")
    ingest = run_measured(
        [
            str(path),
            "--db",
            f"sqlite:///{db}",
            "--partner",
            sender.partner,
            "--prime",
            sender.prime,
            "--cpa",
            str(sender.cpa),
            "--period",
            sender.period,
            "--sector",
            sender.sector,
            "--tier",
            sender.tier,
        ]
    )
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "rows": ingest["rows"],
        "rows_total": sum(ingest["rows"].values()),
        "seconds": ingest["seconds"],
        "baseline_kib": baseline["max_rss_kib"],
        "ingest_kib": ingest["max_rss_kib"],
        "baseline_vm_hwm_kib": baseline["vm_hwm_kib"],
        "ingest_vm_hwm_kib": ingest["vm_hwm_kib"],
    }


if __name__ == "__main__":
    sys.exit(main())
