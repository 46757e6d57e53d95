"""Every bad input in tests/hostile.py through the real loader: nothing lost, nobody let in.

Each file must be rejected (or land with the warnings its documented behaviour gives) with a message that
names the file, and the sheet, row and column where they apply; no exception may escape `ingest`; no file
may hang; and a rejected file must leave every table exactly as it was. The last test prints the figures.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import inspect, text

from loaders.limits import Limits
from loaders.pipeline import LOADED, REJECTED, IngestOptions, Ingestor, IngestResult
from loaders.readers import read_file
from tests.conftest import CPA, PARTNER, PRIME
from tests.hostile import CASES, Case, error_cells

OPTIONS = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03")
TIME_LIMIT = 20.0  # seconds per file: generous, to catch hangs; not a performance target
RESULTS: dict[str, tuple[Outcome, list[str]]] = {}  # case id -> what happened, and what was wrong


@dataclass
class Outcome:
    """What one bad input did to the loader and the database."""

    result: IngestResult | None
    crashed: str  # the exception that escaped `ingest`, if any
    partial_write: bool  # not loaded, yet some table changed
    seconds: float


def table_digests(engine, skip=("audit_log",)) -> dict[str, str]:
    """A checksum of every row of every table (the audit log records attempts by design, so it is skipped)."""
    with engine.connect() as conn:
        return {
            t: hashlib.sha256(
                repr(sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"')).all()), key=repr)).encode()
            ).hexdigest()
            for t in inspect(engine).get_table_names()
            if t not in skip
        }


def database_text(engine) -> str:
    """Every row of every table, the audit log included, as text: where personal data must never be."""
    with engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for t in inspect(engine).get_table_names()
            for row in conn.execute(text(f'SELECT * FROM "{t}"'))
        )


@contextmanager
def deadline(seconds: float):
    """Turn a hang into a failure instead of a stuck test run (SIGALRM; a no-op where there is none)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def hung(*_):
        raise TimeoutError(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(case: Case, workdir, engine, ingestor: Ingestor, monkeypatch) -> Outcome:
    """Build the case's file, ingest it under its limits, and record what happened."""
    with monkeypatch.context() as env:
        for name, value in case.env.items():
            env.setenv(name, value)
        path = case.build(workdir / case.file)
        before = table_digests(engine)
        start = time.perf_counter()
        try:
            with deadline(TIME_LIMIT * 3):
                result, crashed = ingestor.ingest(path, OPTIONS if case.options else None), ""
        except Exception as exc:  # exactly what this test exists to catch
            result, crashed = None, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
    loaded = result is not None and result.status == LOADED
    return Outcome(result, crashed, not loaded and table_digests(engine) != before, seconds)


def the_problem(case: Case, result: IngestResult):
    """The problem the case is about: the first one with its code."""
    return next((p for p in result.problems if p.code == case.code), None) if case.code else None


def failures(case: Case, outcome: Outcome, engine, logs: str) -> list[str]:
    """Everything about this outcome that breaks the promise: nothing lost, nobody let in."""
    if outcome.crashed:
        return [f"an exception escaped ingest: {outcome.crashed}"]
    found, result = [], outcome.result
    if outcome.seconds >= TIME_LIMIT:
        found.append(f"took {outcome.seconds:.1f} s")
    if outcome.partial_write:
        found.append("a file that did not load changed the database")
    if result.file != case.file or result.status != case.status:
        found.append(
            f"{result.file} {result.status}, expected {case.status}: {[(p.code, p.message) for p in result.problems]}"
        )
    problem = the_problem(case, result)
    if case.code and problem is None:
        found.append(f"no {case.code} in {[(p.code, p.message) for p in result.problems]}")
    elif problem is not None:
        if not problem.message.startswith(case.message) or case.contains not in problem.message:
            found.append(f"message {problem.message!r}, expected {case.message!r}...{case.contains!r}")
        if problem.file != case.file or (
            problem.code == "UnreadableFile" and not problem.message.startswith(f"{case.file}: ")
        ):
            found.append(f"the message does not name {case.file}: {problem}")
        if case.where and (problem.sheet, problem.row, problem.column) != case.where:
            found.append(f"points at {(problem.sheet, problem.row, problem.column)}, expected {case.where}")
        if case.status == REJECTED and problem.severity != "error":
            found.append(f"{problem.code} is a {problem.severity}, not an error")
    report, dump = repr(result.as_dict()), database_text(engine)
    found += [f"{value!r} leaked" for value in case.planted if value in report or value in logs or value in dump]
    mine = {"id": result.submission_id}
    with engine.connect() as conn:
        for table, column, value in case.stored:
            stored = conn.execute(text(f"SELECT {column} FROM {table} WHERE submission_id = :id"), mine).scalars().all()
            if value not in stored:
                found.append(f"{value!r} not stored exactly in {table}.{column}: {stored}")
        if case.rows is not None:
            landed = conn.execute(text("SELECT COUNT(*) FROM participant WHERE submission_id = :id"), mine).scalar()
            if landed != case.rows:
                found.append(f"{landed} participant rows landed, expected {case.rows}")
    return found


PARAMS = [
    pytest.param(
        case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=f"known gap: {case.gap}")] if case.gap else []
    )
    for case in CASES
]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_is_rejected_cleanly_or_lands_as_documented(case, tmp_path, engine, ingestor, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    outcome = run_case(case, tmp_path, engine, ingestor, monkeypatch)
    found = failures(case, outcome, engine, caplog.text)
    RESULTS[case.id] = outcome, found
    assert not found, "\n".join(found)


def test_limits_have_defaults_and_come_from_the_environment():
    assert Limits.from_env({}) == Limits(
        max_file_mb=100,
        max_decompressed_mb=200,
        max_rows=2_000_000,
        max_columns=200,
        max_cells=30_000_000,
        max_cell_chars=32_767,
    )
    assert Limits.from_env({"WPMI_MAX_ROWS": "50", "WPMI_MAX_DECOMPRESSED_MB": "0.5"}).max_decompressed_bytes == 524_288
    with pytest.raises(ValueError, match="WPMI_MAX_ROWS must be a number above 0"):
        Limits.from_env({"WPMI_MAX_ROWS": "lots"})


def test_error_cells_are_read_as_their_error_text_not_as_blanks(tmp_path):
    """calamine returns a formula error (#REF!, #DIV/0!) as an empty cell; the reader puts the text back, so the
    validators report the cell instead of taking it for a blank."""
    book = read_file(error_cells(tmp_path / "e.xlsx", "date"))
    assert book.sheets[0].rows[2][2] == "#REF!"


def test_hostile_corpus_summary(tmp_path_factory, db_url, monkeypatch, caplog, capsys):
    """Bad inputs tried, clean rejections, crashes and partial writes, counted from the same table (a case not
    run yet in this session is run here, so the figures always cover the whole corpus)."""
    from dashboard.db import make_engine, writing
    from loaders.organisation import register_partner

    caplog.set_level(logging.DEBUG)
    engine = make_engine(db_url)
    with writing(engine) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    ingestor = Ingestor(engine)
    for case in CASES:
        if case.id not in RESULTS:
            outcome = run_case(case, tmp_path_factory.mktemp(case.id), engine, ingestor, monkeypatch)
            RESULTS[case.id] = outcome, failures(case, outcome, engine, caplog.text)
    engine.dispose()
    rows = [(case, *RESULTS[case.id]) for case in CASES]
    clean = [c.id for c, o, f in rows if c.status == REJECTED and not f]
    landed = [c.id for c, o, f in rows if c.status == LOADED and not f]
    gaps = [c.id for c, o, f in rows if c.gap and f]
    crashes = [c.id for c, o, f in rows if o.crashed]
    partial = [c.id for c, o, f in rows if o.partial_write]
    wrong = [c.id for c, o, f in rows if f and not c.gap]
    slowest = max(rows, key=lambda r: r[1].seconds)
    with capsys.disabled():
        print(
            f"\nhostile corpus: {len(CASES)} bad inputs tried, {len(clean)} clean rejections, {len(landed)} loaded "
            f"as documented, {len(crashes)} crashes {crashes}, {len(partial)} partial writes, {len(gaps)} known "
            f"gaps in other modules {gaps}, {len(wrong)} other failures; slowest {slowest[1].seconds:.2f} s "
            f"({slowest[0].id})"
        )
    assert not [c for c in crashes if c not in gaps], crashes
    assert not partial, partial
    assert not wrong, wrong
