"""Benchmark: ``soundstage batch`` throughput on one process, the local pools and Dask.

Run from the repository root (Dask from the ``dask`` extra)::

    PYTHONPATH=plugin python benchmarks/batch.py [--inputs 6] [--seconds 20] [--workers 2]

Renders one catalogue — ``--inputs`` files of ``--seconds`` of the test mix × 2 presets × 2
parameter sets — into a fresh directory per engine, timing the whole ``render_batch`` call
(planning, starting and stopping the workers, rendering, sidecars, report), and prints jobs/s,
× real time (seconds of audio rendered per second of wall-clock) and the speed-up over one
process measured in the same run. Target: the local pool on 2 cores ≥ 1.8× one process. Threads
are measured beside processes because the kernels release the GIL; Dask (2 worker processes of a
``LocalCluster``) pays its cluster's start-up and the scheduler's round trips.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from soundstage.batch import manifest_from_dict, render_batch
from soundstage.testing.mix import test_mix

RATE = 48000
PRESETS = ["studio-speaker", "compact-speaker"]
PARAMS = {"wide": {"width_deg": 30}, "narrow": {"width_deg": 20, "centre_gain_db": -3}}


def write_inputs(directory: Path, count: int, seconds: float) -> None:
    for i in range(count):
        soundfile.write(directory / f"track{i}.wav", test_mix(float(RATE), seconds, seed=i).T, RATE, subtype="FLOAT")


def run(engine: str, workers: int, directory: Path, manifest) -> tuple[float, object]:
    out = directory / f"out-{engine}-{workers}"
    start = time.perf_counter()
    report = render_batch(manifest, out, engine=engine, workers=workers, progress=False)
    wall = time.perf_counter() - start
    assert report.ok and report.counts["skipped"] == 0, report.summary_table()
    return wall, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=6, help="input files (jobs = 4 x inputs)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each input (s)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the pools and of Dask")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="soundstage-batch-bench-"))
    try:
        (directory / "in").mkdir()
        write_inputs(directory / "in", args.inputs, args.seconds)
        manifest = manifest_from_dict({"inputs": ["in"], "presets": PRESETS, "params": PARAMS}, base_dir=directory)
        rows = [("serial", 1, "1 process")]
        rows += [("local", args.workers, f"local pool, {args.workers} processes"),
                 ("threads", args.workers, f"local pool, {args.workers} threads")]
        try:
            import distributed  # noqa: F401

            rows.append(("dask", args.workers, f"Dask LocalCluster, {args.workers} workers"))
        except ImportError:
            print("(Dask not installed: pip install '.[dask]' to measure it)")
        jobs = args.inputs * len(PRESETS) * len(PARAMS)
        print(f"{jobs} jobs: {args.inputs} inputs x {args.seconds:g} s x {len(PRESETS)} presets x "
              f"{len(PARAMS)} parameter sets, 48 kHz stereo; wall time of render_batch, start-up included")
        print(f"{'engine':36} {'wall s':>8} {'jobs/s':>8} {'x real time':>12} {'vs 1 process':>13}")
        # the process pool first: it forks its workers only while this process runs no other thread
        # (as in a fresh `soundstage batch`); the in-process engines leave the design thread behind
        measured = {row: run(row[0], row[1], directory, manifest) for row in [rows[1], rows[0], *rows[2:]]}
        reference = measured[rows[0]][0]
        first = sorted((directory / "out-serial-1").rglob("*.wav"))
        for (engine, workers, label) in rows:
            wall, report = measured[engine, workers, label]
            outputs = sorted((directory / f"out-{engine}-{workers}").rglob("*.wav"))
            assert [p.read_bytes() for p in outputs] == [p.read_bytes() for p in first]  # the same files, bit for bit
            print(f"{label:36} {wall:8.2f} {jobs / wall:8.2f} {report.audio_s / wall:12.1f} "
                  f"{reference / wall:12.2f}x")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
