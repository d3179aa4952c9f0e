"""Time and memory of a comparison report, against the processor alone and ``soundstage render``.

Time: a synthetic stereo mix (48 kHz, tones and noise; default 3 minutes) goes through
``soundstage.compare.compare`` with three presets, the ±30° reference and the unprocessed
enclosure, then ``Comparison.to_html`` (automatic excerpt). "render + measure + match" is
``compare`` without the spatial analysis (every version streamed into temporary files and
measured as it streams); the reference run is ``SpatialProcessor(preset).process`` of the same
audio for the first preset, and each stage is printed as a ratio to it.

Memory: ``--rss-minutes`` (default 10) of the mix written to a WAV file, then the real commands in
subprocesses — ``soundstage compare`` (the same presets, HTML report) and ``soundstage render``
(first preset) — with each child's peak resident set size (``os.wait4``). Target: compare ≤ 500 MB.

Run: ``PYTHONPATH=plugin python benchmarks/compare.py [--seconds 180] [--room living-room] [--rss-minutes 10]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from soundstage.compare import compare
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
    parser.add_argument("--rss-minutes", type=float, default=10.0,
                        help="length of the input of the peak-memory runs (minutes; 0 = skip them)")
    args = parser.parse_args()
    audio = synthetic_mix(args.seconds)

    start = time.perf_counter()
    SpatialProcessor(PRESETS[0]).process(audio, SAMPLE_RATE)
    reference_s = time.perf_counter() - start

    spent = {"analyse": 0.0}
    analyzer = None if args.no_spatial else default_analyzer()

    def timed_analyzer(request, sample_rate):
        t0 = time.perf_counter()
        try:
            return analyzer(request, sample_rate) if analyzer is not None else None
        finally:
            spent["analyse"] += time.perf_counter() - t0

    start = time.perf_counter()
    result = compare(audio, SAMPLE_RATE, list(PRESETS), room=args.room, analyzer=timed_analyzer,
                     input_name="synthetic mix", keep_driver_feeds=False)
    compare_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        page = result.to_html(Path(directory) / "report.html")
        html_s = time.perf_counter() - start
        size_mb = page.stat().st_size / 1e6
    excerpt = result.excerpt()
    result.close()
    rows = [("SpatialProcessor.process, 1 preset (reference run)", reference_s),
            (f"render + measure + match {len(result.renders)} versions (streamed)", compare_s - spent["analyse"]),
            ("spatial analysis", spent["analyse"]),
            (f"write HTML ({excerpt.frames / SAMPLE_RATE:.0f} s excerpt, {excerpt.how})", html_s),
            ("total: compare + to_html", compare_s + html_s)]
    print(f"{args.seconds:g} s stereo at {SAMPLE_RATE} Hz, presets {', '.join(PRESETS)}, room {args.room}; "
          f"report {size_mb:.1f} MB; guard {result.match.guard_db:.2f} dB, spread {result.match.spread_lu:.3f} LU")
    print(f"{'stage':58s} {'seconds':>8s} {'× reference':>12s}")
    for name, seconds in rows:
        print(f"{name:58s} {seconds:8.2f} {seconds / reference_s:12.1f}")
    if args.rss_minutes > 0:
        peak_memory(args.rss_minutes, args.room, args.no_spatial)


#: Runs a command and prints its peak RSS (kB). A child's ``ru_maxrss`` includes the memory of the
#: process it was forked from, so the command is started by this small interpreter, not by the benchmark.
_MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def _peak_rss_mb(command: list[str]) -> tuple[float, float]:
    """Run ``command``; its peak resident set size (MB) and wall time (s)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rss_kb, code = done.stdout.split()[-2:]
    if int(code) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return int(rss_kb) / 1024.0, seconds


def peak_memory(minutes: float, room: str, no_spatial: bool) -> None:
    """Peak RSS of ``soundstage compare`` and ``soundstage render`` on a ``minutes``-long file."""
    import soundfile

    with tempfile.TemporaryDirectory() as directory:
        song = Path(directory) / "song.wav"
        with soundfile.SoundFile(song, "w", SAMPLE_RATE, 2, subtype="FLOAT") as handle:
            for start in range(0, int(minutes * 60), 60):  # written a minute at a time
                handle.write(synthetic_mix(min(60.0, minutes * 60 - start), seed=start).T)
        cli = [sys.executable, "-m", "soundstage.cli"]
        compare_cmd = [*cli, "compare", str(song), *sum((["-p", p] for p in PRESETS), []), "--room", room,
                       "-o", str(Path(directory) / "report.html"), "--quiet"] + (["--no-spatial"] if no_spatial else [])
        render_cmd = [*cli, "render", str(song), "-p", PRESETS[0], "-o", str(Path(directory) / "out.wav"), "--quiet"]
        input_mb = song.stat().st_size / 1e6
        print(f"\npeak memory, {minutes:g}-minute 48 kHz stereo input ({input_mb:.0f} MB float WAV), real commands "
              f"in subprocesses")
        print(f"{'command':58s} {'peak RSS MB':>12s} {'seconds':>8s}")
        for label, command in ((f"soundstage render -p {PRESETS[0]}", render_cmd),
                               (f"soundstage compare ({len(PRESETS)} presets + reference + unprocessed)",
                                compare_cmd)):
            rss, seconds = _peak_rss_mb(command)
            print(f"{label:58s} {rss:12.0f} {seconds:8.1f}")
        print("target: compare <= 500 MB")


if __name__ == "__main__":
    main()
