"""Measure a partner's participants against its prime's published Minimum Service Levels.

Pure pandas/numpy (plus the `holidays` library for bank holidays): no Streamlit, no SQL. The standards
come from `data/reference/standards.csv`; `applicable_standards` picks a prime's rows for one CPA,
`evaluate` gives one outcome per participant and measurable standard, and `summarise` turns the outcomes
into shares meeting each standard with Wilson intervals and a status against the standard's target.

Rules, per `rule_kind` (dates after `as_of` count as not reached yet, so an evaluation "as at" a past
date ignores later events):

- time_limit: applies once `from_milestone` is reached. If `to_milestone` is reached, `days` is the
  interval (calendar days, or working days after the start date up to and including the end date) and
  the outcome is met when days <= limit_days, else missed. If it is not reached, the outcome is missed
  once the limit has expired by `as_of` (days from the start to `as_of` > limit_days, whatever the reason:
  an exit before the milestone is still a miss) and pending before that. A `to_milestone` dated before
  `from_milestone` is a data error (the validator reports it) and is not_applicable here.
- conversion: the denominator is participants whose `from_milestone` was reached at least
  CONVERSION_GRACE_DAYS before `as_of` (so each had a fair chance to convert); they are met when
  `to_milestone` is reached (for `in_work_support_offered`, when the flag is true) and missed otherwise.
  Those reached more recently are pending, converted or not, so early converters do not inflate the rate.
- contact_frequency: the window runs from `from_milestone` to the first of `to_milestone`, `exit_date`
  and `as_of`, clipped to the span the contacts data covers (its first contact date overall up to
  `as_of`), since partners may send contacts for recent months only. `days` is the longest gap between
  consecutive points of [window start, contacts in the window..., window end]; met when it is <=
  frequency_days. A window still open at `as_of` is judged on the gaps so far. Windows shorter than
  frequency_days, and every participant when there are no contacts at all, are not_applicable.
- qualitative standards produce no rows.

Participants outside a standard's payment groups get no row for it; participants who have not reached a
standard's start milestone get a not_applicable row. A standard whose milestone column is absent from the
participants frame (or, for the `in_work_support_offered` flag, is blank for every participant) is not
measured: every row is not_applicable. A blank flag on some rows reads as "not offered". `days` is NaN
wherever no interval was measured (pending, not_applicable, or missed without reaching the milestone).
Evaluate one partner at a time: a participant_ref may appear only once.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays
import numpy as np
import pandas as pd

from dashboard import settings
from dashboard.fields import JOURNEY_MILESTONES
from dashboard.metrics import Z95, wilson_intervals

STAGES: tuple[tuple[str, str], ...] = (
    ("pre_programme_engagement", "Pre-programme engagement"),
    ("programme_engagement", "Programme engagement"),
    ("pre_work_support", "Pre-work support"),
    ("in_work_support", "In-work support"),
    ("programme_exit", "Programme exit"),
)
STAGE_LABELS = dict(STAGES)

MET, MISSED, PENDING, NOT_APPLICABLE = "met", "missed", "pending", "not_applicable"
OUTCOMES = (MET, MISSED, PENDING, NOT_APPLICABLE)
# A standard's status: the one spelling of each, used by the summaries, the pages, the scorecard and the charts.
# Met, near (within the standards_near setting of the target, or below it without significant evidence) or missed
# (significantly below, by the Wilson interval, and further off than that): 97% of a 100% target is near, not red.
MEETS = "Meets target"
NEAR_TARGET = "Near target"
MISSED_TARGET = "Missed target (significant)"
NOT_ENOUGH = "Not enough data"
STATUSES = (MEETS, NEAR_TARGET, MISSED_TARGET, NOT_ENOUGH)  # display order: legends, roll-ups
# The names these statuses had before "near" (dashboard/charts.py still uses them).
BELOW_NOT_SIGNIFICANT, BELOW_SIGNIFICANT = NEAR_TARGET, MISSED_TARGET

# A conversion counts a participant only once their start milestone is this old: four weeks is long
# enough for an attachment or an in-work offer to follow, short enough to keep recent cohorts in view.
CONVERSION_GRACE_DAYS = 28
# Bank-holiday calendars are built once per nation for these years; dates outside count weekends only.
HOLIDAY_YEARS = range(2011, 2031)
NATION_SUBDIVISIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT"}
FLAG_MILESTONES = frozenset({"in_work_support_offered"})
RULE_KINDS = ("time_limit", "conversion", "contact_frequency", "qualitative")
OUTCOME_COLUMNS = ["standard_id", "participant_ref", "payment_group", "outcome", "days"]
# A hair of slack so 27/30 counts as meeting a 0.9 target despite float rounding.
_SLACK = 1e-9
_TRUE_WORDS = frozenset({"1", "y", "yes", "true"})


class UnknownNation(ValueError):
    """A nation with no bank-holiday calendar (use england, scotland or wales)."""


class InvalidStandard(ValueError):
    """A catalogue row whose rule the engine cannot evaluate (unknown kind, milestone or missing limit)."""


class DuplicateParticipant(ValueError):
    """A participant_ref that appears more than once in the participants evaluated together."""


class MissingColumn(ValueError):
    """A frame without a column the engine needs."""


# ------------------------------------------------------------------------------------------------ dates


@cache
def _calendar(nation: str) -> np.busdaycalendar:
    subdivision = NATION_SUBDIVISIONS[nation]
    days = holidays.country_holidays("GB", subdiv=subdivision, years=HOLIDAY_YEARS)
    return np.busdaycalendar(holidays=np.array(sorted(days), dtype="datetime64[D]"))


def _nation(nation: str) -> str:
    key = str(nation).strip().lower()
    if key not in NATION_SUBDIVISIONS:
        raise UnknownNation(f"Nation {nation!r} has no bank-holiday calendar: use england, scotland or wales")
    return key


def _to_days(values) -> np.ndarray:
    """datetime64[D] array (NaT where missing) from a Series, array, list or scalar of dates."""
    if values is None or np.ndim(values) == 0:
        values = [values]
    parsed = pd.to_datetime(pd.Series(values).reset_index(drop=True), errors="coerce")
    return parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def _working_days(start: np.ndarray, end: np.ndarray, nation: str) -> np.ndarray:
    """Working days after start up to and including end (float, NaN where either is missing)."""
    start, end = np.broadcast_arrays(start, end)
    out = np.full(start.shape, np.nan)
    ok = ~(np.isnat(start) | np.isnat(end))
    one = np.timedelta64(1, "D")
    out[ok] = np.busday_count(start[ok] + one, end[ok] + one, busdaycal=_calendar(nation))
    return out


def _calendar_days(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """end - start in days (float, NaN where either is missing)."""
    start, end = np.broadcast_arrays(start, end)
    out = (end - start).astype("timedelta64[D]").astype(float)
    out[np.isnat(start) | np.isnat(end)] = np.nan
    return out


def _int_series(values: np.ndarray, like) -> pd.Series:
    index = like.index if isinstance(like, pd.Series) else None
    return pd.Series(pd.array(values, dtype="Int64"), index=index)  # NaN becomes <NA>


def working_days_between(start: pd.Series, end: pd.Series, nation: str) -> pd.Series:
    """Working days after each start up to and including its end (the next working day is 1; NA if missing).

    Weekends and the nation's bank holidays are not working days: England and Wales share a calendar,
    Scotland's differs (2 January, St Andrew's Day, the first Monday of August, no Easter Monday).
    An end before its start gives a negative count.
    """
    values = _working_days(_to_days(start), _to_days(end), _nation(nation))
    return _int_series(values, start if isinstance(start, pd.Series) else end)


def calendar_days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Calendar days from each start to its end (NA if either is missing)."""
    values = _calendar_days(_to_days(start), _to_days(end))
    return _int_series(values, start if isinstance(start, pd.Series) else end)


# ------------------------------------------------------------------------------------------- standards


def _split(cell) -> list[str]:
    if cell is None or pd.isna(cell):
        return []
    return [part.strip() for part in str(cell).split(";") if part.strip()]


def _cpas(cell) -> set[int]:
    return {int(float(part)) for part in _split(cell)}


def applicable_standards(standards: pd.DataFrame, prime_id: str, cpa_code: int) -> pd.DataFrame:
    """The prime's standards whose cpa_scope includes the CPA (all rule kinds, catalogue order)."""
    prime = str(prime_id).strip().lower()
    mine = standards["prime_id"].astype(str).str.strip().str.lower() == prime
    in_scope = standards["cpa_scope"].map(lambda cell: int(cpa_code) in _cpas(cell)).astype(bool)
    return standards[mine & in_scope].reset_index(drop=True)


def _number(value) -> float:
    return float(pd.to_numeric(value, errors="coerce"))


def _check_rule(rule: dict) -> str:
    """The rule's kind, or InvalidStandard naming the field to fix in standards.csv."""
    sid, kind = rule["standard_id"], str(rule["rule_kind"]).strip()
    if kind not in RULE_KINDS:
        raise InvalidStandard(f"Standard {sid} has rule_kind {kind!r}: expected one of {', '.join(RULE_KINDS)}")
    if kind == "qualitative":
        return kind
    allowed_to = (*JOURNEY_MILESTONES, *FLAG_MILESTONES) if kind == "conversion" else JOURNEY_MILESTONES
    for end, allowed in (("from_milestone", JOURNEY_MILESTONES), ("to_milestone", allowed_to)):
        if rule[end] not in allowed:
            raise InvalidStandard(
                f"Standard {sid} ({kind}) has {end} {rule[end]!r}: expected one of {', '.join(allowed)}"
            )
    if kind == "time_limit" and not (
        _number(rule["limit_days"]) >= 0 and str(rule["day_basis"]).strip() in ("calendar", "working")
    ):
        raise InvalidStandard(
            f"Standard {sid} (time_limit) needs limit_days >= 0 and day_basis calendar or working "
            f"(has {rule['limit_days']!r}, {rule['day_basis']!r})"
        )
    if kind == "contact_frequency" and not _number(rule["frequency_days"]) > 0:
        raise InvalidStandard(f"Standard {sid} (contact_frequency) needs frequency_days > 0")
    return kind


# ------------------------------------------------------------------------------------------- evaluation


class _Journeys:
    """The participants' milestones as day arrays, with dates after as_of treated as not reached."""

    def __init__(self, participants: pd.DataFrame, as_of: np.datetime64):
        for column in ("participant_ref", "payment_group"):
            if column not in participants.columns:
                raise MissingColumn(
                    f"The participants frame has no {column!r} column "
                    f"(found: {', '.join(map(str, participants.columns))})"
                )
        refs = participants["participant_ref"].astype(str).reset_index(drop=True)
        duplicated = refs[refs.duplicated()]
        if not duplicated.empty:
            raise DuplicateParticipant(
                f"participant_ref {duplicated.iloc[0]!r} appears more than once "
                f"({duplicated.nunique()} refs repeated): evaluate one partner's participants at a time"
            )
        self.frame = participants
        self.index = pd.Index(refs)
        self.refs = refs.to_numpy(dtype=object)
        self.groups = participants["payment_group"].astype(object).reset_index(drop=True).to_numpy()
        self.as_of = as_of
        self._dates: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.refs)

    def has(self, column: str) -> bool:
        if column not in self.frame.columns:
            return False
        return column not in FLAG_MILESTONES or bool(self.frame[column].notna().any())

    def date(self, column: str) -> np.ndarray:
        if column not in self._dates:
            if column in self.frame.columns:
                days = _to_days(self.frame[column])
            else:
                days = np.full(len(self), np.datetime64("NaT"), dtype="datetime64[D]")
            days[days > self.as_of] = np.datetime64("NaT")
            self._dates[column] = days
        return self._dates[column]

    def flag(self, column: str) -> np.ndarray:
        return np.fromiter(map(_truthy, self.frame[column]), dtype=bool, count=len(self))

    def in_groups(self, cell) -> np.ndarray:
        wanted = _split(cell)
        if not wanted:
            return np.ones(len(self), dtype=bool)
        return pd.Series(self.groups).astype(str).str.strip().str.upper().isin([g.upper() for g in wanted]).to_numpy()


def _truthy(value) -> bool:
    """A flag cell as stored (True, 1, 'Y'...) read as a bool; blanks and anything else are False."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


def _interval(start, end, basis: str, nation: str) -> np.ndarray:
    return _working_days(start, end, nation) if basis == "working" else _calendar_days(start, end)


def _time_limit(rule, journeys: _Journeys, nation: str) -> tuple[np.ndarray, np.ndarray]:
    start, end = journeys.date(rule["from_milestone"]), journeys.date(rule["to_milestone"])
    limit, basis = _number(rule["limit_days"]), str(rule["day_basis"]).strip().lower()
    days = _interval(start, end, basis, nation)
    elapsed = _interval(start, journeys.as_of, basis, nation)
    started, reached = ~np.isnat(start), ~np.isnat(end)
    outcome = np.full(len(journeys), NOT_APPLICABLE, dtype=object)
    done = started & reached & (days >= 0)
    outcome[done] = np.where(days[done] <= limit, MET, MISSED)
    waiting = started & ~reached
    outcome[waiting] = np.where(elapsed[waiting] > limit, MISSED, PENDING)
    return outcome, np.where(done, days, np.nan)


def _conversion(rule, journeys: _Journeys, nation: str) -> tuple[np.ndarray, np.ndarray]:
    start, target = journeys.date(rule["from_milestone"]), rule["to_milestone"]
    if target in FLAG_MILESTONES:
        converted, days = journeys.flag(target), np.full(len(journeys), np.nan)
    else:
        end = journeys.date(target)
        converted, days = ~np.isnat(end), _calendar_days(start, end)
    started = ~np.isnat(start)
    counted = started & (start <= journeys.as_of - np.timedelta64(CONVERSION_GRACE_DAYS, "D"))
    outcome = np.full(len(journeys), NOT_APPLICABLE, dtype=object)
    outcome[started] = PENDING
    outcome[counted] = np.where(converted[counted], MET, MISSED)
    return outcome, np.where(started & converted, days, np.nan)


def _longest_gaps(owner: np.ndarray, day: np.ndarray, size: int) -> np.ndarray:
    """Longest gap between consecutive days of each owner (every owner present has at least two days)."""
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    gaps = np.diff(day).astype(float)
    gaps[owner[1:] != owner[:-1]] = -np.inf  # a step from one owner's days to the next is no gap
    firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    out = np.full(size, np.nan)
    out[owner[firsts]] = np.maximum.reduceat(gaps, np.minimum(firsts, len(gaps) - 1))
    return out


class _Contacts:
    """The contacts up to as_of as (participant position, day) arrays, and the first day they cover."""

    def __init__(self, contacts: pd.DataFrame, journeys: _Journeys):
        days = _to_days(contacts["contact_date"])
        owner = journeys.index.get_indexer(pd.Index(contacts["participant_ref"].astype(str)))
        in_span = ~np.isnat(days) & (days <= journeys.as_of)
        self.covered_from = days[in_span].min() if in_span.any() else None
        keep = in_span & (owner >= 0)
        self.owner, self.days = owner[keep], days[keep]


def _contact_frequency(rule, journeys: _Journeys, contacts: _Contacts | None) -> tuple[np.ndarray, np.ndarray]:
    size = len(journeys)
    outcome, days = np.full(size, NOT_APPLICABLE, dtype=object), np.full(size, np.nan)
    if contacts is None or contacts.covered_from is None:
        return outcome, days
    start = journeys.date(rule["from_milestone"])
    end = np.fmin(np.fmin(journeys.date(rule["to_milestone"]), journeys.date("exit_date")), journeys.as_of)
    # NaT stays NaT: a comparison with NaT is False
    start = np.where(start < contacts.covered_from, contacts.covered_from, start)
    frequency = _number(rule["frequency_days"])
    length = _calendar_days(start, end)
    judged = ~np.isnan(length) & (length >= frequency)
    if not judged.any():
        return outcome, days
    owner, contact_days = contacts.owner, contacts.days
    keep = judged[owner] & (contact_days >= start[owner]) & (contact_days <= end[owner])
    people = np.flatnonzero(judged)
    owners = np.concatenate([owner[keep], people, people])
    points = np.concatenate([contact_days[keep], start[people], end[people]]).astype("int64")
    gaps = _longest_gaps(owners, points, size)
    outcome[judged] = np.where(gaps[judged] <= frequency, MET, MISSED)
    days[judged] = gaps[judged]
    return outcome, days


_RULES = {"time_limit": _time_limit, "conversion": _conversion}


def _measurable(rule, journeys: _Journeys) -> bool:
    """Whether the frame records both milestones (exit_date, which only ends windows early, is optional)."""
    return journeys.has(rule["from_milestone"]) and journeys.has(rule["to_milestone"])


def evaluate(
    participants: pd.DataFrame,
    standards: pd.DataFrame,
    *,
    nation: str,
    as_of: date,
    contacts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One outcome (met, missed, pending, not_applicable) per participant and measurable standard.

    `standards` are the rows that apply to the partner's prime and CPA (see `applicable_standards`);
    `contacts` (participant_ref, contact_date) feeds the contact-frequency standards. Columns:
    standard_id, participant_ref, payment_group, outcome, days (the measured interval, NaN if none).
    """
    nation = _nation(nation)
    journeys = _Journeys(participants, np.datetime64(pd.Timestamp(as_of).date(), "D"))
    prepared = None
    if contacts is not None:
        missing = {"participant_ref", "contact_date"} - set(contacts.columns)
        if missing:
            raise MissingColumn(
                f"The contacts frame has no {', '.join(sorted(missing))} column "
                f"(found: {', '.join(map(str, contacts.columns))})"
            )
        if (standards["rule_kind"] == "contact_frequency").any():
            prepared = _Contacts(contacts, journeys)
    pieces = []
    for rule in standards.to_dict("records"):
        kind = _check_rule(rule)
        if kind == "qualitative":
            continue
        rows = journeys.in_groups(rule.get("payment_groups"))
        if not _measurable(rule, journeys):
            outcome, days = np.full(len(journeys), NOT_APPLICABLE, dtype=object), np.full(len(journeys), np.nan)
        elif kind == "contact_frequency":
            outcome, days = _contact_frequency(rule, journeys, prepared)
        else:
            outcome, days = _RULES[kind](rule, journeys, nation)
        pieces.append(
            pd.DataFrame(
                {
                    "standard_id": rule["standard_id"],
                    "participant_ref": journeys.refs[rows],
                    "payment_group": journeys.groups[rows],
                    "outcome": outcome[rows],
                    "days": days[rows],
                }
            )
        )
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "days" else object) for c in OUTCOME_COLUMNS})
    return pd.concat(pieces, ignore_index=True)


# -------------------------------------------------------------------------------------------- summary


def status_of(
    n: np.ndarray, share: np.ndarray, upper: np.ndarray, target: np.ndarray, min_n: int, near: float | None = None
) -> np.ndarray:
    """Not enough data (n < min_n); Meets target (share >= target); Missed target when the Wilson upper bound is
    below the target (significant) and the share is more than `near` (default: the standards_near setting) below
    it; else Near target."""
    near = settings.get("standards_near") if near is None else near
    with np.errstate(invalid="ignore"):
        missed = (upper < target - _SLACK) & (share < target - near - _SLACK)
        return np.where(
            n < min_n,
            NOT_ENOUGH,
            np.where(share >= target - _SLACK, MEETS, np.where(missed, MISSED_TARGET, NEAR_TARGET)),
        )


def summarise(
    outcomes: pd.DataFrame, standards: pd.DataFrame, by: list[str] | None = None, min_n: int | None = None
) -> pd.DataFrame:
    """Share meeting each standard (met / (met + missed)) with its Wilson 95% interval and a status.

    Below `min_n` met + missed outcomes (default: the min_denominator setting) a share is not compared.

    `by` must include standard_id (the target is per standard); add e.g. payment_group to split further.
    Columns: by..., stage, stage_label, title, rule_kind, target_share, n, met, missed, pending,
    not_applicable, share, lower, upper, status. Rows follow the stage order, then `by`.
    """
    by = list(by or ["standard_id"])
    if "standard_id" not in by:
        raise ValueError(f"by={by!r} has no 'standard_id': each standard has its own target, so group by it")
    counts = (
        pd.crosstab([outcomes[c] for c in by], outcomes["outcome"].astype(str))
        .reindex(columns=list(OUTCOMES), fill_value=0)
        .reset_index()
        if len(outcomes)
        else pd.DataFrame(columns=by + list(OUTCOMES))
    )
    counts.columns.name = None
    return summarise_counts(counts, standards, by, min_n)


def summarise_counts(
    counts: pd.DataFrame, standards: pd.DataFrame, by: list[str] | None = None, min_n: int | None = None
) -> pd.DataFrame:
    """`summarise` from counts already made: columns by..., met, missed, pending, not_applicable.

    The dashboard keeps these counts per partner contract at ingest, so pages summarise without
    re-evaluating participants.
    """
    by = list(by or ["standard_id"])
    unknown = sorted(set(counts["standard_id"]) - set(standards["standard_id"]))
    if unknown:
        raise InvalidStandard(
            f"Outcomes for {', '.join(map(str, unknown))} have no row in the standards given: "
            "pass the standards that were evaluated"
        )
    meta = standards[["standard_id", "stage", "title", "rule_kind", "target_share"]].drop_duplicates("standard_id")
    meta["target_share"] = pd.to_numeric(meta["target_share"], errors="coerce")
    out = counts.merge(meta, on="standard_id", how="left")
    for column in OUTCOMES:
        out[column] = out[column].astype("int64")
    out["n"] = out[MET] + out[MISSED]
    n, met = out["n"].to_numpy(dtype=float), out[MET].to_numpy(dtype=float)
    share, lower, upper = np.full(len(out), np.nan), np.full(len(out), np.nan), np.full(len(out), np.nan)
    some = n > 0
    share[some] = met[some] / n[some]
    if some.any():
        lower[some], upper[some] = wilson_intervals(met[some], n[some], Z95)
    out["share"], out["lower"], out["upper"] = share, lower, upper
    min_n = settings.get("min_denominator") if min_n is None else min_n
    out["status"] = status_of(n, share, upper, out["target_share"].to_numpy(dtype=float), min_n)
    stage_order = {slug: i for i, (slug, _) in enumerate(STAGES)}
    out["stage_label"] = out["stage"].map(STAGE_LABELS)
    out = out.assign(_stage=out["stage"].map(stage_order)).sort_values(["_stage", *by], kind="stable")
    columns = [
        *by,
        "stage",
        "stage_label",
        "title",
        "rule_kind",
        "target_share",
        "n",
        MET,
        MISSED,
        PENDING,
        NOT_APPLICABLE,
        "share",
        "lower",
        "upper",
        "status",
    ]
    return out[columns].reset_index(drop=True)


def prime_roll_up(cells: pd.DataFrame) -> pd.DataFrame:
    """How does each prime's supply chain do, stage by stage? Per prime and stage, of the measured partner x
    standard cells (n > 0): how many there are, how many meet their target, are significantly below it or have
    not enough data, and the share of all their participants meeting the standard (met / n)."""
    measured = cells[cells["n"] > 0]
    roll = measured.groupby(["prime", "stage_label"], as_index=False).agg(
        cells=("status", "size"),
        meets=("status", lambda s: (s == MEETS).sum()),
        below=("status", lambda s: (s == BELOW_SIGNIFICANT).sum()),
        not_enough=("status", lambda s: (s == NOT_ENOUGH).sum()),
        met=("met", "sum"),
        n=("n", "sum"),
    )
    roll["share"] = roll["met"] / roll["n"].where(roll["n"] > 0)
    return roll
