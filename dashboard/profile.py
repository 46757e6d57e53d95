"""A partner's profile: its indicators against the all-CPA distribution of partners (the rows of the spine
chart), its quarterly trends and its peers' outcomes, every figure as published to the viewer (issue 10).

Everything here is built through a `publish` callable (`publication.Publish`: `publish_table` with the viewer's
policy bound by the page, so this module never chooses the policy). What a page shows comes only from the
`Published` tables these functions return, and every derived figure (benchmarks, the spread of partners,
comparisons, trend labels, peer similarity) is computed from published counts, never from the raw ones.

How the tables fit together, so that nothing hidden in one can be worked out from another:
- the partner's trend (one row per quarter) publishes its column totals, and those totals ARE the partner's
  job start and job outcome counts in the spine table; a total the trend withholds is withheld from the spine;
- the all-partner table (the spread and the benchmark) and the peers table publish no totals, so a partner's
  counts are hidden alike in both (primary suppression only), and the spine replaces the partner's own row;
- the benchmark pools the published counts, so it tells nothing the published rows do not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dashboard import benchmarks as bm
from dashboard import metrics, settings, supply_chain
from dashboard.publication import Publish, Published

INDICATORS = ("attachment_rate", "job_start_rate", "job_outcome_rate")
TREND_INDICATORS = ("job_start_rate", "job_outcome_rate")
PEER_MEASURE = "job_outcome_rate"
COUNTS = ("attached", "attach_cohort", "job_starts", "start_cohort", "job_outcomes", "outcome_cohort")
TREND_COUNTS = ("start_cohort", "job_starts", "outcome_cohort", "job_outcomes")
SPREAD = ("minimum", "q25", "median", "q75", "maximum")
SPINE_KEEP = ["indicator", "benchmark", "comparison", *SPREAD, "partners_compared"]
# Published column -> what the chart builders and the tables call it.
SPINE_NAMES = {"value_low": "lower", "value_high": "upper"}
SPINE_ORDER = [
    "indicator",
    "x",
    "n",
    "value",
    "lower",
    "upper",
    "comparison",
    "benchmark",
    *SPREAD,
    "partners_compared",
]
PEER_NAMES = {"outcome_rate_low": "outcome_lower", "outcome_rate_high": "outcome_upper"}
TOP_PEERS = 10


def partner_counts(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Raw counts per partner, pooled over its contracts and payment groups (partner_id, partner, sector and
    COUNTS): the all-partner table before publication."""
    labels = cohorts.groupby("partner_id", sort=True)[["partner", "sector"]].first()
    counts = cohorts.groupby("partner_id", sort=True)[list(COUNTS)].sum()
    return labels.join(counts).reset_index()


def publish_partners(cohorts: pd.DataFrame, publish: Publish) -> Published:
    """Every partner's counts and indicator rates as published (no totals: the benchmark pools these)."""
    return publish(
        partner_counts(cohorts),
        counts=list(COUNTS),
        rates={key: (bm.MEASURES[key].x, bm.MEASURES[key].n) for key in INDICATORS},
        owner="partner_id",
        keep=["partner_id", "partner", "sector"],
    )


def quarter_counts(series: pd.DataFrame) -> pd.DataFrame:
    """Raw cohort counts per quarter (period and TREND_COUNTS), pooled over the partner's contracts, oldest
    first; quarters without any cohort are left out."""
    rows = series.groupby("period", as_index=False, sort=True)[list(TREND_COUNTS)].sum()
    return rows[(rows["start_cohort"] > 0) | (rows["outcome_cohort"] > 0)].reset_index(drop=True)


def publish_trend(series: pd.DataFrame, partner_id: int, publish: Publish) -> Published:
    """The partner's quarters as published, with job start and job outcome rates and their Wilson intervals.

    The column totals are published too: they are the partner's counts in the spine table, so a quarter that
    is hidden stays hidden however the quarters are added up.
    """
    raw = quarter_counts(series)
    return publish(
        raw,
        counts=list(TREND_COUNTS),
        rates={key: (bm.MEASURES[key].x, bm.MEASURES[key].n) for key in TREND_INDICATORS},
        intervals=True,
        totals=tuple(TREND_COUNTS),
        owner=pd.Series([partner_id] * len(raw), index=raw.index, dtype=object),
        keep=["period"],
    )


def trend_lines(trend: Published) -> pd.DataFrame:
    """The trend chart's rows from the published quarters: period, series (the measure's label), x, n, rate,
    lower, upper; a quarter without a cohort for a measure is left out of its line (NaN where hidden)."""
    frame = trend.frame
    lines = []
    for key in TREND_INDICATORS:
        m = bm.MEASURES[key]
        line = pd.DataFrame(
            {
                "period": frame["period"],
                "series": m.label,
                "x": frame[m.x],
                "n": frame[m.n],
                "rate": frame[key],
                "lower": frame[f"{key}_low"],
                "upper": frame[f"{key}_high"],
            }
        )
        lines.append(line[line["n"] != 0])
    columns = ["period", "series", "x", "n", "rate", "lower", "upper"]
    return pd.concat(lines, ignore_index=True) if lines else pd.DataFrame(columns=columns)


def trend_labels(trend: Published) -> dict[str, str]:
    """Has the partner's job start rate, and its job outcome rate, risen or fallen? Measure label -> the
    chi-square trend label over its five most recent quarters, from the published counts (a hidden count in
    those quarters means it cannot be calculated)."""
    lines = trend_lines(trend)
    return {
        bm.MEASURES[key].label: bm.trend_label(lines[lines["series"] == bm.MEASURES[key].label])
        for key in TREND_INDICATORS
    }


def spine_counts(cohorts: pd.DataFrame, partner_id: int, trend: Published | None = None) -> pd.DataFrame:
    """Raw x and n of the partner for each indicator it has a cohort for (indicator, key, x, n).

    With `trend` (its `publish_trend`), a count whose trend total is withheld for a secondary reason is left
    blank, so that the spine does not publish the sum the trend keeps back.
    """
    counts = partner_counts(cohorts).set_index("partner_id")
    if partner_id not in counts.index:
        return pd.DataFrame(columns=["indicator", "key", "x", "n"])
    mine = {str(c): float(v) for c, v in counts.loc[partner_id, list(COUNTS)].to_dict().items()}
    withheld: set[str] = set()
    if trend is not None:
        small = trend.policy.suppress_max
        status = trend.totals_status
        withheld = {c for c in TREND_COUNTS if c in status and status[c] != "" and mine[c] > small}
    rows = []
    for key in INDICATORS:
        m = bm.MEASURES[key]
        if mine[m.n] > 0:
            x = np.nan if m.x in withheld else mine[m.x]
            n = np.nan if m.n in withheld else mine[m.n]
            rows.append({"indicator": m.label, "key": key, "x": x, "n": n})
    return pd.DataFrame(rows, columns=["indicator", "key", "x", "n"])


def _publish_spine(raw: pd.DataFrame, partner_id: int, publish: Publish, keep: list[str]) -> Published:
    return publish(
        raw,
        counts=["x", "n"],
        rates={"value": ("x", "n")},
        intervals=True,
        owner=pd.Series([partner_id] * len(raw), index=raw.index, dtype=object),
        keep=keep,
    )


def spread_of_partners(
    partners: Published, partner_id: int, spine: pd.DataFrame, *, min_n: int
) -> dict[str, dict[str, Any]]:
    """Per indicator key: the benchmark (pooled published counts of every partner), the spread (minimum,
    quartiles, maximum) of the published rates of partners with a published n of at least `min_n`, and how many
    partners that is. The partner's own figures are its spine ones (`spine`: a published spine frame)."""
    policy = partners.policy
    frame = partners.frame
    others = frame[frame["partner_id"] != partner_id]
    mine = spine.set_index("key") if len(spine) else pd.DataFrame(columns=["x", "n", "value"])
    out: dict[str, dict[str, Any]] = {}
    for key in INDICATORS:
        m = bm.MEASURES[key]
        x, n, rate = others[m.x].tolist(), others[m.n].tolist(), others[key].tolist()
        if key in mine.index:
            x.append(mine.loc[key, "x"])
            n.append(mine.loc[key, "n"])
            rate.append(mine.loc[key, "value"])
        xa, na, ra = (np.asarray(v, dtype=float) for v in (x, n, rate))
        pooled = ~np.isnan(xa) & ~np.isnan(na) & (na > 0)
        total_n = na[pooled].sum()
        benchmark = policy.round_rate(float(xa[pooled].sum() / total_n)) if total_n > 0 else np.nan
        compared = pd.Series(ra[~np.isnan(ra) & ~np.isnan(na) & (na >= min_n)])
        row: dict[str, Any] = {"benchmark": benchmark, "partners_compared": len(compared)}
        for name, q in zip(SPREAD, (0, 0.25, 0.5, 0.75, 1)):
            row[name] = policy.round_rate(float(compared.quantile(q))) if len(compared) else np.nan
        out[key] = row
    return out


def publish_spine(
    cohorts: pd.DataFrame,
    partner_id: int,
    publish: Publish,
    *,
    trend: Published | None = None,
    min_n: int | None = None,
) -> Published:
    """One row per indicator: the partner's published x, n, value and Wilson interval (`value_low`,
    `value_high`), the benchmark, Better / Similar / Worse against it, and the spread of all partners.

    Every figure comes from published counts: the partner's own (exact in member mode for the viewer's own
    organisation), the others' from `publish_partners`. The spread is over partners with at least `min_n`
    (default: the min_denominator setting) in the published denominator. Empty if the partner has no cohort.
    """
    min_n = settings.get("min_denominator") if min_n is None else min_n
    raw = spine_counts(cohorts, partner_id, trend)
    first = _publish_spine(raw, partner_id, publish, ["indicator", "key"]).frame
    spread = spread_of_partners(publish_partners(cohorts, publish), partner_id, first, min_n=min_n)
    derived = pd.DataFrame([spread[key] for key in raw["key"]], index=raw.index, columns=[*SPREAD, "benchmark"])
    derived["partners_compared"] = [spread[key]["partners_compared"] for key in raw["key"]]
    comparison = metrics.compare_to_benchmark(
        first["x"].to_numpy(dtype=float), first["n"].to_numpy(dtype=float), derived["benchmark"], min_n=min_n
    )
    derived["comparison"] = list(comparison) if len(raw) else []
    return _publish_spine(raw.join(derived), partner_id, publish, SPINE_KEEP)


def spine_rows(spine: Published) -> pd.DataFrame:
    """The spine chart's rows: the published frame with its interval named `lower` and `upper`."""
    return spine.frame.rename(columns=SPINE_NAMES)


def publish_mix(cohorts: pd.DataFrame, publish: Publish) -> Published:
    """Each partner's cohort (start_cohort) per payment group, as published: the basis of peer similarity."""
    mix = cohorts.pivot_table(index="partner_id", columns="payment_group", values="start_cohort", aggfunc="sum")
    mix = mix.fillna(0)
    groups = [str(g) for g in mix.columns]
    mix.columns = pd.Index(groups)
    labels = cohorts.groupby("partner_id")[["partner", "sector"]].first()
    raw = labels.join(mix).reset_index()
    return publish(raw, counts=groups, owner="partner_id", keep=["partner_id", "partner", "sector"])


def peer_similarities(cohorts: pd.DataFrame, partner_id: int, publish: Publish) -> pd.DataFrame:
    """Every other partner's cosine similarity to the partner's payment-group mix, from the published mix (a
    hidden count counts as 0), at the policy's rate precision: partner_id, partner, sector, similarity, most
    similar first (ties by name)."""
    mix = publish_mix(cohorts, publish)
    frame = mix.frame
    groups = [c for c in frame.columns if c not in ("partner_id", "partner", "sector")]
    long = frame.melt(
        id_vars=["partner_id", "partner", "sector"], value_vars=groups, var_name="payment_group", value_name="n"
    )
    long = long.assign(start_cohort=long["n"].fillna(0))
    similar = supply_chain.peer_similarity(long, partner_id, top=len(frame))
    similar = similar.assign(similarity=[mix.policy.round_rate(s) for s in similar["similarity"]])
    return similar.sort_values(["similarity", "partner"], ascending=[False, True], ignore_index=True)


def publish_peers(cohorts: pd.DataFrame, partner_id: int, publish: Publish, top: int = TOP_PEERS) -> Published:
    """Who are the partner's peers, and how do they do? The `top` partners closest by payment-group mix, each
    with its published job outcome x, n, `outcome_rate` and 95% Wilson interval (`outcome_rate_low`/`_high`)."""
    m = bm.MEASURES[PEER_MEASURE]
    peers = peer_similarities(cohorts, partner_id, publish).head(top)
    totals = cohorts.groupby("partner_id")[[m.x, m.n]].sum().rename(columns={m.x: "x", m.n: "n"})
    raw = peers.join(totals, on="partner_id")
    return publish(
        raw,
        counts=["x", "n"],
        rates={"outcome_rate": ("x", "n")},
        intervals=True,
        owner="partner_id",
        keep=["partner_id", "partner", "sector", "similarity"],
    )
