"""BlockConvolver: overlap-save in independent blocks against scipy, block ranges in any order
and thread bit-identical, silence exact, subnormals flushed, arguments checked."""

import threading
import tracemalloc

import numpy as np
import pytest
import scipy.signal

from soundstage import ParameterError
from soundstage._kernels import BlockConvolver, PartitionedConvolver
from soundstage._kernels.block_convolver import default_fft_size
from soundstage._kernels.convolver import flush_to_zero_state


def padded(conv, x, num_samples=None):
    """``x`` with num_taps - 1 zeros in front and zeros behind up to the last block's window."""
    n = x.shape[1] if num_samples is None else num_samples
    buf = np.zeros((x.shape[0], conv.padded_length(n)), np.float32)
    buf[:, conv.num_taps - 1: conv.num_taps - 1 + x.shape[1]] = x
    return buf


def convolve(conv, x, n=None):
    n = x.shape[1] if n is None else n
    out = np.empty((conv.num_outputs, n), np.float32)
    conv.convolve_into(padded(conv, x, n), out, 0, conv.num_blocks(n))
    return out


def reference(h, x, n):
    """sum_i x[i] * h[i, o] in float64 (scipy.signal.oaconvolve), first n samples."""
    y = np.zeros((h.shape[1], n))
    for o in range(h.shape[1]):
        for i in range(h.shape[0]):
            full = scipy.signal.oaconvolve(x[i].astype(np.float64), h[i, o].astype(np.float64))
            y[o, : min(n, full.size)] += full[:n]
    return y


@pytest.mark.parametrize("num_taps, fft_size, n", [(1, None, 700), (100, 256, 5000), (1920, None, 30011),
                                                   (1920, 4096, 9000), (513, 2048, 1),
                                                   (1920, 16384, 40001), (100, 65536, 70000)])
def test_matches_oaconvolve(num_taps, fft_size, n):
    rng = np.random.default_rng(num_taps)
    h = rng.standard_normal((3, 5, num_taps)).astype(np.float32)
    h[1, 2] = 0.0  # a skipped path
    x = rng.standard_normal((3, n)).astype(np.float32)
    conv = BlockConvolver(h, fft_size=fft_size)
    assert conv.fft_size == (fft_size or default_fft_size(num_taps))
    assert conv.hop == conv.fft_size - num_taps + 1
    y = convolve(conv, x)
    ref = reference(h, x, n)
    rms = np.sqrt(np.mean(ref ** 2))
    assert np.sqrt(np.mean((y - ref) ** 2)) <= 1e-6 * rms
    assert np.max(np.abs(y - ref)) <= 2e-6 * np.max(np.abs(ref))


def test_agrees_with_the_streaming_convolver_after_its_latency():
    """Same convolution as PartitionedConvolver (delayed by P), to float32 round-off."""
    rng = np.random.default_rng(2)
    h = rng.standard_normal((2, 3, 1000)).astype(np.float32)
    x = rng.standard_normal((2, 20000)).astype(np.float32)
    streamed = PartitionedConvolver(h, partition_size=128).process(x)
    y = convolve(BlockConvolver(h), x)
    assert np.max(np.abs(streamed[:, 128:] - y[:, :-128])) <= 2e-6 * np.max(np.abs(y))


def test_blocks_in_any_order_and_split_are_bitwise_the_whole_call():
    rng = np.random.default_rng(3)
    h = rng.standard_normal((3, 4, 300)).astype(np.float32)
    x = rng.standard_normal((3, 12345)).astype(np.float32)
    conv = BlockConvolver(h, fft_size=1024)
    whole = convolve(conv, x)
    xp = padded(conv, x)
    out = np.full_like(whole, np.nan)
    blocks = conv.num_blocks(x.shape[1])
    order = rng.permutation(blocks)
    for b in order:
        conv.convolve_into(xp, out, int(b), int(b) + 1)
    assert np.array_equal(out, whole)
    out[:] = np.nan  # two threads, interleaved ranges
    cuts = [0, 3, 7, 8, blocks]
    threads = [threading.Thread(target=conv.convolve_into, args=(xp, out, a, b)) for a, b in zip(cuts, cuts[1:])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.array_equal(out, whole)


def test_calls_after_the_first_allocate_nothing():
    """Each call's scratch (≈ 0.3 MB for 3×5 paths at 8192 points) is kept for the next call,
    so an offline render's one call per block costs no allocation (it cost ≈ 5 µs a block)."""
    rng = np.random.default_rng(7)
    conv = BlockConvolver(rng.standard_normal((3, 5, 1920)).astype(np.float32))
    xp = padded(conv, rng.standard_normal((3, 30000)).astype(np.float32))
    out = np.empty((5, 30000), np.float32)
    conv.convolve_into(xp, out, 0, 1)
    tracemalloc.start()
    try:
        for b in range(1, conv.num_blocks(30000)):
            conv.convolve_into(xp, out, b, b + 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4096


def test_a_block_reads_only_its_window():
    """Block b depends on padded input [b·hop, b·hop + N) alone: garbage elsewhere changes
    nothing (what makes block ranges independent)."""
    rng = np.random.default_rng(4)
    h = rng.standard_normal((2, 2, 200)).astype(np.float32)
    conv = BlockConvolver(h, fft_size=512)
    x = rng.standard_normal((2, 5000)).astype(np.float32)
    xp = padded(conv, x)
    clean = np.empty((2, 5000), np.float32)
    conv.convolve_into(xp, clean, 4, 5)
    hop, n_fft = conv.hop, conv.fft_size
    dirty = xp.copy()
    dirty[:, : 4 * hop] = 1e6
    dirty[:, 4 * hop + n_fft:] = -1e6
    out = np.empty((2, 5000), np.float32)
    conv.convolve_into(dirty, out, 4, 5)
    assert np.array_equal(out[:, 4 * hop: 5 * hop], clean[:, 4 * hop: 5 * hop])


def test_silence_and_zero_paths_are_exact_zeros_and_subnormals_are_flushed():
    h = np.zeros((2, 3, 64), np.float32)
    h[0, 0, 5] = 1e12
    h[1, 1, :] = np.random.default_rng(5).standard_normal(64)
    conv = BlockConvolver(h)
    assert np.array_equal(convolve(conv, np.zeros((2, 3000), np.float32)), np.zeros((3, 3000), np.float32))
    x = np.random.default_rng(6).standard_normal((2, 3000)).astype(np.float32)
    assert np.all(convolve(conv, x)[2] == 0.0)  # output 2 has no path
    supported, _ = flush_to_zero_state()
    if not supported:
        pytest.skip("no flush-to-zero control on this CPU architecture")
    tiny = np.full((2, 3000), 1e-39, np.float32)  # subnormal: flushed on entry, 1e-27 otherwise
    assert np.array_equal(convolve(conv, tiny), np.zeros((3, 3000), np.float32))
    assert flush_to_zero_state() == (True, False)


@pytest.mark.parametrize("kwargs, match", [({"fft_size": 300}, "power of two"), ({"fft_size": 128}, "power of two"),
                                           ({"fft_size": 256}, ">= 2 \\* num_taps")])
def test_bad_construction(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        BlockConvolver(np.ones((1, 1, 200), np.float32), **kwargs)


def test_bad_calls():
    conv = BlockConvolver(np.ones((2, 1, 10), np.float32), fft_size=256)
    x = np.zeros((2, conv.padded_length(1000)), np.float32)
    out = np.zeros((1, 1000), np.float32)
    with pytest.raises(ParameterError, match="x_padded"):
        conv.convolve_into(x.astype(np.float64), out, 0, 1)
    with pytest.raises(ParameterError, match="out must"):
        conv.convolve_into(x, np.zeros((2, 1000), np.float32), 0, 1)
    with pytest.raises(ParameterError, match="outside"):
        conv.convolve_into(x, out, 2, 1)
    with pytest.raises(ParameterError, match="outside"):
        conv.convolve_into(x, out, 0, conv.num_blocks(1000) + 1)
    with pytest.raises(ParameterError, match="need"):
        conv.convolve_into(x[:, :300].copy(), out, 0, 2)
