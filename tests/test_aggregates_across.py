"""Aggregate returns with months down the rows and payment groups across the columns (issue 13, item 5): one
sheet per measure merged into one return, or the measure named in a two-row header; checked profiles."""

from __future__ import annotations

from datetime import date

from openpyxl import Workbook
from sqlalchemy import text

from loaders.pipeline import IngestOptions
from loaders.profiles import check_profile, user_layouts
from loaders.service import ingest_files
from tests.conftest import CPA, PARTNER, PRIME

OPTIONS = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-06")
MONTHS = [date(2013, 4, 1), date(2013, 5, 1), date(2013, 6, 1)]
PER_MEASURE = """name = "per_measure"

[[sheets]]
target = "Monthly"
sheet = "referrals"
groups_across = { month_column = ["Month"], measure = "referrals" }

[[sheets]]
target = "Monthly"
sheet = "outcomes"
groups_across = { month_column = ["Month"], measure = "job_outcomes" }
"""
TWO_ROW = """name = "two_row"

[[sheets]]
target = "Monthly"
header = { rows = 2 }
groups_across = { month_column = ["Month"], measures = { referrals = ["Refs"], job_outcomes = ["Outcomes"] } }
"""


def per_measure_book(path, outcomes_may=(2, 1)):
    wb = Workbook()
    wb.remove(wb.active)
    for title, values in (
        ("Referrals", [(40, 12), (44, 10), (38, 15)]),
        ("Job outcomes", [(1, 0), outcomes_may, (3, 2)]),
    ):
        ws = wb.create_sheet(title)
        ws.append(["Month", "PG1", "PG6", "Total"])
        for month, (pg1, pg6) in zip(MONTHS, values):
            ws.append([month, pg1, pg6, pg1 + pg6])
        ws.append(["Total", None, None, None])
    wb.save(path)
    return path


def two_row_book(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Monthly return"
    ws.append([None, "PG1", None, "PG6", None])
    ws.append(["Month", "Refs", "Outcomes", "Refs", "Outcomes"])
    ws.merge_cells("B1:C1")
    ws.merge_cells("D1:E1")
    for month, row in zip(MONTHS, [(40, 1, 12, 0), (44, 2, 10, 1), (38, 3, 15, 2)]):
        ws.append([month, *row])
    wb.save(path)
    return path


def ingest(engine, tmp_path, profile: str, book):
    folder = tmp_path / "layouts"
    folder.mkdir(exist_ok=True)
    (folder / "profile.toml").write_text(profile)
    with user_layouts(folder):
        (result,) = ingest_files(engine, [(book.name, book)], OPTIONS)
    return result


def stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT month, payment_group, referrals, attachments, job_outcomes FROM monthly_return "
                    "ORDER BY month, payment_group"
                )
            )
        ]


EXPECTED = [
    ("2013-04-01", "PG1", 40, None, 1),
    ("2013-04-01", "PG6", 12, None, 0),
    ("2013-05-01", "PG1", 44, None, 2),
    ("2013-05-01", "PG6", 10, None, 1),
    ("2013-06-01", "PG1", 38, None, 3),
    ("2013-06-01", "PG6", 15, None, 2),
]


def test_one_sheet_per_measure_lands_as_one_return_with_each_measure(engine, tmp_path):
    result = ingest(engine, tmp_path, PER_MEASURE, per_measure_book(tmp_path / "agg.xlsx"))
    assert result.status == "loaded", [p.message for p in result.errors]
    assert result.layout == "per_measure" and result.rows == {"Monthly": 6}
    assert [(str(m), g, r, a, o) for m, g, r, a, o in stored(engine)] == EXPECTED
    (warning,) = [p.message for p in result.warnings if p.code == "not_reported"]
    assert "'Referrals + Job outcomes'" in warning and "attachments, job_starts" in warning  # one warning, not two


def test_months_down_and_a_two_row_header_of_group_over_measure_lands(engine, tmp_path):
    result = ingest(engine, tmp_path, TWO_ROW, two_row_book(tmp_path / "two.xlsx"))
    assert result.status == "loaded", [p.message for p in result.errors]
    assert [(str(m), g, r, a, o) for m, g, r, a, o in stored(engine)] == EXPECTED


def test_two_sheets_giving_different_values_for_one_cell_are_an_error_naming_both(engine, tmp_path):
    profile = PER_MEASURE.replace('measure = "job_outcomes"', 'measure = "referrals"')
    result = ingest(engine, tmp_path, profile, per_measure_book(tmp_path / "agg.xlsx"))
    assert result.status == "rejected"
    (conflict, *_) = [p.message for p in result.errors if p.code == "conflicting_sheets"]
    assert "in sheet 'Referrals' row 2 but 1 in sheet 'Job outcomes' row 2" in conflict


def test_a_groups_across_profile_is_checked_with_the_nearest_measure():
    sheet = {"target": "Monthly", "groups_across": {"month_column": ["Month"], "measure": "job_outcome"}}
    (problem,) = check_profile({"name": "x", "sheets": [sheet]})
    assert problem.startswith("sheets[1].groups_across.measure: 'job_outcome' is not a measure of Monthly")
    assert "did you mean 'job_outcomes'" in problem
    both = {"month_column": ["Month"], "measure": "referrals", "measures": {"referrals": ["R"]}}
    assert check_profile({"name": "x", "sheets": [{"target": "Monthly", "groups_across": both}]}) == [
        "sheets[1].groups_across: give either measure (one sheet per measure) or measures (named in the headers)"
    ]
    wrong = {"target": "Participants", "groups_across": {"month_column": ["Month"], "measure": "referrals"}}
    assert "is for Monthly or Projections, not Participants" in check_profile({"name": "x", "sheets": [wrong]})[0]
