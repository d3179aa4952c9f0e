"""Head tracking: the issue-17 acceptance figures.

``PYTHONPATH=plugin python benchmarks/tracking.py [--quick]``

1. Grid steps from the measured separation loss: a design at a grid point heard half a step
   away (CTC alone, 1–6 kHz, studio speaker; the design sphere and KEMAR), per candidate step.
2. A lateral move −20 → +20 cm at 20 cm/s (1 cm resolution): separation at the moving head with
   tracking beside the fixed design at the same positions, and the hard-left image; on the
   design sphere and on the built-in KEMAR.
3. 30 random updates per second over the region (from another thread, 128-sample blocks): click
   residual against the static render, NaN, equality with a processor designed for the final
   position, memory held by the grid.
4. Per preset: bytes per design, the full grid, what the default budget holds, and the design
   time of one grid point (and the ratio to a 33 ms update interval).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace

import numpy as np

from soundstage import ListenerTrack, SpatialProcessor, presets
from soundstage.design import design_filterset
from soundstage.monitor.analysis import _Evaluator
from soundstage.monitor.analysis_ears import system_from_filterset
from soundstage.monitor.metrics_bands import third_octave_bands
from soundstage.monitor.tracking_analysis import SEPARATION_BAND_HZ, analyze_track
from soundstage.processor.tracking import DEFAULT_MEMORY_BUDGET_BYTES, GridSteps, ListenerGrid
from soundstage.testing.clicks import click_residual, sine_input

SR = 48000.0
BLOCK = 128
QUICK = "--quick" in sys.argv


def step_losses() -> None:
    preset = presets.load("studio-speaker")
    enc, lis, par = preset.enclosure, preset.listener, preset.parameters
    ctc = par.replace(bypass=par.bypass | {"virtualizer"})
    design = design_filterset(enc, lis, ctc, SR)
    bands = third_octave_bands(100.0, 16000.0)
    band = (bands >= SEPARATION_BAND_HZ[0]) & (bands <= SEPARATION_BAND_HZ[1])
    print("1. separation lost half a step from a grid point (studio-speaker, CTC alone, 1-6 kHz)")
    print(f"{'axis':10} {'step':>8} {'half step':>10} {'sphere loss dB':>15} {'KEMAR loss dB':>14}")
    cases = [("lateral", s, (s / 2, 0, 0)) for s in (0.01, 0.02, 0.04, 0.06)]
    cases += [("distance", s, (0, s / 2, 0)) for s in (0.1, 0.2, 0.4)]
    cases += [("yaw", s, (0, 0, s / 2)) for s in (5.0, 10.0, 20.0)]
    chosen = GridSteps()
    for axis, step, (lat, fa, yaw) in cases:
        losses = []
        for head in ("sphere", "kemar"):
            at = {}
            for name, offset in (("on", (0, 0, 0)), ("off", (lat, fa, yaw))):
                system = system_from_filterset(design, name)
                system = replace(system, listener=system.listener.moved(yaw_deg=offset[2]))
                ev = _Evaluator({name: system}, SR, None, head, 10, None, bands)
                at[name] = float(np.mean(ev.separation(name, offset[0], offset[1]).mean_db[band]))
            losses.append(at["on"] - at["off"])
        mark = " <- chosen" if step == {"lateral": chosen.lateral_m, "distance": chosen.distance_m,
                                        "yaw": chosen.yaw_deg}[axis] else ""
        half = f"{step / 2 * (100 if axis != 'yaw' else 1):g} {'cm' if axis != 'yaw' else 'deg'}"
        print(f"{axis:10} {step:8g} {half:>10} {losses[0]:15.1f} {losses[1]:14.1f}{mark}")


def lateral_move() -> None:
    y = np.round(np.arange(-0.2, 0.2001, 0.01), 3)
    track = ListenerTrack.from_arrays((y + 0.2) / 0.2, y_m=y)
    print("\n2. lateral move -20 -> +20 cm at 20 cm/s (studio-speaker; designs on the sphere)")
    for head in ("sphere", "kemar"):
        result = analyze_track("studio-speaker", track, head=head, max_points=track.num_rows)
        print(f"-- listener head {head}")
        print(result.table())
        print(f"   worst: separation tracked {result.separation_tracked_db.min():.1f} dB (>= 15 wanted) vs fixed "
              f"{result.separation_fixed_db.min():.1f} dB; hard-left image tracked "
              f"{result.azimuth_tracked_deg.min():.1f} deg (>= 20 wanted) vs fixed "
              f"{np.nanmin(result.azimuth_fixed_deg):.1f} deg")


def random_updates() -> None:
    rng = np.random.default_rng(17)
    x = sine_input(4.0, SR)
    static_proc = SpatialProcessor("studio-speaker")
    static = click_residual(np.concatenate([static_proc(x[:, s:s + BLOCK], SR, reset=False)
                                            for s in range(0, x.shape[1], BLOCK)], axis=1), SR)
    proc = SpatialProcessor("studio-speaker")
    updates_end = int(3.0 * SR)
    stop = threading.Event()
    last = {}

    def mover():
        while not stop.is_set():
            position = (float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.3, 0.3)), 0.0)
            yaw = float(rng.uniform(-30, 30))
            proc.set_listener(position, yaw_deg=yaw)
            last["p"] = (position, yaw)
            time.sleep(1 / 30)

    outs, thread, served = [], None, set()
    start_wall = time.perf_counter()
    for i, start in enumerate(range(0, x.shape[1], BLOCK)):
        if start >= 0.3 * SR and thread is None:
            thread = threading.Thread(target=mover)
            thread.start()
        if start >= updates_end and not stop.is_set():
            stop.set()
            thread.join()
            proc.wait_for_tracking(600)
        outs.append(proc(x[:, start:start + BLOCK], SR, reset=False))
        served.add(id(proc.filterset))
        deadline = start_wall + (i + 1) * BLOCK / SR  # real-time pacing
        pause = deadline - time.perf_counter()
        if pause > 0 and not stop.is_set():
            time.sleep(pause)
    y = np.concatenate(outs, axis=1)
    final = proc.tracked_listener
    pinned = replace(proc.design_parameters, adapt_modelling_delay=False,
                     modelling_delay_ms=proc.filterset.latency_samples * 1000.0 / SR)
    ref = SpatialProcessor(proc.enclosure, listener=final, design=pinned)
    expected = np.concatenate([ref(x[:, s:s + BLOCK], SR, reset=False) for s in range(0, x.shape[1], BLOCK)], axis=1)
    tail = slice(updates_end + int(0.2 * SR), None)
    residual = click_residual(y, SR)
    print("\n3. random updates at 30/s over the region for 2.7 s (real-time 128-sample blocks)")
    print(f"   designs played: {len(served)}; click residual {residual:.2e} vs static {static:.2e} "
          f"= {residual / static:.2f}x (<= 5x wanted); NaN: {bool(np.isnan(y).any())}")
    print(f"   after the updates: max |output - processor designed for the final position| = "
          f"{np.max(np.abs(y[:, tail] - expected[:, tail])):.1e}; grid memory {proc.tracking_memory_bytes() / 2**20:.1f} MiB "
          f"(budget {DEFAULT_MEMORY_BUDGET_BYTES / 2**20:.0f} MiB), designs made {proc._tracker.designs_made}")
    proc.stop_tracking()


def follow_time() -> None:
    """Audio time from set_listener to the end of the crossfade, grid point ready (warm grid)."""
    proc = SpatialProcessor("studio-speaker")
    places = np.array([[0.0, -0.1, 0.0], [0.0, 0.1, 0.0]])
    proc.track = ListenerTrack(np.arange(2.0), places)
    proc.design_track(SR)
    proc.track = None
    block = np.zeros((2, BLOCK), np.float32)
    proc(block, SR, reset=False)
    blocks, set_ms = [], []
    for k in range(20):
        asked = time.perf_counter()
        proc.set_listener(places[k % 2])
        set_ms.append(1000 * (time.perf_counter() - asked))
        before, count = proc.filterset, 0
        while proc.filterset is before:
            proc(block, SR, reset=False)
            count += 1
        blocks.append(count)
        for _ in range(int(0.1 * SR / BLOCK)):
            proc(block, SR, reset=False)
    follow_ms = max(blocks) * BLOCK / SR * 1000 + 30.0
    print(f"   a move to a ready grid point: the crossfade starts within {max(blocks)} block(s) of 128 samples, "
          f"so the output has followed after {follow_ms:.1f} ms of audio (<= 50 ms wanted); set_listener "
          f"returned in {np.median(set_ms):.2f} ms (median)")
    proc.stop_tracking()


def per_preset() -> None:
    print("\n4. grid memory and design time per preset (48 kHz; grid 31 x 11 x 13 points)")
    print(f"{'preset':16} {'kB/design':>10} {'full grid MiB':>14} {'budget holds':>13} {'design s':>9} "
          f"{'x 33 ms':>8}")
    names = ["studio-speaker", "compact-speaker"] if QUICK else [
        n for n in presets.list() if n not in ("headphones", "stereo-pair")]
    for name in names:
        preset = presets.load(name)
        grid = ListenerGrid(preset.listener, GridSteps())
        first = design_filterset(preset.enclosure, preset.listener, preset.parameters, SR)
        pinned = SpatialProcessor._latency_kept(preset.parameters, first)
        times = []
        for index in ((1, 0, 0), (0, 1, 1), (-3, -2, 2)):
            t0 = time.perf_counter()
            design_filterset(preset.enclosure, grid.listener_at(index), pinned, SR)
            times.append(time.perf_counter() - t0)
        points = int(np.prod(grid.shape))
        per = first.fir.nbytes
        seconds = float(np.median(times))
        print(f"{name:16} {per / 1000:10.0f} {points * per / 2**20:14.0f} {DEFAULT_MEMORY_BUDGET_BYTES // per:13d} "
              f"{seconds:9.2f} {seconds / (1 / 30):8.1f}")


if __name__ == "__main__":
    step_losses()
    lateral_move()
    random_updates()
    follow_time()
    per_preset()
