"""The reference: DuckDB answering the dashboard's two main questions straight from the raw rows.

The participant, submission and monthly-return tables are copied from the SQLite file into an in-memory
DuckDB once (sqlite3 cursor -> pyarrow -> DuckDB; no extension downloads). Each reference query then does
all the work wpmi does at ingest time plus what it does at query time: keep the latest row per participant
from current submissions, count flows by month (or cohorts with their maturity cut-offs), join the
organisations and filter. So wpmi / DuckDB below 1 means the ingest-time summaries pay off.
"""

from __future__ import annotations

import re
import sqlite3
import time

import pyarrow as pa

from bench.stats import stopwatch, summarise
from dashboard.cohorts import window_days

CHUNK = 250_000
PARTICIPANT_COLUMNS = [
    "submission_id",
    "source_row",
    "participant_ref",
    "payment_group",
    "attachment_date",
    "job_start_date",
    "job_outcome_date",
    "referral_month",
    "attachment_month",
    "job_start_month",
    "job_outcome_month",
    "days_to_job_start",
    "days_to_job_outcome",
]
TABLES = {
    "participant": PARTICIPANT_COLUMNS,
    "submission": ["submission_id", "partner_id", "contract_id", "period", "status"],
    "monthly_return": [
        "submission_id",
        "month",
        "payment_group",
        "referrals",
        "attachments",
        "job_starts",
        "job_outcomes",
    ],
    "contract": ["contract_id", "prime_id", "cpa_code"],
    "cpa": ["cpa_code", "cpa_name", "nation"],
    "prime": ["prime_id", "prime_name"],
    "partner": ["partner_id", "partner_name", "sector", "tier"],
    "payment_group": ["code", "outcome_weeks"],
}
DATES = {
    "attachment_date",
    "job_start_date",
    "job_outcome_date",
    "referral_month",
    "attachment_month",
    "job_start_month",
    "job_outcome_month",
    "period",
    "month",
}

ORG_SELECT = """k.cpa_code, cp.cpa_name, cp.nation, k.contract_id, k.prime_id, pr.prime_name AS prime,
    pa.partner_id, pa.partner_name AS partner, pa.sector, pa.tier"""
ORG_JOIN = """JOIN contract k ON k.contract_id = t.contract_id JOIN cpa cp ON cp.cpa_code = k.cpa_code
    JOIN prime pr ON pr.prime_id = k.prime_id JOIN partner pa ON pa.partner_id = t.partner_id"""
ORG_GROUP = (
    "k.cpa_code, cp.cpa_name, cp.nation, k.contract_id, k.prime_id, pr.prime_name, pa.partner_id, "
    "pa.partner_name, pa.sector, pa.tier"
)
LATEST = """latest AS (
    SELECT p.*, s.partner_id, s.contract_id FROM participant p JOIN submission s USING (submission_id)
    WHERE s.status = 'current'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY s.partner_id, s.contract_id, p.participant_ref
                               ORDER BY s.period DESC, s.submission_id DESC, p.source_row DESC) = 1)"""

FLOW_TOTALS = f"""WITH {LATEST},
flows AS (
    SELECT partner_id, contract_id, referral_month AS month, payment_group, 1 AS r, 0 AS a, 0 AS s, 0 AS o
        FROM latest WHERE referral_month IS NOT NULL
    UNION ALL SELECT partner_id, contract_id, attachment_month, payment_group, 0, 1, 0, 0 FROM latest
        WHERE attachment_month IS NOT NULL
    UNION ALL SELECT partner_id, contract_id, job_start_month, payment_group, 0, 0, 1, 0 FROM latest
        WHERE job_start_month IS NOT NULL
    UNION ALL SELECT partner_id, contract_id, job_outcome_month, payment_group, 0, 0, 0, 1 FROM latest
        WHERE job_outcome_month IS NOT NULL),
fp AS (SELECT partner_id, contract_id, month, payment_group, SUM(r) AS referrals, SUM(a) AS attachments,
              SUM(s) AS job_starts, SUM(o) AS job_outcomes FROM flows GROUP BY ALL),
ret AS (SELECT m.*, s.partner_id, s.contract_id FROM monthly_return m JOIN submission s USING (submission_id)
        WHERE s.status = 'current'
        QUALIFY ROW_NUMBER() OVER (PARTITION BY s.partner_id, s.contract_id, m.month, m.payment_group
                                   ORDER BY s.period DESC, s.submission_id DESC) = 1),
t AS (SELECT partner_id, contract_id, month, payment_group, referrals, attachments, job_starts, job_outcomes,
             'participants' AS basis FROM fp
      UNION ALL
      SELECT r.partner_id, r.contract_id, r.month, r.payment_group, r.referrals, r.attachments, r.job_starts,
             r.job_outcomes, 'aggregate' FROM ret r
      WHERE NOT EXISTS (SELECT 1 FROM fp WHERE fp.partner_id = r.partner_id AND fp.contract_id = r.contract_id
                        AND fp.month = r.month))
SELECT {ORG_SELECT}, t.payment_group, SUM(t.referrals) AS referrals, SUM(t.attachments) AS attachments,
       SUM(t.job_starts) AS job_starts, SUM(t.job_outcomes) AS job_outcomes, MIN(t.basis) AS basis
FROM t {ORG_JOIN} WHERE {{where}} GROUP BY {ORG_GROUP}, t.payment_group"""

COHORT_TOTALS = f"""WITH {LATEST},
t AS (SELECT partner_id, contract_id, referral_month, payment_group, COUNT(*) AS referrals,
             COUNT(attachment_date) AS attachments,
             COUNT(*) FILTER (WHERE days_to_job_start <= {window_days(12)}) AS job_starts_12m,
             COUNT(*) FILTER (WHERE days_to_job_outcome <= {window_days(12)}) AS job_outcomes_12m
      FROM latest WHERE referral_month IS NOT NULL GROUP BY ALL)
SELECT {ORG_SELECT}, t.payment_group,
    SUM(CASE WHEN t.referral_month <= $start_cut THEN t.referrals ELSE 0 END) AS start_cohort,
    SUM(CASE WHEN t.referral_month <= $start_cut THEN t.job_starts_12m ELSE 0 END) AS job_starts,
    SUM(CASE WHEN t.referral_month <= $start_cut THEN t.attachments ELSE 0 END) AS attached,
    SUM(CASE WHEN t.referral_month <= {{outcome_cut}} THEN t.referrals ELSE 0 END) AS outcome_cohort,
    SUM(CASE WHEN t.referral_month <= {{outcome_cut}} THEN t.job_outcomes_12m ELSE 0 END) AS job_outcomes
FROM t {ORG_JOIN}
WHERE {{where}} GROUP BY {ORG_GROUP}, t.payment_group"""


def load(sqlite_path) -> tuple:
    """An in-memory DuckDB holding the raw tables, and the seconds the copy took."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    rows = {}
    for table, columns in TABLES.items():
        cur = src.execute(f"SELECT {', '.join(columns)} FROM {table}")
        batches = []
        while chunk := cur.fetchmany(CHUNK):
            arrays = [pa.array(list(col)) if col else pa.array([], pa.null()) for col in zip(*chunk)]
            batches.append(pa.table(arrays, names=columns))
        arrow = pa.concat_tables(batches, promote_options="permissive") if batches else None
        if arrow is None:
            continue
        con.register("raw", arrow)
        cast = ", ".join(f"CAST({c} AS DATE) AS {c}" if c in DATES else c for c in columns)
        con.execute(f"CREATE TABLE {table} AS SELECT {cast} FROM raw")
        con.unregister("raw")
        rows[table] = arrow.num_rows
    src.close()
    return con, time.perf_counter() - started, rows


def _where(filters, month_column: str) -> tuple[str, dict]:
    """wpmi's own filter SQL (Filters.where), in DuckDB's parameter style."""
    where, params = filters.where(month_column)
    where = where.replace("t.payment_group IN :payment_groups", "list_contains($payment_groups, t.payment_group)")
    return re.sub(r":(\w+)", r"$\1", where), params


def flow_totals(con, filters):
    where, params = _where(filters, "t.month")
    return con.execute(FLOW_TOTALS.format(where=where), params).df()


def cohort_totals(con, filters, *, as_of):
    from dashboard import cohorts, reference

    cut = cohorts.maturity_cutoffs(as_of, 12, reference.qualifying_weeks())
    outcome_cut, cut_params = cohorts.outcome_cutoff_sql(cut)
    where, params = _where(filters, "t.referral_month")
    params.update(cut_params, start_cut=cut.job_starts)
    outcome_cut = re.sub(r":(\w+)", r"$\1", outcome_cut)
    return con.execute(COHORT_TOTALS.format(where=where, outcome_cut=outcome_cut), params).df()


SUMS = {
    "flow_totals": ["referrals", "attachments", "job_starts", "job_outcomes"],
    "cohort_totals": ["start_cohort", "job_starts", "attached", "outcome_cohort", "job_outcomes"],
}


def _totals(frame, columns) -> tuple:
    return tuple(int(frame[c].fillna(0).sum()) if len(frame) else 0 for c in columns)


def measure_reference(build, calls_per_function: int, log=print) -> dict:
    """DuckDB and wpmi on the same filters, alternating, with a check that both give the same totals."""
    from bench.queries import describe, filter_cycle
    from dashboard import queries as q
    from dashboard.db import make_engine

    con, load_seconds, rows = load(build.path)
    log(f"  DuckDB holds the raw rows ({rows.get('participant', 0):,} participant rows) after {load_seconds:.1f} s")
    engine = make_engine(build.url)
    as_of = q.latest_month(engine)
    filters = filter_cycle(engine)
    pairs = {
        "flow_totals": (lambda f: q.flow_totals(engine, f), lambda f: flow_totals(con, f)),
        "cohort_totals": (
            lambda f: q.cohort_totals(engine, f, as_of=as_of),
            lambda f: cohort_totals(con, f, as_of=as_of),
        ),
    }
    out = {
        "load_seconds": load_seconds,
        "rows": rows,
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "queries": {},
    }
    for name, (ours, theirs) in pairs.items():
        ours(filters[0]), theirs(filters[0])  # warm-up
        t_ours, t_duck, mismatches = [], [], []
        for k in range(calls_per_function):
            f = filters[k % len(filters)]
            with stopwatch(t_ours):
                a = ours(f)
            with stopwatch(t_duck):
                b = theirs(f)
            if _totals(a, SUMS[name]) != _totals(b, SUMS[name]) or len(a) != len(b):
                mismatches.append(
                    {
                        "filters": describe(f),
                        "wpmi": _totals(a, SUMS[name]),
                        "duckdb": _totals(b, SUMS[name]),
                        "rows": [len(a), len(b)],
                    }
                )
        wpmi, duck = summarise(t_ours), summarise(t_duck)
        out["queries"][name] = {
            "wpmi": wpmi,
            "duckdb": duck,
            "ratio_median": wpmi["median"] / duck["median"],
            "ratio_p95": wpmi["p95"] / duck["p95"],
            "same_answers": not mismatches,
            "mismatches": mismatches[:3],
        }
        log(
            f"  {name:<14} wpmi median {wpmi['median'] * 1000:6.1f} ms, DuckDB median {duck['median'] * 1000:6.1f} ms"
            f" (ratio {wpmi['median'] / duck['median']:.2f}); same answers: {not mismatches}"
        )
    con.close()
    engine.dispose()
    return out
