"""Turn the results into one table of figures with targets: printed (rich), as Markdown, and as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

QUERY_P95_MS = 300
PAGE_P95_S = 2.0
WPMI_OVER_FLOOR = 1.5
NAIVE_OVER_WPMI = 5.0
PEAK_RSS_MIB = 1024
GROWTH_EXPONENT = 1.1  # linear is 1.0; allow a little for fixed costs shrinking relative to the rest
QUERY_GROWTH = 1.25  # flat is 1.0
QUERY_GROWTH_NOISE_S = 0.010  # a p95 that grows by less than this is flat whatever the ratio (timer noise)


@dataclass
class Figure:
    section: str
    name: str
    value: str
    target: str = ""
    met: bool | None = None  # None: for information, no target

    @property
    def status(self) -> str:
        return "" if self.met is None else ("met" if self.met else "NOT MET")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def figures(r: dict) -> list[Figure]:
    """Every figure of the run, in reading order, with its target and verdict."""
    out: list[Figure] = []
    full, half = r["builds"]["full"], r["builds"]["half"]
    scale = f"{full['participants']:,} journeys"
    out.append(Figure("scale", "measured at", f"{r['scale_note']}"))
    for key in ("full", "half"):
        b = r["builds"][key]
        out.append(
            Figure(
                "scale",
                f"{key} build ({b['name']})",
                f"{b['participants']:,} participant journeys; build {b['build_seconds']:,.0f} s, "
                f"whole-demo ingest {b['ingest_seconds']:,.0f} s" + (" (cached)" if b["reused"] else ""),
            )
        )

    for fmt in ("xlsx", "csv"):
        t = r.get("throughput", {}).get(fmt)
        if not t:
            continue
        sec = f"ingest .{fmt}"
        out.append(Figure(sec, "file", f"{t['file']} ({t['rows']:,} participant rows, {t['bytes'] / 2**20:.1f} MiB)"))
        for way, label in (
            ("floor", "floor (bare read)"),
            ("naive", "naive (pandas + to_sql)"),
            ("wpmi", "wpmi ingest"),
        ):
            s = t[way]
            out.append(
                Figure(
                    sec,
                    f"{label} rows/s",
                    f"{s['rows_per_second']:,.0f}  (median {s['median']:.2f} s, p95 {s['p95']:.2f} s, n={s['n']})",
                )
            )
        if t.get("stages"):
            out.append(
                Figure(
                    sec,
                    "wpmi time by stage (one cProfile'd run)",
                    ", ".join(f"{k.strip()} {v:.2f} s" for k, v in t["stages"].items()),
                )
            )
        if "floor_all_sheets" in t:
            out.append(Figure(sec, "floor, every sheet (info)", f"median {t['floor_all_sheets']['median']:.2f} s"))
        out.append(
            Figure(
                sec,
                "wpmi time / floor time",
                f"{t['wpmi_over_floor']:.2f}",
                f"<= {WPMI_OVER_FLOOR}",
                t["wpmi_over_floor"] <= WPMI_OVER_FLOOR,
            )
        )
        out.append(
            Figure(
                sec,
                "naive time / wpmi time",
                f"{t['naive_over_wpmi']:.2f}",
                f">= {NAIVE_OVER_WPMI}",
                t["naive_over_wpmi"] >= NAIVE_OVER_WPMI,
            )
        )
        if "store_floor" in t:
            out.append(
                Figure(
                    sec,
                    "read + store floor / floor (info: the least any loader that keeps the rows pays)",
                    f"{t['store_floor_over_floor']:.2f} (median {t['store_floor']['median']:.2f} s)",
                )
            )
            out.append(Figure(sec, "wpmi time / read + store floor (info)", f"{t['wpmi_over_store_floor']:.2f}"))

    m = r.get("memory")
    if m:
        out.append(
            Figure(
                "memory",
                "baseline: a process that only imports wpmi",
                f"{m['baseline_kib'] / 1024:,.0f} MiB max RSS (VmHWM {m['baseline_vm_hwm_kib'] / 1024:,.0f} MiB)",
            )
        )
        peak = max(m["ingest_kib"], m["ingest_vm_hwm_kib"]) / 1024
        out.append(
            Figure(
                "memory",
                f"ingest of the largest file ({m['file']}, {m['rows_total']:,} rows)",
                f"{m['ingest_kib'] / 1024:,.0f} MiB max RSS (VmHWM {m['ingest_vm_hwm_kib'] / 1024:,.0f} MiB; "
                f"ingest {m['seconds']:.1f} s)",
                f"<= {PEAK_RSS_MIB} MiB",
                peak <= PEAK_RSS_MIB,
            )
        )

    q = r.get("queries", {}).get("full")
    if q:
        for name, s in q["functions"].items():
            slow = f"; slowest: {s['slowest_call']} ({s['slowest_rows']:,} rows)" if s.get("slowest_call") else ""
            out.append(
                Figure(
                    f"queries at {scale}",
                    name,
                    f"median {_ms(s['median'])}, p95 {_ms(s['p95'])} (n={s['n']}){slow}",
                    f"p95 <= {QUERY_P95_MS} ms",
                    s["p95"] * 1000 <= QUERY_P95_MS,
                )
            )
    d = r.get("duckdb")
    if d:
        out.append(
            Figure(
                "DuckDB reference",
                "copy raw rows into DuckDB (once, not timed below)",
                f"{d['load_seconds']:.1f} s, {d['rows'].get('participant', 0):,} participant rows, "
                f"{d['threads']} threads",
            )
        )
        for name, s in d["queries"].items():
            out.append(
                Figure(
                    "DuckDB reference",
                    f"{name}: wpmi / DuckDB",
                    f"{s['ratio_median']:.2f} at the median, {s['ratio_p95']:.2f} at p95 "
                    f"(wpmi {_ms(s['wpmi']['median'])}, DuckDB {_ms(s['duckdb']['median'])}); "
                    f"same answers: {'yes' if s['same_answers'] else 'NO'}",
                )
            )

    p = r.get("pages")
    if p:
        for page, s in p.items():
            ok = s["p95"] <= PAGE_P95_S and not s["exceptions"]
            out.append(
                Figure(
                    f"pages at {scale}",
                    page,
                    f"median {s['median']:.2f} s, p95 {s['p95']:.2f} s (n={s['n']})"
                    + (" EXCEPTION" if s["exceptions"] else ""),
                    f"p95 <= {PAGE_P95_S:g} s",
                    ok,
                )
            )

    g = r.get("growth")
    if g:
        out.append(
            Figure(
                "growth",
                "whole-demo ingest time exponent",
                f"{g['ingest_exponent']:.2f} ({half['ingest_seconds']:,.0f} s for {half['participants']:,}"
                f" -> {full['ingest_seconds']:,.0f} s for {full['participants']:,})",
                f"<= {GROWTH_EXPONENT} (linear 1.0)",
                g["ingest_exponent"] <= GROWTH_EXPONENT,
            )
        )
        if "query_p95_ratio" in g:
            p95 = {
                scale: {name: f["p95"] for name, f in r["queries"][scale]["functions"].items()}
                for scale in ("full", "half")
            }
            # Flat: p95 grows by at most QUERY_GROWTH, or by no more than timing noise (2 ms -> 4 ms is flat).
            grown = {
                name: ratio
                for name, ratio in g["query_p95_ratio"].items()
                if ratio > QUERY_GROWTH and p95["full"][name] - p95["half"][name] > QUERY_GROWTH_NOISE_S
            }
            worst = max(grown or g["query_p95_ratio"], key=g["query_p95_ratio"].get)
            out.append(
                Figure(
                    "growth",
                    "query p95 full / half, worst function",
                    f"{g['query_p95_ratio'][worst]:.2f} ({worst}: {p95['half'][worst] * 1000:,.0f} -> "
                    f"{p95['full'][worst] * 1000:,.0f} ms); median over functions "
                    f"{g['query_p95_ratio_median']:.2f}",
                    f"<= {QUERY_GROWTH} or within {QUERY_GROWTH_NOISE_S * 1000:.0f} ms (flat 1.0)",
                    not grown,
                )
            )
    sb = r.get("sandbox")
    if sb:
        for label, f in sb["per_file"].items():
            here, worker = f["in_process"]["median"], f["worker"]["median"]
            out.append(
                Figure(
                    "reading in the worker process (info)",
                    f"{label} file, {f['file']} ({f['bytes'] / 1024:,.0f} KB)",
                    f"median {_ms(here)} in process, {_ms(worker)} in the worker: +{_ms(worker - here)}, "
                    f"{worker / here:.2f}x (n={f['worker']['n']})",
                )
            )
        w = sb["whole"]
        out.append(
            Figure(
                "reading in the worker process (info)",
                f"every file of the full build ({w['files']:,} files, {w['bytes'] / 2**20:,.0f} MiB), read once",
                f"{w['in_process']:,.1f} s in process, {w['worker']:,.1f} s in the worker: "
                f"+{w['added_seconds']:,.1f} s "
                f"({w['added_seconds'] / r['builds']['full']['ingest_seconds']:.0%} of the whole-demo ingest)",
            )
        )
    st = r.get("steady")
    if st:
        last, alone = st["months"][-1], st["last_alone_seconds"]
        out.append(
            Figure(
                "steady state (info)",
                f"month {last['month']}'s cumulative caseload "
                f"({last['file_rows']:,} rows) with {last['current_rows']:,} rows "
                "in current submissions / the same file into an empty database",
                f"{last['seconds'] / alone:.2f} ({last['seconds']:.2f} s vs {alone:.2f} s; `python -m bench.steady`)",
            )
        )
    su = r.get("startup")
    if su:
        for name, s in su["commands"].items():
            times = f"median {_ms(s['median'])}, p95 {_ms(s['p95'])} (n={s['n']})"
            relative = "the baseline" if name == su["baseline"] else f"{s['over_baseline']:.1f}x the baseline"
            out.append(Figure("start-up (info)", name, f"{times}; {relative}"))
    return out


def print_table(figs: list[Figure]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="wpmi programme-scale benchmark", show_lines=False)
    for column in ("section", "figure", "value", "target", "status"):
        table.add_column(column, overflow="fold")
    last = None
    for f in figs:
        style = None if f.met is None else ("green" if f.met else "bold red")
        table.add_row(f.section if f.section != last else "", f.name, f.value, f.target, f.status, style=style)
        last = f.section
    Console(width=200).print(table)


def _load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "n/a"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def markdown(r: dict, figs: list[Figure]) -> str:
    """docs/performance.md: how to run, the machine, how to read it, the table, and the raw highlights."""
    builds = r["builds"].values()
    cached = [b for b in builds if b["reused"]]
    wall = f"wall time {r['wall_seconds'] / 60:.1f} min"
    if cached:
        wall += (
            f" with the demo builds cached; building them from an empty cache adds "
            f"{sum(b['build_seconds'] for b in cached) / 60:.1f} min"
        )
    met = sum(1 for f in figs if f.met)
    judged = sum(1 for f in figs if f.met is not None)
    lines = [
        "# Performance at programme scale",
        "",
        "<!-- Generated by `python -m bench` (bench/report.py). Do not edit by hand: run `make bench` again. -->",
        "",
        f"Measured on **{r['date']}** with `{r['command']}` ({wall}), code at {r.get('code', 'unknown')}.",
        "",
        f"Machine: {r['machine']['nproc']} CPUs (`nproc`), {r['machine']['memory_gib']:.0f} GiB RAM, "
        f"{r['machine']['platform']}, Python {r['machine']['python']}, SQLite {r['machine']['sqlite']}, "
        f"DuckDB {r['machine']['duckdb']}, Streamlit {r['machine']['streamlit']}. Load average (1/5/15 min) "
        f"{_load(r['machine'].get('load_average_start'))} at the start, {_load(r['machine'].get('load_average_end'))} "
        "at the end (above 0 means other work shared the CPUs).",
        "",
        f"Scale: {r['scale_note']}.",
        "",
        f"**{met} of {judged} targets met.**",
        "",
        "## How to read this",
        "",
        "- The data is the **synthetic** demo programme (`wpmi demo`), built once and cached in `bench/.cache/`; "
        "delete that folder to rebuild. Throughput is measured on the largest standard-template participant "
        "file of the full build, and on the same participant rows written as a CSV.",
        "- **floor** is only turning the file into Python values (python-calamine, or `csv.reader`); "
        "**read + store floor** adds one `executemany` of the same rows into a bare SQLite table (no types, no "
        "index), the least any loader that keeps the rows pays; "
        "**naive** is `pandas.read_excel`/`read_csv` then `DataFrame.to_sql`, with no validation; **wpmi** is "
        "`Ingestor.ingest` into a fresh SQLite database: read, detect layout, map, validate, write and refresh "
        "the summaries. wpmi / floor near 1 means everything after the read is cheap; naive / wpmi above 1 "
        "means wpmi is faster than a hand-rolled load although it validates every cell.",
        "- Times are medians and 95th percentiles of repeated runs in one process (rows/s from the median). "
        "Memory is the peak resident set of a fresh process that ingests one file (`bench/ingest_one.py`).",
        "- **Queries** are the page data functions of `dashboard/queries.py`, called as the pages call them with "
        "twenty varied filters (CPAs, primes, payment groups, year ranges, sector, tier) and no Streamlit cache, "
        "after one warm-up call. The **DuckDB** reference answers the same flow and cohort questions from the "
        "raw participant rows (latest row per participant, maturity cut-offs) with every core; wpmi / DuckDB "
        "below 1 means the ingest-time summaries beat scanning the raw rows, and 'same answers' checks the totals.",
        "- **Pages** are rendered by Streamlit's AppTest with `st.cache_data` cleared before each run: a first "
        "visitor's view. A real browser adds network and front-end rendering on top.",
        "- **Growth**: exponent = log(t_full / t_half) / log(n_full / n_half) of the whole-demo ingest "
        "(1.0 = linear); the query ratio is each function's p95 at full over half scale (1.0 = flat); a p95 that "
        "grows by under 10 ms counts as flat whatever the ratio (a 2 ms -> 4 ms drill-down is timer noise and a "
        "longer answer, not a slower query).",
        "- **Steady state** (`python -m bench.steady`): one partner sends a cumulative caseload every month for two "
        "years, each its own reporting period, so every file stays current and the summary refresh ranks the "
        "rows of all of them; the figure is the last month's ingest over the same file into an empty database "
        "(1.0 = the history costs nothing). Informational: the issue sets no target, and it shows a cost that "
        "grows with a partner's history.",
        "- **Start-up** (`python -m bench.startup`): what a person at a terminal waits for, each run a fresh process: "
        "`wpmi --help`, and `wpmi ingest` of a three-participant file into a copy of an initialised database, "
        "beside a bare `python -c pass` of the same interpreter measured in turn with them. The multiple of the "
        "baseline's median compares across machines; the seconds do not. Informational: no target.",
        "- Timings on a shared 2-CPU machine vary by 10-20% from run to run; read ratios rather than single numbers.",
        "",
        "## Results",
        "",
        "| section | figure | value | target | status |",
        "|---|---|---|---|---|",
    ]
    last = None
    for f in figs:
        lines.append(
            f"| {_md_cell(f.section if f.section != last else '')} | {_md_cell(f.name)} | "
            f"{_md_cell(f.value)} | {_md_cell(f.target)} | {'**NOT MET**' if f.met is False else f.status} |"
        )
        last = f.section
    if r.get("queries", {}).get("half"):
        lines += [
            "",
            "## Query p95 at full and half scale",
            "",
            "| function | p95 full | p95 half | full / half |",
            "|---|---|---|---|",
        ]
        half = r["queries"]["half"]["functions"]
        for name, s in r["queries"]["full"]["functions"].items():
            h = half.get(name)
            if h:
                lines.append(f"| {name} | {_ms(s['p95'])} | {_ms(h['p95'])} | {s['p95'] / h['p95']:.2f} |")
    lines += ["", "Raw results (every run's timing, the filters used, the files): `bench/.cache/results.json`.", ""]
    return "\n".join(lines)


def postgres_figures(pg: dict, sqlite: dict | None = None) -> list[Figure]:
    """The PostgreSQL run's figures (bench/pg.py), with the SQLite run's figure beside each for reference."""
    sqlite = sqlite or {}
    out = [
        Figure(
            "PostgreSQL",
            "server",
            f"{pg['server']['version']}; "
            + ", ".join(f"{k}={v}" for k, v in sorted(pg["server"].get("settings", {}).items())),
        )
    ]
    for run in pg["runs"]:
        b = run["build"]
        out.append(
            Figure(
                "PostgreSQL",
                f"demo build ({b['scale']})",
                f"{b['participants']:,} participant journeys; build {b['build_seconds']:,.0f} s, "
                f"whole-demo ingest {b['ingest_seconds']:,.0f} s",
            )
        )
    sqlite_full = sqlite.get("builds", {}).get("full")
    if sqlite_full:
        out.append(
            Figure(
                "PostgreSQL",
                "SQLite figures quoted beside them",
                f"the SQLite run above, at {sqlite_full['participants']:,} journeys ({sqlite.get('date', '?')})",
            )
        )
    for fmt in ("xlsx", "csv"):
        t = pg.get("throughput", {}).get(fmt)
        if not t:
            continue
        sec = f"PostgreSQL ingest .{fmt}"
        out.append(
            Figure(
                sec,
                "file",
                f"{t['file']} ({t['rows']:,} participant rows, {t['bytes'] / 2**20:.1f} MiB; {t['source']})",
            )
        )
        s = t["wpmi"]
        ref = sqlite.get("throughput", {}).get(fmt, {})
        vs = (
            (
                f"; SQLite {ref['wpmi']['rows_per_second']:,.0f} rows/s on the same file (PostgreSQL / SQLite time "
                f"{s['median'] / ref['wpmi']['median']:.2f})"
            )
            if ref.get("file") == t["file"]
            else ""
        )
        out.append(
            Figure(
                sec,
                "wpmi ingest rows/s (fresh PostgreSQL database per run)",
                f"{s['rows_per_second']:,.0f}  (median {s['median']:.2f} s, p95 {s['p95']:.2f} s, n={s['n']}){vs}",
            )
        )
    for run in pg["runs"]:
        b = run["build"]
        # Quote SQLite at the same journeys when it measured that build (same seed and scale), else its full build.
        key = next(
            (
                k
                for k in ("full", "half")
                if sqlite.get("builds", {}).get(k, {}).get("participants") == b["participants"]
                and k in sqlite.get("queries", {})
            ),
            "full",
        )
        ref_q = sqlite.get("queries", {}).get(key, {}).get("functions", {})
        ref_n = sqlite.get("builds", {}).get(key, {}).get("participants")
        for name, s in run["queries"]["functions"].items():
            slow = f"; slowest: {s['slowest_call']} ({s['slowest_rows']:,} rows)" if s.get("slowest_call") else ""
            r = ref_q.get(name)
            same = " (same build)" if ref_n == b["participants"] else ""
            vs = f"; SQLite at {ref_n:,}{same}: p95 {_ms(r['p95'])}" if r and ref_n else ""
            out.append(
                Figure(
                    f"PostgreSQL queries at {b['participants']:,} journeys ({b['scale']})",
                    name,
                    f"median {_ms(s['median'])}, p95 {_ms(s['p95'])} (n={s['n']}){slow}{vs}",
                    f"p95 <= {QUERY_P95_MS} ms",
                    s["p95"] * 1000 <= QUERY_P95_MS,
                )
            )
    return out


def print_postgres(pg: dict, sqlite: dict | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    figs = postgres_figures(pg, sqlite)
    scales = ", ".join(f"{r['build']['scale']} demo = {r['build']['participants']:,} journeys" for r in pg["runs"])
    table = Table(title=f"wpmi on PostgreSQL ({scales})")
    for column in ("section", "figure", "value", "target", "status"):
        table.add_column(column, overflow="fold")
    last = None
    for f in figs:
        style = None if f.met is None else ("green" if f.met else "bold red")
        table.add_row(f.section if f.section != last else "", f.name, f.value, f.target, f.status, style=style)
        last = f.section
    Console(width=200).print(table)


def postgres_markdown(pg: dict, sqlite: dict | None = None) -> str:
    """The "PostgreSQL" section appended to docs/performance.md (from bench/.cache/results_postgres.json)."""
    figs = postgres_figures(pg, sqlite)
    scales = "; ".join(
        f"the **{r['build']['scale']}** demo, **{r['build']['participants']:,} participant journeys**"
        for r in pg["runs"]
    )
    met = sum(1 for f in figs if f.met)
    judged = sum(1 for f in figs if f.met is not None)
    lines = [
        "## PostgreSQL",
        "",
        f"Measured on **{pg['date']}** with `{pg['command']}` (wall time {pg['wall_seconds'] / 60:.1f} min, "
        f"including the server start and the demo builds), code at {pg.get('code', 'unknown')}.",
        "",
        f"Backend: a throwaway {pg['server']['version']} server on the same machine (bench/pgserver.py's "
        "`start_server`: 127.0.0.1, trust auth, fsync/synchronous_commit/full_page_writes off, "
        "shared_buffers 64MB), stopped and removed after the run.",
        "",
        f"Scale: {scales} (seed 2011). The SQLite figures above are at their own scale (quoted beside each "
        "query below), so compare query times with the journey counts in mind. Ingest throughput does not depend "
        "on scale (one file into an empty database); when the file is the SQLite step's own, its rows/s compare "
        "like for like.",
        "",
        "- **Ingest**: `Ingestor.ingest` alone, into a fresh PostgreSQL database per run (reference data loaded "
        "and the sender registered before the clock starts), as in the SQLite step.",
        "- **Queries**: the same page data functions, filters, warm-up and call counts as the SQLite table "
        "(bench/queries.py), against the PostgreSQL demo database; beside each is the SQLite p95 of the same "
        "build (same seed and scale) when the SQLite run measured it, else of its full build.",
        "",
        f"**{met} of {judged} query targets met on PostgreSQL.**",
        "",
        "| section | figure | value | target | status |",
        "|---|---|---|---|---|",
    ]
    last = None
    for f in figs:
        lines.append(
            f"| {_md_cell(f.section if f.section != last else '')} | {_md_cell(f.name)} | "
            f"{_md_cell(f.value)} | {_md_cell(f.target)} | {'**NOT MET**' if f.met is False else f.status} |"
        )
        last = f.section
    lines += [
        "",
        "Raw PostgreSQL results: `bench/.cache/results_postgres.json` (`python -m bench --postgres-only` "
        "to measure again).",
        "",
    ]
    return "\n".join(lines)


def write_outputs(r: dict, figs: list[Figure], doc: Path, raw: Path, pg_raw: Path | None = None) -> None:
    """Write the raw results and docs/performance.md; the PostgreSQL section is kept from `pg_raw` when present."""
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(r, indent=2, default=str))
    text = markdown(r, figs)
    if pg_raw is not None and pg_raw.exists():
        text += "\n" + postgres_markdown(json.loads(pg_raw.read_text()), r)
    doc.write_text(text)
