"""Supply chain: the partner-contract summary the Supply chain and Contract risk pages share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import queries, supply_chain
from dashboard.db import make_engine
from dashboard.queries import Filters


def engine_query(url):
    """`ui.query` without Streamlit: run dashboard.queries.<name> on the database at `url`."""
    engine = make_engine(url)

    def query(name, filters=None, **kwargs):
        return getattr(queries, name)(engine, *((filters,) if filters is not None else ()), **kwargs)

    return query


def test_partner_contracts_give_one_row_per_partner_contract_with_its_outcomes_and_standards(demo_db):
    query = engine_query(demo_db)
    as_of = query("latest_month")
    filters = Filters(sector="vcs")
    summary = supply_chain.partner_contracts(query, filters, as_of=as_of)
    flows = query("flow_totals", filters)
    assert not summary.duplicated(["partner_id", "contract_id"]).any()
    assert set(zip(summary["partner_id"], summary["contract_id"])) == set(
        zip(flows["partner_id"], flows["contract_id"])
    )
    assert (summary["sector"] == "vcs").all()
    assert summary["referrals"].sum() == flows["referrals"].sum()
    assert {
        "outcomes_x",
        "outcomes_n",
        "outcome_rate",
        "benchmark",
        "adjusted_comparison",
        "variance_pct",
        "projection_status",
        "standards_measured",
        "standards_below",
        "satisfaction_mean",
    } <= set(summary.columns)
    # The benchmark pools every partner in every CPA, not only the VCS ones asked for.
    everyone = query("cohort_totals", Filters(), as_of=as_of)
    pooled = everyone["job_outcomes"].sum() / everyone["outcome_cohort"].sum()
    assert summary["benchmark"].dropna().round(10).unique().tolist() == [round(pooled, 10)]


def test_partner_contracts_follow_the_minimum_denominator_passed_in(demo_db):
    query = engine_query(demo_db)
    as_of = query("latest_month")
    strict = supply_chain.partner_contracts(query, Filters(), as_of=as_of, min_n=10**9)
    assert set(strict["comparison"].dropna()) == set(strict["adjusted_comparison"].dropna()) == {"Not compared"}


def test_partner_contracts_are_empty_when_no_mi_matches(demo_db):
    query = engine_query(demo_db)
    summary = supply_chain.partner_contracts(query, Filters(cpa=999), as_of=query("latest_month"))
    assert summary.empty and isinstance(summary, pd.DataFrame)


def test_risk_components_name_the_mpl_payment_groups_when_a_contract_has_none():
    summary = pd.DataFrame(
        {
            "partner": ["a"],
            "prime": ["P"],
            "cpa_code": [1],
            "contract_id": ["c"],
            "contracts_held": [1],
            "share_of_partner_referrals": [1.0],
        }
    )
    mpl = pd.DataFrame(columns=["contract_id", "worst_group", "in_year_rate", "mpl", "ratio_to_mpl"])
    out = supply_chain.risk_components(summary, mpl).set_index("component")
    assert out.loc["prime_below_mpl", "detail"] == "no PG1/PG2/PG6 referrals in the last 12 months"


def test_only_a_contract_with_an_end_reason_is_labelled_terminated():
    contracts = pd.DataFrame(
        {
            "contract_id": ["a", "b", "c"],
            "prime_name": ["Ingeus", "NCG", "A4e"],
            "cpa_code": [1, 18, 2],
            "end_reason": [np.nan, "Terminated under DWP's voluntary break clause", None],
        }
    )
    labels = [supply_chain.contract_label(r) for r in contracts.itertuples()]
    assert labels == ["Ingeus, CPA 1", "NCG, CPA 18 (terminated)", "A4e, CPA 2"]
    assert [supply_chain.ended_early(row) for _, row in contracts.iterrows()] == [False, True, False]
