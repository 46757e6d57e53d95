"""Steady state: one partner sends a cumulative caseload every month; how does each ingest grow with the history?

`python -m bench.steady [--months 24] [--new-per-month 600]`. Every month's file restates all the partner's
participants so far plus the month's new referrals, and each month is its own reporting period, so every file
stays current and the summaries rank the participant rows of all of them (latest row wins). The file grows
linearly; the rows the summary refresh reads grow with the sum of all files. Prints, per month, the file size,
the rows in current submissions, the ingest time and the time per 1,000 file rows, then the last month's file
ingested into an empty database: the ratio is what the history costs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from dashboard.fields import PARTICIPANTS

PARTNER, PRIME, CPA = "Steady State Partner (synthetic)", "Ingeus", 5


def month_file(folder: Path, month: int, new_per_month: int) -> tuple[Path, int]:
    """The cumulative caseload for month `month` (0-based, from July 2012): every participant referred so far."""
    first = date(2012, 7, 1)
    period = (pd.Timestamp(first) + pd.DateOffset(months=month)).date()
    rows = []
    for m in range(month + 1):
        start = (pd.Timestamp(first) + pd.DateOffset(months=m)).date()
        for i in range(new_per_month):
            referral = start + timedelta(days=i % 27)
            rows.append(
                {
                    "participant_ref": f"S{m:02d}{i:05d}",
                    "payment_group": ("PG1", "PG2", "PG6")[i % 3],
                    "referral_date": referral,
                    "attachment_date": referral + timedelta(days=1),
                }
            )
    frame = pd.DataFrame(rows).reindex(columns=[f.name for f in PARTICIPANTS.fields])
    from loaders.demo.writers import write_standard

    header = {"partner": PARTNER, "prime": PRIME, "cpa": CPA, "period": period}
    return write_standard(folder / f"steady_{month + 1:02d}.xlsx", header, frame), len(frame)


def _ingestor(url: str):
    from dashboard.db import make_engine, writing
    from dashboard.reference import init_db
    from loaders.organisation import register_partner
    from loaders.pipeline import Ingestor

    engine = make_engine(url)
    init_db(engine)
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    return Ingestor(engine)


def _timed_ingest(ingestor, path: Path) -> float:
    from loaders.pipeline import LOADED

    started = time.perf_counter()
    result = ingestor.ingest(path)
    seconds = time.perf_counter() - started
    if result.status != LOADED:
        raise RuntimeError(f"{path.name}: {result.status}: {[p.message for p in result.errors[:3]]}")
    return seconds


def measure(months: int, new_per_month: int, log=print) -> tuple[list[dict], float]:
    """Per month: file rows, rows in current submissions, ingest seconds; and the last file's ingest time into
    an empty database (the same file without the history)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="wpmi-steady-") as tmp:
        ingestor = _ingestor(f"sqlite:///{tmp}/steady.sqlite")
        history = 0
        for month in range(months):
            path, rows = month_file(Path(tmp), month, new_per_month)
            seconds = _timed_ingest(ingestor, path)
            history += rows
            out.append(
                {
                    "month": month + 1,
                    "file_rows": rows,
                    "current_rows": history,
                    "seconds": seconds,
                    "ms_per_1000_rows": 1000 * seconds / rows * 1000,
                }
            )
            log(
                f"month {month + 1:3d}: file {rows:7,} rows, rows in current submissions {history:9,}, "
                f"ingest {seconds:5.2f} s, {out[-1]['ms_per_1000_rows']:5.1f} ms per 1,000 file rows"
            )
        alone = min(_timed_ingest(_ingestor(f"sqlite:///{tmp}/alone_{run}.sqlite"), path) for run in range(3))
    return out, alone


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.steady", description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--new-per-month", type=int, default=600)
    args = parser.parse_args(argv)
    rows, alone = measure(args.months, args.new_per_month)
    last = rows[-1]
    print(
        f"month {last['month']}'s file into an empty database: {alone:.2f} s; with the history "
        f"({last['current_rows']:,} rows in current submissions): {last['seconds']:.2f} s, "
        f"{last['seconds'] / alone:.2f}x (1.0 = no cost from the history)"
    )


if __name__ == "__main__":
    main()
