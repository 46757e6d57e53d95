"""Referrals vs projections as published (issue 10): figures derived from published counts only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import metrics, referrals
from dashboard.publication import Policy, publish_table


class Viewer:
    def __init__(self, public: bool):
        self.public = public
        self.mode = "public" if public else "member"
        self.partner_ids: frozenset[int] = frozenset()
        self.all_detail = False


PUBLIC = Policy.for_access(Viewer(True), environ={})


def frame() -> pd.DataFrame:
    months = pd.to_datetime(["2015-01-01", "2015-02-01", "2015-03-01"])
    rows = []
    for pid, name, actual in ((1, "A", [41, 38, 44]), (2, "B", [1, 2, 0]), (3, "C", [60, 57, 63])):
        for month, value in zip(months, actual):
            rows.append(
                {
                    "partner_id": pid,
                    "partner": name,
                    "contract_id": "c",
                    "prime": "P",
                    "cpa_code": 1,
                    "sector": "vcs",
                    "month": month,
                    "actual": value,
                    "projected": 52,
                }
            )
    return pd.DataFrame(rows)


def test_variance_comes_from_the_published_counts_and_hidden_rows_sort_last():
    totals = referrals.unit_totals(frame(), "partner")
    assert list(totals.columns) == ["unit", "partner_id", "actual", "projected", "months"]
    published = publish_table(
        totals, policy=PUBLIC, counts=["actual", "projected"], owner="partner_id", keep=["unit", "months"]
    )
    table = referrals.variance_from_published(published.frame, 0.10, PUBLIC.rate_decimals)
    assert list(table["unit"].str[0]) == ["A", "C", "B"]  # by published variance; B's 3 referrals hidden
    a = table.iloc[0]
    assert (a["actual"], a["projected"], a["variance"]) == (125, 155, -30)  # 123 and 156 published rounded
    assert a["variance_pct"] == round(-30 / 155, 2) and a["status"] == metrics.BELOW_TOLERANCE
    b = table.iloc[2]
    assert np.isnan(b["variance"]) and np.isnan(b["variance_pct"]) and b["status"] == referrals.NOT_PUBLISHED
    assert list(published.display().loc[table.index, "actual"]) == ["125", "180", "*"]
    assert all(v % 5 == 0 for v in table["variance"].dropna())


def test_monthly_series_names_its_owner_and_the_chart_frame_rounds_the_forecast():
    whole = referrals.monthly_series(frame(), "partner")
    assert list(whole["actual"]) == [102, 97, 107] and whole["partner_id"].isna().all()
    unit = referrals.monthly_series(frame(), "partner", "B (P, CPA 1)")
    assert list(unit["partner_id"]) == [2, 2, 2] and list(unit["actual"]) == [1, 2, 0]
    published = publish_table(whole, policy=PUBLIC, counts=["actual", "projected"], owner="partner_id", keep=["month"])
    chart = referrals.chart_frame(published.frame, 0.10, policy=PUBLIC)
    actual = chart[chart["kind"] == "actual"]
    assert list(actual["actual"]) == [100, 95, 105] and list(actual["band_low"]) == [139.5] * 3  # 156 published as 155
    forecast = chart[chart["kind"] == "forecast"]
    assert len(forecast) == 6
    for column in ("forecast", "forecast_low", "forecast_high"):
        assert (forecast[column] % 5 == 0).all()
    exact = referrals.chart_frame(published.frame, 0.10)
    assert exact.loc[exact["kind"] == "forecast", "forecast"].iloc[0] == 100  # (100 + 95 + 105) / 3
