"""The Standards page's answers as they may be shown: compliance cells and the per-prime roll-up, published."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import compliance, publication, settings

OUTCOME_COUNTS = (*compliance.OUTCOMES, "n")  # met, missed, pending, not applicable; n = met + missed
LABELS = ["partner_id", "contract_id", "prime", "cpa_code", "partner", "stage_label", "standard_id", "title"]


def published_cells(raw: pd.DataFrame, policy: publication.Policy) -> tuple[publication.Published, pd.DataFrame]:
    """Compliance cells through the publication boundary, and their frame with a status judged on what is shown.

    A cell whose met or n is hidden gets "Not enough data" (too few to publish), like any n < min_denominator.
    n = met + missed on every row is declared, so a hidden missed cannot be read off a shown met and n.
    """
    published = publication.publish_table(
        raw,
        policy=policy,
        counts=list(OUTCOME_COUNTS),
        rates={"share": ("met", "n")},
        sums={"n": (compliance.MET, compliance.MISSED)},
        intervals=True,
        owner="partner_id",
        keep=[*(c for c in LABELS if c in raw.columns), "target_share"],
    )
    frame = published.frame
    hidden = frame[["met", "n"]].isna().any(axis=1).to_numpy()
    status = compliance.status_of(
        frame["n"].fillna(0).to_numpy(dtype=float),
        frame["share"].to_numpy(dtype=float),
        frame["share_high"].to_numpy(dtype=float),
        pd.to_numeric(frame["target_share"], errors="coerce").to_numpy(dtype=float),
        settings.get("min_denominator"),
    )
    return published, frame.assign(status=np.where(hidden, compliance.NOT_ENOUGH, status))


def published_roll_up(frame: pd.DataFrame, policy: publication.Policy) -> publication.Published:
    """The per-prime roll-up from published cells only: sums of shown met and n, cells counted by shown status."""
    shown = frame[frame[["met", "n"]].notna().all(axis=1)]
    roll = compliance.prime_roll_up(shown)
    hidden = (
        frame[frame[["met", "n"]].isna().any(axis=1)].groupby(["prime", "stage_label"]).size().rename("not_published")
    )
    roll = roll.merge(hidden.reset_index(), on=["prime", "stage_label"], how="outer")
    roll["not_published"] = roll["not_published"].fillna(0).astype(int)
    for column in ("cells", "meets", "below", "not_enough", "met", "n"):
        roll[column] = roll[column].fillna(0).astype(int)
    roll["cells"] += roll["not_published"]
    roll["not_enough"] += roll["not_published"]
    return publication.publish_table(
        roll,
        policy=policy,
        counts=["met", "n"],
        rates={"share": ("met", "n")},
        keep=["prime", "stage_label", "cells", "meets", "below", "not_enough", "not_published"],
    )


def drill_counts(published: publication.Published, partner_id: int, contract_id: str, standard_id: str) -> pd.DataFrame:
    """One cell's outcome counts for the drill-down, as the matrix published them (one row, text)."""
    shown = published.display()
    row = shown[
        (published.frame["partner_id"] == partner_id)
        & (published.frame["contract_id"] == contract_id)
        & (published.frame["standard_id"] == standard_id)
    ]
    return row[list(compliance.OUTCOMES)].rename(index=lambda _: "participants")


def published_days(measured: pd.DataFrame, partner_id: int, policy: publication.Policy) -> publication.Published:
    """The drill-down's histogram (days, participants) as it may be shown: counts of 1-4 about another
    organisation hidden, and the bars protected against their total."""
    return publication.publish_table(
        measured.assign(partner_id=partner_id),
        policy=policy,
        counts=["participants"],
        totals=("participants",),
        owner="partner_id",
        keep=["days"],
    )
