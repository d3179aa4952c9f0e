"""Benchmark: a file render (``soundstage render``) on the offline engine, one thread vs two, against
the streaming path file renders took before, and the machine's own two-core ceiling, same run.

Run from the repository root::

    PYTHONPATH=plugin python benchmarks/render.py [--seconds 60] [--preset studio-speaker] [--repeats 3]

Renders ``--seconds`` of 48 kHz stereo noise from a float WAV into a float WAV of driver feeds
(:func:`soundstage.batch.render_file`, gain 0 dB, the command's code path) and prints × real time
(seconds of audio per second of wall clock, best of ``--repeats`` interleaved rounds) for:

* stream: the former path — the processor streamed through the file (``process(..., reset=False)``
  in 8192-sample calls, then ``flush()``, the 256-sample-partition streaming engine);
* offline 1 / offline 2: ``render_file(num_threads=1 / 2)`` — the offline engine fed chunk by
  chunk, bitwise the same file either way (checked);
* ceiling: two independent one-thread renders in two processes at once, as the combined × real
  time over one render's — what two cores give this workload on the machine at that moment (a
  shared machine gives less than 2).

The target: offline 2 ≥ 1.8× offline 1 on a quiet 2-core machine (the engine reaches it; the
file write, one stream of ≈ 25–30 ms of CPU per minute of 5-channel float WAV, holds a file render
at 1.5–1.7×: see README).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile
from _timing import best_time_s

from soundstage.batch import render_file
from soundstage.board import stream_file
from soundstage.processor import SpatialProcessor

RATE = 48000


class _Streamed:
    """A processor seen only through ``process(reset=False)``/``flush()``: the streaming path."""

    def __init__(self, processor):
        self._processor = processor

    def output_channels(self, num_input_channels):
        return self._processor.output_channels(num_input_channels)

    def reset(self):
        self._processor.reset()

    def process(self, audio, sample_rate, buffer_size=8192, reset=True):
        return self._processor.process(audio, sample_rate, buffer_size, reset)

    def flush(self):
        return self._processor.flush()


_barrier = None


def _init(barrier) -> None:
    global _barrier
    _barrier = barrier


def _concurrent_job(source: str, out: str, preset: str, warm: str) -> float:
    """One one-thread render in a worker process, started together with the other's."""
    render_file(warm, out, preset, overwrite=True)  # design and warm up outside the timing
    Path(out).unlink()
    _barrier.wait()
    start = time.perf_counter()
    render_file(source, out, preset)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--preset", default="studio-speaker")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soundstage-render-bench-") as tmp:
        tmp = Path(tmp)
        x = (np.random.default_rng(0).standard_normal((int(args.seconds * RATE), 2)) * 0.1).astype(np.float32)
        source, warm = tmp / "in.wav", tmp / "warm.wav"
        soundfile.write(source, x, RATE, subtype="FLOAT")
        soundfile.write(warm, x[: RATE // 2], RATE, subtype="FLOAT")
        render_file(warm, tmp / "warm-out.wav", args.preset, overwrite=True)  # design once (cached)
        processor = SpatialProcessor(args.preset)
        def fresh(name: str) -> Path:
            """A new output file, as a render usually writes: replacing an existing one would add
            the file system's flush on rename (ext4: tens of ms) to every figure."""
            (tmp / name).unlink(missing_ok=True)
            return tmp / name

        runs = {
            "stream": lambda: stream_file(_Streamed(processor), source, fresh("s.wav"), progress=False),
            "offline 1": lambda: render_file(source, fresh("o1.wav"), args.preset, num_threads=1),
            "offline 2": lambda: render_file(source, fresh("o2.wav"), args.preset, num_threads=2),
        }
        times = dict.fromkeys(runs, float("inf"))
        ceiling_s = float("inf")
        barrier = multiprocessing.get_context("spawn").Barrier(2)
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=_init,
                                 initargs=(barrier,)) as pool:
            # Interleaved, so that every figure sees the same moments of a shared machine.
            for _ in range(args.repeats):
                for key, run in runs.items():
                    times[key] = min(times[key], best_time_s(run, 1))
                jobs = [pool.submit(_concurrent_job, str(source), str(tmp / f"c{i}.wav"), args.preset, str(warm))
                        for i in range(2)]
                ceiling_s = min(ceiling_s, max(job.result() for job in jobs))
        same = (tmp / "o1.wav").read_bytes() == (tmp / "o2.wav").read_bytes()
        streamed, offline = soundfile.read(tmp / "s.wav", dtype="float32")[0], soundfile.read(tmp / "o1.wav", dtype="float32")[0]
        difference = float(np.max(np.abs(streamed - offline)))
    rt = {key: args.seconds / value for key, value in times.items()}
    ceiling = 2 * times["offline 1"] / ceiling_s
    print(f"# soundstage render of {args.seconds:g} s of 48 kHz stereo (float WAV → float WAV), {args.preset}, "
          f"× real time, best of {args.repeats}")
    print("| stream (before) | offline 1 thread | offline 2 threads | offline 1 / stream | 2 threads / 1 "
          "| ceiling: 2 processes / 1 | 2 threads / ceiling | max |offline − stream| |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {rt['stream']:.0f} | {rt['offline 1']:.0f} | {rt['offline 2']:.0f} | "
          f"{rt['offline 1'] / rt['stream']:.2f}× | {rt['offline 2'] / rt['offline 1']:.2f}×"
          f"{'' if same else ' (NOT the same bytes)'} | {ceiling:.2f}× | "
          f"{rt['offline 2'] / rt['offline 1'] / ceiling:.2f} | {difference:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
