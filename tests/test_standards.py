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
            "missed": [37, 7],
            "n": [40, 65],
            "pending": [0, 2],
            "not_applicable": [0, 0],
        }
    )


def test_a_cell_whose_count_is_hidden_is_not_judged_and_shows_no_share():
    published, frame = standards.published_cells(cells(), PUBLIC)
    assert published.display().loc[0, "met"] == "*" and pd.isna(frame.loc[0, "share"])
    assert frame.loc[0, "status"] == compliance.NOT_ENOUGH


def test_a_shown_cell_is_judged_on_its_published_counts():
    published, frame = standards.published_cells(cells(), PUBLIC)
    assert (frame.loc[1, "met"], frame.loc[1, "n"]) == (60, 65)  # 58 rounded to 5
    assert frame.loc[1, "share"] == 0.92 and frame.loc[1, "status"] == compliance.MEETS


def test_the_roll_up_counts_unpublished_cells_apart_and_sums_only_shown_ones():
    _, frame = standards.published_cells(cells(), PUBLIC)
    roll = standards.published_roll_up(frame, PUBLIC).frame
    assert roll.loc[0, "cells"] == 2 and roll.loc[0, "not_published"] == 1
    assert roll.loc[0, "n"] == 65


def test_a_hidden_missed_count_cannot_be_read_off_a_shown_met_and_n():
    raw = cells()
    raw.loc[1, ["met", "missed", "n"]] = [58, 3, 61]  # missed = 3 would be n - met if both were shown
    published, _ = standards.published_cells(raw, PUBLIC)
    shown = published.display().loc[1]
    assert shown["missed"] == "*" and "**" in (shown["met"], shown["n"])


def test_the_drill_down_histogram_hides_another_organisations_small_bars_and_protects_them():
    member = Policy.for_access(Access("member", "partner", partner_ids=frozenset({1})))
    days = pd.DataFrame({"days": [2, 4, 9, 15], "participants": [12, 1, 30, 22]})
    others = standards.published_days(days, 2, member).frame
    assert pd.isna(others.loc[1, "participants"]) and others["participants"].isna().sum() >= 2
    own = standards.published_days(days, 1, member).frame
    assert own["participants"].tolist() == [12, 1, 30, 22]
