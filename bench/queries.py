"""Query latency: every page data function in dashboard/queries.py, called as the pages call them, with
varied filters and no Streamlit cache; and DuckDB answering the same questions from the raw rows.
"""

from __future__ import annotations

import itertools
from datetime import date

import pandas as pd
from sqlalchemy import text

from bench.stats import stopwatch, summarise


def filter_cycle(engine) -> list:
    """Twenty varied filters built from the database: CPAs, primes, payment groups, years, sector, tier."""
    from dashboard.queries import Filters, filter_options

    options = filter_options(engine)
    contracts = options["contracts"]
    cpas = sorted(contracts["cpa_code"].unique())
    primes = list(contracts["prime_id"].value_counts().index)  # the primes with most contracts first
    pick = [cpas[i % len(cpas)] for i in (0, 4, 7, 11, 17)]
    pairs = list(contracts[["cpa_code", "prime_id"]].itertuples(index=False, name=None))
    years = [(2011, 2017), (2012, 2013), (2014, 2016), (2015, 2017), (2013, 2013)]
    groups = [(), ("PG1",), ("PG1", "PG2"), ("PG6", "PG7"), ("PG2", "PG5", "PG9")]
    out = [Filters()]
    for k in range(19):
        y0, y1 = years[k % len(years)]
        kw = {"payment_groups": groups[k % len(groups)], "period_from": date(y0, 1, 1), "period_to": date(y1, 12, 31)}
        kind = k % 6
        if kind == 0:
            kw["cpa"] = int(pick[k % len(pick)])
        elif kind == 1:
            kw["prime"] = primes[k % len(primes)]
        elif kind == 2:
            cpa, prime = pairs[(7 * k) % len(pairs)]
            kw.update(cpa=int(cpa), prime=prime)
        elif kind == 3:
            kw["sector"] = "vcs"
        elif kind == 4:
            kw["tier"] = "end_to_end"
        out.append(Filters(**kw))
    return out


def describe(f) -> str:
    """A short label for a Filters: 'everything', or e.g. 'cpa=5, PG1+PG2, 2012-2013'."""
    parts = [
        f"{k}={v}"
        for k, v in (
            ("cpa", f.cpa),
            ("prime", f.prime),
            ("sector", f.sector),
            ("tier", f.tier),
            ("partner", f.partner_id),
        )
        if v is not None
    ]
    if f.payment_groups:
        parts.append("+".join(f.payment_groups))
    if f.period_from or f.period_to:
        parts.append(f"{f.period_from.year if f.period_from else ''}-{f.period_to.year if f.period_to else ''}")
    return ", ".join(parts) or "everything"


def drill_targets(engine, count: int = 12) -> list[tuple[int, str, str]]:
    """(partner, contract, standard) drill-downs on the biggest partner contracts' measured standards."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            WITH big AS (SELECT partner_id, contract_id, SUM(referrals) AS n FROM cohort_summary
                         GROUP BY partner_id, contract_id ORDER BY n DESC LIMIT 4)
            SELECT c.partner_id, c.contract_id, c.standard_id FROM compliance_summary c
            JOIN big b ON b.partner_id = c.partner_id AND b.contract_id = c.contract_id
            WHERE c.met + c.missed > 0 ORDER BY b.n DESC, c.standard_id""")
        ).all()
    by_pair: dict = {}
    for p, k, s in rows:
        by_pair.setdefault((p, k), []).append(s)
    # Round-robin over the partner contracts so the biggest ones are all drilled into.
    mixed = [
        t
        for group in itertools.zip_longest(*[[(p, k, s) for s in ss] for (p, k), ss in by_pair.items()])
        for t in group
        if t
    ]
    return mixed[:count]


def page_calls(engine, as_of: date) -> tuple[dict, list, list]:
    """name -> list of (label, zero-argument call), one per filter in the cycle, as the pages make them."""
    from dashboard import queries as q

    filters = filter_cycle(engine)
    drills = drill_targets(engine)
    each = {
        "flow_totals": lambda f: q.flow_totals(engine, f),
        "cohort_totals": lambda f: q.cohort_totals(engine, f, as_of=as_of),
        "cohort_series": lambda f: q.cohort_series(engine, f, as_of=as_of),
        "projections_vs_actuals": lambda f: q.projections_vs_actuals(engine, f),
        "feedback_totals": lambda f: q.feedback_totals(engine, f),
        "coverage": lambda f: q.coverage(engine, f),
        "compliance_cells": lambda f: q.compliance_cells(engine, f),
        "compliance_by_partner": lambda f: q.compliance_by_partner(engine, f),
    }
    calls = {name: [(describe(f), lambda fn=fn, f=f: fn(f)) for f in filters] for name, fn in each.items()}
    calls["submissions"] = [("limit=500", lambda: q.submissions(engine))]
    calls["filter_options"] = [("", lambda: q.filter_options(engine))]
    calls["latest_month"] = [("", lambda: q.latest_month(engine))]
    for name in ("standard_counts", "standard_days", "standard_missed"):
        fn = getattr(q, name)
        calls[name] = [(repr(d), lambda d=d, fn=fn: fn(engine, *d)) for d in drills]
    return calls, filters, drills


def measure_queries(url: str, calls_per_function: int, log=print) -> dict:
    """Median and p95 per page data function over `calls_per_function` varied calls, after one warm-up."""
    from dashboard.db import make_engine
    from dashboard.queries import latest_month

    engine = make_engine(url)
    as_of = latest_month(engine)
    calls, filters, drills = page_calls(engine, as_of)
    out = {}
    for name, fns in calls.items():
        fns[0][1]()  # warm-up: the connection pool and the OS page cache, as a running dashboard has them
        times, rows, labels = [], [], []
        for label, fn in itertools.islice(itertools.cycle(fns), calls_per_function):
            with stopwatch(times):
                result = fn()
            rows.append(len(result) if hasattr(result, "__len__") and not isinstance(result, dict) else 1)
            labels.append(label)
        slowest = max(range(len(times)), key=times.__getitem__)
        out[name] = {
            **summarise(times),
            "rows_median": float(pd.Series(rows).median()),
            "slowest_call": labels[slowest],
            "slowest_rows": rows[slowest],
        }
        log(f"  {name:<24} median {out[name]['median'] * 1000:7.1f} ms   p95 {out[name]['p95'] * 1000:7.1f} ms")
    engine.dispose()
    return {
        "as_of": as_of.isoformat(),
        "functions": out,
        "filters": [describe(f) for f in filters],
        "drill_downs": [list(d) for d in drills],
    }
