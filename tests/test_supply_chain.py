"""Supply chain: the partner-contract summary the Supply chain and Contract risk pages share."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from dashboard import queries, supply_chain
from dashboard.db import make_engine
from dashboard.publication import Policy, publish_table
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


# --- publishing (issue 10) ---------------------------------------------------------------------------------------

PUBLIC = Policy("public", rounding_base=5, suppress_max=4, rate_decimals=2)
MEMBER_OF_1 = Policy("member", rounding_base=1, suppress_max=4, rate_decimals=3, partner_ids=frozenset({1}))


def contract(**columns) -> pd.DataFrame:
    """Three partners of one prime contract, as partner_summary gives them (only what publishing reads)."""
    base = {
        "partner_id": [1, 2, 3],
        "partner": ["Alpha", "Beta", "Gamma"],
        "contract_id": ["c", "c", "c"],
        "referrals": [286, 3, 81],
        "actual_referrals": [286, 3, 70],
        "projected_referrals": [406, 10, 116.4],
        "outcomes_x": [44, 0, 12],
        "outcomes_n": [166, 2, 62],
        "ratio": [1.234, np.nan, 0.876],
        "adjusted_comparison": ["Better", "Not compared", "Similar"],
        "projection_status": ["Below tolerance", "Below tolerance", "Within tolerance"],
        "responses": [20, 2, 30],
        "satisfaction_mean": [4.2, 2.0, 3.9],
    }
    return pd.DataFrame({**base, **columns})


def publisher(policy):
    return functools.partial(publish_table, policy=policy)


def test_publishable_splits_referrals_into_projected_months_and_the_rest():
    raw = supply_chain.publishable(contract(actual_referrals=[286, 3, 90]), supply_chain.TABLE_COUNTS)
    assert raw["unprojected_referrals"].tolist() == [0, 0, 81]  # 90 > 81 referrals: no projection published
    assert raw["actual_referrals"].isna().tolist() == [False, False, True]
    assert raw["projected_referrals"].tolist()[:2] == [406, 10]
    assert (raw["referrals"] == raw["actual_referrals"].fillna(0) + raw["unprojected_referrals"]).all()


def test_a_hidden_referrals_cell_cannot_be_read_off_its_actual_referrals_or_the_total():
    table = supply_chain.publish_partner_table(contract(), publisher(MEMBER_OF_1), totals=("referrals",))
    status = table.status.set_index(table.frame["partner"])
    assert status.loc["Beta", "referrals"] == "*" and status.loc["Beta", "actual_referrals"] != ""
    assert status.loc["Gamma", "referrals"] != ""  # the total would give Beta's 3 away: secondary suppression
    assert status.loc["Alpha"].eq("").all()  # the viewer's own row is exact
    assert table.frame.set_index("partner").loc["Alpha", "referrals"] == 286


def test_contract_table_is_published_largest_first_with_shares_and_variances_from_published_counts():
    table = supply_chain.publish_partner_table(
        contract(referrals=[286, 30, 81], actual_referrals=[286, 30, 70], outcomes_n=[166, 20, 62]),
        publisher(PUBLIC),
        totals=("referrals",),
        extras=supply_chain.contract_extras,
        largest_first=True,
    )
    shown = table.display()
    assert shown["partner"].tolist() == ["Alpha", "Gamma", "Beta"]
    assert shown["referrals"].tolist() == ["285", "80", "30"]
    assert table.totals_display() == {"referrals": "395"}
    # 285 / 395, (285 - 405) / 405, 44/166 -> 45/165: never the exact 286, 406, 44 or 166
    assert shown["share_of_contract"].tolist() == ["72%", "20%", "8%"]
    assert shown.loc[0, "variance_pct"] == "-30%" and shown.loc[0, "outcome_rate"] == "27%"
    assert table.frame.loc[0, "outcome_rate"] == round(45 / 165, 2)
    assert table.frame["ratio"].tolist()[0] == 1.2  # a rating, one decimal in public mode
    assert shown.loc[0, "flags"] == "referrals -30% against projection; outcomes better than expected: protect"
    assert "satisfaction" not in shown.loc[2, "flags"]  # 2 responses: no mean of so few
    assert not {"attachments", "job_starts", "job_outcomes", "benchmark"} & set(shown.columns)


def test_the_ratio_is_not_shown_where_the_job_outcomes_are_hidden():
    table = supply_chain.publish_partner_table(
        contract(outcomes_x=[44, 0, 3], ratio=[1.234, np.nan, 0.5]),
        publisher(PUBLIC),
        extras=supply_chain.contract_extras,
    )
    assert table.status.loc[2, "outcomes_x"] == "*" and np.isnan(table.frame.loc[2, "ratio"])


def test_published_benchmark_is_the_pooled_rate_of_published_counts():
    summary = contract().assign(benchmark_x=1271, benchmark_n=7802)
    assert supply_chain.published_benchmark(summary, publisher(PUBLIC)) == round(1270 / 7800, 2)
    assert np.isnan(supply_chain.published_benchmark(contract(), publisher(PUBLIC)))


def test_risk_details_quote_only_published_figures():
    summary = contract(
        prime=["P", "P", "P"],
        cpa_code=[1, 1, 1],
        variance_pct=[-120 / 406, -0.7, 11 / 116],
        contracts_held=[1, 1, 1],
        share_of_partner_referrals=[1.0, 1.0, 1.0],
        complaints=[55, 1, 7],
        attachments=[274, 2, 64],
    )
    mpl = pd.DataFrame(
        {
            "contract_id": ["c"],
            "worst_group": ["PG1"],
            "referrals": [17],
            "job_outcomes": [4],
            "in_year_rate": [4 / 17],
            "mpl": [0.44],
            "ratio_to_mpl": [4 / 17 / 0.44],
        }
    )
    publish = publisher(PUBLIC)
    shown = supply_chain.publish_partner_table(
        summary, publish, counts=supply_chain.RISK_COUNTS, rates=supply_chain.RISK_RATES
    )
    out = supply_chain.risk_components(summary, mpl, shown, supply_chain.publish_mpl_position(mpl, publish))
    alpha = out[out["unit"] == "Alpha (P, CPA 1)"].set_index("component")
    assert alpha.loc["referral_shortfall", "detail"] == "285 actual vs 405 projected"
    assert alpha.loc["referral_shortfall", "score"] == 0.3  # a rating, to 0.1 in public mode
    assert alpha.loc["feedback", "detail"] == "satisfaction 4.2/5, 20 complaints per 100 attached"
    assert alpha.loc["prime_below_mpl", "detail"].startswith("PG1: a rate not shown (small numbers)")
    assert alpha.loc["own_performance", "detail"] == "observed/expected 1.2 (Better)"
    beta = out[out["unit"] == "Beta (P, CPA 1)"].set_index("component")
    assert beta.loc["feedback", "detail"] == "complaints per 100 attached not shown (small numbers)"
    assert beta.loc["referral_shortfall", "detail"] == "* actual vs 10 projected"
    text = " ".join(out["detail"])
    assert not any(str(v) in text for v in (286, 406, 274, 55))


def test_risk_details_without_published_figures_name_none():
    summary = contract(prime=["P"] * 3, cpa_code=[1] * 3, variance_pct=[-0.3, -0.7, 0.1], contracts_held=[1] * 3)
    mpl = pd.DataFrame(columns=["contract_id", "worst_group", "in_year_rate", "mpl", "ratio_to_mpl"])
    out = supply_chain.risk_components(summary, mpl)
    assert not out["detail"].str.contains(r"\d+ (?:actual|projected|complaints)|%|observed").any()
    assert (
        out.set_index("component").loc["own_performance", "detail"].tolist()[0]
        == "Better than expected for its case mix"
    )


def test_a_filter_to_one_cpa_does_not_change_a_partners_dependence_on_one_contract(demo_db):
    query = engine_query(demo_db)
    as_of = query("latest_month")
    everyone = supply_chain.partner_contracts(query, Filters(), as_of=as_of)
    several = everyone[(everyone["contracts_held"] > 1) & everyone["share_of_partner_referrals"].lt(1)]
    row = several.sort_values("share_of_partner_referrals").iloc[0]
    one_cpa = supply_chain.partner_contracts(query, Filters(cpa=int(row["cpa_code"])), as_of=as_of)
    mine = one_cpa[(one_cpa["partner_id"] == row["partner_id"]) & (one_cpa["contract_id"] == row["contract_id"])]
    assert (int(mine["contracts_held"].iloc[0]), mine["share_of_partner_referrals"].iloc[0]) == (
        int(row["contracts_held"]),
        pytest.approx(row["share_of_partner_referrals"]),
    )
    scores = supply_chain.risk_components(
        one_cpa, pd.DataFrame(columns=["contract_id", "worst_group", "in_year_rate", "mpl", "ratio_to_mpl"])
    )
    unit = f"{row['partner']} ({row['prime']}, CPA {row['cpa_code']})"
    dependence = scores[(scores["unit"] == unit) & (scores["component"] == "single_prime_dependence")]
    assert dependence["score"].iloc[0] == pytest.approx(row["share_of_partner_referrals"], abs=0.05)  # a rating
    assert dependence["score"].iloc[0] < 1
