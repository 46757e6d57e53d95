"""Questions the dashboard asks the database, one function each, answered from the ingest-time summaries.

Every function takes an engine and keyword filters and returns a DataFrame. SQL is parameterised through
SQLAlchemy `text()` with bound parameters; only fixed fragments chosen in code are ever joined into it.
Results come at partner x contract x payment group grain (a few thousand rows at most) so that the pages
can roll them up to CPA, contract or partner in pandas without asking again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import Engine, bindparam, text

from dashboard import cohorts, compliance, reference
from dashboard.db import read_frame

ORG_SELECT = """k.cpa_code, cp.cpa_name, cp.nation, k.contract_id, k.prime_id, pr.prime_name AS prime,
    pa.partner_id, pa.partner_name AS partner, pa.sector, pa.tier"""
# The organisation tables by alias (in join order), joined to a fact or summary aliased `t`.
JOINS = {
    "k": "JOIN contract k ON k.contract_id = t.contract_id",
    "cp": "JOIN cpa cp ON cp.cpa_code = k.cpa_code",
    "pr": "JOIN prime pr ON pr.prime_id = k.prime_id",
    "pa": "JOIN partner pa ON pa.partner_id = t.partner_id",
}
ORG_JOIN = "\n    ".join(JOINS.values())
ORG_GROUP = (
    "k.cpa_code, cp.cpa_name, cp.nation, k.contract_id, k.prime_id, pr.prime_name, pa.partner_id, "
    "pa.partner_name, pa.sector, pa.tier"
)
ORG_NAMES = """k.cpa_code, cp.cpa_name, cp.nation, k.prime_id, pr.prime_name AS prime, pa.partner_name AS partner,
    pa.sector, pa.tier"""
OUTCOME_WEEKS_DEFAULT = 26


def _grouped(source: str, aggregates: str, by: tuple[str, ...], where: str, names: bool = True) -> str:
    """SQL: aggregate `source` per partner, contract and `by` on ids only, then attach the organisation names.

    Grouping on two ids instead of ten text columns, and joining the organisation tables only when the filter
    needs them, is what keeps unfiltered calls fast at programme scale.
    """
    keys = "".join(f", t.{b}" for b in by)
    # Only the tables the filter names (Filters.where uses k. and pa.), so an unfiltered call scans the summary alone.
    joins = " ".join(join for alias, join in JOINS.items() if f"{alias}." in where)
    inner = f"""SELECT t.partner_id, t.contract_id{keys}, {aggregates}
        FROM {source} t {joins} WHERE {where}
        GROUP BY t.partner_id, t.contract_id{keys}"""
    return f"SELECT t.*, {ORG_NAMES} FROM ({inner}) t {ORG_JOIN}" if names else inner


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the view to. None means everything."""

    cpa: int | None = None
    prime: str | None = None  # prime_id
    sector: str | None = None
    tier: str | None = None
    payment_groups: tuple[str, ...] = field(default_factory=tuple)
    partner_id: int | None = None
    period_from: date | None = None
    period_to: date | None = None

    def described(self) -> str:
        """The filters in words, for an export's about sheet: "CPA 5; sector vcs; 2013-01-01 to 2014-12-31"."""
        parts = [
            f"{label} {value}"
            for label, value in (
                ("CPA", self.cpa),
                ("prime", self.prime),
                ("sector", self.sector),
                ("tier", self.tier),
                ("partner id", self.partner_id),
            )
            if value is not None
        ]
        if self.payment_groups:
            parts.append("payment groups " + ", ".join(self.payment_groups))
        if self.period_from or self.period_to:
            # Years, as the year slider chose them (a date past a public cut-off would read as data from it).
            start = self.period_from.year if self.period_from else "the start"
            end = self.period_to.year if self.period_to else "the latest"
            parts.append(f"years {start} to {end}")
        return "; ".join(parts) or "none: every CPA, prime, partner, payment group and month"

    def where(self, month_column: str) -> tuple[str, dict]:
        """SQL conditions (fixed fragments) and their bound values."""
        parts: list[str] = []
        params: dict[str, object] = {}
        for column, value, name in (
            ("k.cpa_code", self.cpa, "cpa"),
            ("k.prime_id", self.prime, "prime"),
            ("pa.sector", self.sector, "sector"),
            ("pa.tier", self.tier, "tier"),
            ("pa.partner_id", self.partner_id, "partner_id"),
            (month_column, self.period_from, "period_from"),
        ):
            if value is not None:
                op = ">=" if name == "period_from" else "="
                parts.append(f"{column} {op} :{name}")
                params[name] = value
        if self.period_to is not None:
            parts.append(f"{month_column} <= :period_to")
            params["period_to"] = self.period_to
        if self.payment_groups:
            parts.append("t.payment_group IN :payment_groups")
            params["payment_groups"] = list(self.payment_groups)
        return (" AND ".join(parts) or "1 = 1"), params


EXPANDING = ("payment_groups", "short_groups")  # parameters bound as lists (IN :name)


def _read(engine: Engine, sql: str, params: dict) -> pd.DataFrame:
    stmt = text(sql)
    for name in EXPANDING:
        if name in params:
            stmt = stmt.bindparams(bindparam(name, expanding=True))
    with engine.connect() as conn:
        return read_frame(conn, stmt, params)


def has_data(engine: Engine) -> bool:
    """Whether any submission has landed."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM submission WHERE status = 'current' LIMIT 1")).first() is not None


def latest_month(engine: Engine) -> date | None:
    """The latest month any current data covers: the dashboard's 'as of'."""
    with engine.connect() as conn:
        value = conn.execute(text("SELECT MAX(month) FROM monthly_summary")).scalar()
    return pd.Timestamp(value).date() if value else None


def synthetic_note(engine: Engine) -> str | None:
    """The demo's synthetic label, when the database holds the demo."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT value FROM meta WHERE key = 'synthetic'")).scalar()


def demo_truths(engine: Engine) -> dict | None:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'demo_truths'")).scalar()
    return json.loads(value) if value else None


def filter_options(engine: Engine) -> dict[str, pd.DataFrame]:
    """The choices for the filter widgets: CPAs, primes, contracts, partners, payment groups."""
    with engine.connect() as conn:

        def frame(sql):
            result = conn.execute(text(sql))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

        return {
            "cpas": frame("SELECT cpa_code, cpa_name, nation FROM cpa ORDER BY cpa_code"),
            "primes": frame("SELECT prime_id, prime_name FROM prime ORDER BY prime_name"),
            "contracts": frame(
                "SELECT k.contract_id, k.prime_id, pr.prime_name, k.cpa_code, k.end_date, k.end_reason "
                "FROM contract k JOIN prime pr ON pr.prime_id = k.prime_id ORDER BY k.cpa_code"
            ),
            "partners": frame(
                "SELECT DISTINCT pa.partner_id, pa.partner_name, pa.sector, pa.tier FROM partner pa "
                "JOIN submission s ON s.partner_id = pa.partner_id AND s.status = 'current' "
                "ORDER BY pa.partner_name"
            ),
            "payment_groups": frame("SELECT code, short_name, outcome_weeks FROM payment_group ORDER BY code"),
        }


def _known_sum(column: str) -> str:
    """SQL: the sum of `column` over the group, or NULL when any of its rows does not report it (a measure a return
    does not report, a count sent suppressed): unknown is not zero, and a total that quietly left some rows out
    would read as complete."""
    return f"CASE WHEN COUNT({column}) = COUNT(*) THEN SUM({column}) END"


FLOW_MEASURES = ("referrals", "attachments", "job_starts", "job_outcomes")


def flow_totals(engine: Engine, filters: Filters = Filters()) -> pd.DataFrame:
    """Flow counts over the filtered months, per partner, contract and payment group; a count is NULL where any
    month of it is unknown (`_known_sum`)."""
    where, params = filters.where("t.month")
    sums = ", ".join(f"{_known_sum(f't.{m}')} AS {m}" for m in FLOW_MEASURES)
    sql = _grouped("monthly_summary", f"{sums}, MIN(t.basis) AS basis", ("payment_group",), where)
    return _read(engine, sql, params)


# Cohort measure (numerator, as returned) -> (cohort_summary column, the denominator it is a share of, the cut
# that makes a cohort mature for it). A cell that does not report the measure (NULL) is left out of both its
# numerator and its denominator, and `<numerator>_not_reported` says that some cell was.
COHORT_MEASURES = {
    "attached": ("attachments", "attach_cohort", ":start_cut"),
    "job_starts": ("job_starts_{suffix}", "start_cohort", ":start_cut"),
    "job_outcomes": ("job_outcomes_{suffix}", "outcome_cohort", "{outcome_cut}"),
}


def _mature_cohorts(
    engine: Engine, filters: Filters, *, as_of: date, months: int, by: str, names: bool = True
) -> pd.DataFrame:
    """Mature cohort sizes and outcomes per partner and contract, grouped further `by` one column."""
    cut = cohorts.maturity_cutoffs(as_of, months, reference.qualifying_weeks())
    outcome_cut, cut_params = cohorts.outcome_cutoff_sql(cut)
    where, params = filters.where("t.referral_month")
    params.update(cut_params, start_cut=cut.job_starts)
    suffix = cohorts.window_suffix(months)
    sums = []
    for name, (column, denominator, mature) in COHORT_MEASURES.items():
        column, mature = f"t.{column.format(suffix=suffix)}", mature.format(outcome_cut=outcome_cut)
        known, unknown = f"t.referral_month <= {mature} AND {column} IS NOT NULL", f"{column} IS NULL"
        sums += [
            f"SUM(CASE WHEN {known} THEN t.referrals ELSE 0 END) AS {denominator}",
            f"SUM(CASE WHEN {known} THEN {column} ELSE 0 END) AS {name}",
            f"MAX(CASE WHEN t.referral_month <= {mature} AND {unknown} THEN 1 ELSE 0 END) AS {name}_not_reported",
        ]
    sql = _grouped("cohort_summary", ",\n            ".join(sums), (by,), where, names)
    return _read(engine, sql, params)


def cohort_totals(engine: Engine, filters: Filters = Filters(), *, as_of: date, months: int = 12) -> pd.DataFrame:
    """Mature referral cohorts per partner, contract and payment group: cohort sizes and 12/24-month outcomes.

    Immature cohorts are left out, never shown as low rates (dashboard/cohorts.py says when a cohort is mature).
    """
    return _mature_cohorts(engine, filters, as_of=as_of, months=months, by="payment_group")


def cohort_series(engine: Engine, filters: Filters = Filters(), *, as_of: date, months: int = 12) -> pd.DataFrame:
    """Mature cohort counts per quarter of referral (for trends), per partner and contract."""
    frame = _mature_cohorts(engine, filters, as_of=as_of, months=months, by="referral_month", names=False)
    frame["period"] = pd.to_datetime(frame["referral_month"]).dt.to_period("Q").dt.start_time
    counts = frame.groupby(["partner_id", "contract_id", "period"], as_index=False)[
        ["start_cohort", "job_starts", "outcome_cohort", "job_outcomes"]
    ].sum()
    keys = ["cpa_code", "cpa_name", "contract_id", "prime", "partner_id", "partner", "sector", "period"]
    out = _organisations(engine).merge(counts, on=["partner_id", "contract_id"])
    return out.sort_values(keys, ignore_index=True)[
        keys + ["start_cohort", "job_starts", "outcome_cohort", "job_outcomes"]
    ]


def projections_vs_actuals(engine: Engine, filters: Filters = Filters()) -> pd.DataFrame:
    """Projected and actual referrals per partner, contract and month (all payment groups in the filter)."""
    where, params = filters.where("t.month")
    projected = _read(
        engine,
        _grouped("projection_summary", "SUM(t.projected_referrals) AS projected", ("month",), where, names=False),
        params,
    )
    actual = _read(
        engine,
        _grouped(
            "monthly_summary", "SUM(t.referrals) AS actual, MIN(t.basis) AS basis", ("month",), where, names=False
        ),
        params,
    )
    # Merged on ids (and the month as stored), names attached once per partner contract afterwards.
    merged = projected.merge(actual, on=["partner_id", "contract_id", "month"], how="outer")
    merged["month"] = pd.to_datetime(merged["month"])
    # A partner with participant-level returns reports every referral, so a month without one is a true zero;
    # for aggregate-only partners a missing or suppressed month is unknown, never zero.
    merged["participant_level"] = merged["basis"].eq("participants").groupby(merged["partner_id"]).transform("any")
    out = _organisations(engine).merge(merged.drop(columns="basis"), on=["partner_id", "contract_id"])
    keys = [
        "cpa_code",
        "cpa_name",
        "nation",
        "contract_id",
        "prime_id",
        "prime",
        "partner_id",
        "partner",
        "sector",
        "tier",
        "month",
    ]
    return out[keys + ["projected", "actual", "participant_level"]]


def _organisations(engine: Engine) -> pd.DataFrame:
    """Names and kinds of every partner contract that has sent a submission (a few hundred rows)."""
    return _read(
        engine,
        f"""SELECT {ORG_SELECT} FROM (SELECT DISTINCT partner_id, contract_id FROM submission) t
        {ORG_JOIN}""",
        {},
    )


def feedback_totals(engine: Engine, filters: Filters = Filters()) -> pd.DataFrame:
    """Complaints and satisfaction per partner and contract over the filtered months."""
    where, params = filters.where("t.month")
    where = where.replace("t.payment_group IN :payment_groups", "1 = 1")
    params.pop("payment_groups", None)
    # A measure some month does not report is unknown for the period (_known_sum), never a partial total; a month
    # without responses has no mean to report, so it only counts against the points when it had responses.
    sql = f"""SELECT {ORG_SELECT}, {_known_sum("t.complaints_received")} AS complaints,
            {_known_sum("t.complaints_resolved_in_time")} AS resolved_in_time,
            {_known_sum("t.satisfaction_responses")} AS responses,
            CASE WHEN COUNT(CASE WHEN t.satisfaction_responses > 0 AND t.satisfaction_mean IS NULL THEN 1 END) = 0
                THEN SUM(CASE WHEN t.satisfaction_responses > 0 THEN t.satisfaction_mean * t.satisfaction_responses
                    ELSE 0 END) END AS satisfaction_points
        FROM v_feedback t {ORG_JOIN} WHERE {where} GROUP BY {ORG_GROUP}"""
    return _read(engine, sql, params)


def submissions(engine: Engine, limit: int = 500) -> pd.DataFrame:
    """The latest submissions with their status, newest first."""
    sql = """SELECT v.submission_id, v.file_name, v.status, v.period, v.layout, v.cpa_code, v.prime, v.partner,
            v.rows_participants, v.rows_monthly, v.rows_projections, v.rows_feedback, v.warnings, v.loaded_at,
            v.loaded_by, s.partner_id, k.prime_id
        FROM v_submissions v JOIN submission s ON s.submission_id = v.submission_id
            JOIN contract k ON k.contract_id = s.contract_id
        ORDER BY v.submission_id DESC LIMIT :limit"""
    return _read(engine, sql, {"limit": limit})


def coverage(engine: Engine, filters: Filters = Filters()) -> pd.DataFrame:
    """Which partner-contracts have data for which months (from the summaries)."""
    where, params = filters.where("t.month")
    months = _read(
        engine, _grouped("monthly_summary", "SUM(t.referrals) AS referrals", ("month",), where, names=False), params
    )
    months["month"] = pd.to_datetime(months["month"])
    names = _organisations(engine)[["cpa_code", "contract_id", "prime", "partner_id", "partner"]]
    return names.merge(months, on=["partner_id", "contract_id"])[
        ["cpa_code", "contract_id", "prime", "partner_id", "partner", "month", "referrals"]
    ]


def minimum_performance_levels(engine: Engine) -> pd.DataFrame:
    return _read(
        engine,
        "SELECT contract_year, year_start, year_end, payment_group, mpl, source "
        "FROM minimum_performance_level ORDER BY contract_year, payment_group",
        {},
    )


def standards(engine: Engine) -> pd.DataFrame:
    """The standards catalogue (v_standards)."""
    return _read(engine, "SELECT * FROM v_standards ORDER BY prime, stage, standard_id", {})


def compliance_cells(engine: Engine, filters: Filters = Filters(), as_of_limit: date | None = None) -> pd.DataFrame:
    """Share meeting each measurable standard per partner contract, with n, Wilson interval and status.

    `as_of_limit` keeps only evaluations as at that date or earlier (public mode's cut-off).
    """
    where, params = filters.where("t.as_of")
    where = where.replace("t.payment_group IN :payment_groups", "1 = 1")
    params.pop("payment_groups", None)
    for key in ("period_from", "period_to"):  # compliance is as at each partner's latest return
        where = where.replace(f"t.as_of >= :{key}", "1 = 1").replace(f"t.as_of <= :{key}", "1 = 1")
        params.pop(key, None)
    if as_of_limit is not None:
        where += " AND t.as_of <= :as_of_limit"
        params["as_of_limit"] = as_of_limit
    counts = _read(
        engine,
        f"""SELECT {ORG_SELECT}, t.standard_id, t.as_of, t.met, t.missed, t.pending,
            t.not_applicable
        FROM compliance_summary t {ORG_JOIN} WHERE {where}""",
        params,
    )
    if counts.empty:
        return counts
    cells = compliance.summarise_counts(counts, standards(engine), by=["partner_id", "contract_id", "standard_id"])
    org = counts.drop(columns=["standard_id", "met", "missed", "pending", "not_applicable"]).drop_duplicates(
        ["partner_id", "contract_id"]
    )
    return cells.merge(org, on=["partner_id", "contract_id"], how="left")


def compliance_by_partner(
    engine: Engine, filters: Filters = Filters(), as_of_limit: date | None = None
) -> pd.DataFrame:
    """Per partner contract: standards measured (enough data), met, and significantly below target."""
    cells = compliance_cells(engine, filters, as_of_limit)
    if cells.empty:
        return pd.DataFrame(
            columns=["partner_id", "contract_id", "standards_measured", "standards_met", "standards_below"]
        )
    cells = cells.assign(
        measured=cells["status"] != compliance.NOT_ENOUGH,
        met_target=cells["status"] == compliance.MEETS,
        below=cells["status"] == compliance.BELOW_SIGNIFICANT,
    )
    out = cells.groupby(["partner_id", "contract_id"], as_index=False).agg(
        standards_measured=("measured", "sum"), standards_met=("met_target", "sum"), standards_below=("below", "sum")
    )
    return out


def _drill(engine: Engine, sql: str, partner_id: int, contract_id: str, standard_id: str) -> pd.DataFrame:
    return _read(engine, sql, {"partner": partner_id, "contract": contract_id, "standard": standard_id})


_ONE_CELL = "WHERE partner_id = :partner AND contract_id = :contract AND standard_id = :standard"


def standard_counts(engine: Engine, partner_id: int, contract_id: str, standard_id: str) -> pd.DataFrame:
    """Participants met, missed, pending and not applicable for one standard at one partner contract."""
    return _drill(
        engine,
        f"SELECT met, missed, pending, not_applicable FROM compliance_summary {_ONE_CELL}",
        partner_id,
        contract_id,
        standard_id,
    )


def standard_days(engine: Engine, partner_id: int, contract_id: str, standard_id: str) -> pd.DataFrame:
    """How many participants took how many days, for one standard at one partner contract (the drill-down)."""
    return _drill(
        engine,
        f"SELECT days, participants FROM compliance_days {_ONE_CELL} ORDER BY days",
        partner_id,
        contract_id,
        standard_id,
    )


def standard_missed(engine: Engine, partner_id: int, contract_id: str, standard_id: str) -> pd.DataFrame:
    """The participants who missed one standard at one partner contract: pseudonymous refs, for follow-up by the
    partner's own users only (the page checks who is looking)."""
    return _drill(
        engine,
        f"""SELECT participant_ref, payment_group, days FROM compliance_missed {_ONE_CELL}
        ORDER BY participant_ref""",
        partner_id,
        contract_id,
        standard_id,
    )
