"""Two threads with and without the split upmix, per preset, in one process.

A long one-shot call on two threads either pipelines (the calling thread runs the whole upmix,
the worker convolves blocks) or splits the upmix too (each thread upmixes about half, the
worker's half from a copy of the kernel started ``SPLIT_PREROLL_TIME_CONSTANTS`` early; see
``OfflineRender._render_split``). The engine splits only FIR matrices of at most
``SPLIT_MAX_OUTPUTS`` outputs; this prints both ways for every preset — one thread, the
pipeline, the split, × one thread — timed in interleaved rounds (best of ``--rounds``), and
checks that all three outputs are bitwise equal.

Run: ``PYTHONPATH=plugin python benchmarks/split_upmix.py [--seconds 20] [--presets ...]``
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_times_interleaved
from soundstage import presets
from soundstage.processor import SpatialProcessor
from soundstage.processor import offline_render

SAMPLE_RATE = 48000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of audio per preset")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved timing rounds")
    parser.add_argument("--presets", nargs="+", default=None, help="presets to run (default: all)")
    args = parser.parse_args()
    names = args.presets or [name for name in presets.list() if name != "stereo-pair"]
    x = (np.random.default_rng(0).standard_normal((2, int(args.seconds * SAMPLE_RATE))) * 0.1).astype(np.float32)
    default_limit = offline_render.SPLIT_MAX_OUTPUTS
    print(f"# one-shot calls of {args.seconds:g} s at {SAMPLE_RATE:g} Hz: two threads / one thread, best of "
          f"{args.rounds} interleaved rounds (the engine splits at most {default_limit} outputs)")
    print("| preset | outputs | one thread ms | pipeline | split | engine uses |")
    print("|---|---:|---:|---:|---:|---|")
    try:
        for name in names:
            one, two = SpatialProcessor(name), SpatialProcessor(name, num_threads=2)
            outputs = {}

            def two_threads(limit: int, key: str):
                def run():
                    offline_render.SPLIT_MAX_OUTPUTS = limit
                    outputs[key] = two(x, SAMPLE_RATE)
                return run

            fns = {"one": lambda: outputs.__setitem__("one", one(x, SAMPLE_RATE)),
                   "pipeline": two_threads(0, "pipeline"), "split": two_threads(1 << 30, "split")}
            for fn in fns.values():
                fn()  # designs, caches, the worker thread
            times = best_times_interleaved(fns, rounds=args.rounds)
            if not (np.array_equal(outputs["pipeline"], outputs["one"]) and np.array_equal(outputs["split"], outputs["one"])):
                raise SystemExit(f"{name}: two threads are not bitwise one thread")
            count = one.num_output_channels
            print(f"| {name} | {count} | {times['one'] * 1e3:.1f} | {times['one'] / times['pipeline']:.2f}× "
                  f"| {times['one'] / times['split']:.2f}× | {'split' if count <= default_limit else 'pipeline'} |")
    finally:
        offline_render.SPLIT_MAX_OUTPUTS = default_limit


if __name__ == "__main__":
    main()
