"""Parameter automation as a host does it: does every change land, quickly, without a click?

studio-speaker at 48 kHz, 128-sample blocks paced in real time (one block every 2.67 ms):

* continuous automation: a new ``width_deg`` every 10 blocks (26.7 ms) and every 40 blocks for
  3 s; designs adopted per second, and the time from the last change to its adoption (time to
  final value);
* the worst click residual of a 440 Hz sine (``soundstage.testing.clicks``: the render high-passed
  at 2 kHz, relative to its peak) with ``width_deg`` toggled every 1 and every 10 blocks and
  ``bypass="upmix"`` toggled, against the static render's residual;
* eight processors changed at once: when each has adopted its new design;
* 100 000 rapid sets: the resident memory they add (after they are designed and adopted).

Run the same script on two trees to compare them (the metric is taken from this tree):
``PYTHONPATH=plugin python benchmarks/automation.py`` and
``PYTHONPATH=/path/to/old/plugin python benchmarks/automation.py``.
"""

from __future__ import annotations

import gc
import importlib.util
import resource
import time
from pathlib import Path

import numpy as np
from soundstage import SpatialProcessor

SAMPLE_RATE = 48000.0
BLOCK = 128
_spec = importlib.util.spec_from_file_location(
    "clicks", Path(__file__).resolve().parents[1] / "plugin/soundstage/testing/clicks.py")
clicks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clicks)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def _adopted(proc) -> bool:
    f = proc.filterset
    return f is not None and f.parameters == proc.design_parameters


def continuous(every_blocks: int, seconds: float = 3.0) -> tuple[float, float]:
    """(adoptions per second, ms from the last change to its adoption) in real-time pacing."""
    proc = SpatialProcessor("studio-speaker")
    block = np.zeros((2, BLOCK), np.float32)
    block[0, 0] = 1e-3
    proc(block, SAMPLE_RATE, reset=False)
    period = BLOCK / SAMPLE_RATE
    n_blocks = int(seconds / period)
    adoptions, last = 0, proc.filterset
    widths = np.linspace(20.0, 60.0, 97) + np.random.default_rng().uniform(0.0, 0.4)  # no design-cache hits
    start = time.perf_counter()
    for i in range(n_blocks):
        if i % every_blocks == 0:
            proc.width_deg = float(widths[(i // every_blocks) % len(widths)])
        proc(block, SAMPLE_RATE, reset=False)
        if proc.filterset is not last:
            adoptions, last = adoptions + 1, proc.filterset
        time.sleep(max(0.0, start + (i + 1) * period - time.perf_counter()))
    stopped = time.perf_counter()
    i = n_blocks
    while not _adopted(proc) and time.perf_counter() - stopped < 10:
        proc(block, SAMPLE_RATE, reset=False)
        i += 1
        time.sleep(max(0.0, start + (i + 1) * period - time.perf_counter()))
    settle_ms = 1e3 * (time.perf_counter() - stopped)
    # the crossfade of the final design has to finish too
    return adoptions / seconds, settle_ms + 30.0


def click(parameter: str, values: list, every_blocks: int, seconds: float = 1.5) -> float:
    """Click residual with ``parameter`` cycling through ``values`` every ``every_blocks``
    blocks (each design waited for, so every change is heard); 0 blocks: static."""
    proc = SpatialProcessor("studio-speaker")
    x = clicks.sine_input(seconds, SAMPLE_RATE)
    outs, k = [], 0
    for i, s in enumerate(range(0, x.shape[1], BLOCK)):
        if every_blocks and s > 0.3 * SAMPLE_RATE and i % every_blocks == 0:
            setattr(proc, parameter, values[k % len(values)])
            k += 1
            proc.wait_for_design()
        outs.append(proc(x[:, s:s + BLOCK], SAMPLE_RATE, reset=False))
    return clicks.click_residual(np.concatenate(outs, axis=1), SAMPLE_RATE)


def eight_at_once() -> list[float]:
    procs = [SpatialProcessor("studio-speaker") for _ in range(8)]
    block = np.zeros((2, BLOCK), np.float32)
    for p in procs:
        p(block, SAMPLE_RATE, reset=False)
    for k, p in enumerate(procs):  # distinct values: no design cache hits
        p.width_deg = 21.3 + 3.7 * k
    start = time.perf_counter()
    done = [None] * len(procs)
    while any(d is None for d in done) and time.perf_counter() - start < 30:
        for k, p in enumerate(procs):
            if done[k] is None:
                p(block, SAMPLE_RATE, reset=False)
                if _adopted(p):
                    done[k] = time.perf_counter() - start
        time.sleep(0.002)
    return sorted(done)


def rapid_sets(count: int = 100_000) -> tuple[float, float, float]:
    """(seconds for ``count`` sets, MB of RSS added at the peak, MB added once adopted)."""
    proc = SpatialProcessor("studio-speaker")
    block = np.zeros((2, BLOCK), np.float32)
    proc(block, SAMPLE_RATE, reset=False)
    for k in range(1000):  # warm up: design threads started, both designs cached and adopted once
        proc.width_deg = 20.0 + (k % 2) * 20.0
    proc.wait_for_design()
    for _ in range(20):
        proc(block, SAMPLE_RATE, reset=False)
    gc.collect()
    before = _rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    for k in range(count):
        proc.width_deg = 20.0 + (k % 2) * 20.0
    elapsed = time.perf_counter() - start
    peak = max(_rss_mb() - before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak_before)
    proc.wait_for_design()
    for _ in range(20):
        proc(block, SAMPLE_RATE, reset=False)
    gc.collect()
    return elapsed, peak, _rss_mb() - before


def main() -> None:
    elapsed, peak, after = rapid_sets()  # first: its peak RSS is not hidden by a higher earlier one
    print("continuous automation (studio-speaker, 48 kHz, 128-sample blocks in real time, 3 s)")
    for every in (10, 40):
        rate, settle = continuous(every)
        print(f"  new width every {every:3d} blocks ({every * BLOCK / SAMPLE_RATE * 1e3:5.1f} ms): "
              f"{rate:5.1f} adoptions/s, final value heard after {settle:6.0f} ms")
    static = click("width_deg", [30.0], 0)
    print(f"click residual of a 440 Hz sine (static {static:.2e}):")
    for name, parameter, values, every in (("width 20/40 every block", "width_deg", [20.0, 40.0], 1),
                                           ("width 20/40 every 10 blocks", "width_deg", [20.0, 40.0], 10),
                                           ("width 20/40 every 3 blocks", "width_deg", [20.0, 40.0], 3),
                                           ("bypass upmix on/off", "bypass", [{"upmix"}, set()], 100)):
        r = click(parameter, values, every)
        print(f"  {name:30s} {r:.2e} = {r / static:8.1f} x static")
    times = eight_at_once()
    print("8 processors changed at once, adopted after (s): " + " ".join(f"{t:.2f}" for t in times))
    print(f"100 000 rapid sets: {elapsed:.2f} s, peak RSS +{peak:.1f} MB, +{after:.1f} MB once adopted")


if __name__ == "__main__":
    main()
