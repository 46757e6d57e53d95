"""One row per partner contract with everything the Supply chain and Contract risk pages show.

Volumes, share of the prime's referrals, the job outcome rate against the programme benchmark, the case-mix
adjusted ratio, referrals against projection, standards compliance and feedback, each with the numbers it
is built from. Risk is a set of transparent components, never a single opaque score.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from dashboard import benchmarks as bm
from dashboard import metrics, referrals, settings
from dashboard.feedback import SATISFACTION_MINIMUM
from dashboard.publication import Policy, Publish, Published
from dashboard.queries import Filters
from dashboard.reference import mpl_payment_groups

KEYS = ["partner_id", "contract_id"]
COMPONENTS = {
    "referral_shortfall": "Referrals below projection",
    "single_prime_dependence": "Dependence on one prime contract",
    "prime_below_mpl": "Prime contract near or below its minimum performance level",
    "own_performance": "Partner's own outcomes worse than expected",
    "standards_missed": "Service standards below target",
    "feedback": "Complaints and satisfaction",
}
OWN_PERFORMANCE_SCORES = {"Worse": 1.0, "Similar": 0.3, "Better": 0.0}  # adjusted comparison -> component score


# --- publishing (issue 10) -------------------------------------------------------------------------------------
# A page hands in `publication.publish_table` bound to the viewer's policy (`publication.Publish`). Everything
# these functions return for showing is made from published figures only; scores and comparisons are ratings
# computed from the unpublished figures.

PROJECTION_COUNTS = ["actual_referrals", "unprojected_referrals", "projected_referrals"]
TABLE_COUNTS = ["referrals", *PROJECTION_COUNTS, "outcomes_x", "outcomes_n"]
RISK_COUNTS = [*TABLE_COUNTS, "complaints", "attachments", "responses"]
OUTCOME_RATE = {"outcome_rate": ("outcomes_x", "outcomes_n")}
RISK_RATES = {**OUTCOME_RATE, "complaint_rate": ("complaints", "attachments")}
# referrals = referrals in months with a projection + the rest, on every row: published as a row identity, so
# a hidden referrals cell cannot be read off its actual referrals (nor the other way round).
REFERRAL_PARTS = {"referrals": ("actual_referrals", "unprojected_referrals")}
TABLE_LABELS = [
    "partner",
    "sector",
    "tier",
    "comparison",
    "adjusted_comparison",
    "projection_status",
    "standards_measured",
    "standards_met",
    "standards_below",
]
RISK_LABELS = ["partner", "sector", "prime", "cpa_code", "adjusted_comparison"]
RATING_DECIMALS = {True: 1, False: 2}  # scores and observed/expected ratios: public, member


def rating_decimals(policy: Policy | None) -> int:
    """Decimals of a rating (risk score, observed/expected): coarse in public mode."""
    return RATING_DECIMALS[True if policy is None else bool(policy.public)]


def percent_text(value, policy: Policy | None) -> str:
    """A published proportion as text at the policy's precision ("23%" public, "23.4%" member); "" if missing."""
    if policy is None or value is None or pd.isna(value):
        return ""
    value = policy.round_rate(float(value))
    return f"{value * 100:.{max(policy.rate_decimals - 2, 0)}f}%"


def publishable(summary: pd.DataFrame, counts: list[str]) -> pd.DataFrame:
    """`summary` with its counts as `publish_table` takes them (missing columns blank, projections whole), and
    referrals split into months with a projection (actual_referrals) and the rest (unprojected_referrals).
    A partner contract whose actual referrals exceed its referrals (inconsistent data) publishes no projection."""
    raw = summary.reset_index(drop=True).copy()
    for column in ["referrals", "actual_referrals", "projected_referrals", *counts]:
        if column not in raw:
            raw[column] = np.nan
    referrals = pd.to_numeric(raw["referrals"], errors="coerce")
    actual = pd.to_numeric(raw["actual_referrals"], errors="coerce")
    projected = pd.to_numeric(raw["projected_referrals"], errors="coerce").round()
    known = actual.notna() & projected.notna() & referrals.notna() & (actual <= referrals)
    raw["actual_referrals"] = actual.where(known)
    raw["projected_referrals"] = projected.where(known)
    raw["unprojected_referrals"] = referrals - raw["actual_referrals"].fillna(0)
    return raw


def _same(a: Published, b: Published) -> bool:
    """The same published counts, rates and marks (a may carry more label columns)."""
    columns = list(b.frame.columns)
    return bool(
        a.frame[columns].reset_index(drop=True).equals(b.frame.reset_index(drop=True))
        and a.status.reset_index(drop=True).equals(b.status.reset_index(drop=True))
    )


def publish_partner_table(
    summary: pd.DataFrame,
    publish: Publish,
    *,
    counts: list[str] = TABLE_COUNTS,
    rates: dict[str, tuple[str, str]] = OUTCOME_RATE,
    labels: list[str] = TABLE_LABELS,
    totals: tuple[str, ...] = (),
    extras: Callable[[Published, pd.DataFrame], pd.DataFrame] | None = None,
    largest_first: bool = False,
) -> Any:
    """Partner contracts published: counts, `rates` with Wilson intervals from the published counts, `labels`,
    and the label columns `extras(published, raw)` computes from a first publication of the same table.

    Each row's organisation is its partner (member mode: the viewer's own exact). `largest_first` orders rows
    by published referrals, then partner; if that order changes which cells are hidden (ties in secondary
    suppression), the rows keep `summary`'s order. The last publication is checked to equal the first.
    """
    raw = publishable(summary, counts)
    kwargs: dict[str, Any] = {
        "counts": counts,
        "rates": rates,
        "intervals": True,
        "totals": totals,
        "sums": REFERRAL_PARTS if set(REFERRAL_PARTS["referrals"]) <= set(counts) else None,
        "owner": "partner_id",
    }
    keep = [c for c in labels if c in raw.columns]
    first = publish(raw, keep=keep, **kwargs)
    if largest_first:
        order = (
            first.frame.assign(_partner=raw["partner"])
            .sort_values(["referrals", "_partner"], ascending=[False, True], na_position="last")
            .index
        )
        ranked = raw.loc[order].reset_index(drop=True)
        again = publish(ranked, keep=keep, **kwargs)
        reordered_frame = first.frame.loc[order].reset_index(drop=True)
        reordered_status = first.status.loc[order].reset_index(drop=True)
        if again.frame.equals(reordered_frame) and again.status.reset_index(drop=True).equals(reordered_status):
            raw, first = ranked, again
    if extras is None:
        return first
    extra = extras(first, raw).reset_index(drop=True)
    final = publish(
        raw.drop(columns=list(extra.columns), errors="ignore").join(extra), keep=[*keep, *extra.columns], **kwargs
    )
    if not _same(final, first):
        raise RuntimeError("publishing the same table twice gave different figures")
    return final


def contract_extras(published: Published, raw: pd.DataFrame) -> pd.DataFrame:
    """The Supply chain table's derived columns, from the published figures of `published` (and ratings):
    share of the contract's published referrals total, variance of published actual against published projected
    referrals, the observed/expected ratio (a rating, only where job outcomes are shown) and the flags."""
    frame, status, policy = published.frame, published.status, published.policy
    total = published.totals.get("referrals", np.nan) if len(published.totals) else np.nan
    share = frame["referrals"] / total if pd.notna(total) and total > 0 else pd.Series(np.nan, index=frame.index)
    projected = frame["projected_referrals"]
    variance = (frame["actual_referrals"] - projected) / projected.where(projected > 0)
    variance = variance.map(lambda v: policy.round_rate(v) if pd.notna(v) else np.nan)
    ratio = pd.to_numeric(raw.get("ratio", pd.Series(np.nan, index=raw.index)), errors="coerce")
    ratio = ratio.round(rating_decimals(policy)).where(status["outcomes_x"] == "")
    flag_rows = []
    for i, r in enumerate(raw.to_dict("records")):
        sat_ok = pd.notna(r.get("responses")) and r["responses"] > policy.suppress_max
        row = {
            **r,
            "variance_pct": variance.iloc[i],
            "variance_text": percent_text(variance.iloc[i], policy),
            "satisfaction_mean": r.get("satisfaction_mean") if sat_ok else np.nan,
        }
        flag_rows.append("; ".join(flags(row)))
    return pd.DataFrame(
        {
            "share_of_contract": [percent_text(v, policy) for v in share],
            "variance_pct": [percent_text(v, policy) for v in variance],
            "ratio": ratio,
            "flags": flag_rows,
        }
    )


def published_benchmark(summary: pd.DataFrame, publish: Publish) -> float:
    """The all-CPA benchmark (pooled job outcome rate) as published: from its published counts (NaN if none)."""
    if summary.empty or "benchmark_x" not in summary:
        return float("nan")
    raw = pd.DataFrame({"x": [summary["benchmark_x"].iloc[0]], "n": [summary["benchmark_n"].iloc[0]]})
    return float(publish(raw, counts=["x", "n"], rates={"benchmark": ("x", "n")}).frame["benchmark"].iloc[0])


def publish_mpl_position(mpl_position: pd.DataFrame, publish: Publish) -> Any:
    """Each prime contract's worst-group in-year rate, from its published job outcomes and referrals."""
    raw = mpl_position.copy()
    for column in ("job_outcomes", "referrals"):
        if column not in raw:
            raw[column] = np.nan
    return publish(
        raw,
        counts=["job_outcomes", "referrals"],
        rates={"in_year_rate": ("job_outcomes", "referrals")},
        keep=["contract_id", "worst_group", "mpl"],
    )


def partner_summary(
    flows: pd.DataFrame,
    cohorts: pd.DataFrame,
    variance: pd.DataFrame,
    compliance: pd.DataFrame | None,
    feedback: pd.DataFrame,
    *,
    min_n: int | None = None,
    everywhere: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Join the per-partner-contract pieces; every rate keeps its x and n.

    Outcomes of partners with a cohort below `min_n` (default: the min_denominator setting) are not compared.
    `everywhere` is `queries.flow_totals` for every CPA, prime and sector (the same months): a partner's
    contracts held and its share of referrals are the partner's whole business, not the part a filter shows
    (a partner with two contracts must not look wholly dependent when one CPA is chosen).
    """
    org = ["partner_id", "partner", "sector", "tier", "contract_id", "prime", "prime_id", "cpa_code"]
    volumes = metrics.known_totals(flows, org, ["referrals", "attachments", "job_starts", "job_outcomes"])
    contract_refs = volumes.groupby("contract_id")["referrals"].transform("sum")
    volumes["share_of_contract"] = volumes["referrals"] / contract_refs.where(contract_refs > 0)
    table = bm.benchmark_table(cohorts, "partner", "job_outcome_rate", "all", min_n=min_n) if len(cohorts) else None
    measure = bm.MEASURES["job_outcome_rate"]
    if len(cohorts):  # the benchmark's own counts, so that it can be published like any other rate
        volumes["benchmark_x"], volumes["benchmark_n"] = cohorts[measure.x].sum(), cohorts[measure.n].sum()
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
    whole = everywhere if everywhere is not None else flows
    held = whole.groupby("partner_id")["contract_id"].nunique()
    partner_total = volumes["partner_id"].map(whole.groupby("partner_id")["referrals"].sum(min_count=1))
    volumes["contracts_held"] = volumes["partner_id"].map(held).fillna(1).astype(int)
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
        everywhere=query(
            "flow_totals",
            Filters(
                period_from=filters.period_from, period_to=filters.period_to, payment_groups=filters.payment_groups
            ),
        ),
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
        text = row.get("variance_text") or (f"{row['variance_pct']:.0%}" if pd.notna(row.get("variance_pct")) else "")
        out.append(f"referrals {text} against projection" if text else "referrals below projection")
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
    # A group whose referrals or outcomes are unknown (not reported, suppressed) is out of the comparison.
    recent = flow_totals[flow_totals["payment_group"].isin(levels)].dropna(subset=["referrals", "job_outcomes"])
    g = recent.groupby(["contract_id", "payment_group"], as_index=False)[["referrals", "job_outcomes"]].sum()
    g = g[g["referrals"] > 0]
    g["in_year_rate"] = g["job_outcomes"] / g["referrals"]
    g["mpl"] = g["payment_group"].map(levels)
    g["ratio_to_mpl"] = g["in_year_rate"] / g["mpl"]
    worst = g.sort_values("ratio_to_mpl").groupby("contract_id", as_index=False).first()
    return worst.rename(columns={"payment_group": "worst_group"})


def risk_components(
    summary: pd.DataFrame,
    mpl_position: pd.DataFrame,
    shown: Published | None = None,
    mpl_shown: Published | None = None,
) -> pd.DataFrame:
    """Long table: unit, component, score (0 = no concern, 1 = highest), and the detail it comes from.

    Scores are ratings computed from the unpublished figures, rounded to `rating_decimals` of the viewer's
    policy. The detail quotes published figures only: `shown` is `publish_partner_table(summary, ...,
    counts=RISK_COUNTS, rates=RISK_RATES)` (its rows in `summary`'s order) and `mpl_shown` is
    `publish_mpl_position(mpl_position, ...)`. Without them the detail names no figure at all.
    """
    policy = shown.policy if shown is not None else None
    digits = rating_decimals(policy)
    summary = summary.reset_index(drop=True)
    frame = shown.frame if shown is not None else pd.DataFrame(index=summary.index)
    text = shown.display() if shown is not None else pd.DataFrame(index=summary.index)
    status = shown.status if shown is not None else pd.DataFrame(index=summary.index)
    mpl_text = _mpl_text(mpl_shown)
    dependence = _published_partner_shares(summary, frame)
    s = summary.merge(
        mpl_position[["contract_id", "worst_group", "in_year_rate", "mpl", "ratio_to_mpl"]],
        on="contract_id",
        how="left",
    )
    rows = []
    for i, r in enumerate(s.to_dict("records")):
        unit = f"{r['partner']} ({r['prime']}, CPA {r['cpa_code']})"
        pct = r.get("variance_pct")
        rows.append(
            (
                unit,
                "referral_shortfall",
                float(np.clip(-pct, 0, 1)) if pd.notna(pct) else np.nan,
                _shortfall(i, pct, text),
            )
        )
        share = r.get("share_of_partner_referrals", np.nan)
        held = int(r.get("contracts_held", 1))
        # The published share needs all of the partner's contracts in view; otherwise only how many it holds.
        in_view = int((s["partner_id"] == r["partner_id"]).sum()) if "partner_id" in s else held
        brings = dependence.iloc[i] if len(dependence) and in_view == held else np.nan
        rows.append(
            (
                unit,
                "single_prime_dependence",
                float(share) if held > 1 else 1.0,
                f"{held} contract(s); this one brings {percent_text(brings, policy)} of its referrals"
                if pd.notna(brings) and policy is not None
                else f"{held} contract(s)",
            )
        )
        ratio = r.get("ratio_to_mpl")
        if pd.notna(ratio):
            rate = mpl_text.get(r["contract_id"], "")
            rate = rate if rate and rate[0].isdigit() else "a rate not shown (small numbers)"
            mpl_detail = f"{r['worst_group']}: {rate} in the last 12 months vs MPL {r['mpl']:.1%}"
        else:
            mpl_detail = f"no {'/'.join(mpl_payment_groups())} referrals in the last 12 months"
        rows.append(
            (unit, "prime_below_mpl", float(np.clip(1.25 - ratio, 0, 1)) if pd.notna(ratio) else np.nan, mpl_detail)
        )
        comparison = r.get("adjusted_comparison")
        score = OWN_PERFORMANCE_SCORES.get(comparison, np.nan) if isinstance(comparison, str) else np.nan
        if pd.isna(r.get("ratio")):
            own = "not compared (too few mature cohorts)"
        elif _shown(status, i, "outcomes_x") and policy is not None:
            own = f"observed/expected {r['ratio']:.{digits}f} ({comparison})"
        else:
            own = (
                f"{comparison} than expected for its case mix" if comparison in ("Better", "Worse") else str(comparison)
            )
        rows.append((unit, "own_performance", score, own))
        n_std, below = r.get("standards_measured"), r.get("standards_below", np.nan)
        rows.append(
            (
                unit,
                "standards_missed",
                float(below / n_std) if pd.notna(n_std) and n_std else np.nan,
                # counts of the prime's standards, not of people
                f"standards significantly below target: {int(below)}, measured: {int(n_std)}"
                if pd.notna(n_std) and n_std
                else "no measurable standards",
            )
        )
        sat, complaints = r.get("satisfaction_mean"), r.get("complaints_per_100")
        fb = np.nan
        if pd.notna(sat) or pd.notna(complaints):
            fb = float(np.clip((SATISFACTION_MINIMUM + 1 - (sat if pd.notna(sat) else 4)) / 2, 0, 1))
        rows.append((unit, "feedback", fb, _feedback(i, sat, frame, status, policy)))
    out = pd.DataFrame(rows, columns=["unit", "component", "score", "detail"])
    out["score"] = out["score"].round(digits)
    out["component_label"] = out["component"].map(COMPONENTS)
    return out


def _shown(status: pd.DataFrame, row: int, column: str) -> bool:
    return column in status.columns and status[column].iloc[row] == ""


def _shortfall(row: int, pct, text: pd.DataFrame) -> str:
    if pd.isna(pct):
        return "no projection loaded"
    if "actual_referrals" not in text.columns or not text["projected_referrals"].iloc[row]:
        return "referrals against projection"
    return f"{text['actual_referrals'].iloc[row]} actual vs {text['projected_referrals'].iloc[row]} projected"


def _feedback(row: int, sat, frame: pd.DataFrame, status: pd.DataFrame, policy) -> str:
    """Satisfaction (a mean score, only where the number of responses is published) and complaints per 100
    attached participants from the published counts."""
    parts = []
    if pd.notna(sat) and _shown(status, row, "responses") and frame["responses"].iloc[row] > 0:
        parts.append(f"satisfaction {sat:.1f}/5")
    if "complaint_rate" in frame.columns and pd.notna(frame["complaint_rate"].iloc[row]):
        per_100 = frame["complaint_rate"].iloc[row] * 100
        parts.append(f"{per_100:.{max(policy.rate_decimals - 2, 0)}f} complaints per 100 attached")
    elif "complaints" in status.columns and status["complaints"].iloc[row]:
        parts.append("complaints per 100 attached not shown (small numbers)")
    return ", ".join(parts) if parts else "no feedback returns"


def _published_partner_shares(summary: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    """Each partner contract's share of its partner's referrals, from the published referrals only (NaN where
    any of the partner's contracts has its referrals hidden)."""
    if "referrals" not in frame.columns or "partner_id" not in summary.columns:
        return pd.Series(dtype=float)
    published = frame["referrals"].reset_index(drop=True)
    by_partner = published.groupby(summary["partner_id"])
    total = by_partner.transform(lambda v: v.sum() if v.notna().all() else np.nan)
    return published / total.where(total > 0)


def _mpl_text(mpl_shown: Published | None) -> dict:
    if mpl_shown is None:
        return {}
    shown = mpl_shown.display()
    return dict(zip(shown["contract_id"], shown["in_year_rate"]))


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
