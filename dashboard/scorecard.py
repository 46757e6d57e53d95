"""The partner scorecard (seed 001, Recommendation 12's balanced scorecard): one partner organisation across all
its contracts, answering "how am I doing, fairly, and do I meet my prime's standards?" in one place.

Each section is a `Published` table (dashboard/publication.py), so the page, its downloads and its PDF show only
what the viewer may see: outcome, start and attachment rates raw and case-mix adjusted with verdicts at 95% and
99.8% against every partner in every CPA; each of its primes' measurable standards with met / near / missed;
referrals against projections per contract; complaints and satisfaction against the 3-of-5 minimum (seed 003);
and quarterly trends only for quarters whose cohorts reach the minimum n. Every figure keeps its n and its
comparator. No Streamlit here: `query` runs `dashboard.queries.<name>` (the page passes `ui.query`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboard import benchmarks as bm
from dashboard import feedback, profile, referrals, schema, settings, standards
from dashboard.publication import Policy, Publish, Published
from dashboard.queries import Filters

INDICATORS = ("job_outcome_rate", "job_start_rate", "attachment_rate")
# The league table's columns (one home: benchmarks.LEAGUE_SHOWN), without the trend label it has no use for here.
OUTCOME_COLUMNS = [c for c in bm.LEAGUE_SHOWN if c != "trend"]


@dataclass(frozen=True)
class Scorecard:
    partner_id: int
    name: str
    sector: str
    tier: str
    contracts: list[str]
    as_of: date
    outcomes: Published | None  # one row per indicator, the organisation against all partners
    spine: Published | None  # the same indicators against the spread of all partners (profile.publish_spine)
    standards: Published | None  # one row per standard and contract
    standard_status: pd.DataFrame  # the same rows' met / near / missed, judged on the published figures
    referrals: Published | None  # one row per contract: actual and projected referrals
    referral_status: pd.DataFrame  # variance and tolerance status from the published figures
    feedback: Published | None  # one row per contract: complaints, resolved in time, satisfaction responses
    satisfaction: pd.DataFrame  # satisfaction mean per contract against the minimum, where responses are shown
    trend: Published | None  # quarters, job start and outcome rates
    trend_quarters_shown: int  # quarters whose cohorts reach the minimum n (the only ones drawn)
    min_n: int
    tolerance: float  # standards: "near" is within this many points of the target (setting standards_near)


def outcome_rows(cohorts: pd.DataFrame, partner_id: int, min_n: int) -> pd.DataFrame:
    """The organisation's row per indicator from `benchmarks.benchmark_table` at organisation level (all its
    contracts pooled) against every partner: raw rate and verdicts, observed / expected and its verdict."""
    rows = []
    for key in INDICATORS:
        measure = bm.MEASURES[key]
        table = bm.benchmark_table(cohorts, "organisation", key, "all", min_n=min_n)
        mine = table[table["partner_id"] == partner_id] if len(table) else table
        if mine.empty:
            continue
        rows.append(mine.iloc[[0]].assign(unit=measure.label))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def build(
    query: Callable[..., pd.DataFrame],
    partner_id: int,
    *,
    as_of: date,
    publish: Publish,
    policy: Policy,
    min_n: int | None = None,
) -> Scorecard | None:
    """The scorecard of one partner organisation (None if it has sent no MI)."""
    min_n = settings.get("min_denominator") if min_n is None else min_n
    tolerance = settings.get("projection_tolerance")
    options = query("filter_options")
    partners = options["partners"]
    me = partners[partners["partner_id"] == partner_id]
    if me.empty:
        return None
    info = me.iloc[0]
    mine = Filters(partner_id=int(partner_id))
    cohorts = query("cohort_totals", Filters(), as_of=as_of)
    flows = query("flow_totals", mine)
    contracts = sorted({f"{r.prime}, CPA {r.cpa_code}" for r in flows.itertuples()})

    raw_outcomes = outcome_rows(cohorts, partner_id, min_n)
    outcomes = (
        bm.publish_league(raw_outcomes, None, publish=publish, policy=policy, owner="partner_id")
        if len(raw_outcomes)
        else None
    )

    cells = query("compliance_cells", mine)
    standard_table, standard_status = None, pd.DataFrame()
    if len(cells):
        standard_table, standard_status = standards.published_cells(cells, policy)

    projections = query("projections_vs_actuals", mine)
    referral_table, referral_status = None, pd.DataFrame()
    if projections["projected"].notna().any():
        referral_table = publish(
            referrals.unit_totals(projections, "contract").assign(partner_id=partner_id),
            counts=["actual", "projected"],
            owner="partner_id",
            keep=["unit", "months"],
        )
        referral_status = referrals.variance_from_published(referral_table.frame, tolerance, policy.rate_decimals)

    returns = query("feedback_totals", mine)
    feedback_table, satisfaction = None, pd.DataFrame()
    if len(returns):
        raw_feedback = feedback.feedback_by(flows, returns, "contract")
        feedback_table = feedback.publish_feedback(raw_feedback, publish, "contract", owner=int(partner_id))
        satisfaction = feedback.satisfaction(raw_feedback, feedback_table)

    series = query("cohort_series", mine, as_of=as_of)
    trend = profile.publish_trend(series, partner_id, publish) if len(series) else None
    spine = profile.publish_spine(cohorts, partner_id, publish, trend=trend, min_n=min_n) if outcomes else None
    quarters = 0
    if trend is not None:
        quarters = int((trend.frame[["start_cohort", "outcome_cohort"]].fillna(0).max(axis=1) >= min_n).sum())

    return Scorecard(
        partner_id=int(partner_id),
        name=str(info["partner_name"]),
        sector=schema.SECTOR_LABELS.get(info["sector"], str(info["sector"])),
        tier=schema.TIER_LABELS.get(info["tier"], str(info["tier"])),
        contracts=contracts,
        as_of=as_of,
        outcomes=outcomes,
        spine=spine if spine is not None and len(spine.frame) else None,
        standards=standard_table,
        standard_status=standard_status,
        referrals=referral_table,
        referral_status=referral_status,
        feedback=feedback_table,
        satisfaction=satisfaction,
        trend=trend,
        trend_quarters_shown=quarters,
        min_n=min_n,
        tolerance=settings.get("standards_near"),
    )


def outcome_view(outcomes: Published) -> pd.DataFrame:
    """The published outcome rows as the page and the PDF show them: the league table's view
    (`benchmarks.league_view`), without the trend column."""
    view = bm.league_view(outcomes.display())
    return view[[c for c in OUTCOME_COLUMNS if c in view]]


def trend_lines(card: Scorecard) -> pd.DataFrame:
    """The trend chart's rows, only quarters whose cohort for that measure reaches the minimum n."""
    if card.trend is None:
        return pd.DataFrame(columns=["period", "series", "x", "n", "rate", "lower", "upper"])
    lines = profile.trend_lines(card.trend)
    return lines[lines["n"].fillna(0) >= card.min_n].reset_index(drop=True)
