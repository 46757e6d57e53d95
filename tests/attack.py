"""An attack on public mode: render a page, keep everything sent to the browser, try to recover hidden counts.

Public mode promises (issue 10) that nothing it hides can be got back: counts 1-4 are shown as `*`, every other
count is rounded to the configured base (5), and no MI after the official-statistics cut-off appears. This
module plays the attacker. `collect` runs one page through Streamlit's AppTest in public mode and keeps every
channel that reaches the browser as a `Collected` record: each dataframe and table, each chart's datasets
(Arrow bytes in the Vega-Lite proto) and inline spec values, every download's bytes (CSV and every Excel sheet,
taken from the media store the download button hands them to), metrics and all text. The recovery attempts
are small pure functions over that record; `recover` runs them all. Each `Recovery` names the attempt, the
channel and the place (column and row), and the value recovered, so a failing test says exactly what leaks.

Attempts:
1. small_counts: an integer 1-4 in any count-like field.
2. unrounded_counts: a count-like integer that is not a multiple of the rounding base.
3. exact_sums_in_text: "a / b" or "a of b" in text with a number that is not a multiple of the base.
4. wilson_backsolve: x and n solved from a published rate and its 95% Wilson bounds.
5. shares_times_totals: a full-precision share times a published total (or a rounded denominator's range)
   giving an integer count that is 1-4 or not a multiple of the base.
6. dates_after_cutoff: any date or month after the official-statistics cut-off (a separate check: see
   `dates_after_cutoff`; `recover` covers attempts 1-5 and, given a cut-off, 6).

Member mode ("no channel shows what the page says is hidden"): `collect(..., member_of=partner_id)` renders the
page as a signed-in member of that partner (`dashboard.ui.access` patched; no identity provider), and
`recover_member` runs: member_small_counts (1-4 in a row not the member's own), member_wilson_backsolve and
member_shares_times_totals (only values the same channel withholds, for another organisation), and
hidden_shown_elsewhere (a cell marked `*`/`**` in one channel shown as a number by another for the same unit).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
Z95 = 1.959963984540054
BASE = 5
MAX_N = 5000
SUPPRESSED = "*"

# Fields holding counts of people or events (matched on the column name, or on a chart field's title).
COUNT_NAMES = {
    "x",
    "n",
    "referrals",
    "attachments",
    "job_starts",
    "job_outcomes",
    "starts",
    "outcomes",
    "observed",
    "expected",
    "met",
    "missed",
    "pending",
    "numerator",
    "denominator",
    "actual",
    "projected",
    "variance",
    "participants",
    "count",
    "outcomes_x",
    "outcomes_n",
    "cumulative",
    "complaints",
}
COUNT_WORDS = re.compile(
    r"\b(referrals?|attachments?|job starts?|job outcomes?|participants?|numerator|denominator|cohort|"
    r"observed|met|missed|pending|actual|projected|count|complaints?)\b",
    re.IGNORECASE,
)


def is_count_name(name: object) -> bool:
    """Whether a column or field name (or its displayed title) names a count."""
    text = str(name).strip().lower()
    if text in COUNT_NAMES or text.replace(" ", "_") in COUNT_NAMES:
        return True
    if text in {"x (numerator)", "n (cohort)", "job outcomes (x)", "mature cohort (n)"}:
        return True
    return bool(COUNT_WORDS.search(text)) and not NOT_COUNTS.search(text)


NOT_COUNTS = re.compile(
    r"rate|share|%|per 100|ratio|lower|upper|days|score|satisfaction|below|dependence|similarity|status|band",
    re.IGNORECASE,
)
# Chart fields that hold labels, whatever title the chart gives them.
LABEL_FIELDS = {"series", "band", "unit", "month", "period", "label", "component", "comparison", "flag", "status"}


# --- the collected record -----------------------------------------------------------------------------------


@dataclass
class Frame:
    """One table of values the browser received: its channel, where it sits, and the values."""

    channel: str  # dataframe | table | chart | download
    location: str  # e.g. "dataframe[0]", "chart[1] dataset 8bd2f6", "download benchmarks.xlsx sheet notes"
    frame: pd.DataFrame
    titles: dict[str, str] = field(default_factory=dict)  # chart field -> title shown in axis or tooltip


@dataclass
class Text:
    channel: str  # caption | markdown | metric | info | warning | title | subheader | chart spec | ...
    location: str
    text: str


@dataclass
class Collected:
    page: str
    frames: list[Frame] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    metrics: list[tuple[str, str, str]] = field(default_factory=list)  # (location, label, value)
    downloads: list[tuple[str, str, bytes]] = field(default_factory=list)  # (file name, mimetype, bytes)


@dataclass(frozen=True)
class Recovery:
    attempt: str
    channel: str
    location: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.attempt}] {self.channel} {self.location}: {self.detail}"


# --- collecting ---------------------------------------------------------------------------------------------


@contextmanager
def _media_spy() -> Iterator[dict[str, tuple[bytes, str, str | None]]]:
    """Record every file Streamlit stores for the browser (download buttons' bytes), by file id."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stored: dict[str, tuple[bytes, str, str | None]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        data = path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes()
        stored[file_id] = (data, mimetype, filename)
        return file_id

    with mock.patch.object(MemoryMediaFileStorage, "load_and_get_id", spy):
        yield stored


def _chart_titles(spec: dict) -> dict[str, str]:
    """Every field a Vega-Lite spec encodes, with the title it is shown under (axis or tooltip)."""
    titles: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("field"), str):
                titles.setdefault(node["field"], str(node.get("title", node["field"])))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return titles


def _inline_values(spec) -> Iterator[list]:
    if isinstance(spec, dict):
        if isinstance(spec.get("values"), list) and spec["values"] and isinstance(spec["values"][0], dict):
            yield spec["values"]
        for value in spec.values():
            yield from _inline_values(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _inline_values(value)


def _download_frames(name: str, mimetype: str, data: bytes) -> Iterator[tuple[str, pd.DataFrame]]:
    if name.endswith(".csv") or mimetype == "text/csv":
        yield name, pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    elif name.endswith(".xlsx") or "spreadsheet" in mimetype:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine="openpyxl")
        for sheet, raw in sheets.items():
            if sheet == "notes" or raw.empty:
                frame = raw
            else:
                frame = raw.iloc[1:].reset_index(drop=True)
                frame.columns = [str(c) for c in raw.iloc[0]]
            yield f"{name} sheet {sheet}", frame


def collect_tree(at, page: str, stored: dict[str, tuple[bytes, str, str | None]] | None = None) -> Collected:
    """Everything the browser received from one AppTest run, as a `Collected` record."""
    out = Collected(page)
    for i, element in enumerate(at.dataframe):
        out.frames.append(Frame("dataframe", f"dataframe[{i}]", element.value))
    for i, element in enumerate(at.table):
        out.frames.append(Frame("table", f"table[{i}]", element.value.reset_index()))
    for i, element in enumerate(at.get("vega_lite_chart")):
        proto = element.proto
        spec = json.loads(proto.spec) if proto.spec else {}
        titles = _chart_titles(spec)
        out.texts.append(Text("chart spec", f"chart[{i}] spec", proto.spec))
        from streamlit import dataframe_util

        for dataset in proto.datasets:
            frame = dataframe_util.convert_arrow_bytes_to_pandas_df(dataset.data.data)
            out.frames.append(Frame("chart", f"chart[{i}] dataset {dataset.name[:8]}", frame, titles))
        if proto.HasField("data") and proto.data.data:
            frame = dataframe_util.convert_arrow_bytes_to_pandas_df(proto.data.data)
            out.frames.append(Frame("chart", f"chart[{i}] data", frame, titles))
        for j, values in enumerate(_inline_values(spec)):
            out.frames.append(Frame("chart", f"chart[{i}] inline values[{j}]", pd.DataFrame(values), titles))
    for i, element in enumerate(at.metric):
        out.metrics.append((f"metric[{i}]", str(element.label), str(element.value)))
        out.texts.append(Text("metric", f"metric[{i}]", f"{element.label}: {element.value}"))
    for kind in ("caption", "markdown", "info", "warning", "error", "success", "title", "header", "subheader"):
        for i, element in enumerate(at.get(kind)):
            out.texts.append(Text(kind, f"{kind}[{i}]", str(element.value)))
    for i, button in enumerate(at.get("download_button")):
        file_id = Path(button.proto.url).stem
        if stored is None or file_id not in stored:
            out.texts.append(Text("download", f"download_button[{i}]", f"bytes not captured: {button.proto.url}"))
            continue
        data, mimetype, filename = stored[file_id]
        name = filename or button.proto.url
        out.downloads.append((name, mimetype, data))
        for location, frame in _download_frames(name, mimetype, data):
            out.frames.append(Frame("download", f"download {location}", frame))
    return out


@contextmanager
def _signed_in_member(partner_id: int | None) -> Iterator[None]:
    """Pages see a signed-in member of partner `partner_id` (no identity provider): `dashboard.ui.access` patched.

    Pages call `ui.access()` and `ui.policy()`, and `ui.policy` and `ui.query` call `access` through the module
    global, so patching the module attribute reaches every caller in this process (AppTest runs the page here).
    With `partner_id` None nothing is patched (public mode comes from WPMI_MODE).
    """
    if partner_id is None:
        yield
        return
    from dashboard import ui
    from dashboard.access import MEMBER, Access

    viewer = Access(
        MEMBER, "partner", partner_ids=frozenset({int(partner_id)}), reason=f"attack: member of {partner_id}"
    )
    with mock.patch.object(ui, "access", lambda: viewer):
        yield


def collect(
    page: str,
    db_url: str,
    *,
    cutoff: date | str = "2016-03-31",
    query: dict[str, str] | None = None,
    timeout: float = 120,
    member_of: int | None = None,
) -> Collected:
    """Run `pages/<page>.py` once and keep everything sent to the browser.

    Public mode with the given cut-off by default; with `member_of`, as a signed-in member of that partner
    (WPMI_MODE=member, `ui.access` patched: see `_signed_in_member`), the cut-off setting unchanged.
    """
    from streamlit.testing.v1 import AppTest

    mode = "public" if member_of is None else "member"
    env = {"WPMI_DB_URL": db_url, "WPMI_MODE": mode, "WPMI_OFFICIAL_CUTOFF": str(cutoff)}
    with mock.patch.dict(os.environ, env), _signed_in_member(member_of), _media_spy() as stored:
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=timeout)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    label = page + "".join(f"?{k}={v}" for k, v in (query or {}).items())
    label += "" if member_of is None else f" (member of partner {member_of})"
    return collect_tree(at, label, stored)


# --- reading published values -------------------------------------------------------------------------------


def as_number(value) -> float | None:
    """A published cell as a number ("1,234" -> 1234.0), else None ("*", "", text, NaN)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None if pd.isna(value) else float(value)
    text = str(value).strip().lstrip("'").replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def _integral(value: float | None) -> int | None:
    if value is None or not np.isfinite(value) or abs(value - round(value)) > 1e-9:
        return None
    return int(round(value))


def count_columns(frame: Frame) -> list[str]:
    """The frame's columns holding counts (by their own name, or the title a chart shows them under)."""
    return [
        c
        for c in frame.frame.columns
        if is_count_name(c)
        or (str(c) in frame.titles and str(c) not in LABEL_FIELDS and is_count_name(frame.titles[str(c)]))
    ]


def _row_label(frame: pd.DataFrame, row: int) -> str:
    for column in ("unit", "partner", "indicator", "series", "month", "stage_label", "measure", "component"):
        if column in frame.columns:
            return f"row {row} ({column}={frame[column].iloc[row]!r})"
    return f"row {row}"


def _count_cells(collected: Collected) -> Iterator[tuple[Frame, str, int, int]]:
    """(frame, column, row, integer value) for every integral count-like cell in every channel."""
    for frame in collected.frames:
        for column in count_columns(frame):
            values = frame.frame[column]
            if isinstance(values, pd.DataFrame):  # a duplicated column name: take the first
                values = values.iloc[:, 0]
            for row, raw in enumerate(values):
                number = _integral(as_number(raw))
                if number is not None:
                    yield frame, column, row, number


# --- attempts 1 and 2: counts shown as they are -------------------------------------------------------------


def small_counts(collected: Collected) -> list[Recovery]:
    """Attempt 1: a count 1-4 (which public mode must show as `*`) in any count-like field or metric."""
    found = [
        Recovery("small count", f.channel, f"{f.location} {column} {_row_label(f.frame, row)}", f"{column} = {value}")
        for f, column, row, value in _count_cells(collected)
        if 1 <= value <= 4
    ]
    for location, label, value in collected.metrics:
        number = _integral(as_number(value))
        if is_count_name(label) and number is not None and 1 <= number <= 4:
            found.append(Recovery("small count", "metric", location, f"{label} = {number}"))
    return found


def unrounded_counts(collected: Collected, base: int = BASE) -> list[Recovery]:
    """Attempt 2: a count-like integer that is not a multiple of the rounding base (1-4 are attempt 1's)."""
    found = [
        Recovery(
            "unrounded count", f.channel, f"{f.location} {column} {_row_label(f.frame, row)}", f"{column} = {value}"
        )
        for f, column, row, value in _count_cells(collected)
        if value % base and not 1 <= value <= 4
    ]
    for location, label, value in collected.metrics:
        number = _integral(as_number(value))
        if is_count_name(label) and number is not None and number % base and not 1 <= number <= 4:
            found.append(Recovery("unrounded count", "metric", location, f"{label} = {number}"))
    return found


# --- attempt 3: exact figures in text -----------------------------------------------------------------------

PAIR = re.compile(r"(?<![\w.,])(\d[\d,]*)(?:\*\*)?\s*(/|of)\s*(?:\*\*)?(\d[\d,]*)(?![\w%]|[.,]\d)")
# A whole number straight before a word naming a count of people ("286 actual", "12 complaints"), not a rate.
COUNTED = re.compile(
    r"(?<![\w.,])(\d[\d,]*)\s+(actual|projected|referrals?|attachments?|job starts?|job outcomes?|participants?|"
    r"complaints?)\b(?!\s+per\b)",
    re.IGNORECASE,
)


def _texts_and_text_cells(collected: Collected) -> Iterator[tuple[str, str, str, bool]]:
    """(channel, location, text, is a page text) for every text and every text cell of a shown table."""
    for text in collected.texts:
        if text.channel not in ("chart spec", "download"):
            yield text.channel, text.location, text.text, True
    for frame in collected.frames:
        for column in frame.frame.columns:
            values = frame.frame[column]
            if isinstance(values, pd.DataFrame):
                values = values.iloc[:, 0]
            for row, value in enumerate(values):
                if isinstance(value, str) and re.search(r"\d", value):
                    yield frame.channel, f"{frame.location} {column} {_row_label(frame.frame, row)}", value, False


def exact_sums_in_text(collected: Collected, base: int = BASE) -> list[Recovery]:
    """Attempt 3: exact counts written out in text: "a / b", "a of b", or "286 actual", "406 projected".

    Flagged when a number is not a multiple of the base. "a of b" where b is the row count of a table on the
    page counts listed units (partners, contracts), not people, and is skipped; "a / b" is a ratio of counts.
    Text cells of tables (e.g. "what the score is built from") count as text.
    """
    row_counts = {len(f.frame) for f in collected.frames if f.channel == "dataframe"}
    found = []
    for channel, location, text, page_text in _texts_and_text_cells(collected):
        for match in PAIR.finditer(text):
            a, sep, b = int(match[1].replace(",", "")), match[2], int(match[3].replace(",", ""))
            if sep == "of" and page_text and b in row_counts:
                continue
            bad = [v for v in (a, b) if v % base]
            if bad:
                found.append(Recovery("exact sum in text", channel, location, f"{match[0]!r}: {bad} not multiples"))
        for match in COUNTED.finditer(text):
            value = int(match[1].replace(",", ""))
            if value % base:
                found.append(Recovery("exact sum in text", channel, location, f"{match[0]!r} in {text[:80]!r}"))
    return found


# --- attempt 4: back-solving x and n from a rate and its Wilson interval -----------------------------------

# (rate, lower, upper) column triples that publish a Wilson interval.
WILSON_TRIPLES = [
    ("rate", "lower", "upper"),
    ("share", "lower", "upper"),
    ("value", "lower", "upper"),
    ("outcome_rate", "lower", "upper"),
    ("outcome_rate", "outcome_lower", "outcome_upper"),
    ("rate", "lower 95%", "upper 95%"),
]


def wilson(x, n, z: float = Z95):
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z2 = z * z
    centre = 2 * x + z2
    spread = z * np.sqrt(np.maximum(z2 + 4 * x * (1 - x / n), 0))
    return np.clip((centre - spread) / (2 * (n + z2)), 0, 1), np.clip((centre + spread) / (2 * (n + z2)), 0, 1)


def _tolerance(value) -> float:
    """Half a unit in the last published decimal place (full-precision floats: a float's rounding error)."""
    if isinstance(value, str):
        text = value.strip().lstrip("'").replace(",", "")
        decimals = len(text.split(".")[1]) if "." in text else 0
        if "e" not in text.lower() and decimals < 12:
            return 0.5 * 10.0**-decimals + 1e-12
    else:
        text = repr(float(value))
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 17
        if decimals < 9:  # a value rounded for display, e.g. 0.234
            return 0.5 * 10.0**-decimals + 1e-12
    return 1e-9


def solve_wilson(rate, lower, upper, max_n: int = MAX_N) -> list[tuple[int, int]]:
    """Every (x, n) with n <= max_n whose rate and Wilson 95% bounds match the published ones."""
    r, lo, hi = as_number(rate), as_number(lower), as_number(upper)
    if r is None or lo is None or hi is None or not (0 <= r <= 1):
        return []
    tol_r, tol_lo, tol_hi = _tolerance(rate), _tolerance(lower), _tolerance(upper)
    n = np.arange(1, max_n + 1, dtype=float)
    spread = int(np.ceil(tol_r * max_n)) + 1
    solutions = set()
    for shift in range(-spread, spread + 1):
        x = np.round(r * n) + shift
        ok = (x >= 0) & (x <= n)
        ok &= np.abs(np.where(ok, x, 0) / n - r) <= tol_r
        if not ok.any():
            continue
        xs, ns = x[ok], n[ok]
        wl, wu = wilson(xs, ns)
        hit = (np.abs(wl - lo) <= tol_lo) & (np.abs(wu - hi) <= tol_hi)
        solutions.update(zip(xs[hit].astype(int).tolist(), ns[hit].astype(int).tolist()))
    return sorted(solutions, key=lambda s: (s[1], s[0]))


def _reveals(value: int, base: int) -> bool:
    return 1 <= value <= 4 or value % base != 0


def wilson_backsolve(collected: Collected, base: int = BASE, max_solutions: int = 3) -> list[Recovery]:
    """Attempt 4: x and n from a rate and its 95% Wilson bounds, when they are 1-4 or unrounded.

    A recovery is a row whose every solution (at most `max_solutions`, n <= 5000) reveals a count that is 1-4
    or not a multiple of the base; with a unique solution it is exactly the hidden cell.
    """
    found = []
    seen: set[tuple[str, int, str]] = set()
    for frame in collected.frames:
        df = frame.frame
        for rate_col, lower_col, upper_col in WILSON_TRIPLES:
            if not {rate_col, lower_col, upper_col} <= set(df.columns) or (frame.location, 0, rate_col) in seen:
                continue
            seen.add((frame.location, 0, rate_col))
            for row in range(len(df)):
                solutions = solve_wilson(df[rate_col].iloc[row], df[lower_col].iloc[row], df[upper_col].iloc[row])
                if not solutions or len(solutions) > max_solutions:
                    continue
                if all(_reveals(x, base) or _reveals(n, base) for x, n in solutions):
                    shown = {c: df[c].iloc[row] for c in ("x", "n", "met", "outcomes_x", "outcomes_n") if c in df}
                    found.append(
                        Recovery(
                            "wilson back-solve",
                            frame.channel,
                            f"{frame.location} {_row_label(df, row)}",
                            f"{rate_col}={df[rate_col].iloc[row]!r} with bounds gives (x, n) in {solutions}"
                            + (f"; published {shown}" if shown else ""),
                        )
                    )
    return found


# --- attempt 5: shares times totals -------------------------------------------------------------------------

# (share column, denominator column) pairs: share = numerator / denominator, row by row.
ROW_SHARES = [
    ("rate", "n"),
    ("share", "n"),
    ("outcome_rate", "outcomes_n"),
    ("outcome_rate", "n"),
    ("rate", "denominator"),
]
# Columns that are each row's share of a column total.
COLUMN_SHARES = {"share_of_contract": "referrals"}


def _candidates(published, base: int) -> list[int]:
    """The true counts a published count could stand for: its rounding interval, or 1-4 behind a `*`."""
    if isinstance(published, str) and published.strip() == SUPPRESSED:
        return [1, 2, 3, 4]
    number = _integral(as_number(published))
    if number is None:
        return []
    if number % base:
        return [number]
    half = base // 2
    return [v for v in range(max(0, number - half), number + half + 1)]


def _integer_multiple(share: float, total: int) -> int | None:
    product = share * total
    return int(round(product)) if abs(product - round(product)) <= 1e-6 else None


def shares_times_totals(collected: Collected, base: int = BASE) -> list[Recovery]:
    """Attempt 5: a full-precision share times the totals its published (rounded) denominator allows.

    Row shares (rate = x / n with n published rounded or `*`): the n in n's rounding interval for which
    rate * n is a whole number; a unique one gives x and n exactly. Column shares (share_of_contract =
    referrals / contract total): the smallest total making every share a whole count, scaled into the range
    the published referrals allow.
    """
    found = []
    for frame in collected.frames:
        df = frame.frame
        if frame.channel == "chart":
            continue  # charts carry the same rows as the tables; their counts are attempts 1 and 2's
        for share_col, n_col in ROW_SHARES:
            if not {share_col, n_col} <= set(df.columns):
                continue
            for row in range(len(df)):
                share = as_number(df[share_col].iloc[row])
                if share is None or _tolerance(df[share_col].iloc[row]) > 1e-9 or not 0 < share < 1:
                    continue
                fits = []
                for n in _candidates(df[n_col].iloc[row], base):
                    x = _integer_multiple(share, n) if n else None
                    if x is not None:
                        fits.append((x, n))
                if len(fits) == 1 and (_reveals(fits[0][0], base) or _reveals(fits[0][1], base)):
                    x, n = fits[0]
                    found.append(
                        Recovery(
                            "share x total",
                            frame.channel,
                            f"{frame.location} {_row_label(df, row)}",
                            f"{share_col}={share!r} with {n_col} shown {df[n_col].iloc[row]!r}: x = {x}, n = {n}",
                        )
                    )
        for share_col, count_col in COLUMN_SHARES.items():
            if not {share_col, count_col} <= set(df.columns):
                continue
            shares = np.array([as_number(v) or 0.0 for v in df[share_col]])
            published = [as_number(v) for v in df[count_col]]
            if not (shares > 0).any():
                continue
            low = sum(min(_candidates(v, base) or [0]) for v in df[count_col])
            high = sum(max(_candidates(v, base) or [0]) for v in df[count_col])
            totals = np.arange(max(1, low), high + 1)
            products = np.outer(totals, shares)
            whole = (np.abs(products - np.round(products)) <= 1e-6).all(axis=1)
            if whole.sum() != 1:
                continue
            total = int(totals[whole][0])
            for row, (share, shown) in enumerate(zip(shares, published)):
                count = int(round(share * total))
                if _reveals(count, base) and shown != count:
                    found.append(
                        Recovery(
                            "share x total",
                            frame.channel,
                            f"{frame.location} {_row_label(df, row)}",
                            f"{share_col}={share!r} x total {total}: {count_col} = {count} "
                            f"(shown {df[count_col].iloc[row]!r})",
                        )
                    )
    return found


# --- attempt 6: dates after the cut-off ---------------------------------------------------------------------

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_PATTERNS = [
    (re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b"), lambda m: date(int(m[1]), int(m[2]), int(m[3]))),
    (re.compile(r"\b(20\d\d)-(\d\d)\b(?!-\d)"), lambda m: date(int(m[1]), int(m[2]), 1)),
    (re.compile(rf"\b(\d{{1,2}}) ({MONTHS}) (20\d\d)\b"), lambda m: datetime.strptime(m[0], "%d %B %Y").date()),
    (re.compile(rf"(?<!\d )\b({MONTHS}) (20\d\d)\b"), lambda m: datetime.strptime(m[0], "%B %Y").date()),
    (re.compile(r"\b(20\d\d) ?Q([1-4])\b"), lambda m: date(int(m[1]), 3 * int(m[2]) - 2, 1)),
]


def _dates_in(value) -> Iterator[date]:
    if isinstance(value, (pd.Timestamp, datetime)):
        if not pd.isna(value):
            yield value.date()
        return
    if isinstance(value, date):
        yield value
        return
    if isinstance(value, np.datetime64):
        if not np.isnat(value):
            yield pd.Timestamp(value).date()
        return
    if not isinstance(value, str):
        return
    for pattern, parse in DATE_PATTERNS:
        for match in pattern.finditer(value):
            try:
                yield parse(match)
            except ValueError:
                continue


def _forecast_rows(df: pd.DataFrame) -> pd.Series:
    """Rows labelled as a forecast (built from data up to the cut-off, so their months may run past it)."""
    text = df.astype(str).apply(lambda column: column.str.contains("forecast", case=False))
    return text.any(axis=1) if len(df.columns) else pd.Series(False, index=df.index)


def dates_after_cutoff(collected: Collected, cutoff: date, *, allow_forecast: bool = True) -> list[Recovery]:
    """Attempt 6: any date, month or quarter starting after the cut-off, in any value or text.

    With `allow_forecast`, chart and table rows labelled "Forecast" are not MI and may run past the cut-off.
    """
    found = []
    for frame in collected.frames:
        df = frame.frame
        if allow_forecast and len(df):
            df = df[~_forecast_rows(df).to_numpy()]
        for column in df.columns:
            late = sorted({d for v in df[column] for d in _dates_in(v) if d > cutoff})
            for d in _dates_in(str(column)):
                if d > cutoff:
                    late.append(d)
            if late:
                found.append(
                    Recovery(
                        "date after cut-off",
                        frame.channel,
                        f"{frame.location} {column}",
                        f"{len(late)} dates after {cutoff}: {', '.join(map(str, late[:3]))}",
                    )
                )
    for text in collected.texts:
        late = sorted({d for d in _dates_in(text.text) if d > cutoff})
        if late:
            found.append(
                Recovery(
                    "date after cut-off",
                    text.channel,
                    text.location,
                    f"{', '.join(map(str, late[:3]))} after {cutoff}",
                )
            )
    return found


ATTEMPTS = (small_counts, unrounded_counts, exact_sums_in_text, wilson_backsolve, shares_times_totals)


def recover(collected: Collected, cutoff: date | None = None) -> list[Recovery]:
    """Every recovery every attempt makes (attempts 1-5; and 6 when a cut-off is given)."""
    found: list[Recovery] = []
    for attempt in ATTEMPTS:
        found.extend(attempt(collected))
    if cutoff is not None:
        found.extend(dates_after_cutoff(collected, cutoff))
    return found


def summarise(found: Iterable[Recovery], per_attempt: int = 3) -> str:
    """A readable summary: how many recoveries per attempt, with the first few of each."""
    by_attempt: dict[str, list[Recovery]] = {}
    for r in found:
        by_attempt.setdefault(r.attempt, []).append(r)
    lines = []
    for attempt, items in by_attempt.items():
        lines.append(f"{attempt}: {len(items)}")
        lines.extend(f"    {r}" for r in items[:per_attempt])
    return "\n".join(lines)


# --- member mode: no channel shows what the page says is hidden ---------------------------------------------
#
# A signed-in member (`collect(..., member_of=partner_id)`) sees their own organisation's figures exactly and
# everyone else's exactly too, except counts of 1-4 (`*`) and the cells hidden so those cannot be worked out
# (`**`); rates are at 0.1 percentage points. So rounding is no defence here and the attack changes: it looks
# for (1) a count 1-4 about another organisation, (2) a rate, interval or share that gives back a cell the same
# channel hides, and (3) a cell one channel hides shown as a number by another (chart data, download, text).

HIDDEN = {"*", "**"}  # publication.PRIMARY and SECONDARY
# Columns that say whose a row is: a partner id, or a partner's name (alone, or as "Name (Prime, CPA n)").
OWNER_COLUMNS = ("partner_id", "partner", "unit", "series")
# Columns naming what a row is about: rows of two channels with equal values in every one they share are the
# same unit.
UNIT_COLUMNS = (
    "partner_id",
    "partner",
    "unit",
    "contract_id",
    "prime",
    "cpa_code",
    "indicator",
    "measure",
    "period",
    "month",
    "series",
    "stage_label",
    "standard_id",
    "component",
    "component_label",
)
# Unit columns that name an organisation (or a unit standing for one).
IDENTITY_COLUMNS = ("partner_id", "partner", "unit", "contract_id", "series")
# The same figure under another name in another channel (downloads and charts rename some columns).
SAME_FIGURE = {
    "job outcomes (x)": "x",
    "outcomes_x": "x",
    "mature cohort (n)": "n",
    "outcomes_n": "n",
    "outcome rate": "rate",
    "outcome_rate": "rate",
    "lower 95%": "lower",
    "upper 95%": "upper",
    "outcome_lower": "lower",
    "outcome_upper": "upper",
    "rate_low": "lower",
    "rate_high": "upper",
    "share_low": "lower",
    "share_high": "upper",
    "value_low": "lower",
    "value_high": "upper",
    "share of referrals": "share_of_contract",
}
X_COLUMNS = ("x", "met", "outcomes_x", "numerator", "job outcomes (x)")
N_COLUMNS = ("n", "outcomes_n", "denominator", "mature cohort (n)")
MEMBER_WILSON_TRIPLES = [
    *WILSON_TRIPLES,
    ("rate", "rate_low", "rate_high"),
    ("share", "share_low", "share_high"),
    ("value", "value_low", "value_high"),
    ("outcome rate", "lower", "upper"),
]
# (share column, numerator column, denominator column): share = numerator / denominator, row by row.
MEMBER_ROW_SHARES = [
    ("rate", "x", "n"),
    ("share", "met", "n"),
    ("outcome_rate", "outcomes_x", "outcomes_n"),
    ("outcome_rate", "x", "n"),
    ("rate", "numerator", "denominator"),
]


@dataclass(frozen=True)
class Member:
    """The signed-in viewer the member attack plays: one partner, by id and name."""

    partner_id: int
    name: str


def demo_member(db_url: str) -> Member:
    """The first partner with participant-level data in the database (the demo's v_participants), and its name."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            pid = connection.execute(sa.text("SELECT MIN(partner_id) FROM v_participants")).scalar_one()
            name = connection.execute(
                sa.text("SELECT partner_name FROM partner WHERE partner_id = :p"), {"p": pid}
            ).scalar_one()
    finally:
        engine.dispose()
    return Member(int(pid), str(name))


def _mark(value) -> str | None:
    """`*` or `**` when a cell is marked hidden, else None."""
    text = str(value).strip() if isinstance(value, str) else None
    return text if text in HIDDEN else None


def _withheld(value) -> str | None:
    """How a cell withholds its figure: its mark, "blank" (empty or NaN: charts carry hidden cells as NaN), or None."""
    mark = _mark(value)
    if mark:
        return mark
    if value is None or (isinstance(value, str) and not value.strip()):
        return "blank"
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return "blank"
    return None


def _fits_mark(value: int, mark: str, suppress_max: int = 4) -> bool:
    """Whether a true count could stand behind a cell with this mark (`*` 1-4, `**` above 4, blank anything)."""
    if mark == "*":
        return 1 <= value <= suppress_max
    if mark == "**":
        return value > suppress_max
    return value >= 0


def _column(df: pd.DataFrame, column) -> pd.Series:
    values = df[column]
    return values.iloc[:, 0] if isinstance(values, pd.DataFrame) else values


def _is_owner(column: str, value, member: Member) -> bool:
    if column == "partner_id":
        number = as_number(value)
        return number is not None and int(number) == member.partner_id
    text = str(value).strip()
    return text == member.name or text.startswith(member.name + " (")


def own_rows(df: pd.DataFrame, member: Member) -> np.ndarray:
    """Rows about the member's own organisation: a partner id or name column equal to theirs.

    Rows with no partner label are aggregates of several organisations (or another organisation's profile)
    and count as others'.
    """
    own = np.zeros(len(df), dtype=bool)
    for column in OWNER_COLUMNS:
        if column in df.columns:
            own |= np.array([_is_owner(column, v, member) for v in _column(df, column)], dtype=bool)
    return own


# Count-like columns that are differences of two counts (not a count of anyone): (minuend, subtrahend).
DIFFERENCES = {"variance": ("actual", "projected")}


def _difference_of_shown(df: pd.DataFrame, column, row: int) -> bool:
    """Whether a cell is the difference of two counts its row shows (members see others' counts exactly, so a
    small difference of shown counts discloses nothing; with either part withheld it would give it back)."""
    parts = DIFFERENCES.get(str(column).strip().lower())
    if not parts or not set(parts) <= set(df.columns):
        return False
    return all(
        _withheld(_column(df, p).iloc[row]) is None and as_number(_column(df, p).iloc[row]) is not None for p in parts
    )


def member_small_counts(collected: Collected, member: Member) -> list[Recovery]:
    """Member attempt 1: a count 1-4 in any channel in a row not about the member's own organisation.

    Metrics are totals over organisations, so a 1-4 count metric is one too.
    """
    own = {id(f): own_rows(f.frame, member) for f in collected.frames}
    found = [
        Recovery(
            "member small count", f.channel, f"{f.location} {column} {_row_label(f.frame, row)}", f"{column} = {value}"
        )
        for f, column, row, value in _count_cells(collected)
        if 1 <= value <= 4 and not own[id(f)][row] and not _difference_of_shown(f.frame, column, row)
    ]
    for location, label, value in collected.metrics:
        number = _integral(as_number(value))
        if is_count_name(label) and number is not None and 1 <= number <= 4:
            found.append(Recovery("member small count", "metric", location, f"{label} = {number}"))
    return found


def member_wilson_backsolve(collected: Collected, member: Member, max_solutions: int = 3) -> list[Recovery]:
    """Member attempt 2a: a rate and its Wilson bounds giving back a count the same row hides, for another org.

    A recovery: a row not the member's own, with x or n withheld (`*`, `**` or blank), whose every (x, n)
    solution (at most `max_solutions`) consistent with the marks puts the same value in the withheld cell.
    """
    found = []
    for frame in collected.frames:
        df = frame.frame
        own = own_rows(df, member)
        for rate_col, lower_col, upper_col in MEMBER_WILSON_TRIPLES:
            if not {rate_col, lower_col, upper_col} <= set(df.columns):
                continue
            x_col = next((c for c in X_COLUMNS if c in df.columns), None)
            n_col = next((c for c in N_COLUMNS if c in df.columns), None)
            for row in range(len(df)):
                if own[row]:
                    continue
                marks = {c: _withheld(_column(df, c).iloc[row]) for c in (x_col, n_col) if c is not None}
                marks = {c: m for c, m in marks.items() if m}
                if not marks:
                    continue
                rate, lower, upper = (_column(df, c).iloc[row] for c in (rate_col, lower_col, upper_col))
                solutions = solve_wilson(rate, lower, upper)
                solutions = [
                    (x, n) for x, n in solutions if all(_fits_mark(x if c == x_col else n, m) for c, m in marks.items())
                ]
                if not solutions or len(solutions) > max_solutions:
                    continue
                for column, mark in marks.items():
                    values = {x if column == x_col else n for x, n in solutions}
                    if len(values) == 1:
                        found.append(
                            Recovery(
                                "member wilson back-solve",
                                frame.channel,
                                f"{frame.location} {_row_label(df, row)}",
                                f"{rate_col}={rate!r}, bounds {lower!r}-{upper!r}: {column} = {values.pop()} "
                                f"(shown {mark!r})",
                            )
                        )
    return found


def _member_candidates(value, mark: str | None, max_n: int = MAX_N) -> list[int]:
    if mark is None:
        number = _integral(as_number(value))
        return [] if number is None else [number]
    return [v for v in range(0 if mark == "blank" else 1, max_n + 1) if _fits_mark(v, mark)]


def member_shares_times_totals(collected: Collected, member: Member) -> list[Recovery]:
    """Member attempt 2b: a full-precision share giving back a count the same channel hides, for another org.

    Row shares (rate = x / n): the (x, n) consistent with the shown counts and the marks that make rate * n a
    whole number; a unique one recovers the withheld cell. Column shares (share_of_contract = referrals /
    total): a shown count and its share give the total, and the total times a hidden row's share its count.
    """
    found = []
    for frame in collected.frames:
        df = frame.frame
        own = own_rows(df, member)
        for share_col, x_col, n_col in MEMBER_ROW_SHARES:
            if not {share_col, x_col, n_col} <= set(df.columns):
                continue
            for row in range(len(df)):
                raw = _column(df, share_col).iloc[row]
                share = as_number(raw)
                if own[row] or share is None or _tolerance(raw) > 1e-9 or not 0 < share < 1:
                    continue
                x_raw, n_raw = _column(df, x_col).iloc[row], _column(df, n_col).iloc[row]
                x_mark, n_mark = _withheld(x_raw), _withheld(n_raw)
                if not (x_mark or n_mark):
                    continue
                xs = set(_member_candidates(x_raw, x_mark))
                fits = []
                for n in _member_candidates(n_raw, n_mark):
                    x = _integer_multiple(share, n) if n else None
                    if x is not None and x in xs:
                        fits.append((x, n))
                        if len(fits) > 1:
                            break
                if len(fits) == 1:
                    x, n = fits[0]
                    for column, mark, value in ((x_col, x_mark, x), (n_col, n_mark, n)):
                        if mark:
                            found.append(
                                Recovery(
                                    "member share x total",
                                    frame.channel,
                                    f"{frame.location} {_row_label(df, row)}",
                                    f"{share_col}={share!r}: {column} = {value} (shown {mark!r})",
                                )
                            )
        for share_col, count_col in COLUMN_SHARES.items():
            if not {share_col, count_col} <= set(df.columns):
                continue
            shares = [as_number(v) for v in _column(df, share_col)]
            counts = list(_column(df, count_col))
            totals = set()
            for share, count in zip(shares, counts):
                number = _integral(as_number(count))
                if share and number and _withheld(count) is None:
                    total = number / share
                    if abs(total - round(total)) <= 1e-6:
                        totals.add(int(round(total)))
            if len(totals) != 1:
                continue
            total = totals.pop()
            for row, (share, count) in enumerate(zip(shares, counts)):
                mark = _withheld(count)
                value = _integer_multiple(share, total) if share else None
                if mark and not own[row] and value is not None and _fits_mark(value, mark):
                    found.append(
                        Recovery(
                            "member share x total",
                            frame.channel,
                            f"{frame.location} {_row_label(df, row)}",
                            f"{share_col}={share!r} x total {total}: {count_col} = {value} (shown {mark!r})",
                        )
                    )
    return found


def _same_figure(column) -> str:
    name = str(column).strip().lower()
    return SAME_FIGURE.get(name, name)


def _unit_key(df: pd.DataFrame, row: int) -> dict[str, str]:
    key = {}
    for column in UNIT_COLUMNS:
        if column in df.columns:
            value = _column(df, column).iloc[row]
            number = as_number(value)
            key[column] = str(int(number)) if number is not None and number == int(number) else str(value).strip()
    return key


def _figure_words(figure: str) -> str:
    words = {"x": r"x", "n": r"n"}.get(figure, re.escape(figure.replace("_", " ")))
    return rf"(?:\b{words}\s*[:=]\s*(\d[\d,.]*)|(?<![\w.,])(\d[\d,]*)\s+{words}\b)"


def hidden_shown_elsewhere(collected: Collected) -> list[Recovery]:
    """Member attempt 3: a cell a channel marks `*`/`**` shown as a number by another channel for the same unit.

    The same unit: a row of another frame (table, chart dataset, download sheet) agreeing on every unit column
    the two share (at least one), in a column holding the same figure (`SAME_FIGURE` maps renamed columns).
    Text: a page text or a text cell of that row naming the unit and quoting the figure ("pending: 3",
    "3 pending").
    """
    found = []
    frames = collected.frames
    for a in frames:
        df = a.frame
        for column in df.columns:
            values = _column(df, column)
            figure = _same_figure(column)
            for row, value in enumerate(values):
                mark = _mark(value)
                if not mark:
                    continue
                key = _unit_key(df, row)
                if not key:
                    continue
                where = f"{a.location} {column} {_row_label(df, row)} shown {mark!r}"
                pattern = re.compile(_figure_words(figure), re.IGNORECASE)
                for b in frames:
                    if b is a:
                        continue
                    other = b.frame
                    shared = [c for c in key if c in other.columns]
                    if not shared:
                        continue
                    # A row about an organisation is only the same unit as a row naming one: a per-prime or
                    # per-stage aggregate that shares just the stage is a different, coarser unit.
                    if any(c in IDENTITY_COLUMNS for c in key) and not any(c in IDENTITY_COLUMNS for c in shared):
                        continue
                    columns = [c for c in other.columns if _same_figure(c) == figure]
                    for r in range(len(other)):
                        theirs = _unit_key(other, r)
                        if any(theirs[c] != key[c] for c in shared):
                            continue
                        for c in columns:
                            number = as_number(_column(other, c).iloc[r])
                            if number is not None:
                                found.append(
                                    Recovery(
                                        "hidden shown elsewhere",
                                        b.channel,
                                        f"{b.location} {c} {_row_label(other, r)}",
                                        f"{number:g}, where {where}",
                                    )
                                )
                        for c in other.columns:
                            text = _column(other, c).iloc[r]
                            if isinstance(text, str) and (match := pattern.search(text)):
                                found.append(
                                    Recovery(
                                        "hidden shown elsewhere",
                                        b.channel,
                                        f"{b.location} {c} {_row_label(other, r)}",
                                        f"{match[0]!r}, where {where}",
                                    )
                                )
                names = [v for v in key.values() if re.search(r"[A-Za-z]{3}", v)]
                for text in collected.texts:
                    if text.channel in ("chart spec", "download") or not any(n in text.text for n in names):
                        continue
                    for match in pattern.finditer(text.text):
                        found.append(
                            Recovery(
                                "hidden shown elsewhere", text.channel, text.location, f"{match[0]!r}, where {where}"
                            )
                        )
    return found


def recover_member(collected: Collected, member: Member) -> list[Recovery]:
    """Every recovery the member attack makes on a page collected with `collect(..., member_of=...)`."""
    return [
        *member_small_counts(collected, member),
        *member_wilson_backsolve(collected, member),
        *member_shares_times_totals(collected, member),
        *hidden_shown_elsewhere(collected),
    ]
