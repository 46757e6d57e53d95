"""Contract risk, component by component: which partner contracts to look at first, never one score.

Pure pandas over `supply_chain.risk_components` (and `partner_summary`): the Contract risk page's tables,
their order, its high performers and the window its minimum-performance-level comparison reads.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd

from dashboard.publication import Publish, Published
from dashboard.queries import Filters
from dashboard.reference import mpl_payment_groups
from dashboard.supply_chain import rating_decimals

MPL_WINDOW_MONTHS = 12  # the MPL comparison reads the latest year of referrals and in-year outcomes


def riskiest_first(components: pd.DataFrame) -> list[str]:
    """Partner contracts (units) in the order to look at them: by their highest component score, then their
    next highest, and so on, then by name. Components are compared, never added; a missing score is no concern.
    """
    # The units are risk_components' "partner (prime, CPA n)" labels: pandas types a group key as any scalar.
    ranked = {
        cast(str, unit): sorted(part["score"].fillna(0.0), reverse=True) for unit, part in components.groupby("unit")
    }
    width = max((len(scores) for scores in ranked.values()), default=0)
    return sorted(ranked, key=lambda unit: ([-s for s in ranked[unit]] + [0.0] * (width - len(ranked[unit])), unit))


def component_table(components: pd.DataFrame, values: str = "score") -> pd.DataFrame:
    """Unit x component label of `values` ("score" or "detail"), the units riskiest first."""
    wide = components.pivot_table(index="unit", columns="component_label", values=values, aggfunc="first")
    return wide.reindex(riskiest_first(components))


def high_performers(summary: pd.DataFrame) -> pd.DataFrame:
    """Which partner contracts should be kept if their prime fails? Those with outcomes significantly better
    than expected for their case mix."""
    return summary[summary["adjusted_comparison"] == "Better"]


def mpl_window(as_of: date) -> Filters:
    """What the MPL comparison reads: the payment groups with a published level, over the 12 months to `as_of`."""
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=MPL_WINDOW_MONTHS - 1)).date()
    return Filters(payment_groups=mpl_payment_groups(), period_from=start, period_to=as_of)


PERFORMER_COLUMNS = [
    "partner",
    "sector",
    "prime",
    "cpa_code",
    "outcomes_x",
    "outcomes_n",
    "outcome_rate",
    "outcome_rate_low",
    "outcome_rate_high",
    "ratio",
]


def performer_extras(published: Published, raw: pd.DataFrame) -> pd.DataFrame:
    """The high performers' observed / expected ratio: a rating at the policy's rating precision, shown only
    where the job outcomes it divides are published."""
    ratio = pd.to_numeric(raw["ratio"], errors="coerce") if "ratio" in raw else pd.Series(np.nan, index=raw.index)
    shown = published.status["outcomes_x"].reset_index(drop=True) == ""
    return pd.DataFrame({"ratio": ratio.round(rating_decimals(published.policy)).reset_index(drop=True).where(shown)})


def sector_shown(sidebar_sector: str | None, vcs_only: bool) -> str | None:
    """Whose contracts the page lists: the sector chosen in the sidebar when there is one (it wins over the page's
    "VCS partners only", which the page then shows as off and says why), else VCS partners when that is on."""
    if sidebar_sector is not None:
        return sidebar_sector
    return "vcs" if vcs_only else None


def published_component_table(components: pd.DataFrame, publish: Publish) -> Any:
    """The components table as downloaded: the table on screen (a row per partner contract, riskiest first, a
    column per component's score, a rating) with, after each score, what it is built from, which
    `supply_chain.risk_components` wrote from published figures only. It holds no counts."""
    scores, details = component_table(components, "score"), component_table(components, "detail")
    columns: dict[str, pd.Series] = {"partner contract": pd.Series(scores.index, index=scores.index)}
    for label in scores.columns:
        columns[str(label)] = scores[label]
        columns[f"{label}: built from"] = details[label]
    wide = pd.DataFrame(columns).reset_index(drop=True)
    return publish(wide, counts=[], keep=list(wide.columns))
