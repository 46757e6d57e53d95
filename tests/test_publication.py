"""The publication boundary: what a viewer may see of a table, and that nothing hidden can be worked out."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import publication
from dashboard.access import MEMBER, PUBLIC, Access
from dashboard.metrics import wilson_interval
from dashboard.publication import (
    PRIMARY,
    SECONDARY,
    Policy,
    Published,
    publish_count,
    publish_table,
)

PUBLIC_POLICY = Policy.for_access(Access(PUBLIC), environ={})


def member(*partner_ids: int, all_detail: bool = False) -> Policy:
    role = "operator" if all_detail else "partner"
    return Policy.for_access(Access(MEMBER, role, partner_ids=frozenset(partner_ids)), environ={})


def test_public_counts_are_rounded_to_base_5_and_0_stays_0():
    raw = pd.DataFrame({"n": [0, 5, 7, 12, 13, 1234]})
    out = publish_table(raw, policy=PUBLIC_POLICY, counts=["n"])
    assert out.frame["n"].tolist() == [0, 5, 5, 10, 15, 1235]
    assert out.display()["n"].tolist() == ["0", "5", "5", "10", "15", "1,235"]


def test_counts_1_to_4_are_suppressed_in_every_mode_and_marked_primary():
    raw = pd.DataFrame({"n": [0, 1, 4, 5]})
    for policy in (PUBLIC_POLICY, member()):
        out = publish_table(raw, policy=policy, counts=["n"])
        assert out.display()["n"].tolist() == ["0", PRIMARY, PRIMARY, "5"]
        assert out.frame["n"].isna().tolist() == [False, True, True, False]
        assert out.hidden["n"].tolist() == [False, True, True, False]


def test_public_rates_come_from_the_published_counts_at_whole_percentage_points():
    raw = pd.DataFrame({"x": [7], "n": [23]})
    out = publish_table(raw, policy=PUBLIC_POLICY, counts=["x", "n"], rates={"rate": ("x", "n")}, intervals=True)
    row = out.frame.iloc[0]
    assert (row["x"], row["n"], row["rate"]) == (5, 25, 0.20)  # not 7/23 = 0.304
    low, high = wilson_interval(5, 25)
    assert (row["rate_low"], row["rate_high"]) == (round(low, 2), round(high, 2))
    assert out.display().iloc[0]["rate"] == "20%"


def test_member_rates_are_exact_to_a_tenth_of_a_percentage_point():
    raw = pd.DataFrame({"x": [7], "n": [23]})
    out = publish_table(raw, policy=member(), counts=["x", "n"], rates={"rate": ("x", "n")})
    assert out.frame.iloc[0][["x", "n", "rate"]].tolist() == [7, 23, 0.304]
    assert out.display().iloc[0]["rate"] == "30.4%"


def test_a_rate_and_its_interval_are_hidden_when_a_count_behind_them_is_suppressed():
    raw = pd.DataFrame({"x": [3, 10], "n": [40, 2]})
    out = publish_table(raw, policy=PUBLIC_POLICY, counts=["x", "n"], rates={"rate": ("x", "n")}, intervals=True)
    assert out.frame[["rate", "rate_low", "rate_high"]].iloc[:2].isna().all().all()
    assert out.display()[["rate", "rate_low", "rate_high"]].iloc[0].tolist() == [PRIMARY] * 3


def test_columns_not_named_as_counts_rates_or_labels_are_dropped():
    raw = pd.DataFrame({"partner": ["A"], "n": [10], "secret_rate": [0.123], "participant_id": [42]})
    out = publish_table(raw, policy=PUBLIC_POLICY, counts=["n"], keep=["partner"])
    assert list(out.frame.columns) == ["partner", "n"]
    assert list(out.display().columns) == ["partner", "n"]


def test_member_sees_own_rows_exact_and_others_primary_suppressed_but_unrounded():
    raw = pd.DataFrame({"partner_id": [1, 2, 2], "n": [3, 3, 7]})
    out = publish_table(raw, policy=member(1), counts=["n"], owner="partner_id", keep=["partner_id"])
    assert out.display()["n"].tolist() == ["3", PRIMARY, "7"]
    everything = publish_table(raw, policy=member(all_detail=True), counts=["n"], owner="partner_id")
    assert everything.display()["n"].tolist() == ["3", "3", "7"]


def test_public_mode_ignores_owner():
    raw = pd.DataFrame({"partner_id": [1], "n": [3]})
    assert publish_table(raw, policy=PUBLIC_POLICY, counts=["n"], owner="partner_id").display()["n"][0] == PRIMARY


def test_a_lone_primary_under_a_published_column_total_gets_a_secondary_partner():
    raw = pd.DataFrame({"n": [3, 20, 50, 0]})
    out = publish_table(raw, policy=member(), counts=["n"], totals=("n",))
    assert out.display()["n"].tolist() == [PRIMARY, SECONDARY, "50", "0"]  # the smallest other count
    assert out.totals_display() == {"n": "73"}


def test_a_lone_primary_in_a_row_identity_gets_a_secondary_partner():
    raw = pd.DataFrame({"a": [2], "b": [30], "c": [8], "total": [40]})
    out = publish_table(raw, policy=member(), counts=["a", "b", "c", "total"], sums={"total": ("a", "b", "c")})
    assert out.display().iloc[0].tolist() == [PRIMARY, "30", SECONDARY, "40"]


def test_published_cannot_be_constructed_outside_the_module():
    with pytest.raises(TypeError):
        Published(object(), frame=None, status=None, counts=[], rates=[], totals=None, totals_status=None, policy=None)
    with pytest.raises(TypeError):
        Published()  # type: ignore[call-arg]


def test_frame_is_a_copy():
    out = publish_table(pd.DataFrame({"n": [10]}), policy=PUBLIC_POLICY, counts=["n"])
    frame = out.frame
    frame.loc[0, "n"] = 7
    assert out.frame["n"][0] == 10


def test_publish_count_for_kpi_tiles():
    assert [publish_count(v, PUBLIC_POLICY) for v in (0, 3, 7, 1234, None)] == ["0", "*", "5", "1,235", ""]
    assert [publish_count(v, member()) for v in (3, 7)] == ["*", "7"]
    assert publish_count(3, member(1), owner=1) == "3"


def test_the_policy_reads_its_settings():
    policy = Policy.for_access(
        Access(PUBLIC), environ={"WPMI_ROUNDING_BASE": "10", "WPMI_SUPPRESS_MAX": "9", "WPMI_PUBLIC_RATE_DECIMALS": "3"}
    )
    assert (policy.rounding_base, policy.suppress_max, policy.rate_decimals) == (10, 9, 3)


# --- the promise, by brute force ------------------------------------------------------------------------------
# Every integer table consistent with everything published is enumerated (rows one at a time, keeping the set of
# reachable column sums), and each hidden cell and withheld total must take at least two values across them.

SMALL, BASE = 4, 5


def _round(x: int) -> int:
    return 0 if x == 0 else int(math.floor(x / BASE + 0.5) * BASE)


def _domain(true: int, mark: str, shown: float, exact: bool) -> list[int]:
    """What a reader knows of one cell."""
    if mark == PRIMARY:
        return list(range(1, SMALL + 1))
    if mark == SECONDARY:
        return list(range(SMALL + 1, true + 3))  # capped above: fewer tables, so a stricter test
    if exact:
        return [int(shown)]
    return [x for x in range(0, int(shown) + BASE + 1) if _round(x) == shown and not 1 <= x <= SMALL]


def feasible_values(raw, out, counts, totals, sums, own, public):
    """{cell: set of values it takes} over every table consistent with what `out` publishes."""
    status, frame = out.status, out.frame
    options = []
    for i in range(len(raw)):
        domains = [
            _domain(int(raw[c].iloc[i]), status[c].iloc[i], frame[c].iloc[i], exact=own[i] or not public)
            for c in counts
        ]
        row = []
        for combo in itertools.product(*domains):
            values = dict(zip(counts, combo))
            if all(values[t] == sum(values[p] for p in parts) for t, parts in sums.items()):
                row.append(combo)
        options.append(row)
    tracked = [counts.index(c) for c in totals]
    reach = [{tuple(0 for _ in tracked)}]
    for row in options:
        reach.append({tuple(s + o[k] for s, k in zip(state, tracked)) for state in reach[-1] for o in row})

    def published_total_allows(column: str, total: int) -> bool:
        mark, shown = out.totals_status[column], out.totals[column]
        if mark:
            return True  # withheld: no constraint
        if not public:
            return total == shown
        return _round(total) == shown and not 1 <= total <= SMALL

    good = [set() for _ in reach]
    good[-1] = {s for s in reach[-1] if all(published_total_allows(c, s[k]) for k, c in enumerate(totals))}
    values: dict[tuple, set[int]] = {}
    for i in range(len(options) - 1, -1, -1):
        for state in reach[i]:
            for o in options[i]:
                if tuple(s + o[k] for s, k in zip(state, tracked)) in good[i + 1]:
                    good[i].add(state)
                    for c, v in zip(counts, o):
                        values.setdefault((i, c), set()).add(v)
    for k, c in enumerate(totals):
        values[("total", c)] = {s[k] for s in good[-1]}
    return values


CELL = st.one_of(st.just(0), st.integers(1, SMALL), st.integers(SMALL + 1, 14))


@st.composite
def tables(draw):
    n_rows = draw(st.integers(2, 4))
    if draw(st.booleans()):
        counts = ["a", "b", "c"][: draw(st.integers(1, 3))]
        data = {c: [draw(CELL) for _ in range(n_rows)] for c in counts}
        sums: dict[str, tuple[str, ...]] = {}
    else:
        counts = ["a", "b", "t"]
        data = {c: [draw(CELL) for _ in range(n_rows)] for c in ("a", "b")}
        data["t"] = [x + y for x, y in zip(data["a"], data["b"])]
        sums = {"t": ("a", "b")}
    totals = tuple(c for c in counts if draw(st.booleans()))
    public = draw(st.booleans())
    own_ids = frozenset() if public else frozenset(draw(st.sets(st.integers(1, n_rows), max_size=1)))
    raw = pd.DataFrame(data | {"partner_id": list(range(1, n_rows + 1))})
    return raw, counts, totals, sums, public, own_ids


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_hidden_cell_or_withheld_total_can_be_worked_out(table):
    raw, counts, totals, sums, public, own_ids = table
    policy = PUBLIC_POLICY if public else member(*own_ids)
    out = publish_table(raw, policy=policy, counts=counts, totals=totals, sums=sums, owner="partner_id")
    own = [policy.is_own(p) for p in raw["partner_id"]]
    values = feasible_values(raw, out, counts, totals, sums, own, public)
    for c in counts:
        for i in range(len(raw)):
            assert int(raw[c].iloc[i]) in values[(i, c)], "the true table must be consistent with what is published"
            if out.hidden[c].iloc[i]:
                assert len(values[(i, c)]) >= 2, (
                    f"hidden {c}[{i}] = {raw[c].iloc[i]} is solvable\n{raw}\n{out.display()}"
                )
            if 1 <= raw[c].iloc[i] <= SMALL and not own[i]:
                assert out.status[c].iloc[i] == PRIMARY
    for c in totals:
        if out.totals_status[c]:
            assert len(values[("total", c)]) >= 2, f"withheld total of {c} is solvable\n{raw}"


def test_the_brute_force_catches_primary_suppression_alone(monkeypatch):
    """The oracle has teeth: without secondary suppression a lone `*` under a published total is solved."""
    monkeypatch.setattr(publication, "_protect", lambda edges: None)
    raw = pd.DataFrame({"n": [3, 20, 50], "partner_id": [1, 2, 3]})
    out = publish_table(raw, policy=member(), counts=["n"], totals=("n",), owner="partner_id")
    assert out.display()["n"].tolist() == [PRIMARY, "20", "50"]
    assert feasible_values(raw, out, ["n"], ("n",), {}, [False] * 3, public=False)[(0, "n")] == {3}


def test_secondary_suppression_keeps_hidden_cells_few_on_a_realistic_table():
    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"partner_id": range(1, 41), "starts": rng.integers(0, 60, 40), "jobs": rng.integers(0, 8, 40)})
    out = publish_table(raw, policy=PUBLIC_POLICY, counts=["starts", "jobs"], totals=("starts", "jobs"))
    primaries = (out.status == PRIMARY).sum().sum()
    secondaries = (out.status == SECONDARY).sum().sum()
    assert secondaries <= max(2, primaries)


def test_downloads_refuse_a_table_that_did_not_pass_the_boundary():
    from dashboard import ui

    with pytest.raises(TypeError, match="publish it"):
        ui.downloads(pd.DataFrame({"referrals": [3]}), "raw")
