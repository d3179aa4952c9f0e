"""SpatialProcessor throughput for every preset against a plain scipy evaluation, same process.

For each built-in preset (48 kHz stereo noise, one core):

* offline: one call with ``buffer_size=4096``;
* streaming: ``reset=False`` calls of 128 samples;
* offline with ``partition_size=1024`` (more latency, fewer FFTs and multiply-adds per sample);
* scipy: the same FilterSet evaluated with scipy over the whole signal — the upmix as its
  vectorised statement (``sosfilt`` band split, ``lfilter`` one-pole averages) and the FIR
  matrix with ``scipy.signal.oaconvolve`` per path;

as × real time, and the ratio offline / scipy. With ``--memory`` it also streams a long file
through ``soundstage.board.files.stream_file`` and reports the peak resident memory.

Run: ``PYTHONPATH=plugin python benchmarks/processor.py [--seconds 60] [--memory-minutes 60]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile

import numpy as np
from _timing import best_time_s
from soundstage import presets
from soundstage.design.reference import filterset_reference
from soundstage.processor import SpatialProcessor

SAMPLE_RATE = 48000.0


def bench(seconds: float) -> list[tuple]:
    x = (np.random.default_rng(0).standard_normal((2, int(seconds * SAMPLE_RATE))) * 0.1).astype(np.float32)
    rows = []
    for name in presets.list():
        proc = SpatialProcessor(name)
        proc(x[:, :4800], SAMPLE_RATE)  # design once (cached), outside the timing
        filterset = proc.design(SAMPLE_RATE)
        offline = best_time_s(lambda: proc(x, SAMPLE_RATE, buffer_size=4096))

        def stream():
            proc.reset()
            for start in range(0, x.shape[1] - 127, 128):
                proc(x[:, start:start + 128], SAMPLE_RATE, reset=False)

        streaming = best_time_s(stream, repeats=1)
        reference = best_time_s(lambda: filterset_reference(filterset, x), repeats=1)
        large = SpatialProcessor(name, partition_size=1024)
        large(x[:, :4800], SAMPLE_RATE)
        offline_large = best_time_s(lambda: large(x, SAMPLE_RATE, buffer_size=4096))
        rows.append((name, filterset.num_drivers, seconds / offline, seconds / streaming, seconds / reference,
                     reference / offline, seconds / offline_large))
    return rows


def peak_memory_streaming(minutes: float) -> float:
    """Peak RSS (MB) while streaming a ``minutes``-long stereo WAV through the studio preset."""
    import soundfile

    from soundstage.board.files import stream_file

    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "long.wav")
        n = int(minutes * 60 * SAMPLE_RATE)
        with soundfile.SoundFile(source, "w", int(SAMPLE_RATE), 2, subtype="PCM_16") as handle:
            rng = np.random.default_rng(1)
            block = 48000 * 10
            for start in range(0, n, block):
                handle.write((rng.standard_normal((min(block, n - start), 2)) * 0.1).astype(np.float32))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stream_file(SpatialProcessor("studio-speaker"), source, os.path.join(folder, "out.wav"), progress=False)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return before, after


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of audio per preset")
    parser.add_argument("--memory-minutes", type=float, default=0.0, help="also stream a file this long (minutes)")
    args = parser.parse_args(argv)
    rows = bench(args.seconds)
    print(f"SpatialProcessor at {SAMPLE_RATE:g} Hz, {args.seconds:g} s of stereo noise (× real time, one core)")
    print(f"{'preset':16s} {'drivers':>7s} {'offline 4096':>13s} {'stream 128':>11s} {'scipy':>8s} "
          f"{'offline/scipy':>14s} {'offline P=1024':>15s}")
    for name, drivers, offline, streaming, reference, ratio, offline_large in rows:
        print(f"{name:16s} {drivers:7d} {offline:13.0f} {streaming:11.0f} {reference:8.0f} {ratio:14.2f} "
              f"{offline_large:15.0f}")
    if args.memory_minutes > 0:
        before, after = peak_memory_streaming(args.memory_minutes)
        print(f"peak RSS streaming {args.memory_minutes:g} min through studio-speaker: {after:.0f} MB "
              f"(before the render: {before:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
