"""Fixtures built in code: temporary databases, a registered partner, and small MI workbooks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.db import make_engine
from loaders.demo.build import build_demo
from loaders.organisation import register_partner
from loaders.pipeline import Ingestor
from dashboard.reference import init_db
from dashboard.db import writing

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


def participants(n: int = 3, **overrides) -> pd.DataFrame:
    """`n` clean participant journeys referred in early 2013, with per-column overrides."""
    rows = []
    for i in range(n):
        ref = date(2013, 1, 2 + i)
        rows.append({
            "participant_ref": f"P{i + 1:05d}", "payment_group": ["PG1", "PG2", "PG6"][i % 3],
            "referral_date": ref, "first_contact_date": date(2013, 1, 4 + i), "attachment_date": date(2013, 1, 8 + i),
            "initial_assessment_date": date(2013, 1, 10 + i), "action_plan_date": date(2013, 1, 12 + i),
            "job_start_date": date(2013, 2, 1 + i) if i % 2 == 0 else None,
            "job_outcome_date": None, "exit_date": None, "exit_report_requested_date": None,
            "exit_report_sent_date": None, "in_work_support_offered": "Y" if i % 2 == 0 else None,
        })
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
