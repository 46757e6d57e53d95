"""Regression tests for what mypy pointed at in bulk, metrics, supply_chain (the second round of typing fixes)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.exc import ResourceClosedError

from dashboard import bulk, metrics, settings, supply_chain


def test_the_default_minimum_denominator_is_the_settings_int():
    assert type(metrics.MIN_DENOMINATOR) is int
    assert settings.BY_NAME["min_denominator"].default == metrics.MIN_DENOMINATOR


def test_bulk_insert_without_a_driver_connection_raises_a_clear_error():
    # Before: AttributeError ('NoneType' object has no attribute 'cursor').
    table = Table("t", MetaData(), Column("a", Integer))
    conn = SimpleNamespace(
        dialect=SimpleNamespace(name="sqlite", driver="pysqlite"), connection=SimpleNamespace(driver_connection=None)
    )
    with pytest.raises(ResourceClosedError, match="driver connection is closed or invalidated"):
        bulk.bulk_insert(conn, table, {"a": [1, 2]})  # type: ignore[arg-type]  # a stand-in Connection


def test_risk_components_of_a_summary_without_referral_shares_leave_dependence_unscored():
    # Before: TypeError (float(None)) for a partner holding more than one contract; the other components of a
    # sparse summary were already unscored (NaN) with a "no ..." detail.
    summary = pd.DataFrame(
        {"partner": ["a"], "prime": ["P"], "cpa_code": [1], "contract_id": ["c"], "contracts_held": [2]}
    )
    mpl = pd.DataFrame(columns=["contract_id", "worst_group", "in_year_rate", "mpl", "ratio_to_mpl"])
    out = supply_chain.risk_components(summary, mpl).set_index("component")
    assert np.isnan(out.loc["single_prime_dependence", "score"])
    assert out.loc["single_prime_dependence", "detail"] == "2 contract(s)"
