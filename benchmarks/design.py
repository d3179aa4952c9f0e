"""Filter design: time per preset at a new sample rate, and what the design achieves.

Prints two tables:

1. design time (s) of every built-in preset at 44.1, 48 and 96 kHz with an empty cache (the
   first call at a new rate), and the time of a cached call;
2. robustness, reported not asserted: mean channel separation χ (CTC alone, virtualizer
   bypassed, rigid sphere, free field) over 300 Hz–6 kHz at the design listener and with the
   listener moved ±2, ±5, ±10 cm laterally and ±50 cm fore/aft (worse of the two sides, both
   inputs), plus the peak driver gain.

Run: ``PYTHONPATH=plugin python benchmarks/design.py``
"""

from __future__ import annotations

import sys
import time

import numpy as np

from soundstage import GeometryError, presets
from soundstage.design import design_filterset, design_report
from soundstage.design.designer import _design_cached


def timing_table() -> None:
    print("design time (s), empty cache; cached call (ms)")
    print(f"{'preset':16s} {'44.1 kHz':>9s} {'48 kHz':>8s} {'96 kHz':>8s} {'cached':>8s}")
    for name in presets.list():
        preset = presets.load(name)
        times = []
        for rate in (44100.0, 48000.0, 96000.0):
            _design_cached.cache_clear()
            start = time.perf_counter()
            design_filterset(preset.enclosure, preset.listener, preset.parameters, rate)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        design_filterset(preset.enclosure, preset.listener, preset.parameters, 96000.0)
        cached_ms = (time.perf_counter() - start) * 1000
        print(f"{name:16s} {times[0]:9.3f} {times[1]:8.3f} {times[2]:8.3f} {cached_ms:8.3f}")


def _mean_chi(report, band=(300.0, 6000.0)) -> float:
    return float(np.mean(report.band(report.separation_db, band)))


def robustness_table() -> None:
    grid = np.geomspace(300, 6000, 60)
    offsets = [("centre", {}), ("±2 cm", "lateral", 0.02), ("±5 cm", "lateral", 0.05),
               ("±10 cm", "lateral", 0.10), ("±50 cm f/a", "fore_aft", 0.50)]
    print("\nmean χ (dB) over 300 Hz–6 kHz, CTC alone; worse side of each offset; peak driver gain (dB)")
    print(f"{'preset':16s} " + " ".join(f"{label:>10s}" for label, *_ in offsets) + f" {'gain':>6s} {'G_max':>6s}")
    for name in presets.list():
        preset = presets.load(name)
        if preset.kind == "headphones":
            continue
        parameters = preset.parameters.replace(bypass=frozenset({"virtualizer"}))
        filterset = design_filterset(preset.enclosure, preset.listener, parameters, 48000.0)
        cells = []
        for label, *how in offsets:
            if not how or not how[0]:
                cells.append(_mean_chi(design_report(filterset, frequencies_hz=grid)))
                continue
            axis, distance = how
            worst = np.inf
            for sign in (-1.0, 1.0):
                field = "lateral_offset_m" if axis == "lateral" else "fore_aft_offset_m"
                listener = preset.listener.moved(**{field: sign * distance})
                try:
                    worst = min(worst, _mean_chi(design_report(filterset, frequencies_hz=grid, listener=listener)))
                except GeometryError:  # the move puts the head into the enclosure (laptop)
                    worst = np.nan
            cells.append(worst)
        gain = float(design_report(filterset, frequencies_hz=grid).driver_gain_db[:, :2].max())
        print(f"{name:16s} " + " ".join(f"{c:10.1f}" for c in cells) + f" {gain:6.1f} {parameters.max_gain_db:6.1f}")


def main() -> int:
    timing_table()
    robustness_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
