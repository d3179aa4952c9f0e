"""Timing shared by the benchmarks: the best of a few runs (the machine is shared and noisy;
the minimum is the least disturbed run)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time_s(fn: Callable[[], object], repeats: int = 2,
                clock: Callable[[], float] = time.perf_counter) -> float:
    """The shortest time (s) of ``repeats`` calls of ``fn`` on ``clock`` (wall clock by default;
    ``time.process_time`` for the CPU time of the process)."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def best_ms(fn: Callable[[], object], repeats: int = 2) -> float:
    """:func:`best_time_s` in milliseconds."""
    return 1e3 * best_time_s(fn, repeats)


def best_times_interleaved(fns: dict[str, Callable[[], object]], rounds: int = 5) -> dict[str, float]:
    """The shortest wall-clock time (s) of each function over ``rounds`` rounds that call them
    in turn: a slow spell of the machine then falls on every function alike, so ratios of the
    results are fairer than those of timings taken one after the other."""
    best = {name: float("inf") for name in fns}
    for _ in range(max(1, rounds)):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best
