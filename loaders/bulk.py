"""Insert many fact rows fast, through each backend's own bulk path, behind one function.

SQLite: one `executemany` of plain tuples on the DB-API cursor, with dates already in SQLAlchemy's ISO text
form, skipping SQLAlchemy's per-row parameter processing. PostgreSQL (psycopg 3): `COPY ... FROM STDIN`,
inside the caller's transaction. Anything else: SQLAlchemy's own executemany. Rows are written exactly
as `table.insert()` would write them, so reads through SQLAlchemy see the same values.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, Table

COPY_CHUNK = 50_000


def _sqlite_column(table: Table, name: str, values: list) -> list:
    """One column's values as SQLAlchemy's SQLite types store them (dates and datetimes as ISO text)."""
    kind = table.c[name].type.python_type
    if kind is date:
        return [None if v is None else v.isoformat() for v in values]
    if kind is datetime:
        return [None if v is None else v.isoformat(sep=" ") for v in values]
    return values


def bulk_insert(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts keyed by column name, all with the same keys) into `table`."""
    if not rows:
        return
    columns = [c for c in table.c.keys() if c in rows[0]]
    dialect, driver = conn.dialect.name, conn.dialect.driver
    if dialect == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        values = [_sqlite_column(table, c, [r[c] for r in rows]) for c in columns]
        conn.exec_driver_sql(sql, list(zip(*values)))
    elif dialect == "postgresql" and driver == "psycopg":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in columns))
    else:
        conn.execute(table.insert(), rows)
