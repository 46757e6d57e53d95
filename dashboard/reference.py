"""Create the schema and load the programme's reference data from data/reference/*.csv (idempotent)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, Table, inspect, select
from sqlalchemy.schema import CreateIndex, CreateTable

from dashboard import schema
from dashboard.db import writing
from dashboard.settings import ROOT
from dashboard.summaries import SUMMARY_TABLES, refresh_all_summaries
from dashboard.views import VIEWS, create_views, drop_views

REFERENCE_DIR = ROOT / "data" / "reference"
# Reference table -> its CSV file, loaded in this order (foreign keys first).
REFERENCE_FILES: dict[str, str] = {
    "cpa": "cpas.csv",
    "prime": "primes.csv",
    "contract": "contracts.csv",
    "payment_group": "payment_groups.csv",
    "minimum_performance_level": "minimum_performance_levels.csv",
    "standard": "standards.csv",
}


class ReferenceDataError(ValueError):
    """A reference CSV is missing or has a value that does not fit its column."""


def _convert(table: Table, column: str, raw: str, where: str):
    if raw is None or raw.strip() == "":
        return None
    col = table.c[column]
    kind = col.type.python_type
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is bool:
            return raw.strip().lower() in {"true", "yes", "y", "1"}
        if kind is date:
            return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: column {column!r} has {raw!r}, not a {kind.__name__} ({exc}).") from exc
    return raw.strip()


def read_reference_csv(table: Table, path: Path) -> list[dict]:
    """Rows of one reference CSV, typed for its table; unknown columns are an error, not silently dropped."""
    if not path.exists():
        raise ReferenceDataError(f"Reference file {path} is missing; restore it from the repository.")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        unknown = set(reader.fieldnames or ()) - set(table.c.keys())
        if unknown:
            raise ReferenceDataError(
                f"{path.name} has columns {sorted(unknown)} that table {table.name} does not have."
            )
        return [
            {k: _convert(table, k, v, f"{path.name} row {i}") for k, v in row.items()}
            for i, row in enumerate(reader, start=2)
        ]


def _upsert(conn, table: Table, rows: list[dict]) -> None:
    # Portable upsert (no dialect-specific ON CONFLICT): reference tables are small.
    keys = [c.name for c in table.primary_key.columns]
    existing = {tuple(r) for r in conn.execute(select(*[table.c[k] for k in keys]))}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key in existing:
            cond = [table.c[k] == row[k] for k in keys]
            conn.execute(table.update().where(*cond).values(**row))
        else:
            conn.execute(table.insert().values(**row))


def init_db(engine: Engine, reference_dir: Path = REFERENCE_DIR) -> dict[str, int]:
    """Create tables and views and load reference data; safe to run any number of times, even at once.

    Tables are created inside the write transaction, so concurrent first runs (two `wpmi ingest` on a new
    database) queue on the write lock instead of racing to create the same tables.
    """
    counts = {}
    _drop_legacy_hash_uniqueness(engine)
    with writing(engine) as conn:
        inspector = inspect(conn)
        existing = set(inspector.get_table_names())
        # Summaries from before they were keyed (no primary key, not stored in key order) are only derived
        # data: drop them so they are made again in the current layout, and refilled below.
        for table in SUMMARY_TABLES:
            if table.name in existing and _summary_layout_changed(inspector, table):
                drop_views(conn)  # v_monthly reads monthly_summary; the views are made again below
                table.drop(conn)
                existing.discard(table.name)
        _add_missing_columns(conn, inspector, existing)
        schema.metadata.create_all(conn)
        # A summary table added (or remade) by an upgrade starts empty: fill it from the facts already loaded.
        if any(t.name not in existing for t in SUMMARY_TABLES) and "submission" in existing:
            refresh_all_summaries(conn)
        for table_name, file_name in REFERENCE_FILES.items():
            table = schema.metadata.tables[table_name]
            rows = read_reference_csv(table, reference_dir / file_name)
            _upsert(conn, table, rows)
            counts[table_name] = len(rows)
        create_views(conn)
    return counts


def _drop_legacy_hash_uniqueness(engine: Engine) -> None:
    """Databases from before readings were recorded allow each file's bytes once (UNIQUE sha256); now the same
    bytes read another way are another load (UNIQUE sha256, reading). PostgreSQL drops the constraint; SQLite
    cannot, so the table is rebuilt under the current declaration, its rows and ids kept (foreign keys off for
    the rebuild, as SQLite's documented procedure says, and checked after)."""
    if "submission" not in inspect(engine).get_table_names():
        return
    with writing(engine) as conn:
        inspector = inspect(conn)
        constraints = [
            u["name"] for u in inspector.get_unique_constraints("submission") if u["column_names"] == ["sha256"]
        ]
        indexes = [
            i["name"] for i in inspector.get_indexes("submission") if i["unique"] and i["column_names"] == ["sha256"]
        ]
        if not constraints and not indexes:
            return
        if conn.dialect.name != "sqlite":
            for name in constraints:
                conn.exec_driver_sql(f'ALTER TABLE submission DROP CONSTRAINT "{name}"')
            for name in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
            return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or it is ignored
        cur.execute("PRAGMA legacy_alter_table=ON")  # leave the fact tables' references naming 'submission'
        cur.execute("BEGIN IMMEDIATE")
        for name in VIEWS:
            cur.execute(f"DROP VIEW IF EXISTS {name}")
        old = [r[1] for r in cur.execute("PRAGMA table_info(submission)").fetchall()]
        cur.execute("ALTER TABLE submission RENAME TO submission_legacy")
        for index in schema.submission.indexes:
            cur.execute(f"DROP INDEX IF EXISTS {index.name}")
        cur.execute(str(CreateTable(schema.submission).compile(dialect=engine.dialect)))
        for index in schema.submission.indexes:
            cur.execute(str(CreateIndex(index).compile(dialect=engine.dialect)))
        kept = ", ".join(c for c in old if c in schema.submission.c)
        cur.execute(f"INSERT INTO submission ({kept}) SELECT {kept} FROM submission_legacy")
        cur.execute("DROP TABLE submission_legacy")
        broken = cur.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            cur.execute("ROLLBACK")
            raise ReferenceDataError(
                f"Rebuilding table submission would break {len(broken)} references; nothing changed."
            )
        cur.execute("COMMIT")
    finally:
        cur.execute("PRAGMA legacy_alter_table=OFF")
        cur.execute("PRAGMA foreign_keys=ON")
        raw.close()


def _summary_layout_changed(inspector, table: Table) -> bool:
    """Whether a stored summary differs from its declaration: no primary key (from before summaries were keyed),
    or a column missing or differing in whether it may be NULL (counts became nullable when 'not reported'
    came apart from zero). Summaries are derived data, so a changed one is dropped, made again and refilled."""
    if not inspector.get_pk_constraint(table.name)["constrained_columns"]:
        return True
    stored = {c["name"]: bool(c["nullable"]) for c in inspector.get_columns(table.name)}
    # A primary-key column reads as nullable on some backends; only the others are compared.
    keyed = {c.name for c in table.primary_key.columns}
    return any(c.name not in stored or (c.name not in keyed and stored[c.name] != c.nullable) for c in table.columns)


def _add_missing_columns(conn, inspector, existing: set[str]) -> None:
    """Add the nullable columns an upgrade declared to tables that already hold data (e.g. submission.not_reported):
    create_all makes missing tables, never missing columns. Rows already there read NULL, as a file loaded before
    the column existed says nothing about it."""
    quote = conn.dialect.identifier_preparer.quote
    for table in schema.metadata.sorted_tables:
        if table.name not in existing or table in SUMMARY_TABLES:
            continue
        stored = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in stored:
                continue
            if not column.nullable:
                raise ReferenceDataError(
                    f"Table {table.name} lacks column {column.name}, which cannot be added to existing rows "
                    "(it may not be NULL): rebuild this database (wpmi demo --replace, or load the files again)."
                )
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}")


def missing_schema(engine: Engine) -> list[str]:
    """The wpmi tables and views this database lacks: empty once `init_db` (`wpmi init`) has run on it.

    Only looks: the dashboard never creates or changes the schema (a read-only database user is enough).
    """
    inspector = inspect(engine)
    present = set(inspector.get_table_names()) | set(inspector.get_view_names())
    return [name for name in [*schema.metadata.tables, *VIEWS] if name not in present]


# --- the domain lists, read from the reference CSVs (their one home), for code that has no database --------
@dataclass(frozen=True)
class PaymentGroup:
    """One Work Programme payment group, as data/reference/payment_groups.csv declares it."""

    code: str
    name: str
    short_name: str
    outcome_weeks: int  # weeks in work before a job outcome can be claimed (the qualifying period)


@cache
def payment_groups(reference_dir: Path = REFERENCE_DIR) -> tuple[PaymentGroup, ...]:
    """Every payment group, in code order (PG1 ... PG9)."""
    rows = read_reference_csv(schema.payment_group, reference_dir / REFERENCE_FILES["payment_group"])
    return tuple(
        PaymentGroup(r["code"], r["name"], r["short_name"], r["outcome_weeks"])
        for r in sorted(rows, key=lambda r: int(r["code"][2:]))
    )


def qualifying_weeks() -> dict[str, int]:
    """Weeks in work before a job outcome can be claimed, per payment group code."""
    return {g.code: g.outcome_weeks for g in payment_groups()}


def payment_group_codes() -> tuple[str, ...]:
    """The payment group codes, PG1 ... PG9."""
    return tuple(g.code for g in payment_groups())


@cache
def mpl_payment_groups(reference_dir: Path = REFERENCE_DIR) -> tuple[str, ...]:
    """The payment groups that have a published minimum performance level (PG1, PG2 and PG6)."""
    table = schema.minimum_performance_level
    rows = read_reference_csv(table, reference_dir / REFERENCE_FILES["minimum_performance_level"])
    codes = {r["payment_group"] for r in rows if r["mpl"] is not None}
    return tuple(c for c in payment_group_codes() if c in codes)
