"""The one way to get a database engine: URL from the caller, else WPMI_DB_URL, else the local SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event

from dashboard import settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "wpmi_write"
# PostgreSQL writers take this transaction-scoped advisory lock (see `writing`); any constant would do.
PG_WRITE_LOCK = 0x77706D69  # "wpmi"


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: explicit, else the db_url setting ($WPMI_DB_URL, else data/wpmi.sqlite)."""
    return url or settings.get("db_url")


def _configure_sqlite(dbapi_conn, _record) -> None:
    # WAL lets the dashboard read while an ingest writes; the busy timeout makes concurrent writers queue
    # instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    # The timeout first: switching a brand-new file to WAL needs a moment's exclusive lock, and several
    # processes opening it at once should wait for it rather than fail.
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    # Writers (see `writing`) take the write lock up front with BEGIN IMMEDIATE, so two ingests queue on the
    # busy timeout instead of one failing mid-transaction on a lock upgrade; readers begin deferred.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """A new engine for `url` (see resolve_url), with SQLite tuned for concurrent use."""
    url = resolve_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):  # file: URIs name existing files
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _configure_sqlite)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """A shared engine per resolved URL (the dashboard and CLI both come through here)."""
    return make_engine(resolve_url(url))


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed if the block completes, rolled back entirely if it raises.

    Writers queue, one at a time, on every backend: SQLite by BEGIN IMMEDIATE; PostgreSQL by an advisory lock
    held until commit or rollback. Without it, under READ COMMITTED two ingests for one partner contract would
    each rebuild its summaries from a snapshot missing the other's rows. Readers are never blocked.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
            yield conn


def read_frame(conn: Connection, statement, params: dict | None = None, chunk: int = 5_000) -> pd.DataFrame:
    """Run a SELECT and return its answer as a DataFrame, built a column at a time.

    Rows are taken from the driver's cursor in chunks and transposed in C: several times faster than a
    DataFrame of SQLAlchemy Row objects, and only one chunk of row tuples is alive at a time. (The queries
    here are `text()` SQL with no result types, so SQLAlchemy would not convert any value anyway.)
    """
    result = conn.execute(statement, params or {})
    try:
        columns = list(result.keys())
        values: list[list] = [[] for _ in columns]
        while rows := result.cursor.fetchmany(chunk):
            for column, chunk_values in zip(values, zip(*rows)):
                column.extend(chunk_values)
    finally:
        result.close()
    return pd.DataFrame(dict(zip(columns, values)), columns=columns)
