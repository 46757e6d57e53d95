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


def collect(
    page: str,
    db_url: str,
    *,
    cutoff: date | str = "2016-03-31",
    query: dict[str, str] | None = None,
    timeout: float = 120,
) -> Collected:
    """Run `pages/<page>.py` once in public mode with the given cut-off and keep everything sent to the browser."""
    from streamlit.testing.v1 import AppTest

    env = {"WPMI_DB_URL": db_url, "WPMI_MODE": "public", "WPMI_OFFICIAL_CUTOFF": str(cutoff)}
    with mock.patch.dict(os.environ, env), _media_spy() as stored:
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=timeout)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    label = page + "".join(f"?{k}={v}" for k, v in (query or {}).items())
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
