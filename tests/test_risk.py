"""Contract risk: partner contracts ranked component by component, never by a sum of components."""

from __future__ import annotations

import functools
from datetime import date

import numpy as np
import pandas as pd

from dashboard import risk, supply_chain
from dashboard.publication import Policy, publish_table
from dashboard.supply_chain import COMPONENTS


def components(scores: dict[str, list[float]]) -> pd.DataFrame:
    """A long components table as supply_chain.risk_components gives it: one row per unit and component."""
    rows = [
        (unit, key, score, f"{key} detail of {unit}")
        for unit, values in scores.items()
        for key, score in zip(COMPONENTS, values)
    ]
    frame = pd.DataFrame(rows, columns=["unit", "component", "score", "detail"])
    return frame.assign(component_label=frame["component"].map(COMPONENTS))


def test_riskiest_first_puts_the_worst_single_component_first_whatever_the_sum():
    frame = components(
        {
            "Spread (P, CPA 1)": [0.5, 0.5, 0.5, 0.0, 0.0, 0.0],  # sum 1.5, worst 0.5
            "Acute (P, CPA 1)": [0.9, 0.0, 0.0, 0.0, 0.0, 0.0],  # sum 0.9, worst 0.9
        }
    )
    assert risk.riskiest_first(frame) == ["Acute (P, CPA 1)", "Spread (P, CPA 1)"]


def test_riskiest_first_breaks_a_tie_on_the_worst_with_the_next_worst_then_the_name():
    frame = components(
        {
            "Flat (P, CPA 1)": [0.8, 0.2, 0.2, 0.2, 0.0, 0.0],  # sum 1.4
            "Second (P, CPA 1)": [0.8, 0.3, 0.0, 0.0, 0.0, 0.0],  # sum 1.1: same worst, worse second
            "Beta (P, CPA 2)": [0.0, 0.0, 0.0, 0.0, 0.0, 0.1],
            "Alpha (P, CPA 2)": [0.1, 0.0, 0.0, 0.0, 0.0, 0.0],  # the same scores as Beta, in another component
        }
    )
    assert risk.riskiest_first(frame) == ["Second (P, CPA 1)", "Flat (P, CPA 1)", "Alpha (P, CPA 2)", "Beta (P, CPA 2)"]


def test_riskiest_first_counts_a_missing_score_as_no_concern_and_keeps_every_unit():
    frame = components(
        {
            "Unknown (P, CPA 1)": [np.nan] * 6,
            "Some (P, CPA 1)": [np.nan, 0.2, np.nan, np.nan, np.nan, np.nan],
            "None (P, CPA 1)": [0.0] * 6,
        }
    )
    assert risk.riskiest_first(frame) == ["Some (P, CPA 1)", "None (P, CPA 1)", "Unknown (P, CPA 1)"]


def test_component_table_lists_units_riskiest_first_with_every_component():
    frame = components(
        {"Spread (P, CPA 1)": [0.5, 0.5, 0.5, 0.0, 0.0, 0.0], "Acute (P, CPA 1)": [0.9, 0.0, 0.0, 0.0, 0.0, 0.0]}
    )
    scores = risk.component_table(frame)
    assert list(scores.index) == ["Acute (P, CPA 1)", "Spread (P, CPA 1)"]
    assert set(scores.columns) == set(COMPONENTS.values())
    assert scores.loc["Acute (P, CPA 1)", COMPONENTS["referral_shortfall"]] == 0.9
    details = risk.component_table(frame, "detail")
    assert list(details.index) == list(scores.index)
    assert details.loc["Spread (P, CPA 1)", COMPONENTS["feedback"]] == "feedback detail of Spread (P, CPA 1)"


def test_high_performers_are_the_partners_better_than_expected_for_their_case_mix():
    summary = pd.DataFrame(
        {"partner": ["a", "b", "c", "d"], "adjusted_comparison": ["Better", "Similar", "Worse", "Not compared"]}
    )
    assert list(risk.high_performers(summary)["partner"]) == ["a"]


def test_mpl_window_is_the_mpl_payment_groups_over_the_twelve_months_to_the_latest():
    window = risk.mpl_window(date(2016, 3, 1))
    assert window.payment_groups == ("PG1", "PG2", "PG6")
    assert (window.period_from, window.period_to) == (date(2015, 4, 1), date(2016, 3, 1))
    assert (window.cpa, window.prime, window.sector, window.partner_id) == (None, None, None, None)


def test_high_performers_ratio_is_a_coarse_rating_hidden_with_its_job_outcomes():
    summary = pd.DataFrame(
        {
            "partner_id": [1, 2],
            "partner": ["a", "b"],
            "outcomes_x": [44, 3],
            "outcomes_n": [166, 60],
            "ratio": [1.6234, 1.71],
        }
    )
    publish = functools.partial(
        publish_table, policy=Policy("public", rounding_base=5, suppress_max=4, rate_decimals=2)
    )
    shown = supply_chain.publish_partner_table(
        summary, publish, counts=["outcomes_x", "outcomes_n"], extras=risk.performer_extras
    )
    assert shown.display()["outcomes_x"].tolist() == ["45", "*"]
    assert shown.frame["ratio"].tolist()[0] == 1.6 and np.isnan(shown.frame["ratio"].tolist()[1])
    assert shown.frame["outcome_rate"].tolist()[0] == round(45 / 165, 2)


def test_the_download_is_the_table_shown_with_what_each_score_is_built_from():
    frame = components({"Acute (P, CPA 1)": [0.9, 0.0, 0.0, 0.0, 0.0, 0.0], "Calm (P, CPA 2)": [0.1] * 6})
    publish = functools.partial(
        publish_table, policy=Policy("public", rounding_base=5, suppress_max=4, rate_decimals=2)
    )
    export = risk.published_component_table(frame, publish).display()
    shown = risk.component_table(frame, "score")
    # Before, the download was a long table (unit, component, score, detail): not the table on the page.
    assert list(export["partner contract"]) == list(shown.index) == ["Acute (P, CPA 1)", "Calm (P, CPA 2)"]
    assert [c for c in export.columns if not c.endswith(": built from") and c != "partner contract"] == list(
        shown.columns
    )
    assert all(f"{label}: built from" in export.columns for label in shown.columns)
    assert len(export) == 2


def test_the_sidebar_sector_wins_over_vcs_only_and_vcs_only_applies_without_one():
    assert risk.sector_shown("private", vcs_only=True) == "private"
    assert risk.sector_shown(None, vcs_only=True) == "vcs"
    assert risk.sector_shown(None, vcs_only=False) is None
