"""Write SYNTHETIC MI files in every layout wpmi reads, with the dirt real returns carry.

Each writer mirrors one profile in data/layouts/: the standard template, a caseload report with a title
block, a journey extract with a two-row merged header, an aggregate summary with months across the columns,
and a bare CSV whose sender is named on the command line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from dashboard.fields import CONTACTS, FEEDBACK, MONTHLY, PARTICIPANTS, PROJECTIONS
from loaders.profiles import load_profiles
from loaders.template import write_template

SYNTHETIC = "SYNTHETIC DEMO DATA - not real Work Programme MI"
DATE_COLUMNS = [f.name for f in PARTICIPANTS.fields if f.type == "date"]
JOURNEYS_LAYOUT = "journeys_two_row_header"


def journey_pg_names() -> dict[str, str]:
    """Code -> name, as the journey-extract layout names payment groups: the inverse of its value map
    (data/layouts/journeys_two_row_header.toml), so the demo writes exactly the names the loader reads."""
    sheet = next(s for s in load_profiles()[JOURNEYS_LAYOUT].sheets if s.target == PARTICIPANTS.name)
    return {code: name for name, code in sheet.values["payment_group"].items()}


def _py(value):
    """A cell value from a pandas value: NaT/NaN/None -> None, Timestamp -> date."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    out = []
    for row in frame[columns].itertuples(index=False, name=None):
        out.append([_py(v) for v in row])
    return out


def write_standard(
    path: Path,
    header: dict,
    people: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    monthly: pd.DataFrame | None = None,
    projections: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
) -> Path:
    """The wpmi standard template, filled."""
    rows: dict[str, Iterable[Sequence]] = {}
    for sheet, frame in (
        (PARTICIPANTS, people),
        (CONTACTS, contacts),
        (MONTHLY, monthly),
        (PROJECTIONS, projections),
        (FEEDBACK, feedback),
    ):
        if frame is not None and len(frame):
            rows[sheet.name] = _records(frame, [f.name for f in sheet.fields])
    return write_template(path, header=header, rows=rows, synthetic=True)


def write_caseload(
    path: Path, header: dict, people: pd.DataFrame, contacts: pd.DataFrame | None, rng: np.random.Generator
) -> Path:
    """Title block, UK date strings, 'PG 1' or 'PG1', an office column, totals and notes at the bottom."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Caseload")
    ws.append(["Work Programme Partner Caseload Report", None, None, SYNTHETIC])
    ws.append([f"Partner: {header['partner']}"])
    ws.append([f"Prime: {header['prime']}"])
    ws.append([f"CPA: {header['cpa']}"])
    ws.append([f"Period: {header['period']:%B %Y}"])
    ws.append([])
    ws.append(
        [
            "Customer ID",
            "PG",
            "Referral Dt",
            "First Contact",
            "Attached",
            "Initial Assessment",
            "Action Plan",
            "Job Start",
            "Job Outcome",
            "Exit",
            "Exit Report Requested",
            "Exit Report Sent",
            "IWS Offered",
            "Office",
        ]
    )
    offices = ["North", "South", "Central", "Outreach"]
    spaced = rng.random(len(people)) < 0.5
    for k, row in enumerate(_records(people, [f.name for f in PARTICIPANTS.fields])):
        ref, pg, *dates, iws = row
        pg = f"PG {pg[2:]}" if spaced[k] else pg
        ws.append([ref, pg, *[d.strftime("%d/%m/%Y") if d else None for d in dates], iws, offices[k % len(offices)]])
    ws.append([])
    ws.append([f"Total participants: {len(people):,}"])
    ws.append(["Notes: dates are as recorded on the partner case management system."])
    if contacts is not None and len(contacts):
        cs = wb.create_sheet("Contacts")
        cs.append(["Customer ID", "Contact Date", "Contact Type"])
        for ref, day, mode in contacts.itertuples(index=False, name=None):
            cs.append([ref, day.strftime("%d/%m/%Y"), mode])
    wb.save(path)
    return path


def write_journeys(path: Path, header: dict, people: pd.DataFrame, rng: np.random.Generator) -> Path:
    """Two-row merged header, payment groups by name, dates as Excel dates, datetimes and serial numbers."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Customer Journeys"
    ws["A1"] = (
        f"Supply chain MI return: {header['partner']} for {header['prime']}, CPA {header['cpa']}, "
        f"{header['period']:%B %Y}"
    )
    ws["A1"].font = Font(bold=True)
    ws["N1"] = SYNTHETIC
    groups = (("Customer", 1, 2), ("Key Dates", 3, 10), ("Exit Report", 11, 12), ("In Work", 13, 13))
    for label, c0, c1 in groups:
        ws.cell(row=3, column=c0, value=label).alignment = Alignment(horizontal="center")
        if c1 > c0:
            ws.merge_cells(start_row=3, start_column=c0, end_row=3, end_column=c1)
    labels = [
        "Ref",
        "Benefit Group",
        "Referral",
        "Contact",
        "Attachment",
        "Assessment",
        "Action Plan",
        "Job Start",
        "Job Outcome",
        "Exit",
        "Requested",
        "Sent",
        "Support Offered",
    ]
    for c, label in enumerate(labels, start=1):
        ws.cell(row=4, column=c, value=label).font = Font(bold=True)
    style = rng.integers(0, 3, len(people))
    pg_names = journey_pg_names()
    for k, row in enumerate(_records(people, [f.name for f in PARTICIPANTS.fields]), start=5):
        ref, pg, *dates, iws = row
        cells = [ref, pg_names[pg]]
        for d in dates:
            if d is None:
                cells.append(None)
            elif style[k - 5] == 1:
                cells.append(pd.Timestamp(d) + pd.Timedelta(hours=9, minutes=30))  # a datetime with a time
            elif style[k - 5] == 2:
                cells.append((d - date(1899, 12, 30)).days)  # a bare serial number
            else:
                cells.append(d)
        cells.append("Yes" if iws == "Y" else "No" if iws == "N" else None)
        for c, value in enumerate(cells, start=1):
            cell = ws.cell(row=k, column=c, value=value)
            if isinstance(value, (date, pd.Timestamp)):
                cell.number_format = "dd/mm/yyyy"
    wb.save(path)
    return path


def _count_text(value: int, suppress: bool, rng: np.random.Generator) -> str | int:
    if suppress and 1 <= value <= 4:
        return str(rng.choice(["*", "<5", "-"]))
    return f"{value:,}" if value >= 1000 else str(value)


def write_monthly_wide(
    path: Path,
    header: dict,
    flows: pd.DataFrame,
    projections: pd.DataFrame | None,
    suppress: bool,
    rng: np.random.Generator,
) -> tuple[Path, pd.DataFrame]:
    """Months across the columns, totals row and column, text numbers, suppression; returns what is knowable."""
    months = sorted(flows["month"].unique())
    groups = sorted(flows["payment_group"].unique())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Monthly Summary")
    ws.append(["Work Programme performance summary", None, SYNTHETIC])
    ws.append([f"Provider: {header['partner']}"])
    ws.append([f"Contract: {header['prime']} CPA {header['cpa']}"])
    ws.append([f"Period to: {header['period']:%B %Y}"])
    ws.append([])
    ws.append(["Measure", "Payment Group", *[pd.Timestamp(m).strftime("%b-%y") for m in months], "Total"])
    table = flows.set_index(["month", "payment_group"])
    known = flows.copy()
    labels = {
        "referrals": "Referrals",
        "attachments": "Attachments",
        "job_starts": "Job Starts",
        "job_outcomes": "Job Outcomes",
    }
    for measure, label in labels.items():
        grid = table[measure].unstack("payment_group").reindex(index=months, columns=groups).fillna(0).astype(int)
        for gi, group in enumerate(groups):
            values = grid[group].tolist()
            cells = [_count_text(v, suppress, rng) for v in values]
            for m, cell in zip(months, cells):
                if isinstance(cell, str) and not cell.replace(",", "").isdigit():
                    known.loc[(known["month"] == m) & (known["payment_group"] == group), measure] = np.nan
            ws.append([label if gi == 0 else None, group, *cells, _count_text(sum(values), False, rng)])
        totals = grid.sum(axis=1).tolist()
        ws.append([None, "Total", *[_count_text(v, False, rng) for v in totals], _count_text(sum(totals), False, rng)])
    ws.append([])
    ws.append(["Source: partner management information, unvalidated."])
    if projections is not None and len(projections):
        ps = wb.create_sheet("Referral Profile")
        pmonths = sorted(projections["month"].unique())
        ps.append(["Measure", "Payment Group", *[pd.Timestamp(m).strftime("%b-%y") for m in pmonths]])
        grid = projections.set_index(["month", "payment_group"])["projected_referrals"].unstack("payment_group")
        for gi, group in enumerate(grid.columns):
            ps.append(
                [
                    "Projected referrals" if gi == 0 else None,
                    group,
                    *[int(v) for v in grid[group].reindex(pmonths).fillna(0)],
                ]
            )
    wb.save(path)
    return path, known


def write_csv(path: Path, people: pd.DataFrame, encoding: str) -> Path:
    """A bare participant CSV (no header block: the sender is named with --partner/--prime/--cpa)."""
    columns = [
        "Client Ref",
        "Benefit Group",
        "Referral Dt",
        "First Contact Date",
        "Attachment Date",
        "Initial Assessment Date",
        "Action Plan Date",
        "Job Start Date",
        "Job Outcome Date",
        "Exit Date",
        "Exit Report Requested",
        "Exit Report Sent",
        "IWS Offered",
    ]
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in _records(people, [f.name for f in PARTICIPANTS.fields]):
            ref, pg, *dates, iws = row
            writer.writerow([ref, pg, *[d.strftime("%d/%m/%Y") if d else "" for d in dates], iws or ""])
    return path


# A case-management-system extract in a layout no shipped profile covers: four of its headers ('Started',
# 'Assessment', 'Outcome', 'Left') match no field, so the demo loads it with --map (CMS_EXTRACT_MAP), as a partner
# would after reading the mapping wpmi reports. Dates are ISO 8601 date-times, as such systems export them.
CMS_EXTRACT_MAP = {
    "Started": "attachment_date",
    "Assessment": "initial_assessment_date",
    "Outcome": "job_outcome_date",
    "Left": "exit_date",
}


def write_cms_extract(path: Path, people: pd.DataFrame) -> Path:
    """A bare participant CSV from a case-management system (the sender is named with --partner/--prime/--cpa)."""
    columns = [
        "Ref",
        "PG",
        "Referred",
        "First contact",
        "Started",
        "Assessment",
        "Action plan",
        "Job start",
        "Outcome",
        "Left",
        "Exit report requested",
        "Exit report sent",
        "In-work support",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in _records(people, [f.name for f in PARTICIPANTS.fields]):
            ref, pg, *dates, iws = row
            writer.writerow([ref, pg, *[f"{d:%Y-%m-%d}T09:30:00" if d else "" for d in dates], iws or ""])
    return path
