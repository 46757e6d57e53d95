"""Disclosure control for published counts: primary and secondary suppression, and rounding.

Counts 1-4 could identify a person, so they are shown as `*`; 0 is shown as 0 because an empty cell
reveals nothing about anyone. Rates are always computed from the unrounded, unsuppressed figures and
are suppressed wherever their numerator is. `dashboard.metrics` re-exports everything here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESSED = "*"
SMALL_LOW = 1
SMALL_HIGH = 4
ROUNDING_BASE = 5


class InvalidBase(ValueError):
    """A rounding base that is not a positive number."""


def suppress_small(counts, low: int = SMALL_LOW, high: int = SMALL_HIGH):
    """Mask of the counts to suppress: those from `low` to `high` inclusive (0 stays visible)."""
    if isinstance(counts, (pd.Series, pd.DataFrame)):
        return (counts >= low) & (counts <= high)
    values = np.asarray(counts, dtype=float)
    mask = (values >= low) & (values <= high)
    return bool(mask) if mask.ndim == 0 else mask


def secondary_suppress(
    parts: pd.DataFrame, total_col: str | None = None, low: int = SMALL_LOW, high: int = SMALL_HIGH
) -> pd.DataFrame:
    """Mask of cells to suppress in a table whose part columns add up to a row total.

    Rule, row by row:
    1. Primary: every cell from `low` to `high` is suppressed, the `total_col` cell included.
    2. Secondary: where exactly one part is suppressed, the smallest visible non-zero part is
       suppressed too (the leftmost on ties), because the lone part would otherwise equal the total
       minus the visible parts. A zero is never chosen: a `*` hiding a 0 leaves the lone part
       recoverable. Such a part always exists when the total is visible (it exceeds `high` and the
       lone part does not); when the total is itself suppressed, every non-zero part already is.
    Rows with two or more suppressed parts already cannot be solved. Only rows are protected: a table
    that also publishes column totals needs the same pass over its transpose. Without `total_col` the
    total is taken to be the sum of the parts, published elsewhere. The mask has the columns of
    `parts` (the total column included) in their order.
    """
    part_cols = [c for c in parts.columns if c != total_col]
    values = parts[part_cols].to_numpy(dtype=float)
    mask = np.asarray(suppress_small(values, low, high))
    lone = mask.sum(axis=1) == 1
    # Ineligible cells become +inf so argmin finds the smallest visible non-zero part.
    candidates = np.where(~mask & (values > 0), values, np.inf)
    for row in np.flatnonzero(lone):
        col = int(np.argmin(candidates[row]))
        if np.isfinite(candidates[row, col]):
            mask[row, col] = True
    result = pd.DataFrame(mask, index=parts.index, columns=part_cols)
    if total_col:
        result[total_col] = suppress_small(parts[total_col], low, high)
    return result[list(parts.columns)]


def round_to_base(counts, base: int = ROUNDING_BASE):
    """Round counts to the nearest multiple of `base`, halves away from zero (12.5 -> 15 at base 5)."""
    if not base > 0:
        raise InvalidBase(f"base={base} is not positive: round to a base such as 5 or 10")
    values = np.asarray(counts, dtype=float)
    rounded = np.sign(values) * np.floor(np.abs(values) / base + 0.5) * base
    if isinstance(counts, pd.Series):
        return pd.Series(rounded, index=counts.index, name=counts.name)
    if isinstance(counts, pd.DataFrame):
        return pd.DataFrame(rounded, index=counts.index, columns=counts.columns)
    if rounded.ndim == 0:
        return int(rounded) if np.isfinite(rounded) else float("nan")
    return rounded


def format_suppressed(value, suppressed: bool | None = None) -> str:
    """Text for one published cell: "*" when suppressed (by default when 1-4), "" when missing."""
    if suppressed is None:
        suppressed = suppress_small(value)
    if suppressed:
        return SUPPRESSED
    if value is None or pd.isna(value):
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}"
