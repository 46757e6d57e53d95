"""Insert many fact rows fast, through each backend's own bulk path, behind one function.

SQLite: one `executemany` of plain tuples on the DB-API cursor, with dates already in SQLAlchemy's ISO text
form, skipping SQLAlchemy's per-row parameter processing. PostgreSQL (psycopg 3): `COPY ... FROM STDIN`,
inside the caller's transaction. Anything else: SQLAlchemy's own executemany. Rows are written exactly
as `table.insert()` would write them, so reads through SQLAlchemy see the same values.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError, ResourceClosedError


class UnknownColumnsError(ValueError):
    """Columns given for insert that the table does not have (they would otherwise be lost without a word)."""

    def __init__(self, table: Table, columns: list[str]):
        self.table = table.name
        self.columns = tuple(columns)
        super().__init__(
            f"Cannot insert into table {table.name}: it has no column{'s' if len(columns) > 1 else ''} "
            f"{', '.join(map(repr, self.columns))} "
            f"(its columns: {', '.join(table.c.keys())}). Select only the table's columns before inserting, "
            f"or add the missing columns to the table in dashboard/schema.py."
        )


def _sqlite_column(table: Table, name: str, values: list) -> list:
    """One column's values as SQLAlchemy's SQLite types store them (dates and datetimes as ISO text)."""
    kind = table.c[name].type.python_type
    if kind is date or kind is datetime:
        # Each distinct date is formatted once: a column repeats a few thousand dates across many rows.
        text = {v: v.isoformat() if kind is date else v.isoformat(sep=" ") for v in set(values) if v is not None}
        return [text.get(v) for v in values]
    return values


def _driver_cursor(conn: Connection):
    """A cursor on the connection's own DB-API driver connection, which SQLAlchemy gives as None once the
    connection is invalidated or detached."""
    driver_connection = conn.connection.driver_connection
    if driver_connection is None:
        raise ResourceClosedError("Cannot bulk insert: this connection's driver connection is closed or invalidated.")
    return driver_connection.cursor()


@contextmanager
def _driver_errors_as_sqlalchemy(conn: Connection, statement: str):
    """Driver errors from the raw cursor, raised as SQLAlchemy's own (OperationalError for a full disk, a
    read-only file or a lock timeout), as every other statement raises them, so callers handle one kind."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error) from exc


def bulk_insert(conn: Connection, table: Table, columns: dict[str, list]) -> None:
    """Insert rows given as columns (column name -> equally long lists of values) into `table`.

    Columns the table lacks raise UnknownColumnsError; the table's columns not given are left to their defaults.
    """
    known = set(table.c.keys())
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise UnknownColumnsError(table, unknown)
    names = [c for c in table.c.keys() if c in columns]  # noqa: SIM118 - iterating table.c yields Columns, not names
    if not names or not columns[names[0]]:
        return
    dialect, driver = conn.dialect.name, conn.dialect.driver
    if dialect == "sqlite":
        placeholders = ", ".join("?" for _ in names)
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"
        # Straight to the driver with a generator of row tuples: each tuple is freed as soon as it is written,
        # so tens of thousands of rows never sit in memory at once (nor in the cycle collector's way).
        cursor = _driver_cursor(conn)
        with _driver_errors_as_sqlalchemy(conn, sql):
            cursor.executemany(sql, zip(*(_sqlite_column(table, c, columns[c]) for c in names)))
        cursor.close()
    elif dialect == "postgresql" and driver == "psycopg":
        cursor = _driver_cursor(conn)
        sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        with _driver_errors_as_sqlalchemy(conn, sql), cursor.copy(sql) as copy:
            for row in zip(*(columns[c] for c in names)):
                copy.write_row(row)
    else:
        conn.execute(table.insert(), [dict(zip(names, row)) for row in zip(*(columns[c] for c in names))])
