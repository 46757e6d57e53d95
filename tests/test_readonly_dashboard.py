"""The dashboard only reads: on a database without the wpmi schema it says how to create one and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect
from streamlit.testing.v1 import AppTest

from dashboard.reference import init_db, missing_schema
from tests.conftest import ROOT

PAGES = ["overview", "benchmarks", "referrals", "standards", "supply_chain", "partner", "risk", "data", "members"]


@pytest.mark.parametrize("page", PAGES)
def test_a_page_on_a_database_without_the_schema_names_wpmi_init_and_creates_nothing(page, tmp_path, monkeypatch):
    path = tmp_path / "empty.sqlite"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("WPMI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("wpmi init" in i.value for i in at.info)
    assert inspect(create_engine(url)).get_table_names() == [], "the dashboard ran schema DDL"


def test_missing_schema_lists_every_table_and_view_until_init_and_none_after(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    missing = missing_schema(engine)
    assert {"participant", "submission", "monthly_summary", "v_monthly", "v_participants"} <= set(missing)
    init_db(engine)
    assert missing_schema(engine) == []
