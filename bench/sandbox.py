"""What reading in the limited worker process costs (loaders/sandbox.py), against reading in this process.

Both ways in the same run, on the same files: `loaders.readers.read_file` here (what wpmi did before) and
`loaders.sandbox.read_untrusted` (the bytes handed to the warm child, read there, and the cells handed back).
Per file: the largest and the smallest participant file, several runs each. Whole demo: every file of the
build read once each way, so the difference is what the worker adds to the whole-demo ingest (the stages
after the read are the same either way).

`python -m bench.sandbox [FILES_DIR]` runs it alone (default: the cached programme-scale build's files).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from bench.stats import summarise
from loaders import sandbox
from loaders.errors import UnreadableFile
from loaders.readers import READABLE_SUFFIXES, read_file


def _seconds(read, path: Path) -> float:
    start = time.perf_counter()
    with contextlib.suppress(UnreadableFile):  # a draft the demo writes to be rejected: read all the same
        read(path)
    return time.perf_counter() - start


def measure(files_dir: Path, runs: int = 5, log=print) -> dict:
    files = sorted(p for p in files_dir.rglob("*") if p.suffix.lower() in READABLE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no MI files under {files_dir}: build the demo first (python -m bench)")
    sizes = {p: p.stat().st_size for p in files}
    largest, smallest = max(files, key=sizes.get), min(files, key=sizes.get)
    sandbox.read_untrusted(smallest)  # start the worker: its start-up is paid once per process, not per file
    per_file = {}
    for label, path in (("largest", largest), ("smallest", smallest)):
        here = [_seconds(read_file, path) for _ in range(runs)]
        worker = [_seconds(sandbox.read_untrusted, path) for _ in range(runs)]
        per_file[label] = {
            "file": path.name,
            "bytes": sizes[path],
            "in_process": summarise(here),
            "worker": summarise(worker),
        }
        log(
            f"  {label} file {path.name} ({sizes[path] / 1024:,.0f} KB): in process median "
            f"{per_file[label]['in_process']['median'] * 1000:,.1f} ms, worker "
            f"{per_file[label]['worker']['median'] * 1000:,.1f} ms"
        )
    whole = {"files": len(files), "bytes": sum(sizes.values())}
    for way, read in (("in_process", read_file), ("worker", sandbox.read_untrusted)):
        start = time.perf_counter()
        for path in files:
            _seconds(read, path)
        whole[way] = time.perf_counter() - start
    whole["added_seconds"] = whole["worker"] - whole["in_process"]
    log(
        f"  every file of the build ({len(files):,}): in process {whole['in_process']:,.1f} s, worker "
        f"{whole['worker']:,.1f} s (+{whole['added_seconds']:,.1f} s)"
    )
    return {"per_file": per_file, "whole": whole, "runs": runs}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        folder = Path(sys.argv[1])
    else:
        from bench import builds

        folder = builds.ensure_build("programme").files_dir
    measure(folder)
