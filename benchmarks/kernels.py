"""Throughput of the soundstage kernels against their scipy/numpy equivalents, same process.

Prints one table: for each kernel and block size, × real time at 48 kHz (seconds of audio per
second of compute, one core) for the kernel and for its reference, and their ratio. Ratios are
what to compare across runs: the machine is shared and absolute figures vary 5–30 %.

Workloads (the studio-class smart speaker chain, see notes/performance.md):

* biquads: 8 channels × 4 sections; reference ``scipy.signal.sosfilt`` per channel per block
  with saved ``zi`` (the filters differ per channel).
* MIMO FIR 3 × 5 × 1024 taps at partition sizes 256 (default) and 1024; references
  ``scipy.signal.oaconvolve`` per path over the whole signal (one figure for every block size)
  and a scipy-per-block overlap-add (``scipy.fft.rfft`` of the block, product with the filter
  spectra, ``irfft``, tail carried).
* delays: 5 channels, fractional (order-3 Lagrange); reference ``scipy.signal.lfilter`` of the
  same interpolator taps per channel per block with ``zi``.
* gain matrix 3 → 5; reference ``numpy.matmul(..., out=...)`` per block.
* centre extractor, 4 bands; reference the vectorised float64 scipy statement of the same
  algorithm over the whole signal (``soundstage.design.reference.upmix_reference``); the block
  column "one call" is the whole signal in one call, also printed as ns per stereo sample next
  to the figure of the per-sample kernel it replaced (issue 14: ≲ 12 ns).
* the convolver's own real FFT (``cython_kernels/_fft.pxd``: radix-4 passes, split float32
  arrays, half-length complex transform), forward and inverse, at the sizes a partition uses
  (2P for P = 64 … 8192); reference ``scipy.fft.rfft`` / ``irfft`` (pocketfft) of a batch of
  rows of the same length, per transform. Here the block column is the transform length.

A second table covers the FIR matrix of the studio chain (3 × 5 paths of 1920 taps) at
partition sizes P = 128 … 2048: the spectrum multiply-accumulate in ns per complex MAC and per
sample, register-blocked (``_spectrum_mac.h``) against the one-path-at-a-time loop it replaced
(``spectrum_mac_seconds``: same data, bitwise the same sums), and the whole convolver (FFTs,
multiply-accumulate, overlap-save) in ns per sample, streamed in 128-sample calls.

Run: ``PYTHONPATH=plugin python benchmarks/kernels.py [--seconds 60] [--blocks 128 512 4096]
[--fir-matrix-only]``
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable
from _timing import best_time_s

SAMPLE_RATE = 48_000
#: ns per stereo sample of the per-sample upmix kernel (gains evaluated every sample), one call on
#: 10 s of noise, on the project machine at 1546ab8 (measured beside the new kernel: 27.3–27.7).
UPMIX_NS_BEFORE = 27.7


def _blocks(x, block):
    """(channels, n) → (n_blocks, channels, block), every block C-contiguous."""
    import numpy as np

    n_blocks = x.shape[1] // block
    trimmed = x[:, : n_blocks * block]
    return np.ascontiguousarray(trimmed.reshape(x.shape[0], n_blocks, block).transpose(1, 0, 2))


def _time(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _rtf(run: Callable[[], object], seconds_of_audio: float) -> float:
    start = time.perf_counter()
    run()
    return seconds_of_audio / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length in seconds")
    parser.add_argument("--blocks", type=int, nargs="+", default=[128, 512, 4096],
                        help="block sizes in samples")
    parser.add_argument("--fir-matrix-only", action="store_true",
                        help="only the FIR-matrix table (multiply-accumulate and convolver per P)")
    parser.add_argument("--offline-blocks-only", action="store_true",
                        help="only the offline engine's table (BlockConvolver per transform size)")
    args = parser.parse_args(argv)
    if args.fir_matrix_only:
        fir_matrix_table(min(args.seconds, 10.0))
        return 0
    if args.offline_blocks_only:
        offline_blocks_table(min(args.seconds, 10.0))
        return 0

    import numpy as np
    import scipy.fft
    import scipy.signal as ss

    from soundstage._kernels import (
        BiquadCascade,
        CentreExtractor,
        DelayLine,
        GainMatrix,
        PartitionedConvolver,
        lagrange_taps,
    )

    rng = np.random.default_rng(0)
    n = int(args.seconds * SAMPLE_RATE)
    rows: list[tuple[str, str, float, str, float]] = []

    def add(name, block, kernel_rtf, ref_name, ref_rtf):
        rows.append((name, str(block), kernel_rtf, ref_name, ref_rtf))
        print(f"  {name:<22} {block:>6}  {kernel_rtf:9.1f}×  vs {ref_name:<24} {ref_rtf:9.1f}×"
              f"  ratio {kernel_rtf / ref_rtf:6.2f}", file=sys.stderr)

    # --- biquads: 8 channels x 4 sections ---------------------------------------------------
    sos = np.stack([ss.butter(8, 0.02 + 0.05 * c, output="sos") for c in range(8)])
    audio8 = rng.standard_normal((8, n)).astype(np.float32)
    for block in args.blocks:
        xb = _blocks(audio8, block)
        cascade = BiquadCascade(sos)
        k = _rtf(lambda: [cascade.process(b) for b in xb], xb.shape[0] * block / SAMPLE_RATE)
        xb = _blocks(audio8, block)
        zi = np.zeros((8, 4, 2))

        def scipy_biquads():
            for b in xb:
                for c in range(8):
                    b[c], zi[c] = ss.sosfilt(sos[c], b[c], zi=zi[c])

        r = _rtf(scipy_biquads, xb.shape[0] * block / SAMPLE_RATE)
        add("biquad 8ch x 4sec", block, k, "sosfilt per block", r)
    del audio8

    # --- MIMO FIR 3 x 5 x 1024 --------------------------------------------------------------
    taps = 1024
    h = rng.standard_normal((3, 5, taps)).astype(np.float32) / np.sqrt(taps)
    audio3 = rng.standard_normal((3, n)).astype(np.float32)
    oa = _rtf(lambda: [sum(ss.oaconvolve(audio3[i], h[i, o]) for i in range(3)) for o in range(5)],
              n / SAMPLE_RATE)
    for block in args.blocks:
        xb = _blocks(audio3, block)
        seconds = xb.shape[0] * block / SAMPLE_RATE
        nfft = scipy.fft.next_fast_len(block + taps - 1, real=True)
        spectra = scipy.fft.rfft(h, n=nfft, axis=-1)
        tail = np.zeros((5, taps - 1), np.float32)

        def scipy_per_block():
            nonlocal tail
            for b in xb:
                y = scipy.fft.irfft(np.einsum("if,iof->of", scipy.fft.rfft(b, n=nfft, axis=-1),
                                              spectra), n=nfft, axis=-1)
                y[:, : taps - 1] += tail
                _ = y[:, :block].astype(np.float32)
                tail = y[:, block : block + taps - 1]

        per_block = _rtf(scipy_per_block, seconds)
        for partition in (256, 1024):
            conv = PartitionedConvolver(h, partition_size=partition)
            out = np.empty((5, block), np.float32)
            k = _rtf(lambda: [conv.process_into(b, out) for b in xb], seconds)
            add(f"FIR 3x5x1024 P={partition}", block, k, "oaconvolve whole signal", oa)
            add(f"FIR 3x5x1024 P={partition}", block, k, "scipy fft per block", per_block)
    del audio3

    # --- fractional delays, 5 channels ------------------------------------------------------
    delays = [0.5 + 3.3 * c + 1.25 for c in range(5)]
    audio5 = rng.standard_normal((5, n)).astype(np.float32)
    line = DelayLine(delays)
    fir = []
    for d in delays:  # the same order-3 taps as the kernel, as a causal FIR
        base = max(int(np.floor(d)) - 1, 0)
        fir.append(np.concatenate([np.zeros(base), lagrange_taps(d - base, 3)]))
    for block in args.blocks:
        xb = _blocks(audio5, block)
        seconds = xb.shape[0] * block / SAMPLE_RATE
        k = _rtf(lambda: [line.process(b) for b in xb], seconds)
        xb = _blocks(audio5, block)
        zi = [np.zeros(len(f) - 1) for f in fir]

        def scipy_delays():
            for b in xb:
                for c in range(5):
                    b[c], zi[c] = ss.lfilter(fir[c], [1.0], b[c], zi=zi[c])

        add("delay 5ch Lagrange-3", block, k, "lfilter per block", _rtf(scipy_delays, seconds))

    # --- gain matrix 3 -> 5 -----------------------------------------------------------------
    gains = rng.standard_normal((5, 3)).astype(np.float32)
    matrix = GainMatrix(gains)
    audio3 = audio5[:3]
    for block in args.blocks:
        xb = _blocks(audio3, block)
        seconds = xb.shape[0] * block / SAMPLE_RATE
        out = np.empty((5, block), np.float32)
        k = _rtf(lambda: [matrix.process_into(b, out) for b in xb], seconds)
        r = _rtf(lambda: [np.matmul(gains, b, out=out) for b in xb], seconds)
        add("gain matrix 3->5", block, k, "numpy matmul per block", r)
    del audio5, audio3

    # --- centre extractor ------------------------------------------------------------------
    edges = [200.0, 1000.0, 4000.0]
    stereo = rng.standard_normal((2, n)).astype(np.float32)

    def scipy_upmix():
        from soundstage.design.reference import upmix_reference

        return upmix_reference(stereo, edges, SAMPLE_RATE, 40.0).astype(np.float32)

    ref = _rtf(scipy_upmix, n / SAMPLE_RATE)
    for block in args.blocks:
        xb = _blocks(stereo, block)
        extractor = CentreExtractor(edges, SAMPLE_RATE)
        out = np.empty((3, block), np.float32)
        k = _rtf(lambda: [extractor.process_into(b, out) for b in xb], xb.shape[0] * block / SAMPLE_RATE)
        add("centre extractor 4 bands", block, k, "scipy whole signal", ref)
    extractor = CentreExtractor(edges, SAMPLE_RATE)
    out = np.empty((3, n), np.float32)
    one_call = min(_time(lambda: (extractor.reset(), extractor.process_into(stereo, out))) for _ in range(3))
    add("centre extractor 4 bands", "one call", n / SAMPLE_RATE / one_call, "scipy whole signal", ref)
    upmix_ns = one_call / n * 1e9

    # --- the convolver's FFT against pocketfft ---------------------------------------------
    from soundstage._kernels.convolver import fft_seconds

    for size in (128, 512, 2048, 8192, 16384):
        repeats = max(20, 400_000 // size)
        own_forward, own_inverse = (min(t) for t in zip(*(fft_seconds(size, repeats) for _ in range(3))))
        rows_ = rng.standard_normal((64, size)).astype(np.float32)
        spectra = scipy.fft.rfft(rows_, axis=-1)
        ref_forward = min(_time(lambda: scipy.fft.rfft(rows_, axis=-1)) for _ in range(5)) / 64
        ref_inverse = min(_time(lambda: scipy.fft.irfft(spectra, size, axis=-1)) for _ in range(5)) / 64
        # as "× real time" of a partition of size/2 samples per transform, like the FIR rows
        hop = size / 2 / SAMPLE_RATE
        add("own rfft (forward)", size, hop / own_forward, "scipy.fft.rfft batch", hop / ref_forward)
        add("own irfft (inverse)", size, hop / own_inverse, "scipy.fft.irfft batch", hop / ref_inverse)

    print(f"# soundstage kernels, {args.seconds:g} s at {SAMPLE_RATE} Hz, × real time, one core")
    print("| kernel | block | kernel × RT | reference | reference × RT | ratio |")
    print("|---|---:|---:|---|---:|---:|")
    for name, block, k, ref_name, r in rows:
        print(f"| {name} | {block} | {k:.1f} | {ref_name} | {r:.1f} | {k / r:.2f} |")
    print(f"\nupmix (centre extractor, 4 bands, one call): {upmix_ns:.1f} ns per stereo sample "
          f"(the per-sample kernel before: {UPMIX_NS_BEFORE} ns)")
    print()
    fir_matrix_table(min(args.seconds, 10.0))
    print()
    offline_blocks_table(min(args.seconds, 10.0))
    return 0


def offline_blocks_table(seconds: float, num_inputs: int = 3, num_outputs: int = 5, num_taps: int = 1920) -> None:
    """Print the offline engine's FIR-block cost per sample for each transform size N, with
    the own FFT's time per transform, against a scipy.fft overlap-save of the same FIR matrix
    (rfft 16384, ``processor.scipy_overlap_save``) timed in the same run; CPU time, best of 5."""
    import numpy as np

    from processor import scipy_overlap_save
    from soundstage._kernels import BlockConvolver
    from soundstage._kernels.block_convolver import default_fft_size
    from soundstage._kernels.convolver import fft_seconds

    rng = np.random.default_rng(2)
    h = rng.standard_normal((num_inputs, num_outputs, num_taps)).astype(np.float32) / np.sqrt(num_taps)
    n = int(seconds * SAMPLE_RATE)
    x = rng.standard_normal((num_inputs, n)).astype(np.float32)

    scipy_ns = 1e9 * best_time_s(lambda: scipy_overlap_save(h, x), 3, time.process_time) / n
    print(f"# Offline FIR blocks {num_inputs} x {num_outputs} x {num_taps} taps, {seconds:g} s at "
          f"{SAMPLE_RATE} Hz, one core; scipy overlap-save (rfft 16384) {scipy_ns:.1f} ns/sample "
          f"in this run; default N = {default_fft_size(num_taps)}")
    print("| N | hop | FIR blocks ns/sample | scipy OLS / blocks | own rfft µs | own irfft µs "
          "| transforms ns/sample (3 fwd + 5 inv per hop) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in (4096, 8192, 16384, 32768):
        conv = BlockConvolver(h, fft_size=size)
        padded = np.zeros((num_inputs, conv.padded_length(n)), np.float32)
        padded[:, num_taps - 1 : num_taps - 1 + n] = x
        out = np.empty((num_outputs, n), np.float32)
        blocks_ns = 1e9 * best_time_s(lambda: conv.convolve_into(padded, out, 0, conv.num_blocks(n)), 5, time.process_time) / n
        forward, inverse = (min(t) for t in zip(*(fft_seconds(size, max(20, 2_000_000 // size)) for _ in range(3))))
        transforms_ns = 1e9 * (num_inputs * forward + num_outputs * inverse) / conv.hop
        print(f"| {size} | {conv.hop} | {blocks_ns:.1f} | {scipy_ns / blocks_ns:.2f}× | {1e6 * forward:.1f} "
              f"| {1e6 * inverse:.1f} | {transforms_ns:.1f} |", flush=True)


def fir_matrix_table(seconds: float, num_inputs: int = 3, num_outputs: int = 5, num_taps: int = 1920) -> None:
    """Print the multiply-accumulate and convolver costs of a dense FIR matrix per partition size."""
    import numpy as np

    from soundstage._kernels import PartitionedConvolver
    from soundstage._kernels.spectrum_mac import spectrum_mac_seconds

    rng = np.random.default_rng(1)
    h = rng.standard_normal((num_inputs, num_outputs, num_taps)).astype(np.float32) / np.sqrt(num_taps)
    x = rng.standard_normal((num_inputs, int(seconds * SAMPLE_RATE))).astype(np.float32)
    blocks = _blocks(x, 128)
    print(f"# FIR matrix {num_inputs} x {num_outputs} x {num_taps} taps, {seconds:g} s at {SAMPLE_RATE} Hz, one core")
    print("| P | partitions | MAC ns/complex MAC blocked | one path at a time | speed-up "
          "| MAC ns/sample blocked | one path | convolver ns/sample (128-sample calls) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for partition in (128, 256, 512, 1024, 2048):
        K = -(-num_taps // partition)
        repeats = max(20, 200_000 // (partition * K))
        blocked, one_path = (min(t) for t in zip(*(spectrum_mac_seconds(
            num_inputs, num_outputs, K, partition, repeats) for _ in range(5))))
        macs = num_inputs * num_outputs * K * (partition + 1)
        conv = PartitionedConvolver(h, partition_size=partition)
        out = np.empty((num_outputs, 128), np.float32)
        best = min(_time(lambda: [conv.process_into(b, out) for b in blocks]) for _ in range(3))
        per_sample = 1e9 * best / (blocks.shape[0] * 128)
        print(f"| {partition} | {K} | {1e9 * blocked / macs:.3f} | {1e9 * one_path / macs:.3f} "
              f"| {one_path / blocked:.2f}× | {1e9 * blocked / partition:.1f} | {1e9 * one_path / partition:.1f} "
              f"| {per_sample:.1f} |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
