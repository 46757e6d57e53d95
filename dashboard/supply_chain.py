"""One row per partner contract with everything the Supply chain and Contract risk pages show.

Volumes, share of the prime's referrals, the job outcome rate against the programme benchmark, the case-mix
adjusted ratio, referrals against projection, standards compliance and feedback, each with the numbers it
is built from. Risk is a set of transparent components, never a single opaque score.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from dashboard import benchmarks as bm
from dashboard import metrics, referrals, settings
from dashboard.queries import Filters
from dashboard.reference import mpl_payment_groups

KEYS = ["partner_id", "contract_id"]
SATISFACTION_MINIMUM = 3.0  # out of 5: the minimum the VCS sector and primes report against
COMPONENTS = {
    "referral_shortfall": "Referrals below projection",
    "single_prime_dependence": "Dependence on one prime contract",
    "prime_below_mpl": "Prime contract near or below its minimum performance level",
    "own_performance": "Partner's own outcomes worse than expected",
    "standards_missed": "Service standards below target",
    "feedback": "Complaints and satisfaction",
}
OWN_PERFORMANCE_SCORES = {"Worse": 1.0, "Similar": 0.3, "Better": 0.0}  # adjusted comparison -> component score


def partner_summary(
    flows: pd.DataFrame,
    cohorts: pd.DataFrame,
    variance: pd.DataFrame,
    compliance: pd.DataFrame | None,
    feedback: pd.DataFrame,
    *,
    min_n: int | None = None,
) -> pd.DataFrame:
    """Join the per-partner-contract pieces; every rate keeps its x and n.

    Outcomes of partners with a cohort below `min_n` (default: the min_denominator setting) are not compared.
    """
    org = ["partner_id", "partner", "sector", "tier", "contract_id", "prime", "prime_id", "cpa_code"]
    volumes = flows.groupby(org, as_index=False)[["referrals", "attachments", "job_starts", "job_outcomes"]].sum()
    contract_refs = volumes.groupby("contract_id")["referrals"].transform("sum")
    volumes["share_of_contract"] = volumes["referrals"] / contract_refs.where(contract_refs > 0)
    table = bm.benchmark_table(cohorts, "partner", "job_outcome_rate", "all", min_n=min_n) if len(cohorts) else None
    if table is not None and len(table):
        perf = table[
            [*KEYS, "x", "n", "rate", "lower", "upper", "benchmark", "comparison", "ratio", "adjusted_comparison"]
        ].rename(columns={"x": "outcomes_x", "n": "outcomes_n", "rate": "outcome_rate"})
        volumes = volumes.merge(perf, on=KEYS, how="left")
    if len(variance):
        v = variance[[*KEYS, "actual", "projected", "variance_pct", "status"]].rename(
            columns={"actual": "actual_referrals", "projected": "projected_referrals", "status": "projection_status"}
        )
        volumes = volumes.merge(v, on=KEYS, how="left")
    if compliance is not None and len(compliance):
        volumes = volumes.merge(compliance, on=KEYS, how="left")
    if len(feedback):
        f = feedback[[*KEYS, "complaints", "responses", "satisfaction_points"]].copy()
        volumes = volumes.merge(f, on=KEYS, how="left")
        volumes["complaints_per_100"] = (
            100 * volumes["complaints"] / volumes["attachments"].where(volumes["attachments"] > 0)
        )
        volumes["satisfaction_mean"] = volumes["satisfaction_points"] / volumes["responses"].where(
            volumes["responses"] > 0
        )
    partner_total = volumes.groupby("partner_id")["referrals"].transform("sum")
    volumes["contracts_held"] = volumes.groupby("partner_id")["contract_id"].transform("nunique")
    volumes["share_of_partner_referrals"] = volumes["referrals"] / partner_total.where(partner_total > 0)
    return volumes


def partner_contracts(
    query: Callable[..., pd.DataFrame],
    filters: Filters,
    *,
    as_of: date,
    min_n: int | None = None,
    tolerance: float | None = None,
) -> pd.DataFrame:
    """Every partner contract with MI in `filters`, with all the Supply chain and Contract risk pages show
    (`partner_summary`); its outcomes benchmarked against every partner in every CPA. Empty when no MI matches.

    `query(name, filters, **kwargs)` runs `dashboard.queries.<name>`: the pages pass `ui.query` (cached, clamped
    in public mode). `min_n` and `tolerance` default to the min_denominator and projection_tolerance settings.
    """
    flows = query("flow_totals", filters)
    if flows.empty:
        return pd.DataFrame(columns=[*KEYS, "partner", "prime", "cpa_code", "referrals"])
    cohorts = query("cohort_totals", Filters(), as_of=as_of)  # the all-CPA benchmark pools everyone
    tolerance = settings.get("projection_tolerance") if tolerance is None else tolerance
    variance = referrals.variance_table(query("projections_vs_actuals", filters), "partner", tolerance)
    return partner_summary(
        flows,
        cohorts,
        variance,
        query("compliance_by_partner", filters),
        query("feedback_totals", filters),
        min_n=min_n,
    )


def ended_early(contract) -> bool:
    """Whether a prime contract (a `filter_options()["contracts"]` row) was terminated early: it has an end
    reason. A missing reason arrives as None or NaN, and NaN is truthy, so test for text."""
    reason = contract["end_reason"] if isinstance(contract, dict | pd.Series) else contract.end_reason
    return isinstance(reason, str) and bool(reason.strip())


def contract_label(contract) -> str:
    """How a prime contract is named in a chooser: prime, CPA, and "(terminated)" when it ended early."""
    return f"{contract.prime_name}, CPA {contract.cpa_code}" + (" (terminated)" if ended_early(contract) else "")


def flags(row) -> list[str]:
    """Plain-language flags for one partner contract."""
    out = []
    if row.get("projection_status") == metrics.BELOW_TOLERANCE:
        out.append(f"referrals {row['variance_pct']:.0%} against projection")
    if row.get("adjusted_comparison") == "Worse":
        out.append("outcomes worse than expected for its case mix")
    if row.get("adjusted_comparison") == "Better":
        out.append("outcomes better than expected: protect")
    if row.get("standards_below", 0) and row.get("standards_below", 0) > 0:
        out.append(f"{int(row['standards_below'])} standard(s) significantly below target")
    if pd.notna(row.get("satisfaction_mean")) and row["satisfaction_mean"] < SATISFACTION_MINIMUM:
        out.append(f"satisfaction {row['satisfaction_mean']:.1f} < {SATISFACTION_MINIMUM:.0f}")
    return out


def prime_mpl_position(flow_totals: pd.DataFrame, mpls: pd.DataFrame) -> pd.DataFrame:
    """Each prime contract's in-year job outcomes / referrals for PG1, PG2 and PG6, against the latest published
    minimum performance level for that group (ratio < 1 = below MPL); its worst group, one row per contract.

    `flow_totals` is `queries.flow_totals` over the year to compare (the page asks for the latest 12 months).
    """
    latest = mpls.dropna(subset=["mpl"]).sort_values("contract_year").groupby("payment_group").tail(1)
    levels = dict(zip(latest["payment_group"], latest["mpl"]))
    recent = flow_totals[flow_totals["payment_group"].isin(levels)]
    g = recent.groupby(["contract_id", "payment_group"], as_index=False)[["referrals", "job_outcomes"]].sum()
    g = g[g["referrals"] > 0]
    g["in_year_rate"] = g["job_outcomes"] / g["referrals"]
    g["mpl"] = g["payment_group"].map(levels)
    g["ratio_to_mpl"] = g["in_year_rate"] / g["mpl"]
    worst = g.sort_values("ratio_to_mpl").groupby("contract_id", as_index=False).first()
    return worst.rename(columns={"payment_group": "worst_group"})


def risk_components(summary: pd.DataFrame, mpl_position: pd.DataFrame) -> pd.DataFrame:
    """Long table: unit, component, score (0 = no concern, 1 = highest), and the detail it comes from."""
    s = summary.merge(
        mpl_position[["contract_id", "worst_group", "in_year_rate", "mpl", "ratio_to_mpl"]],
        on="contract_id",
        how="left",
    )
    rows = []
    for r in s.to_dict("records"):
        unit = f"{r['partner']} ({r['prime']}, CPA {r['cpa_code']})"
        pct = r.get("variance_pct")
        rows.append(
            (
                unit,
                "referral_shortfall",
                float(np.clip(-pct, 0, 1)) if pd.notna(pct) else np.nan,
                f"{r.get('actual_referrals', np.nan):,.0f} actual vs {r.get('projected_referrals', np.nan):,.0f}"
                " projected"
                if pd.notna(pct)
                else "no projection loaded",
            )
        )
        share = r.get("share_of_partner_referrals", np.nan)
        rows.append(
            (
                unit,
                "single_prime_dependence",
                float(share) if r.get("contracts_held", 1) > 1 else 1.0,
                f"{int(r.get('contracts_held', 1))} contract(s); this one brings {share:.0%} of its referrals"
                if pd.notna(share)
                else f"{int(r.get('contracts_held', 1))} contract(s)",
            )
        )
        ratio = r.get("ratio_to_mpl")
        rows.append(
            (
                unit,
                "prime_below_mpl",
                float(np.clip(1.25 - ratio, 0, 1)) if pd.notna(ratio) else np.nan,
                f"{r['worst_group']}: {r['in_year_rate']:.1%} in the last 12 months vs MPL {r['mpl']:.1%}"
                if pd.notna(ratio)
                else f"no {'/'.join(mpl_payment_groups())} referrals in the last 12 months",
            )
        )
        comparison = r.get("adjusted_comparison")
        score = OWN_PERFORMANCE_SCORES.get(comparison, np.nan) if isinstance(comparison, str) else np.nan
        rows.append(
            (
                unit,
                "own_performance",
                score,
                f"observed/expected {r['ratio']:.2f} ({comparison})"
                if pd.notna(r.get("ratio"))
                else "not compared (too few mature cohorts)",
            )
        )
        n_std, below = r.get("standards_measured"), r.get("standards_below", np.nan)
        rows.append(
            (
                unit,
                "standards_missed",
                float(below / n_std) if pd.notna(n_std) and n_std else np.nan,
                f"{int(below)} of {int(n_std)} measured standards significantly below target"
                if pd.notna(n_std) and n_std
                else "no measurable standards",
            )
        )
        sat, complaints = r.get("satisfaction_mean"), r.get("complaints_per_100")
        fb = np.nan
        if pd.notna(sat) or pd.notna(complaints):
            fb = float(np.clip((SATISFACTION_MINIMUM + 1 - (sat if pd.notna(sat) else 4)) / 2, 0, 1))
        rows.append(
            (
                unit,
                "feedback",
                fb,
                f"satisfaction {sat:.1f}/5, {complaints:.1f} complaints per 100 attached"
                if pd.notna(sat) and pd.notna(complaints)
                else "no feedback returns",
            )
        )
    out = pd.DataFrame(rows, columns=["unit", "component", "score", "detail"])
    out["component_label"] = out["component"].map(COMPONENTS)
    return out


def peer_similarity(cohorts: pd.DataFrame, partner_id: int, top: int = 10) -> pd.DataFrame:
    """Partners with the most similar payment-group mix (cosine similarity of referral shares)."""
    mix = cohorts.pivot_table(
        index=["partner_id", "partner", "sector"],
        columns="payment_group",
        values="start_cohort",
        aggfunc="sum",
        fill_value=0,
    )
    shares = mix.div(mix.sum(axis=1).where(mix.sum(axis=1) > 0), axis=0).fillna(0)
    mine = shares.xs(partner_id, level="partner_id")
    if mine.empty:
        return pd.DataFrame(columns=["partner_id", "partner", "sector", "similarity"])
    v = mine.iloc[0].to_numpy()
    norms = np.linalg.norm(shares.to_numpy(), axis=1) * np.linalg.norm(v)
    sim = shares.to_numpy() @ v / np.where(norms > 0, norms, 1)
    out = shares.reset_index()[["partner_id", "partner", "sector"]].assign(similarity=sim)
    return out[out["partner_id"] != partner_id].nlargest(top, "similarity")


def wilson_columns(frame: pd.DataFrame, x: str, n: str, prefix: str) -> pd.DataFrame:
    """Add rate and 95% Wilson bounds for x/n (NaN where n is 0 or missing)."""
    ok = frame[n].fillna(0) > 0
    frame[f"{prefix}_rate"] = np.where(ok, frame[x] / frame[n].where(ok), np.nan)
    lower, upper = metrics.wilson_intervals(frame.loc[ok, x], frame.loc[ok, n])
    frame[f"{prefix}_lower"] = np.nan
    frame[f"{prefix}_upper"] = np.nan
    frame.loc[ok, f"{prefix}_lower"] = lower
    frame.loc[ok, f"{prefix}_upper"] = upper
    return frame
