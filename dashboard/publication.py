"""The one publication boundary: every figure a page shows or a download carries passes through here (issue 10).

A page hands `publish_table` its raw counts and a `Policy` made from the viewer's `Access`; it gets back a
`Published`, the only thing it may show. `Published` cannot be built any other way, and every column not named
as a count, a rate or a label is dropped, so nothing unpublished leaks by default.

The policy
----------
Primary suppression (every mode): a count from 1 to `suppress_max` (default 4) about anyone but the viewer's
own organisation is hidden and marked `*` (PRIMARY). 0 is shown: an empty cell reveals nothing about anyone.

Public mode (`Policy.for_access` of a public `Access`):
- counts still shown are rounded to the nearest multiple of `rounding_base` (default 5; halves away from zero);
  0 stays 0 and no shown non-zero count rounds to 0;
- rates, shares and Wilson intervals are computed from the PUBLISHED (rounded) counts, and shown as proportions
  to `public_rate_decimals` places (default 2: whole percentage points). x=7, n=23 publishes 5, 25 and 20%.

Member mode: counts about the viewer's own organisation (`Access.partner_ids`; every row with
`Access.all_detail`) are exact and never hidden; other counts get primary suppression and are otherwise exact;
rates are shown to 3 places (0.1 percentage points). A row's organisation comes from `owner` (partner ids); the
policy, not the page, decides which rows are the viewer's own.

Any rate whose numerator or denominator is hidden is hidden with it (and so are its interval bounds).

Secondary suppression (every mode, wherever a hidden cell could otherwise be worked out)
--------------------------------------------------------------------------------------
The published constraints are the column totals named in `totals` (published by this module: `.totals`) and the
row identities named in `sums` (a count column equals the sum of its part columns on every row). A reader knows:
every shown count (exactly, in the worst case: rounding only widens what they know), that a `*` cell is 1 to
`suppress_max`, that a `**` cell (SECONDARY) is above `suppress_max` (zeros are never hidden for secondary
reasons), that a withheld total (`**`) is some count >= 0, and every published constraint exactly.

Rule: every hidden cell must carry a *certificate*: a cycle of hidden cells through it along which adding +1/-1
alternately (signs fixed by the constraints it passes) keeps every published total and row identity unchanged
and every hidden cell inside what the reader knows of it. The table plus that perturbation is another table
consistent with everything published, in which the cell differs, so every hidden cell has at least two feasible
integer values. (The graph: nodes are the published constraints plus one free node; a hidden cell is an edge
between the constraints it takes part in, the free node standing in for a missing one.) Cells without a
certificate get one by hiding the cheapest extra cells (smallest counts; a column total only when no cell will
do), searching cycles of up to 6 cells. `tests/test_publication.py` checks the promise by brute force: it
enumerates every integer table consistent with what is published for many small random tables.

What the rule does not cover: a reader who reasons about which cells the algorithm *chose* (standard practice
ignores this), and rows ordered by raw values: sort by published values only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from dashboard import settings
from dashboard.metrics import wilson_intervals

PRIMARY = "*"  # a count from 1 to suppress_max
SECONDARY = "**"  # hidden so that a primary cannot be worked out (or a withheld column total)
MEMBER_RATE_DECIMALS = 3  # member mode shows proportions to 0.1 percentage points
MAX_CYCLE = 6  # the longest certificate searched for

_TOKEN = object()  # only this module can make a Published


class Viewer(Protocol):
    """What the policy needs of `dashboard.access.Access` (not imported: access and publication are siblings)."""

    @property
    def mode(self) -> str: ...
    @property
    def partner_ids(self) -> frozenset[int]: ...
    @property
    def all_detail(self) -> bool: ...
    @property
    def public(self) -> bool: ...


class DisclosureError(RuntimeError):
    """A table cannot be published safely (fail closed: show nothing rather than something solvable)."""


@dataclass(frozen=True)
class Policy:
    """How figures are published for one viewer. Make it with `Policy.for_access`."""

    mode: str
    rounding_base: int  # 1 = exact
    suppress_max: int
    rate_decimals: int
    partner_ids: frozenset[int] = field(default_factory=frozenset)
    all_detail: bool = False

    @classmethod
    def for_access(cls, access: Viewer, environ=None) -> Policy:
        """The policy for this viewer: public rounding and coarse rates, or member exactness for their own rows."""
        suppress_max = settings.get("suppress_max", environ)
        if access.public:
            return cls(
                access.mode,
                rounding_base=settings.get("rounding_base", environ),
                suppress_max=suppress_max,
                rate_decimals=settings.get("public_rate_decimals", environ),
            )
        return cls(
            access.mode,
            rounding_base=1,
            suppress_max=suppress_max,
            rate_decimals=MEMBER_RATE_DECIMALS,
            partner_ids=frozenset(access.partner_ids),
            all_detail=access.all_detail,
        )

    @property
    def public(self) -> bool:
        return self.mode == "public"

    def is_own(self, owner) -> bool:
        """Figures about partner `owner` are the viewer's own (exact): member mode, and theirs or all detail."""
        if self.public:
            return False
        if self.all_detail:
            return True
        if owner is None or (isinstance(owner, float) and math.isnan(owner)) or owner is pd.NA:
            return False
        try:
            return int(owner) in self.partner_ids
        except (TypeError, ValueError):
            return False

    def round_count(self, value: float) -> float:
        """A shown count as published: rounded to the base in public mode (never a non-zero count to 0)."""
        base = self.rounding_base
        if base <= 1 or value == 0:
            return float(value)
        rounded = math.floor(abs(value) / base + 0.5) * base
        return float(max(rounded, base))

    def round_rate(self, value: float) -> float:
        return float(round(value, self.rate_decimals))


class Published:
    """Figures fit to show. Only `publish_table` makes one; pages read `.frame`, `.status`, `.display()`."""

    def __init__(self, token, *, frame, status, counts, rates, totals, totals_status, policy):
        if token is not _TOKEN:
            raise TypeError("Published is made only by dashboard.publication.publish_table")
        self._frame: pd.DataFrame = frame
        self._status: pd.DataFrame = status
        self._counts: tuple[str, ...] = tuple(counts)
        self._rates: tuple[str, ...] = tuple(rates)
        self._totals: pd.Series = totals
        self._totals_status: pd.Series = totals_status
        self.policy: Policy = policy

    @property
    def frame(self) -> pd.DataFrame:
        """Labels, counts and rates as numbers (NaN where hidden or missing): for charts. A copy."""
        return self._frame.copy()

    @property
    def counts(self) -> tuple[str, ...]:
        """The columns published as counts."""
        return self._counts

    @property
    def rates(self) -> tuple[str, ...]:
        """The columns published as rates (proportions, 0 to 1), their intervals included."""
        return tuple(c for c in self._status.columns if c not in self._counts)

    @property
    def status(self) -> pd.DataFrame:
        """Per count/rate cell: "" shown, PRIMARY or SECONDARY. A copy."""
        return self._status.copy()

    @property
    def hidden(self) -> pd.DataFrame:
        """True where a count or rate is hidden."""
        return self._status != ""

    @property
    def totals(self) -> pd.Series:
        """The published column total of each column named in `totals` (NaN where withheld). A copy."""
        return self._totals.copy()

    @property
    def totals_status(self) -> pd.Series:
        return self._totals_status.copy()

    def _count_text(self, value, mark: str) -> str:
        if mark:
            return mark
        if pd.isna(value):
            return ""
        return f"{int(value):,}"

    def _rate_text(self, value, mark: str) -> str:
        if mark:
            return mark
        if pd.isna(value):
            return ""
        return f"{value * 100:.{max(self.policy.rate_decimals - 2, 0)}f}%"

    def display(self) -> pd.DataFrame:
        """Strings for tables and downloads: marks, thousands separators, percentages at the policy's precision."""
        out = self._frame.copy()
        for column in self._status.columns:
            text = self._count_text if column in self._counts else self._rate_text
            out[column] = [text(v, m) for v, m in zip(self._frame[column], self._status[column])]
        return out

    def totals_display(self) -> dict[str, str]:
        """Each published column total as text (SECONDARY where withheld)."""
        marks = self._totals_status.to_dict()
        return {str(c): self._count_text(v, marks[c]) for c, v in self._totals.to_dict().items()}


# --- secondary suppression: certificates on the constraint graph ------------------------------------------------

_FREE = ("free",)


@dataclass
class _Edge:
    key: tuple  # ("cell", row position, column) or ("total", column)
    value: int
    ends: tuple[tuple, tuple]
    coefs: tuple[int, int]
    low: float  # what a reader knows of it once hidden
    high: float
    hidden: bool
    candidate: bool  # may be hidden for secondary reasons
    cost: float

    def other(self, node: tuple) -> tuple[tuple, int, int]:
        """(the far end, coefficient at `node`, coefficient at the far end)."""
        if self.ends[0] == node:
            return self.ends[1], self.coefs[0], self.coefs[1]
        return self.ends[0], self.coefs[1], self.coefs[0]

    def allows(self, step: int) -> bool:
        return self.low <= self.value + step <= self.high


def _verify(cycle: list[tuple[_Edge, int]]) -> bool:
    """A certificate holds: every constrained node balances, every cell stays within what a reader knows."""
    balance: dict[tuple, int] = {}
    for edge, step in cycle:
        if not edge.allows(step):
            return False
        for node, coef in zip(edge.ends, edge.coefs):
            if node != _FREE:
                balance[node] = balance.get(node, 0) + coef * step
    return all(v == 0 for v in balance.values())


def _certificate(edge: _Edge, adjacency: dict[tuple, list[_Edge]], max_len: int):
    """The cheapest cycle through `edge` whose +-1 perturbation is feasible, or None."""
    if edge.ends == (_FREE, _FREE):
        return [(edge, 1)] if edge.allows(1) else ([(edge, -1)] if edge.allows(-1) else None)
    start, end = edge.ends if edge.ends[0] == _FREE or edge.ends[1] != _FREE else edge.ends[::-1]
    best: list = [math.inf, None]

    def walk(node, arrived: _Edge, step: int, visited: set, path: list, cost: float) -> None:
        coef_in = arrived.coefs[0] if arrived.ends[0] == node else arrived.coefs[1]
        for nxt in adjacency.get(node, ()):
            if nxt is edge or any(nxt is p for p, _ in path):
                continue
            far, coef_here, _ = nxt.other(node)
            steps = (1, -1) if node == _FREE else (-coef_in * coef_here * step,)
            new_cost = cost + (0 if nxt.hidden else nxt.cost)
            if new_cost >= best[0]:
                continue
            for s in steps:
                if not nxt.allows(s):
                    continue
                if far == start:
                    cycle = [*path, (nxt, s)]
                    if _verify(cycle):
                        best[0], best[1] = new_cost, cycle
                elif far not in visited and len(path) < max_len:
                    walk(far, nxt, s, visited | {far}, [*path, (nxt, s)], new_cost)

    for d in (1, -1):
        if edge.allows(d):
            walk(end, edge, d, {start, end}, [(edge, d)], 0)
    return best[1]


def _protect(edges: list[_Edge]) -> None:
    """Hide candidates (in place) until every hidden edge has a certificate; DisclosureError if one cannot."""
    adjacency: dict[tuple, list[_Edge]] = {}
    for e in edges:
        if (e.hidden or e.candidate) and e.ends != (_FREE, _FREE):
            for node in set(e.ends):
                adjacency.setdefault(node, []).append(e)
    certified: set[int] = set()
    for edge in [e for e in edges if e.hidden]:
        if id(edge) in certified:
            continue
        cycle = _certificate(edge, adjacency, 4) or _certificate(edge, adjacency, MAX_CYCLE)
        if cycle is None:
            raise DisclosureError(f"{edge.key} cannot be protected: publish a coarser table")
        for e, _ in cycle:
            e.hidden = True
            certified.add(id(e))


# --- the main entry points ---------------------------------------------------------------------------------------


def _owners(raw: pd.DataFrame, owner) -> pd.Series:
    if owner is None:
        return pd.Series([None] * len(raw), index=raw.index, dtype=object)
    if isinstance(owner, str):
        return raw[owner]
    return pd.Series(list(owner), index=raw.index)


def _counts_of(raw: pd.DataFrame, counts: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in counts if c not in raw.columns]
    if missing:
        raise KeyError(f"count columns {missing} are not in the table")
    values = raw[list(counts)].apply(pd.to_numeric, errors="raise").astype(float)
    arr = values.to_numpy()
    bad = ~np.isnan(arr) & ((arr < 0) | (arr != np.floor(arr)))
    if bad.any():
        raise ValueError("counts must be whole numbers >= 0 (or missing)")
    return values


# `publish_table` with the viewer's policy bound (`functools.partial(publish_table, policy=ui.policy())`): what a
# page hands the module that assembles its tables, so that module never chooses the policy.
Publish = Callable[..., "Published"]


def publish_table(
    raw: pd.DataFrame,
    *,
    policy: Policy,
    counts: list[str],
    rates: dict[str, tuple[str, str]] | None = None,
    intervals: bool = False,
    totals: tuple[str, ...] = (),
    sums: dict[str, tuple[str, ...]] | None = None,
    owner: str | pd.Series | None = None,
    keep: list[str] | None = None,
) -> Published:
    """The table as it may be shown to the viewer `policy` describes.

    counts: count columns (suppressed, and rounded in public mode). rates: output column -> (numerator,
    denominator) count columns, recomputed from the published counts. intervals: add `<rate>_low`/`<rate>_high`,
    Wilson 95% bounds from the published counts. totals: count columns whose column total is published too
    (`.totals`), so hidden cells are protected down the column. sums: count column -> the count columns it is the
    sum of on every row, so hidden cells are protected along the row. owner: the partner id each row is about (a
    column name or a Series; missing = several organisations); the policy decides which are the viewer's own.
    keep: label columns passed through unchanged. Every other column is dropped.
    """
    rates = dict(rates or {})
    sums = dict(sums or {})
    keep = list(keep or [])
    for name, (num, den) in rates.items():
        if num not in counts or den not in counts:
            raise KeyError(f"rate {name!r} needs counts {num!r} and {den!r} among `counts`")
    for column in [*totals, *sums, *(p for parts in sums.values() for p in parts)]:
        if column not in counts:
            raise KeyError(f"{column!r} is in totals/sums but not among `counts`")
    in_sums = [c for t, parts in sums.items() for c in (t, *parts)]
    if len(in_sums) != len(set(in_sums)):
        raise ValueError("a count column may belong to one row identity in `sums` only")
    names = [*keep, *counts, *rates]
    if intervals:
        names += [f"{r}_{b}" for r in rates for b in ("low", "high")]
    if len(names) != len(set(names)):
        raise ValueError("keep, counts and rates (and their intervals) need distinct column names")

    values = _counts_of(raw, counts)
    arr = values.to_numpy()
    own = np.array([policy.is_own(o) for o in _owners(raw, owner)], dtype=bool)
    small = policy.suppress_max
    n_rows = len(raw)

    # The constraint graph: one edge per count cell that could be hidden, one per published column total.
    relation_of = {c: (t, 1) for t, parts in sums.items() for c in parts} | {t: (t, -1) for t in sums}
    edges: list[_Edge] = []
    cells: dict[tuple[int, str], _Edge] = {}
    for j, column in enumerate(counts):
        for i in range(n_rows):
            v = arr[i, j]
            if own[i] or np.isnan(v):
                continue  # the viewer knows it, or it is blank: a constant
            ends: list[tuple] = []
            coefs: list[int] = []
            if column in relation_of:
                total_col, coef = relation_of[column]
                ends.append(("row", i, total_col))
                coefs.append(coef)
            if column in totals:
                ends.append(("col", column))
                coefs.append(1)
            while len(ends) < 2:
                ends.append(_FREE)
                coefs.append(0)
            primary = 1 <= v <= small
            edge = _Edge(
                ("cell", i, column),
                int(v),
                (ends[0], ends[1]),
                (coefs[0], coefs[1]),
                low=1 if primary else small + 1,
                high=small if primary else math.inf,
                hidden=primary,
                candidate=v > small,
                cost=float(v),
            )
            edges.append(edge)
            cells[(i, column)] = edge
    total_edges: dict[str, _Edge] = {}
    for column in totals:
        # The viewer knows their own rows, so what the total tells them is the others' part.
        others = int(np.nansum(values[column].to_numpy()[~own]))
        edge = _Edge(
            ("total", column),
            others,
            (("col", column), _FREE),
            (-1, 0),
            low=0,
            high=math.inf,
            hidden=1 <= others <= small,
            candidate=others > small,
            cost=1e9 + others,
        )
        edges.append(edge)
        total_edges[column] = edge
    primaries = {id(e) for e in edges if e.hidden}
    _protect(edges)

    # Counts as published.
    frame = raw[keep].copy()
    status = pd.DataFrame(index=raw.index)
    for j, column in enumerate(counts):
        shown, marks = [], []
        for i in range(n_rows):
            v = arr[i, j]
            cell = cells.get((i, column))
            if cell is not None and cell.hidden:
                shown.append(np.nan)
                marks.append(PRIMARY if id(cell) in primaries else SECONDARY)
            elif np.isnan(v):
                shown.append(np.nan)
                marks.append("")
            else:
                shown.append(v if own[i] else policy.round_count(v))
                marks.append("")
        frame[column] = np.array(shown, dtype=float)
        status[column] = marks
    published_totals, totals_status = {}, {}
    for column in totals:
        withheld = total_edges[column].hidden
        t = float(np.nansum(values[column].to_numpy()))
        if withheld:
            published_totals[column], totals_status[column] = np.nan, SECONDARY
        else:
            published_totals[column] = policy.round_count(t)
            totals_status[column] = ""

    # Rates (and intervals) from the published counts only.
    for name, (num, den) in rates.items():
        x, n = frame[num].to_numpy(dtype=float), frame[den].to_numpy(dtype=float)
        ok = ~np.isnan(x) & ~np.isnan(n) & (n > 0) & (x <= n)
        rate = np.full(n_rows, np.nan)
        rate[ok] = x[ok] / n[ok]
        frame[name] = [policy.round_rate(r) if not np.isnan(r) else np.nan for r in rate]
        marks = []
        for a, b in zip(status[num], status[den]):
            marks.append(PRIMARY if PRIMARY in (a, b) else (SECONDARY if SECONDARY in (a, b) else ""))
        status[name] = marks
        if intervals:
            low, high = np.full(n_rows, np.nan), np.full(n_rows, np.nan)
            if ok.any():
                lo, hi = wilson_intervals(x[ok], n[ok])
                low[ok], high[ok] = lo, hi
            for bound, b_values in (("low", low), ("high", high)):
                column = f"{name}_{bound}"
                frame[column] = [policy.round_rate(v) if not np.isnan(v) else np.nan for v in b_values]
                status[column] = marks
    return Published(
        _TOKEN,
        frame=frame,
        status=status,
        counts=counts,
        rates=[c for c in status.columns if c not in counts],
        totals=pd.Series(published_totals, dtype=float),
        totals_status=pd.Series(totals_status, dtype=object),
        policy=policy,
    )


def publish_count(value, policy: Policy, *, owner=None) -> str:
    """One count for a KPI tile: blank if missing, PRIMARY if 1 to suppress_max, rounded in public mode."""
    if value is None or pd.isna(value):
        return ""
    if policy.is_own(owner):
        return f"{int(value):,}"
    if 1 <= value <= policy.suppress_max:
        return PRIMARY
    return f"{int(policy.round_count(float(value))):,}"
