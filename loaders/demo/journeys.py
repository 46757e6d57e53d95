"""SYNTHETIC participant journeys, calibrated to the Work Programme's published figures (work-programme.md).

Referrals run June 2011 to March 2017 (NCG's CPA 18 contract stops in March 2015); job outcomes rise from
about 8% at 12 months for 2011 cohorts to about 16% for late cohorts; JSA groups do far better than ESA
groups; about 94% of referrals attach; about 70% of job starts become job outcomes; everything after the
demo's as-of date is unobserved, as in real MI.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from dashboard.reference import payment_group_codes, qualifying_weeks
from loaders.demo.world import Partner

AS_OF = date(2017, 3, 31)
PROGRAMME_START = date(2011, 6, 1)
PARTICIPANTS = {"tiny": 8_000, "small": 60_000, "programme": 1_800_000}
# Demo parameters by payment group code (the codes themselves come from data/reference/payment_groups.csv;
# tests/test_demo.py checks these cover exactly them): the referral mix (JSA 25+ the largest group; ESA
# groups smaller), and the chance of a job start within two years for a mid-programme cohort. Tuned so 2-year
# job outcome rates land near LW-2018's JSA 18-24 36%, JSA 25+ 32%, new ESA 15%, ESA ex-IB 5%.
PG_MIX = {
    "PG1": 0.19,
    "PG2": 0.42,
    "PG3": 0.05,
    "PG4": 0.03,
    "PG5": 0.03,
    "PG6": 0.17,
    "PG7": 0.06,
    "PG8": 0.02,
    "PG9": 0.03,
}
PG_START = {
    "PG1": 0.64,
    "PG2": 0.56,
    "PG3": 0.50,
    "PG4": 0.29,
    "PG5": 0.28,
    "PG6": 0.25,
    "PG7": 0.09,
    "PG8": 0.18,
    "PG9": 0.40,
}
START_TO_OUTCOME = 0.70  # ERSA: about 70% of job starts became job outcomes
VALIDATION_LAG_DAYS = 21  # the job outcome date is the payment date after validation, not the day work began
MAX_WEEKS = 104


def cohort_factor(referral_days: np.ndarray) -> np.ndarray:
    """Performance improving over the programme: 0.6 of mature performance in mid-2011 to 1.0 from 2014."""
    years = referral_days / 365.25
    return np.clip(0.6 + 0.16 * years, 0.6, 1.0)


def _days(d: date) -> int:
    return (d - PROGRAMME_START).days


def generate_participants(
    rng: np.random.Generator, partner: Partner, contract: dict, n: int, start_ordinal: int
) -> pd.DataFrame:
    """`n` journeys for one partner on one contract, with every milestone not yet reached left empty."""
    end = min(contract["end_date"], AS_OF)
    span = _days(end) + 1
    # Referral volumes ramp up over the first year, then run steady.
    ramp = rng.uniform(0, 1, n) ** 0.8
    ref = np.sort((ramp * span).astype(int))
    codes = payment_group_codes()
    mix = [PG_MIX[code] for code in codes]
    pg = rng.choice(np.array(codes), size=n, p=np.array(mix) / sum(mix))
    if contract["nation"] != "england":
        pg = np.where(pg == "PG8", "PG6", pg)  # IB/IS volunteers were England only
    as_of = _days(AS_OF)

    def later(base, on_time, late_mean, mask):
        # Most milestones land within `on_time` days; at the partner's slip rate one runs late.
        late = rng.random(n) < partner.slip
        delay = np.where(late, on_time + 1 + np.round(rng.exponential(late_mean, n)), rng.integers(0, on_time + 1, n))
        out = np.where(mask, base + delay.astype(int), -1)
        return np.where((out >= 0) & (out <= as_of), out, -1)

    contact = later(ref, 2, partner.contact_days, np.ones(n, bool))
    attached_mask = rng.random(n) < partner.attach_rate
    attach = later(np.maximum(contact, ref), 4, 6.0, attached_mask & (contact >= 0))
    assess = later(attach, 2, partner.assess_days, attach >= 0)
    plan = later(ref, 9, partner.plan_days, attach >= 0)
    plan = np.where((plan >= 0) & (plan < attach), attach, plan)
    p_start = np.array([PG_START[g] for g in pg]) * cohort_factor(ref)
    odds = p_start / (1 - p_start) * partner.effect
    p_start = odds / (1 + odds)
    starts = (rng.random(n) < p_start) & (attach >= 0)
    start_delay = np.clip(rng.gamma(1.5, 110.0, n), 14, MAX_WEEKS * 7 - 1).astype(int)
    job_start = np.where(starts, attach + start_delay, -1)
    job_start = np.where((job_start >= 0) & (job_start <= as_of), job_start, -1)
    outcome_weeks = qualifying_weeks()
    weeks = np.array([outcome_weeks[g] for g in pg])
    outcome_mask = (job_start >= 0) & (rng.random(n) < START_TO_OUTCOME)
    outcome = np.where(outcome_mask, job_start + weeks * 7 + rng.integers(0, VALIDATION_LAG_DAYS * 2, n), -1)
    outcome = np.where((outcome >= 0) & (outcome <= as_of), outcome, -1)
    exit_ = np.where(attach >= 0, attach + MAX_WEEKS * 7, ref + 30)
    exit_ = np.where(exit_ <= as_of, exit_, -1)
    no_outcome_exit = (exit_ >= 0) & (outcome < 0)
    requested = np.where(no_outcome_exit, exit_ - rng.integers(0, 10, n), -1)
    sent = later(requested, 7, partner.exit_report_days, requested >= 0)
    sent = np.where(sent <= as_of, sent, -1)
    iws = np.where(rng.random(n) < partner.iws_rate, "Y", "N").astype(object)
    iws[job_start < 0] = None  # in-work support is offered only to those who started a job

    base = np.datetime64(PROGRAMME_START.isoformat(), "D")

    def to_dates(values):
        return pd.Series(np.where(values >= 0, base + values.astype("timedelta64[D]"), np.datetime64("NaT")))

    refs = [f"{contract['ref_prefix']}{start_ordinal + i:07d}" for i in range(n)]
    return pd.DataFrame(
        {
            "participant_ref": refs,
            "payment_group": pg,
            "referral_date": to_dates(ref),
            "first_contact_date": to_dates(contact),
            "attachment_date": to_dates(attach),
            "initial_assessment_date": to_dates(assess),
            "action_plan_date": to_dates(plan),
            "job_start_date": to_dates(job_start),
            "job_outcome_date": to_dates(outcome),
            "exit_date": to_dates(exit_),
            "exit_report_requested_date": to_dates(requested),
            "exit_report_sent_date": to_dates(sent),
            "in_work_support_offered": iws,
        }
    )


def generate_contacts(
    rng: np.random.Generator, partner: Partner, people: pd.DataFrame, window_start: date = AS_OF - timedelta(days=90)
) -> pd.DataFrame:
    """Contacts in the last quarter for participants on programme then, at the partner's usual spacing."""
    active = people[(people["attachment_date"].notna()) & (people["exit_date"].isna())]
    rows = []
    modes = np.array(["face to face", "phone", "email", "text"])
    for ref, attach in zip(active["participant_ref"], active["attachment_date"]):
        day = max(pd.Timestamp(window_start), attach) + pd.Timedelta(days=int(rng.integers(0, 7)))
        while day.date() <= AS_OF:
            rows.append((ref, day.date(), str(rng.choice(modes, p=[0.6, 0.3, 0.05, 0.05]))))
            day += pd.Timedelta(days=max(1, int(rng.exponential(partner.contact_gap))))
    return pd.DataFrame(rows, columns=["participant_ref", "contact_date", "mode"])


def monthly_flows(people: pd.DataFrame) -> pd.DataFrame:
    """Monthly referrals, attachments, job starts and job outcomes by payment group: what an aggregate return holds."""
    parts = []
    for measure, column in (
        ("referrals", "referral_date"),
        ("attachments", "attachment_date"),
        ("job_starts", "job_start_date"),
        ("job_outcomes", "job_outcome_date"),
    ):
        d = people.loc[people[column].notna(), [column, "payment_group"]]
        parts.append(
            pd.DataFrame(
                {
                    "month": d[column].to_numpy().astype("datetime64[M]"),
                    "payment_group": d["payment_group"].values,
                    "measure": measure,
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    flows = pd.crosstab([long["month"], long["payment_group"]], long["measure"])
    for measure in ("referrals", "attachments", "job_starts", "job_outcomes"):
        if measure not in flows:
            flows[measure] = 0
    flows = flows[["referrals", "attachments", "job_starts", "job_outcomes"]].astype(int)
    flows.columns.name = None
    return flows.reset_index()
