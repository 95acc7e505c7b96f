"""Peak memory of one call, for the benchmarks' child processes."""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[..., Any], *args: Any) -> dict[str, float]:
    """Run ``fn(*args)`` once: the process's peak resident memory before and after (MB), the peak
    the call itself allocated (tracemalloc, MB) and its seconds (slowed by tracemalloc)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - start
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "peak_mb": after / 1024,
        "data_mb": before / 1024,
        "traced_mb": traced_peak / 2**20,
        "seconds": seconds,
    }
