"""Build the synthetic programme at the scales the benchmark needs, once, and cache it in bench/.cache/.

`wpmi demo` knows three scales; the benchmark adds its own ("half", "quarter") by setting the generator's
size tables at run time, so the demo code is measured exactly as shipped.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import CACHE

SEED = 2011
# name -> (participants, partners, planted better and as many worse); "programme" is the demo's own.
SCALES = {
    "programme": (1_800_000, 350, 8),
    "half": (900_000, 350, 8),
    "quarter": (450_000, 350, 8),
}


@dataclass
class Build:
    """One cached demo database and the files it was ingested from."""

    name: str
    url: str
    path: Path
    files_dir: Path
    participants: int  # journeys that landed at participant level (the generator's truth)
    target: int  # journeys the scale asked for (including aggregate-only partners')
    ingest_seconds: float
    build_seconds: float
    reused: bool


def _cached_truths(path: Path) -> dict | None:
    if not path.exists():
        return None
    from dashboard.db import make_engine
    from loaders.demo.build import demo_truths

    engine = make_engine(f"sqlite:///{path}")
    try:
        return demo_truths(engine)
    except Exception:  # a half-written database (an interrupted build): rebuild it
        return None
    finally:
        engine.dispose()


def _set_scale(name: str) -> None:
    from loaders.demo import journeys, world

    participants, partners, planted = SCALES[name]
    journeys.PARTICIPANTS[name] = participants
    world.PARTNERS[name] = partners
    world.PLANTED[name] = planted


def _watch(path: Path, files_dir: Path, stop: threading.Event, log, every: float = 60.0) -> None:
    """Log a build's progress every minute: files written, then submissions and rows ingested."""
    started = time.perf_counter()
    while not stop.wait(every):
        files = sum(1 for _ in files_dir.iterdir()) if files_dir.is_dir() else 0
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            loaded, rows = con.execute(
                "SELECT COUNT(*), COALESCE(SUM(rows_participants), 0) FROM submission"
            ).fetchone()
            con.close()
        except sqlite3.Error:
            loaded, rows = 0, 0
        log(
            f"  ... {time.perf_counter() - started:.0f} s: {files} files written, {loaded} submissions "
            f"({rows:,} participant rows) ingested"
        )


def ensure_build(name: str, *, quiet: bool = False, log=print) -> Build:
    """The cached build for scale `name`, building it first when it is missing or incomplete."""
    from loaders.demo.build import build_demo

    path, files_dir = CACHE / f"{name}.sqlite", CACHE / f"files_{name}"
    truths = _cached_truths(path)
    reused = truths is not None and files_dir.is_dir()
    if not reused:
        _set_scale(name)
        participants = SCALES[name][0]
        log(f"building the {name} demo ({participants:,} journeys) into {path} ...")
        shutil.rmtree(files_dir, ignore_errors=True)  # stale files would confuse the choice of largest file
        started = time.perf_counter()
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(path, files_dir, stop, log), daemon=True)
        watcher.start()
        try:
            summary = build_demo(
                f"sqlite:///{path}", scale=name, seed=SEED, replace=True, files_dir=files_dir, quiet=quiet
            )
        finally:
            stop.set()
            watcher.join()
        log(f"  {summary}")
        log(f"  built in {time.perf_counter() - started:.0f} s")
        truths = _cached_truths(path)
    else:
        log(
            f"reusing the cached {name} demo: {path} (built in {truths['seconds']} s, "
            f"ingest {truths['ingest_seconds']} s)"
        )
    return Build(
        name=name,
        url=f"sqlite:///{path}",
        path=path,
        files_dir=files_dir,
        participants=sum(link["participants"] for link in truths["links"]),
        target=SCALES[name][0],
        ingest_seconds=float(truths["ingest_seconds"]),
        build_seconds=float(truths["seconds"]),
        reused=reused,
    )


def is_cached(name: str) -> bool:
    return (CACHE / f"files_{name}").is_dir() and _cached_truths(CACHE / f"{name}.sqlite") is not None


def plan_scales(requested: str, budget_seconds: float, *, quiet: bool = False, log=print) -> tuple[Build, Build, str]:
    """The (full, half) builds to measure, and a note on how the scale was chosen.

    `requested` "programme" forces 1.8M / 900k and "half" forces 900k / 450k. "auto" keeps the programme
    scale when it is cached or when building it fits `budget_seconds`: it builds the 900k programme first,
    extrapolates the 1.8M build linearly from it, and scales down to 900k / 450k if that would not fit.
    """
    if requested == "programme" or (requested == "auto" and is_cached("programme")):
        full = ensure_build("programme", quiet=quiet, log=log)
        half = ensure_build("half", quiet=quiet, log=log)
        return full, half, "programme scale (1.8M journeys) against half scale (900k)"
    if requested == "half":
        full = ensure_build("half", quiet=quiet, log=log)
        half = ensure_build("quarter", quiet=quiet, log=log)
        return full, half, "scaled down on request: 900k journeys against 450k"
    started = time.perf_counter()
    half = ensure_build("half", quiet=quiet, log=log)
    half_seconds = half.build_seconds if half.reused else time.perf_counter() - started
    estimate = 2.05 * half_seconds  # generation and ingest are both about linear in journeys
    spent = 0.0 if half.reused else half_seconds
    if spent + estimate <= budget_seconds:
        log(
            f"the 900k build took {half_seconds:.0f} s, so the 1.8M build should take about {estimate:.0f} s: "
            "within the build budget"
        )
        full = ensure_build("programme", quiet=quiet, log=log)
        return full, half, "programme scale (1.8M journeys) against half scale (900k)"
    log(
        f"the 900k build took {half_seconds:.0f} s, so the 1.8M build would take about {estimate:.0f} s, past "
        f"the {budget_seconds:.0f} s build budget: SCALING DOWN to 900k (full) against 450k (half)"
    )
    quarter = ensure_build("quarter", quiet=quiet, log=log)
    return (
        half,
        quarter,
        (
            f"SCALED DOWN: 900k journeys against 450k, because the 1.8M build was estimated at "
            f"{estimate:.0f} s (> {budget_seconds:.0f} s budget)"
        ),
    )
