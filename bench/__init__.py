"""The programme-scale benchmark: `python -m bench` (or `make bench`).

It builds (once, cached in bench/.cache/) the synthetic programme at full and half scale, then measures
ingest throughput against a bare read and a naive pandas load, peak memory of one ingest, query latency
against DuckDB over the raw rows, page render times through AppTest, how ingest time and query time grow
with the programme, and the start-up time of `wpmi --help` and a small `wpmi ingest` against a bare
`python -c pass` (bench/startup.py). Results go to docs/performance.md and bench/.cache/results.json.
"""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CACHE = BENCH_DIR / ".cache"
