"""Fixtures built in code: temporary databases, a registered partner, and small MI workbooks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import make_engine, writing
from dashboard.reference import init_db
from loaders.demo.build import build_demo
from loaders.organisation import register_partner
from loaders.pipeline import Ingestor

ROOT = Path(__file__).resolve().parents[1]
PARTNER = "Tyneside Pathways Trust"
PRIME, CPA, PERIOD = "Ingeus", 5, date(2013, 3, 1)
HEADER = {"partner": PARTNER, "prime": PRIME, "cpa": CPA, "period": PERIOD}


@pytest.fixture
def db_url(tmp_path) -> str:
    """An initialised, empty SQLite database (reference data loaded)."""
    url = f"sqlite:///{tmp_path / 'wpmi.sqlite'}"
    init_db(make_engine(url))
    return url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    with writing(eng) as conn:
        register_partner(conn, PARTNER, "vcs", "end_to_end")
    yield eng
    eng.dispose()


@pytest.fixture
def ingestor(engine) -> Ingestor:
    return Ingestor(engine)


# The tables whose rows the store tests compare before and after (facts, bookkeeping and summaries).
FACT_TABLES = (
    "submission",
    "participant",
    "contact",
    "monthly_return",
    "projection",
    "feedback",
    "partner",
    "monthly_summary",
    "cohort_summary",
    "compliance_summary",
)


def scalar(engine, sql: str, **params):
    """The first column of the first row of a query."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine, sql: str, **params) -> list[tuple]:
    """Every row of a query, as plain tuples."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def participants(n: int = 3, **overrides) -> pd.DataFrame:
    """`n` clean participant journeys referred in early 2013, with per-column overrides."""
    rows = []
    for i in range(n):
        ref = date(2013, 1, 2 + i)
        rows.append(
            {
                "participant_ref": f"P{i + 1:05d}",
                "payment_group": ["PG1", "PG2", "PG6"][i % 3],
                "referral_date": ref,
                "first_contact_date": date(2013, 1, 4 + i),
                "attachment_date": date(2013, 1, 8 + i),
                "initial_assessment_date": date(2013, 1, 10 + i),
                "action_plan_date": date(2013, 1, 12 + i),
                "job_start_date": date(2013, 2, 1 + i) if i % 2 == 0 else None,
                "job_outcome_date": None,
                "exit_date": None,
                "exit_report_requested_date": None,
                "exit_report_sent_date": None,
                "in_work_support_offered": "Y" if i % 2 == 0 else None,
            }
        )
    frame = pd.DataFrame(rows)
    for column, values in overrides.items():
        frame[column] = values
    return frame


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    """The tiny synthetic demo, built once for the session through the real loader."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    url = f"sqlite:///{path}"
    build_demo(url, scale="tiny", seed=7, quiet=True)
    return url


# --- both backends: SQLite, and PostgreSQL on a throwaway server (bench/pgserver.py) -----------------------
# The PostgreSQL server is started once for the session, on first use; each test gets a fresh database on it.
# When none can be had (binaries absent, psycopg not installed, ...), its tests are skipped with the reason,
# which `pytest -ra` prints. WPMI_REQUIRE_POSTGRES=1 (CI sets it) makes that a failure instead. A server that
# is present but fails to start is always a failure, with the tail of its log.
REQUIRE_POSTGRES_ENV = "WPMI_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (started on first use, stopped at session end)."""
    import os
    import time

    from bench.pgserver import ServerUnavailable, start_server

    started = time.perf_counter()
    try:
        server = start_server()
    except ServerUnavailable as exc:
        message = f"PostgreSQL server unavailable: {exc}"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{message} ({REQUIRE_POSTGRES_ENV}=1, so this is a failure, not a skip)", pytrace=False)
        pytest.skip(message)
    print(f"\n{server.version} started on 127.0.0.1:{server.port} in {time.perf_counter() - started:.1f} s")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards); its SQLAlchemy URL."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path) -> str:
    """A fresh, empty database on each backend in turn (test ids end in [sqlite] and [postgresql]).

    A test that holds only on SQLite narrows it: `@pytest.mark.parametrize("any_db_url", ["sqlite"], indirect=True)`.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.sqlite'}"
    return request.getfixturevalue("pg_url")
