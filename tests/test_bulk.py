"""bulk_insert writes rows as table.insert() would, and refuses columns its table does not have."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select

from dashboard.bulk import UnknownColumnsError, bulk_insert
from dashboard.db import make_engine, writing

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer), Column("name", String(16)), Column("day", Date))


@pytest.fixture
def engine(any_db_url):
    eng = make_engine(any_db_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(things).order_by(things.c.id))]


def test_rows_are_written_in_the_tables_column_order_whatever_the_dicts_order(engine):
    with writing(engine) as conn:
        bulk_insert(conn, things, {"day": [date(2013, 3, 1), None], "id": [1, 2], "name": ["a", None]})
    assert rows(engine) == [(1, "a", date(2013, 3, 1)), (2, None, None)]


def test_a_column_the_table_lacks_is_an_error_not_silently_dropped(engine):
    with pytest.raises(UnknownColumnsError) as caught, writing(engine) as conn:
        bulk_insert(conn, things, {"id": [1], "name": ["a"], "colour": ["red"], "size": [3]})
    message = str(caught.value)
    assert "things" in message and "'colour'" in message and "'size'" in message
    assert "select" in message.lower()  # says how to fix it
    assert isinstance(caught.value, ValueError)
    assert caught.value.table == "things" and caught.value.columns == ("colour", "size")
    assert rows(engine) == []


def test_unknown_columns_are_refused_even_with_no_rows(engine):
    with pytest.raises(UnknownColumnsError), writing(engine) as conn:
        bulk_insert(conn, things, {"id": [], "colour": []})
