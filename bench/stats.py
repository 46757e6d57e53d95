"""Small timing helpers: a monotonic stopwatch, medians and 95th percentiles."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np


def summarise(seconds: list[float]) -> dict:
    """Median, 95th percentile (linear interpolation), min and max of repeated timings, in seconds."""
    values = np.asarray(seconds, dtype=float)
    return {
        "n": int(values.size),
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "min": float(values.min()),
        "max": float(values.max()),
        "runs": [round(float(v), 4) for v in values],
    }


@contextmanager
def stopwatch(out: list[float]):
    """Append the block's wall time (seconds, perf_counter) to `out`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        out.append(time.perf_counter() - started)
