"""The Standards page's published cells and roll-up, without Streamlit."""

import pandas as pd

from dashboard import compliance, standards
from dashboard.access import Access
from dashboard.publication import Policy

PUBLIC = Policy.for_access(Access("public"))


def cells() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner_id": [1, 2],
            "contract_id": ["c", "c"],
            "prime": ["P", "P"],
            "cpa_code": [1, 1],
            "partner": ["A", "B"],
            "stage_label": ["Programme engagement"] * 2,
            "standard_id": ["s", "s"],
            "title": ["Attach within 15 days"] * 2,
            "target_share": [0.9, 0.9],
            "met": [3, 58],
            "n": [40, 61],
            "pending": [0, 2],
        }
    )


def test_a_cell_whose_count_is_hidden_is_not_judged_and_shows_no_share():
    published, frame = standards.published_cells(cells(), PUBLIC)
    assert published.display().loc[0, "met"] == "*" and pd.isna(frame.loc[0, "share"])
    assert frame.loc[0, "status"] == compliance.NOT_ENOUGH


def test_a_shown_cell_is_judged_on_its_published_counts():
    published, frame = standards.published_cells(cells(), PUBLIC)
    assert (frame.loc[1, "met"], frame.loc[1, "n"]) == (60, 60)  # 58 and 61 rounded to 5
    assert frame.loc[1, "share"] == 1.0 and frame.loc[1, "status"] == compliance.MEETS


def test_the_roll_up_counts_unpublished_cells_apart_and_sums_only_shown_ones():
    _, frame = standards.published_cells(cells(), PUBLIC)
    roll = standards.published_roll_up(frame, PUBLIC).frame
    assert roll.loc[0, "cells"] == 2 and roll.loc[0, "not_published"] == 1
    assert roll.loc[0, "n"] == 60
