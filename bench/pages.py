"""Page time: every page in pages/ rendered by Streamlit's AppTest against the benchmark database.

`st.cache_data` is cleared before every run, so each run pays for its queries as a first visitor after an
ingest would; the engine (`st.cache_resource`) stays, as it does in a running server.
"""

from __future__ import annotations

import logging
import os

from bench import ROOT
from bench.stats import stopwatch, summarise

TIMEOUT_SECONDS = 600


def page_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "pages").glob("*.py"))


def measure_pages(url: str, runs: int, log=print) -> dict:
    """Median and p95 render time per page over `runs` cold-cache runs (plus one untimed warm-up render)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["WPMI_DB_URL"] = url

    def render(page: str):
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT_SECONDS)
        return at, at.run

    # Outside a server Streamlit warns about the missing runtime on every run; page errors are collected
    # from AppTest instead, so warnings are silenced while pages render.
    logging.disable(logging.WARNING)
    try:
        return _measure(render, runs, log)
    finally:
        logging.disable(logging.NOTSET)


def _measure(render, runs: int, log) -> dict:
    out = {}
    pages = page_names()
    _, run = render(pages[0])
    run()  # imports pandas, altair and the dashboard modules once, as a server process does at start
    for page in pages:
        times, errors = [], []
        for _ in range(runs):
            at, run = render(page)
            with stopwatch(times):
                run()
            errors = [str(e.value)[:300] for e in at.exception]
        out[page] = {**summarise(times), "exceptions": errors}
        log(
            f"  {page:<14} median {out[page]['median']:6.2f} s   p95 {out[page]['p95']:6.2f} s"
            + (f"   EXCEPTION: {errors[0]}" if errors else "")
        )
    return out
