"""Time to produce a comparison report, by stage, against the processor alone (same process).

A synthetic stereo mix (48 kHz, tones and noise; default 3 minutes) goes through
``soundstage.compare.compare`` with three presets, the ±30° reference and the unprocessed
enclosure, then ``Comparison.to_html`` (30 s excerpt). Stages are timed by wrapping the renderer
and the analyzer; "measure + match" is the rest of ``compare`` (pyloudnorm loudness, loudness
range, 4× true peak, matching passes). The reference run is ``SpatialProcessor(preset).process``
of the same audio for the first preset, and each stage is printed as a ratio to it.

Run: ``PYTHONPATH=plugin python benchmarks/compare.py [--seconds 180] [--room living-room]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from soundstage.compare import compare
from soundstage.compare.render import ProcessorRenderer
from soundstage.compare.spatial import default_analyzer
from soundstage.processor import SpatialProcessor

SAMPLE_RATE = 48000
PRESETS = ("compact-speaker", "soundbar", "laptop")


def synthetic_mix(seconds: float, seed: int = 0) -> np.ndarray:
    """Stereo ``(2, n)`` float32: two tones panned apart, a centred tone and noise, with a slow swell."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / 20.0)
    centre = 0.1 * np.sin(2 * np.pi * 440 * t)
    left = swell * (0.15 * np.sin(2 * np.pi * 196 * t) + centre + 0.03 * rng.standard_normal(t.size))
    right = swell * (0.15 * np.sin(2 * np.pi * 294 * t) + centre + 0.03 * rng.standard_normal(t.size))
    return np.stack([left, right]).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--room", default="living-room")
    parser.add_argument("--no-spatial", action="store_true")
    args = parser.parse_args()
    audio = synthetic_mix(args.seconds)

    start = time.perf_counter()
    SpatialProcessor(PRESETS[0]).process(audio, SAMPLE_RATE)
    reference_s = time.perf_counter() - start

    spent = {"render": 0.0, "analyse": 0.0}
    renderer, analyzer = ProcessorRenderer(), (None if args.no_spatial else default_analyzer())

    def timed_renderer(request, x, sample_rate):
        t0 = time.perf_counter()
        try:
            return renderer(request, x, sample_rate)
        finally:
            spent["render"] += time.perf_counter() - t0

    def timed_analyzer(request, sample_rate):
        t0 = time.perf_counter()
        try:
            return analyzer(request, sample_rate) if analyzer is not None else None
        finally:
            spent["analyse"] += time.perf_counter() - t0

    start = time.perf_counter()
    result = compare(audio, SAMPLE_RATE, list(PRESETS), room=args.room, renderer=timed_renderer,
                     analyzer=timed_analyzer, input_name="synthetic mix")
    compare_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        page = result.to_html(Path(directory) / "report.html")
        html_s = time.perf_counter() - start
        size_mb = page.stat().st_size / 1e6
    rows = [("SpatialProcessor.process, 1 preset (reference run)", reference_s),
            (f"render {len(result.renders)} versions (drivers + ears)", spent["render"]),
            ("measure + match loudness", compare_s - spent["render"] - spent["analyse"]),
            ("spatial analysis", spent["analyse"]),
            ("write HTML (30 s excerpt)", html_s),
            ("total: compare + to_html", compare_s + html_s)]
    print(f"{args.seconds:g} s stereo at {SAMPLE_RATE} Hz, presets {', '.join(PRESETS)}, room {args.room}; "
          f"report {size_mb:.1f} MB; guard {result.match.guard_db:.2f} dB, spread {result.match.spread_lu:.3f} LU")
    print(f"{'stage':58s} {'seconds':>8s} {'× reference':>12s}")
    for name, seconds in rows:
        print(f"{name:58s} {seconds:8.2f} {seconds / reference_s:12.1f}")


if __name__ == "__main__":
    main()
