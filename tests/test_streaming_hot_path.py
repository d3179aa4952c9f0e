"""The streaming hot path: the register-blocked spectrum multiply-accumulate is the ordered sum of
a plain UPOLS reference bit for bit, and a 128-sample streaming call allocates nothing but the
array it returns (issue 14: "no new allocation per block in the hot path")."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from soundstage._kernels.convolver import PartitionedConvolver, _FFTPlan
from soundstage.processor import SpatialProcessor
from streaming_reference import streaming_render


def _upols_reference(h: np.ndarray, x: np.ndarray, partition_size: int) -> np.ndarray:
    """Uniformly partitioned overlap-save (Wefers 2015) in NumPy float32, summing every bin
    over inputs, then partitions, as ``acc + (xr·hr − xi·hi)``; the transforms are the
    convolver's own (``_FFTPlan``), so the result must match the kernel bit for bit."""
    P = partition_size
    n_in, n_out, taps = h.shape
    K = -(-taps // P)
    plan = _FFTPlan(2 * P)
    padded = np.zeros((n_in, n_out, K * P))
    padded[..., :taps] = h
    spectra = (np.fft.rfft(padded.reshape(n_in, n_out, K, P), n=2 * P, axis=-1) / (2 * P)).astype(np.complex64)
    h_re, h_im = spectra.real, spectra.imag
    mask = np.any(h != 0, axis=-1)
    blocks = x.shape[1] // P
    history = np.concatenate([np.zeros((n_in, P), np.float32), x], axis=1)
    zero = np.zeros(P + 1, np.float32)
    fdl = [[plan.rfft(np.ascontiguousarray(history[i, t * P : t * P + 2 * P])).astype(np.complex64)
            for t in range(blocks)] for i in range(n_in)]
    out = np.zeros((n_out, (blocks + 1) * P), np.float32)
    for t in range(blocks):
        for o in range(n_out):
            acc_re, acc_im = zero.copy(), zero.copy()
            for i in np.flatnonzero(mask[:, o]):
                for k in range(K):
                    xr, xi = (fdl[i][t - k].real, fdl[i][t - k].imag) if t >= k else (zero, zero)
                    acc_re = acc_re + (xr * h_re[i, o, k] - xi * h_im[i, o, k])
                    acc_im = acc_im + (xr * h_im[i, o, k] + xi * h_re[i, o, k])
            if mask[:, o].any():
                y = plan.irfft_tail(acc_re + 1j * acc_im.astype(np.float64))
                y[np.abs(y.astype(np.float64)) < 1e-30] = 0.0
                out[o, (t + 1) * P : (t + 2) * P] = y
    return out[:, : blocks * P]


@pytest.mark.parametrize("num_outputs", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize(("partition_size", "num_taps"), [(16, 53), (64, 64)])
def test_blocked_multiply_accumulate_is_the_ordered_sum_bit_for_bit(num_outputs, partition_size, num_taps):
    """Every grouping of outputs (1–4 accumulated together, 5 = 3 + 2, 6 = 3 + 3, 7 = 4 + 3),
    a partial last strip of bins (P + 1 = 17 or 65 bins) and all-zero paths inside a group."""
    rng = np.random.default_rng(num_outputs * 100 + partition_size)
    h = rng.standard_normal((3, num_outputs, num_taps)).astype(np.float32)
    h[1, 0] = 0.0  # an all-zero path: skipped for output 0, zero spectra beside its group
    if num_outputs > 2:
        h[:, 2] = 0.0  # an output with no path at all is exact silence
    x = rng.standard_normal((3, 12 * partition_size)).astype(np.float32)
    y = PartitionedConvolver(h, partition_size=partition_size).process(x)
    np.testing.assert_array_equal(y, _upols_reference(h, x, partition_size))
    if num_outputs > 2:
        assert not y[2].any()


def _noise(n, seed=0):
    return (np.random.default_rng(seed).standard_normal((2, n)) * 0.1).astype(np.float32)


def test_a_streaming_call_allocates_only_its_output():
    """After the stream is running, a 128-sample call of the studio chain (upmix + 3 × 5 FIR
    matrix) needs no memory beyond the (5, 128) float32 array it returns: no scratch arrays and
    no copy of the output (the peak of traced memory stays below 1.5 output blocks). The least
    of five windows of 20 calls counts, so a design thread left running by another test cannot
    make it fail."""
    proc = SpatialProcessor("studio-speaker")
    x = _noise(48000)
    blocks = [np.ascontiguousarray(x[:, start : start + 128]) for start in range(0, 48000, 128)]
    for block in blocks[:40]:  # design, kernels and every lazily built buffer exist now
        proc(block, 48000.0, reset=False)
    output_bytes = 5 * 128 * 4
    peaks = []
    tracemalloc.start()
    try:
        for window in range(5):
            start, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for block in blocks[40 + 20 * window : 60 + 20 * window]:
                proc(block, 48000.0, reset=False)
            peaks.append(tracemalloc.get_traced_memory()[1] - start)
    finally:
        tracemalloc.stop()
    assert output_bytes <= min(peaks) < 1.5 * output_bytes


def test_streamed_outputs_are_the_callers_own_arrays():
    """The output a streaming call hands over without copying belongs to the caller: writing
    into it changes neither the next outputs nor the stream, which still equals one call."""
    proc = SpatialProcessor("studio-speaker")
    x = _noise(9600, seed=3)
    one_call = streaming_render(proc, x, 48000.0)
    proc.reset()
    parts = []
    for start in range(0, 9600, 128):
        out = proc(x[:, start : start + 128], 48000.0, reset=False)
        assert out.flags.c_contiguous and out.flags.writeable and out.flags.owndata
        assert not any(np.shares_memory(out, part) for part in parts[-3:])
        parts.append(out.copy())
        out[...] = np.nan  # the caller scribbles over its array
    parts.append(proc.flush())
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), one_call)
