"""Ingest throughput of one participant-level file: a bare read (floor), a naive pandas load, and wpmi.

The same file, the same run, each way repeated. wpmi is timed on `Ingestor.ingest` alone (read, detect,
map, validate, write and the summary refresh) into a fresh SQLite database; the floor is only turning the
file into Python values, so wpmi / floor says what everything after the read costs; the naive load
(pandas + `to_sql`, no validation at all) says what a hand-rolled loader would cost.
"""

from __future__ import annotations

import csv
import gc
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import python_calamine as calamine
from sqlalchemy import create_engine, text

from bench.stats import stopwatch, summarise

STANDARD_FILE = re.compile(r"^CPA.*_\d{3}\.xlsx$")  # the standard template's main return, not drafts/profiles
SHEET = "Participants"


@dataclass
class Sender:
    """Who sent a file, as the demo database recorded it (to register and name it in a fresh database)."""

    partner: str
    prime: str
    cpa: int
    period: str  # YYYY-MM
    sector: str
    tier: str


def sender_of(url: str, file_name: str) -> Sender:
    """The sender of a demo file, from the submission that loaded it."""
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text("""SELECT pa.partner_name, pr.prime_name, k.cpa_code, s.period, pa.sector, pa.tier
            FROM submission s JOIN partner pa ON pa.partner_id = s.partner_id
            JOIN contract k ON k.contract_id = s.contract_id JOIN prime pr ON pr.prime_id = k.prime_id
            WHERE s.file_name = :name"""),
            {"name": file_name},
        ).first()
    engine.dispose()
    if row is None:
        raise LookupError(f"{file_name} is not a submission in {url}; rebuild the cache (delete bench/.cache/).")
    return Sender(row[0], row[1], int(row[2]), str(row[3])[:7], row[4], row[5])


def _data_rows(rows: list[list]) -> int:
    return sum(1 for r in rows[1:] if any(v not in ("", None) for v in r))


def largest_participant_file(url: str, files_dir: Path) -> tuple[Path, int]:
    """The standard-template participant file (CPA..._NNN.xlsx) with the most Participants rows.

    The demo database already counted every file's rows at ingest, so no workbook has to be opened to choose.
    """
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT file_name, rows_participants FROM submission WHERE rows_participants > 0 "
                "ORDER BY rows_participants DESC"
            )
        ).all()
    engine.dispose()
    for name, n in rows:
        path = files_dir / name
        if (
            STANDARD_FILE.match(name)
            and path.exists()
            and SHEET in calamine.CalamineWorkbook.from_path(str(path)).sheet_names
        ):
            return path, int(n)
    raise FileNotFoundError(f"no standard-template participant file (CPA..._NNN.xlsx) in {files_dir}")


def largest_file(files_dir: Path) -> Path:
    """The biggest MI file by bytes, of any layout (what peak memory is measured on)."""
    return max(
        (p for p in files_dir.iterdir() if p.suffix in (".xlsx", ".csv") and not p.name.startswith("bad_")),
        key=lambda p: p.stat().st_size,
    )


def participants_csv(xlsx: Path, out: Path) -> Path:
    """The same participant rows as a bare CSV, in the demo's CSV layout (written by the demo's writer)."""
    from dashboard.fields import PARTICIPANTS
    from loaders.demo.writers import write_csv

    rows = calamine.CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name(SHEET).to_python()
    names = [f.name for f in PARTICIPANTS.fields]
    header = [str(h) for h in rows[0]]
    if header[: len(names)] != names:
        raise ValueError(f"{xlsx.name}: Participants header {header} is not the template's {names}")
    body = [[None if v == "" else v for v in r[: len(names)]] for r in rows[1:] if any(v not in ("", None) for v in r)]
    return write_csv(out, pd.DataFrame(body, columns=names), "utf-8")


@contextmanager
def clean_stopwatch(times: list[float]):
    """A stopwatch that starts from a clean heap: one untimed full collection first, so no way pays for the
    garbage of the way timed before it (all are treated alike; timeit goes further and turns collection off)."""
    gc.collect()
    with stopwatch(times):
        yield


def _floor(path: Path) -> int:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return len(list(csv.reader(fh)))
    return len(calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET).to_python())


def _store_floor(path: Path, url: str) -> int:
    """The floor, plus storing the rows: one `executemany` into a bare SQLite table (no types, no index), with
    date cells written as ISO text as any store must. What any loader that keeps the rows pays at least."""
    import sqlite3

    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    else:
        rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET).to_python()
    width = len(rows[0])
    body = [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row) for row in rows[1:]]
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute(f"CREATE TABLE rows ({', '.join(f'c{i}' for i in range(width))})")
    with conn:
        conn.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * width)})", body)
    conn.close()
    return len(body)


def _floor_all_sheets(path: Path) -> int:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)


def _naive(path: Path, url: str) -> int:
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_excel(path, sheet_name=SHEET, engine="openpyxl")
    engine = create_engine(url)
    frame.to_sql("participant_naive", engine, index=False)
    engine.dispose()
    return len(frame)


def fresh_wpmi_db(url: str, sender: Sender, *, register: bool):
    """A new wpmi database with the reference data (and the sender registered, for a file that names it)."""
    from dashboard.db import make_engine, writing
    from dashboard.reference import init_db
    from loaders.organisation import register_partner

    engine = make_engine(url)
    init_db(engine)
    if register:
        with writing(engine) as conn:
            register_partner(conn, sender.partner, sender.sector, sender.tier)
    return engine


def ingest_options(path: Path, sender: Sender):
    """What `wpmi ingest` would be told: nothing for a workbook that names its sender; the sender for a CSV."""
    from loaders.pipeline import IngestOptions

    if path.suffix == ".csv":
        return IngestOptions(
            partner=sender.partner,
            prime=sender.prime,
            cpa=sender.cpa,
            period=sender.period,
            register_partner=True,
            sector=sender.sector,
            tier=sender.tier,
            actor="bench",
        )
    return IngestOptions(actor="bench")


def _wpmi(path: Path, sender: Sender, url: str, times: list[float]) -> dict:
    from loaders.pipeline import LOADED, Ingestor

    engine = fresh_wpmi_db(url, sender, register=path.suffix != ".csv")
    ingestor = Ingestor(engine)
    options = ingest_options(path, sender)
    with clean_stopwatch(times):
        result = ingestor.ingest(path, options)
    engine.dispose()
    if result.status != LOADED:
        raise RuntimeError(
            f"{path.name}: wpmi ingest returned {result.status}: " + "; ".join(p.message for p in result.errors[:3])
        )
    return result.rows


# Where an ingest spends its time: (module file, function) -> label, read from one cProfile'd run.
STAGES = {
    ("loaders/sandbox.py", "read_untrusted"): "read (in the worker process, with the hand-over)",
    ("loaders/privacy.py", "find_personal_values"): "personal-data scan",
    ("loaders/layouts.py", "detect_layout"): "detect layout + map",
    ("loaders/validation.py", "type_sheet"): "type cells",
    ("loaders/validation.py", "check_sheet"): "check rows",
    ("loaders/store.py", "fact_columns"): "build fact columns",
    ("dashboard/bulk.py", "bulk_insert"): "insert rows",
    ("dashboard/summaries.py", "refresh_summaries"): "refresh summaries (all)",
    ("dashboard/summaries.py", "_refresh_compliance"): "  of which compliance",
    ("dashboard/summaries.py", "journeys"): "  of which reading the partner back",
    ("loaders/pipeline.py", "ingest"): "total",
}


def profile_wpmi(path: Path, sender: Sender, url: str) -> dict[str, float]:
    """Cumulative seconds per ingest stage, from one run under cProfile (which slows it somewhat)."""
    import cProfile
    import pstats

    from loaders.pipeline import Ingestor

    engine = fresh_wpmi_db(url, sender, register=path.suffix != ".csv")
    ingestor = Ingestor(engine)
    profiler = cProfile.Profile()
    profiler.runcall(ingestor.ingest, path, ingest_options(path, sender))
    engine.dispose()
    found: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, _tt, cumulative, _callers) in pstats.Stats(profiler).stats.items():
        label = STAGES.get(("/".join(Path(filename).parts[-2:]), func))
        if label:
            found[label] = found.get(label, 0.0) + cumulative
    return {label: round(found[label], 3) for label in STAGES.values() if label in found}


def measure_format(path: Path, sender: Sender, rows: int, runs: int, log=print) -> dict:
    """Floor, naive and wpmi timings for one file, interleaved run by run so drift hits all three alike."""
    floor, floor_all, store_floor, naive, wpmi = [], [], [], [], []
    loaded = {}
    with tempfile.TemporaryDirectory(prefix="wpmi-bench-") as tmp:
        for run in range(runs):
            with clean_stopwatch(floor):
                _floor(path)
            if path.suffix != ".csv":
                with clean_stopwatch(floor_all):
                    _floor_all_sheets(path)
            with clean_stopwatch(store_floor):
                _store_floor(path, f"sqlite:///{tmp}/store_floor_{run}.sqlite")
            with clean_stopwatch(naive):
                _naive(path, f"sqlite:///{tmp}/naive_{run}.sqlite")
            loaded = _wpmi(path, sender, f"sqlite:///{tmp}/wpmi_{run}.sqlite", wpmi)
            log(
                f"  {path.suffix[1:]} run {run + 1}/{runs}: floor {floor[-1]:.2f} s, read + store floor "
                f"{store_floor[-1]:.2f} s, naive {naive[-1]:.2f} s, "
                f"wpmi {wpmi[-1]:.2f} s"
            )
        stages = profile_wpmi(path, sender, f"sqlite:///{tmp}/profile.sqlite")
    log(
        f"  {path.suffix[1:]} wpmi stages (cProfile, one run): "
        + ", ".join(f"{k.strip()} {v:.2f} s" for k, v in stages.items())
    )
    out = {
        "file": path.name,
        "stages": stages,
        "bytes": path.stat().st_size,
        "rows": rows,
        "wpmi_rows_loaded": loaded,
        "floor": summarise(floor),
        "store_floor": summarise(store_floor),
        "naive": summarise(naive),
        "wpmi": summarise(wpmi),
    }
    if floor_all:
        out["floor_all_sheets"] = summarise(floor_all)
    for way in ("floor", "naive", "wpmi"):
        out[way]["rows_per_second"] = rows / out[way]["median"]
    out["wpmi_over_floor"] = out["wpmi"]["median"] / out["floor"]["median"]
    out["store_floor_over_floor"] = out["store_floor"]["median"] / out["floor"]["median"]
    out["wpmi_over_store_floor"] = out["wpmi"]["median"] / out["store_floor"]["median"]
    out["naive_over_wpmi"] = out["naive"]["median"] / out["wpmi"]["median"]
    return out


def measure_throughput(build, runs: int, workdir: Path, log=print) -> dict:
    """Throughput for the largest standard participant file, as .xlsx and as the same rows in a .csv."""
    xlsx, rows = largest_participant_file(build.url, build.files_dir)
    sender = sender_of(build.url, xlsx.name)
    book = calamine.CalamineWorkbook.from_path(str(xlsx))
    sheets = {name: _data_rows(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names}
    log(
        f"throughput file: {xlsx.name} ({xlsx.stat().st_size / 2**20:.1f} MiB, {rows:,} participant rows; "
        f"sheets {sheets})"
    )
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = participants_csv(xlsx, workdir / (xlsx.stem + "_participants.csv"))
    return {
        "xlsx": {**measure_format(xlsx, sender, rows, runs, log), "sheets": sheets},
        "csv": measure_format(csv_path, sender, rows, runs, log),
    }
