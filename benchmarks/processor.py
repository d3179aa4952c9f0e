"""SpatialProcessor throughput for every preset against a plain scipy overlap-save, same process.

For each built-in preset (48 kHz stereo noise):

* offline: one ``proc(x, 48000)`` call (one thread), × real time; the engine it ran (``blocks
  N`` = the offline engine's overlap-save blocks of transform size N, ``taps`` = single taps,
  ``stream`` = the streaming engine) and its largest difference from the streaming engine's
  render of the same input (re full scale);
* FIR blocks: the offline engine's FIR matrix alone (``BlockConvolver``) on the same upmixed
  input as the scipy reference, × real time;
* stream 128: ``reset=False`` calls of 128 samples, × real time;
* scipy OLS: a plain ``scipy.fft`` overlap-save of the same FilterSet's FIR matrix (rfft size
  16384, one core, the upmixed 3-channel input), × real time, and offline / scipy;
* denormal / noise: cost of an offline render of the same noise scaled by 1e-36 (a decaying
  tail's range) relative to the noise itself;
* 2 threads: offline speed-up of ``SpatialProcessor(..., num_threads=2)`` over one thread (the
  outputs are checked to be bitwise equal);
* two-core ceiling: two independent one-thread one-shot calls at once (two processors, one on a
  second thread), as their combined × real time over one call's — what two cores give this
  work on the machine at that moment (a virtual machine whose two cores share a physical one
  gives less than 2); beside it, 2 threads / ceiling;
* redesign: CPU time (ms) of the designing thread for a design after a width change (a width
  not designed before in this process; the other design stages cached), and for a first design
  from scratch (empty caches) — CPU time, because on a shared machine the wall time mostly
  measures the waits for a core.

The machine is shared and noisy: every figure is the best of a few runs, and the ratios come
from the same run: the one-shot, scipy, denormal, FIR-block, two-thread and 128-sample streaming
timings are taken in nine interleaved rounds, so a slow spell of the machine falls on all of them
alike (redesign: best of five).

Run: ``PYTHONPATH=plugin python benchmarks/processor.py [--seconds 20] [--presets studio-speaker ...]``
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft
from _timing import best_times_interleaved
from soundstage import presets
from soundstage._kernels import BlockConvolver, CentreExtractor
from soundstage.processor.offline_render import OFFLINE_MIN_SAMPLES
from soundstage.processor import SpatialProcessor

SAMPLE_RATE = 48000.0
OLS_SIZE = 16384


def scipy_overlap_save(fir: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_i x[i] * fir[i, o] (first x.shape[1] samples) by overlap-save, rfft size 16384."""
    num_taps = fir.shape[-1]
    hop = OLS_SIZE - num_taps + 1
    spectra = scipy.fft.rfft(fir, OLS_SIZE, axis=-1)  # (in, out, bins)
    n = x.shape[1]
    padded = np.zeros((x.shape[0], num_taps - 1 + n + hop), dtype=np.float32)
    padded[:, num_taps - 1 : num_taps - 1 + n] = x
    y = np.empty((fir.shape[1], n), dtype=np.float32)
    for start in range(0, n, hop):
        block = scipy.fft.rfft(padded[:, start : start + OLS_SIZE], axis=-1)
        mixed = np.einsum("if,iof->of", block, spectra)
        out = scipy.fft.irfft(mixed, OLS_SIZE, axis=-1)[:, num_taps - 1 :]
        stop = min(start + hop, n)
        y[:, start:stop] = out[:, : stop - start]
    return y


def redesign_ms(name: str) -> tuple[float, float]:
    """(ms after a width change, ms from scratch) for ``name`` at 48 kHz."""
    from soundstage.design import designer, stage_cache

    scratch = float("inf")
    for _ in range(5):  # the best of five, like every other figure
        proc = SpatialProcessor(name)
        designer._design_cached.cache_clear()  # from scratch: no design and no stage cached
        stage_cache.clear()
        start = time.thread_time()
        proc.design(SAMPLE_RATE)
        scratch = min(scratch, time.thread_time() - start)
    times = []
    for width in (27.3, 28.1, 29.7):
        proc.width_deg = width
        start = time.thread_time()
        proc.design(SAMPLE_RATE)
        times.append(time.thread_time() - start)
    return 1e3 * min(times), 1e3 * scratch


def bench(name: str, x: np.ndarray, seconds: float) -> dict:
    proc = SpatialProcessor(name)
    proc(x[:, :4800], SAMPLE_RATE)  # design once (cached), outside the timing
    filterset = proc.filterset
    one_shot = proc(x, SAMPLE_RATE)
    proc.reset()
    streamed = np.concatenate([proc(x, SAMPLE_RATE, reset=False), proc.flush()], axis=1)
    difference = float(np.max(np.abs(one_shot - streamed)))
    if proc._taps is not None:
        engine = "taps"
    elif proc._block_convolver is not None and x.shape[1] >= OFFLINE_MIN_SAMPLES:
        engine = f"blocks {proc._block_convolver[1].fft_size}"
    else:
        engine = "stream"
    tiny = x * np.float32(1e-36)

    def stream():
        proc.reset()
        for start in range(0, x.shape[1] - 127, 128):
            proc(x[:, start:start + 128], SAMPLE_RATE, reset=False)

    extractor = CentreExtractor(filterset.upmix_band_edges_hz, SAMPLE_RATE,
                                time_constant_ms=filterset.upmix_time_constant_ms,
                                strength=filterset.centre_extraction)
    upmixed = extractor.process(x)
    fir = np.ascontiguousarray(filterset.fir, dtype=np.float32)
    blocks = BlockConvolver(fir)
    padded = np.zeros((3, blocks.padded_length(x.shape[1])), dtype=np.float32)
    padded[:, blocks.num_taps - 1:blocks.num_taps - 1 + x.shape[1]] = upmixed
    fir_out = np.empty((fir.shape[1], x.shape[1]), dtype=np.float32)
    two = SpatialProcessor(name, num_threads=2)
    same = np.array_equal(two(x, SAMPLE_RATE), proc(x, SAMPLE_RATE))
    other = SpatialProcessor(name)
    other(x, SAMPLE_RATE)
    beside = ThreadPoolExecutor(1)

    def pair():
        """Two independent one-thread calls at once."""
        job = beside.submit(other, x, SAMPLE_RATE)
        proc(x, SAMPLE_RATE)
        job.result()

    times = best_times_interleaved({
        "offline": lambda: proc(x, SAMPLE_RATE),
        "reference": lambda: scipy_overlap_save(fir, upmixed),
        "denormal": lambda: proc(tiny, SAMPLE_RATE),
        "fir_only": lambda: blocks.convolve_into(padded, fir_out, 0, blocks.num_blocks(x.shape[1])),
        "threaded": lambda: two(x, SAMPLE_RATE),
        "stream": stream,
        "pair": pair,
    }, rounds=9)
    beside.shutdown()
    offline, reference, denormal, fir_only, threaded, streaming, paired = (
        times[key] for key in ("offline", "reference", "denormal", "fir_only", "threaded", "stream", "pair"))
    width_ms, scratch_ms = redesign_ms(name)
    return dict(name=name, drivers=filterset.num_drivers, offline=seconds / offline, engine=engine,
                difference=difference, fir_only=seconds / fir_only,
                stream=seconds / streaming, scipy=seconds / reference, ratio=reference / offline,
                denormal=denormal / offline, threads=offline / threaded, same=same,
                ceiling=2 * offline / paired,
                width_ms=width_ms, scratch_ms=scratch_ms, latency=proc.latency_samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of audio per preset")
    parser.add_argument("--presets", nargs="+", default=None, help="presets to run (default: all)")
    args = parser.parse_args(argv)
    scipy.fft.set_workers(1)
    x = (np.random.default_rng(0).standard_normal((2, int(args.seconds * SAMPLE_RATE))) * 0.1).astype(np.float32)
    print(f"# SpatialProcessor at {SAMPLE_RATE:g} Hz, {args.seconds:g} s of stereo noise, × real time "
          "(one thread unless stated)")
    print("| preset | drivers | latency | offline | offline engine | offline − stream | stream 128 "
          "| FIR blocks | scipy OLS 16384 | offline / scipy | denormal / noise | 2 threads "
          "| two-core ceiling | 2 threads / ceiling | redesign (width) ms | from scratch ms |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.presets or presets.list():
        r = bench(name, x, args.seconds)
        print(f"| {r['name']} | {r['drivers']} | {r['latency']} | {r['offline']:.0f} | {r['engine']} "
              f"| {r['difference']:.1e} | {r['stream']:.0f} | {r['fir_only']:.0f} | {r['scipy']:.0f} | {r['ratio']:.2f} | {r['denormal']:.2f} "
              f"| {r['threads']:.2f}×{'' if r['same'] else ' (NOT bit-identical)'} "
              f"| {r['ceiling']:.2f}× | {r['threads'] / r['ceiling']:.2f} "
              f"| {r['width_ms']:.0f} | {r['scratch_ms']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
