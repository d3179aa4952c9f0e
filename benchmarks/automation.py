"""Parameter automation as a host does it: does every change land, quickly, without a click?

studio-speaker at 48 kHz, 128-sample blocks paced in real time (one block every 2.67 ms):

* continuous automation: a new ``width_deg`` every 10 blocks (26.7 ms) and every 40 blocks for
  3 s; designs adopted per second, and the time from the last change to its adoption (time to
  final value);
* the worst click residual of a 440 Hz sine (``soundstage.testing.clicks``: the render high-passed
  at 2 kHz, relative to its peak) with ``width_deg`` toggled every 1 and every 10 blocks and
  ``bypass="upmix"`` toggled, against the static render's residual;
* eight processors changed at once: when each has adopted its new design, against
  8 × (one design time) / (design workers) — the shared pool's bound;
* 100 000 rapid sets: the resident memory they add (after they are designed and adopted);
* fast redesign: the design after a parameter change as the processor runs it mid-stream
  (studio-speaker and soundbar; width, target, centre gain, output gain, beam, gain cap), next
  to a design from scratch (empty caches) in the same run, as CPU time of the designing thread
  (the work, whatever else the machine runs) and wall time.

Each figure is printed next to the issue's figure ("issue") and the one measured before the
fast redesign and the two-slot design queue ("before", main at 7a98c4e), both on this machine
kind; the time to final value is also compared with one design time + the crossfade measured
in the same run.

Run the same script on two trees to compare them (the metric is taken from this tree):
``PYTHONPATH=plugin python benchmarks/automation.py`` and
``PYTHONPATH=/path/to/old/plugin python benchmarks/automation.py``.
"""

from __future__ import annotations

import gc
from dataclasses import replace
import importlib.util
import resource
import time
from pathlib import Path

import numpy as np
from soundstage import SpatialProcessor, presets
from soundstage.design import design_filterset, designer

try:
    from soundstage.design import stage_cache
except ImportError:  # a tree from before the stage cache (to compare with): only its plant was cached
    from soundstage.design import plant_cache as stage_cache
from soundstage.processor.redesign import DESIGN_WORKERS
from soundstage.processor.spatial import CROSSFADE_MS

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
    """(adoptions per second, ms from the last change until it is heard in full: its adoption
    plus the crossfade) in real-time pacing."""
    proc = SpatialProcessor("studio-speaker")
    block = np.zeros((2, BLOCK), np.float32)
    block[0, 0] = 1e-3
    proc(block, SAMPLE_RATE, reset=False)
    period = BLOCK / SAMPLE_RATE
    n_blocks = int(seconds / period)
    adoptions, last = 0, proc.filterset
    # distinct widths, new to this process: no design-cache hits
    widths = np.linspace(20.0, 60.0, n_blocks // every_blocks + 1) + np.random.default_rng().uniform(0.0, 0.3)
    start = time.perf_counter()
    for i in range(n_blocks):
        if i % every_blocks == 0:
            proc.width_deg = float(widths[i // every_blocks])
            stopped = time.perf_counter()  # automation stops with its last change
        proc(block, SAMPLE_RATE, reset=False)
        if proc.filterset is not last:
            adoptions, last = adoptions + 1, proc.filterset
        time.sleep(max(0.0, start + (i + 1) * period - time.perf_counter()))
    i = n_blocks
    while not _adopted(proc) and time.perf_counter() - stopped < 10:
        proc(block, SAMPLE_RATE, reset=False)
        i += 1
        time.sleep(max(0.0, start + (i + 1) * period - time.perf_counter()))
    settle_ms = 1e3 * (time.perf_counter() - stopped)
    # the crossfade of the final design has to finish too
    return adoptions / seconds, settle_ms + CROSSFADE_MS


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


#: Parameters changed in the fast-redesign table: three distinct values each (no design-cache hits).
REDESIGN_CHANGES = (("width_deg", (27.3, 28.1, 29.7)), ("target_cancellation_db", (14.5, 16.5, 18.5)),
                    ("centre_gain_db", (-2.5, -3.5, -4.5)), ("output_gain_db", (-5.0, -6.0, -7.0)),
                    ("beam", (False, True, False)), ("max_gain_db", (10.5, 11.0, 11.5)))


def _timed(call) -> tuple[float, float]:
    """(CPU ms of the calling thread, wall ms) of ``call()``: on a shared machine the CPU time is
    the work done, the wall time adds the waits for a core."""
    cpu, wall = time.thread_time(), time.perf_counter()
    call()
    return 1e3 * (time.thread_time() - cpu), 1e3 * (time.perf_counter() - wall)


def redesign_ms(name: str) -> tuple[dict, tuple[float, float]]:
    """({parameter: (CPU ms, wall ms)} of the best of three redesigns after a change, as a
    processor runs them mid-stream (latency pinned), and the same for a design from scratch)."""
    preset = presets.load(name)
    designer._design_cached.cache_clear()
    stage_cache.clear()
    scratch = _timed(lambda: design_filterset(preset.enclosure, preset.listener, preset.parameters, SAMPLE_RATE))
    first = design_filterset(preset.enclosure, preset.listener, preset.parameters, SAMPLE_RATE)
    pinned = replace(preset.parameters, adapt_modelling_delay=False,
                     modelling_delay_ms=first.latency_samples * 1000.0 / SAMPLE_RATE)
    design_filterset(preset.enclosure, preset.listener, pinned, SAMPLE_RATE)
    out = {}
    for parameter, values in REDESIGN_CHANGES:
        times = []
        for value in values:
            designer._design_cached.cache_clear()  # the whole design is new; its stages may be cached
            times.append(_timed(lambda v=value: design_filterset(preset.enclosure, preset.listener,
                                                                  replace(pinned, **{parameter: v}), SAMPLE_RATE)))
        out[parameter] = min(times)
    return out, scratch


def main() -> None:
    elapsed, peak, after = rapid_sets()  # first: its peak RSS is not hidden by a higher earlier one
    print("fast redesign after a mid-stream change, 48 kHz, best of 3: CPU ms of the designing thread "
          "(wall ms); from scratch: empty caches")
    print("(issue: width 257–322 studio, ~300 soundbar; before: width 93–128, scratch 236; "
          "required ≤ 50 and ≤ 300)")
    print("| preset | " + " | ".join(p for p, _ in REDESIGN_CHANGES) + " | from scratch | scratch / width |")
    print("|---|" + "---:|" * (len(REDESIGN_CHANGES) + 2))
    design_ms = None
    for name in ("studio-speaker", "soundbar"):
        times, scratch = redesign_ms(name)
        design_ms = times["width_deg"][1] if design_ms is None else design_ms
        print(f"| {name} | " + " | ".join(f"{times[p][0]:.0f} ({times[p][1]:.0f})" for p, _ in REDESIGN_CHANGES)
              + f" | {scratch[0]:.0f} ({scratch[1]:.0f}) | {scratch[0] / times['width_deg'][0]:.1f}× |")
    print("continuous automation (studio-speaker, 48 kHz, 128-sample blocks in real time, 3 s)")
    for every, issue, before in ((10, "0 of 113 adopted, final 350–620 ms", "4–5/s, final 250–420 ms"),
                                 (40, "2 of 29 adopted", "4–5/s")):
        rate, settle = continuous(every)
        print(f"  new width every {every:3d} blocks ({every * BLOCK / SAMPLE_RATE * 1e3:5.1f} ms): "
              f"{rate:5.1f} adoptions/s, final value heard after {settle:6.0f} ms "
              f"(one design + crossfade: {design_ms + CROSSFADE_MS:.0f} ms) [issue: {issue}; before: {before}]")
    static = click("width_deg", [30.0], 0)
    print(f"click residual of a 440 Hz sine (static {static:.2e}) [issue: 0.52 = 3250x static one block apart; "
          "before: 1.0–1.9x static]:")
    for name, parameter, values, every in (("width 20/40 every block", "width_deg", [20.0, 40.0], 1),
                                           ("width 20/40 every 10 blocks", "width_deg", [20.0, 40.0], 10),
                                           ("width 20/40 every 3 blocks", "width_deg", [20.0, 40.0], 3),
                                           ("bypass upmix on/off", "bypass", [{"upmix"}, set()], 100)):
        r = click(parameter, values, every)
        print(f"  {name:30s} {r:.2e} = {r / static:8.1f} x static")
    times = eight_at_once()
    print("8 processors changed at once, adopted after (s): " + " ".join(f"{t:.2f}" for t in times)
          + f"  [8 x design / {DESIGN_WORKERS} workers = {8 * design_ms / DESIGN_WORKERS / 1e3:.2f} s; "
          "issue: 0.22 … 1.78; before: 1.7–2.2]")
    print(f"100 000 rapid sets: {elapsed:.2f} s, peak RSS +{peak:.1f} MB, +{after:.1f} MB once adopted "
          "[issue: +235 MB peak, +80 MB after]")


if __name__ == "__main__":
    main()
