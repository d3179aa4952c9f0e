"""Timing shared by the benchmarks: the best of a few runs (the machine is shared and noisy;
the minimum is the least disturbed run)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time_s(fn: Callable[[], object], repeats: int = 2) -> float:
    """The shortest wall-clock time (s) of ``repeats`` calls of ``fn``."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_ms(fn: Callable[[], object], repeats: int = 2) -> float:
    """:func:`best_time_s` in milliseconds."""
    return 1e3 * best_time_s(fn, repeats)
