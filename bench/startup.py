"""Start-up: how long a person at a terminal waits for `wpmi --help` and for `wpmi ingest` of one small file.

`python -m bench.startup [--runs 15]`. Every run is a fresh process, as a shell starts it. The baseline is a bare
`python -c pass` of the same interpreter, measured in the same run: the three commands take turns, so other work
on the machine slows them alike, and each median is also quoted as a multiple of the baseline's, which compares
across machines where seconds do not. The ingest loads a three-participant standard-template file into its own
copy of an initialised database (copied before the clock starts), so every run does the same work.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench import ROOT
from bench.stats import summarise

PARTNER, PRIME, CPA, PERIOD = "Start-up Partner (synthetic)", "Ingeus", 5, date(2013, 3, 1)
BASELINE, HELP, INGEST = "python -c pass", "wpmi --help", "wpmi ingest (one small file)"
PEOPLE = 3


def wpmi_command() -> list[str]:
    """The installed `wpmi` console script beside this interpreter, else `python -m loaders.cli`."""
    script = Path(sys.executable).with_name("wpmi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "loaders.cli"]


def small_file(folder: Path) -> Path:
    """A standard-template workbook with a few clean participant journeys."""
    import pandas as pd

    from dashboard.fields import PARTICIPANTS
    from loaders.demo.writers import write_standard

    people = pd.DataFrame(
        {
            "participant_ref": [f"U{i:05d}" for i in range(PEOPLE)],
            "payment_group": ["PG1", "PG2", "PG6"][:PEOPLE],
            "referral_date": [date(2013, 1, 2 + i) for i in range(PEOPLE)],
            "attachment_date": [date(2013, 1, 8 + i) for i in range(PEOPLE)],
        }
    )
    people = people.reindex(columns=[f.name for f in PARTICIPANTS.fields])
    header = {"partner": PARTNER, "prime": PRIME, "cpa": CPA, "period": PERIOD}
    return write_standard(folder / "startup.xlsx", header, people)


def initialised_db(path: Path) -> Path:
    """A SQLite database with the reference data loaded and the sender registered."""
    from dashboard.db import make_engine, writing
    from dashboard.reference import init_db
    from loaders.organisation import register_partner

    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    engine.dispose()
    return path


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return seconds


def measure(runs: int, log=print) -> dict:
    """Median and p95 seconds of each command over `runs` fresh processes, and each median over the baseline's."""
    wpmi = wpmi_command()
    timings: dict[str, list[float]] = {BASELINE: [], HELP: [], INGEST: []}
    with tempfile.TemporaryDirectory(prefix="wpmi-startup-") as tmp:
        folder = Path(tmp)
        path, template = small_file(folder), initialised_db(folder / "template.sqlite")
        commands = {
            BASELINE: [sys.executable, "-c", "pass"],
            HELP: [*wpmi, "--help"],
            INGEST: [*wpmi, "ingest", str(path), "--db", f"sqlite:///{folder / 'run.sqlite'}", "-q"],
        }
        _timed(commands[HELP])  # one untimed run of each wpmi command warms the file cache and byte-code
        shutil.copyfile(template, folder / "run.sqlite")
        _timed(commands[INGEST])
        for run in range(runs):
            for name, argv in commands.items():
                if name == INGEST:
                    shutil.copyfile(template, folder / "run.sqlite")  # untimed: every run loads into the same state
                timings[name].append(_timed(argv))
            log(
                f"run {run + 1:2d}/{runs}: "
                + ", ".join(f"{name} {t[-1] * 1000:,.0f} ms" for name, t in timings.items())
            )
    base = summarise(timings[BASELINE])["median"]
    out = {}
    for name, seconds in timings.items():
        s = summarise(seconds)
        shown = commands[name] if name == BASELINE else ["wpmi", *commands[name][len(wpmi) :]]
        out[name] = s | {"command": shlex.join(shown).replace(tmp, "$TMP"), "over_baseline": s["median"] / base}
    return {"runs": runs, "rows": PEOPLE, "baseline": BASELINE, "commands": out}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per command (15)")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    for name, s in result["commands"].items():
        print(
            f"{name:30s} median {s['median'] * 1000:7,.0f} ms, p95 {s['p95'] * 1000:7,.0f} ms, "
            f"{s['over_baseline']:5.1f}x the bare interpreter (n={s['n']})"
        )


if __name__ == "__main__":
    main()
