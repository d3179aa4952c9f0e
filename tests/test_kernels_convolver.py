"""PartitionedConvolver against scipy.signal.oaconvolve, streaming, crossfades, GIL release."""

import sys
import threading

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage._errors import AudioFormatError, ParameterError
from soundstage._kernels.convolver import PartitionedConvolver, _FFTPlan, flush_to_zero_state


def mimo_reference(x, h):
    """sum_i oaconvolve(x[i], h[i, o]) in float64, truncated to the input length."""
    n = x.shape[1]
    return np.stack(
        [
            sum(ss.oaconvolve(x[i].astype(np.float64), h[i, o].astype(np.float64))[:n]
                for i in range(h.shape[0]))
            for o in range(h.shape[1])
        ]
    )


def rel_err(y, ref):
    return np.sqrt(np.sum((y - ref) ** 2) / np.sum(ref**2))


@pytest.mark.parametrize("size", [32, 64, 512, 4096, 8192, 32768, 131072])
def test_own_fft_matches_numpy(size):
    x = np.random.default_rng(size).standard_normal(size).astype(np.float32)
    plan = _FFTPlan(size)
    spectrum = np.fft.rfft(x.astype(np.float64))
    assert np.max(np.abs(plan.rfft(x) - spectrum)) <= 1e-6 * np.max(np.abs(spectrum))
    # inverse: N * irfft, last half only
    np.testing.assert_allclose(plan.irfft_tail(spectrum) / size, x[size // 2 :], atol=1e-6)


@pytest.mark.parametrize("size", [4, 8, 16, 512, 1024, 2048, 4096, 8192, 65536])
def test_own_complex_fft_matches_numpy(size):
    """The complex FFT with the bit-reversal gathered per depth-first block of 1024 points: one
    block, one block exactly, several blocks, odd and even numbers of stages."""
    from soundstage._kernels.convolver import complex_dft

    rng = np.random.default_rng(size)
    z = (rng.standard_normal(size) + 1j * rng.standard_normal(size)).astype(np.complex64)
    spectrum = np.fft.fft(z.astype(np.complex128))
    error = np.abs(complex_dft(z) - spectrum)
    assert np.sqrt(np.mean(error ** 2)) <= 2e-7 * np.sqrt(np.log2(size)) * np.sqrt(np.mean(np.abs(spectrum) ** 2))
    assert np.max(error) <= 1e-6 * np.max(np.abs(spectrum))


@pytest.mark.parametrize(("partition_size", "num_taps"), [(16, 37), (64, 300), (256, 1024)])
def test_matches_oaconvolve_after_latency(partition_size, num_taps):
    rng = np.random.default_rng(num_taps)
    h = rng.standard_normal((2, 3, num_taps)).astype(np.float32)
    h[1, 2] = 0.0  # a skipped path
    x = rng.standard_normal((2, 5000)).astype(np.float32)
    conv = PartitionedConvolver(h, partition_size=partition_size)
    assert conv.latency_samples == partition_size
    y = conv.process(x)
    lat = conv.latency_samples
    assert np.all(y[:, :lat] == 0.0)
    ref = mimo_reference(x, h)[:, : x.shape[1] - lat]
    for o in range(3):
        assert rel_err(y[o, lat:], ref[o]) <= 1e-5


def test_all_zero_output_is_exactly_zero():
    h = np.zeros((2, 2, 100), np.float32)
    h[0, 0, 3] = 1.0
    x = np.random.default_rng(1).standard_normal((2, 1000)).astype(np.float32)
    y = PartitionedConvolver(h, partition_size=32).process(x)
    assert np.all(y[1] == 0.0)


def test_subnormal_input_is_silence_and_the_caller_keeps_ieee_arithmetic():
    """Denormals-are-zero inside the call: a subnormal input (1e-39, -780 dBFS) through a
    gain of 1e12 would give 1e-27 at the output; flushed on entry it gives exact zeros.
    Afterwards the thread's own float arithmetic still produces subnormals (state restored)."""
    supported, _ = flush_to_zero_state()
    if not supported:
        pytest.skip("no flush-to-zero control on this CPU architecture")
    h = np.zeros((1, 1, 64), np.float32)
    h[0, 0, 5] = 1e12
    x = np.full((1, 300), 1e-39, np.float32)
    assert x[0, 0] != 0.0 and abs(x[0, 0]) < np.finfo(np.float32).tiny
    conv = PartitionedConvolver(h, partition_size=32)
    assert np.array_equal(conv.process(x), np.zeros((1, 300), np.float32))
    normal = np.full((1, 300), 1e-20, np.float32)  # normal input: 1e-8 out, not flushed
    assert np.allclose(PartitionedConvolver(h, partition_size=32).process(normal)[0, 37:], 1e-8, rtol=1e-5)
    assert flush_to_zero_state() == (True, False)
    assert np.float32(1e-38) * np.float32(0.5) != 0.0


def chunked(conv, x, sizes):
    out, start = [], 0
    for size in sizes:
        block = np.ascontiguousarray(x[:, start : start + size])
        out.append(conv.process(block))
        start += size
    return np.concatenate(out, axis=1)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 65536), min_size=1, max_size=10), st.integers(0, 2**31))
def test_streaming_is_bitwise_one_call(sizes, seed):
    if sum(sizes) > 100_000:
        sizes = [s for s in sizes if s <= 30_000][:3] or [1]
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((2, 2, 200)).astype(np.float32)
    x = rng.standard_normal((2, sum(sizes))).astype(np.float32)
    whole = PartitionedConvolver(h, partition_size=64).process(x)
    assert np.array_equal(chunked(PartitionedConvolver(h, partition_size=64), x, sizes), whole)


def test_growing_blocks_zero_length_and_reset():
    rng = np.random.default_rng(2)
    h = rng.standard_normal((3, 2, 500)).astype(np.float32)
    sizes = [1, 0, 2, 3, 65, 128, 1000, 8193, 20000]
    x = rng.standard_normal((3, sum(sizes))).astype(np.float32)
    conv = PartitionedConvolver(h, partition_size=128)
    whole = conv.process(x)
    conv.reset()
    assert np.array_equal(chunked(conv, x, sizes), whole)
    assert conv.process(np.zeros((3, 0), np.float32)).shape == (2, 0)


def test_process_into_in_place():
    rng = np.random.default_rng(3)
    h = rng.standard_normal((2, 2, 64)).astype(np.float32)
    x = rng.standard_normal((2, 700)).astype(np.float32)
    expected = PartitionedConvolver(h, partition_size=32).process(x)
    PartitionedConvolver(h, partition_size=32).process_into(x, x)
    assert np.array_equal(x, expected)


def crossfade_case(crossfade_samples, switch_at):
    rng = np.random.default_rng(4)
    h_old = rng.standard_normal((2, 3, 150)).astype(np.float32)
    h_new = rng.standard_normal((2, 3, 150)).astype(np.float32)
    x = rng.standard_normal((2, 3000)).astype(np.float32)
    y_old = PartitionedConvolver(h_old, partition_size=64).process(x)
    y_new = PartitionedConvolver(h_new, partition_size=64).process(x)
    conv = PartitionedConvolver(h_old, partition_size=64)
    first = conv.process(np.ascontiguousarray(x[:, :switch_at]))
    conv.set_filters(h_new, crossfade_samples)
    second = conv.process(np.ascontiguousarray(x[:, switch_at:]))
    return np.concatenate([first, second], axis=1), y_old, y_new


@pytest.mark.parametrize(("crossfade_samples", "switch_at"), [(100, 1000), (500, 777), (1, 64)])
def test_crossfade_is_raised_cosine_mix_of_old_and_new(crossfade_samples, switch_at):
    y, y_old, y_new = crossfade_case(crossfade_samples, switch_at)
    length = crossfade_samples
    w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 1) * (1.0 / (length + 1)))
    mixed = ((1.0 - w) * y_old[:, switch_at : switch_at + length].astype(np.float64)
             + w * y_new[:, switch_at : switch_at + length].astype(np.float64)).astype(np.float32)
    assert np.array_equal(y[:, :switch_at], y_old[:, :switch_at])
    np.testing.assert_allclose(y[:, switch_at : switch_at + length], mixed, rtol=1e-6, atol=1e-7)
    assert np.array_equal(y[:, switch_at + length :], y_new[:, switch_at + length :])


def test_crossfade_zero_switches_at_next_sample():
    y, y_old, y_new = crossfade_case(0, 1000)
    assert np.array_equal(y[:, :1000], y_old[:, :1000])
    assert np.array_equal(y[:, 1000:], y_new[:, 1000:])


def test_reset_clears_pending_crossfade():
    rng = np.random.default_rng(5)
    h_old, h_new = rng.standard_normal((2, 1, 1, 40)).astype(np.float32)
    x = rng.standard_normal((1, 500)).astype(np.float32)
    conv = PartitionedConvolver(h_old, partition_size=16)
    conv.process(x)
    conv.set_filters(h_new, 400)
    conv.reset()
    assert np.array_equal(conv.process(x), PartitionedConvolver(h_new, partition_size=16).process(x))


def test_gil_is_released_during_process():
    rng = np.random.default_rng(6)
    h = rng.standard_normal((2, 2, 8192)).astype(np.float32)
    x = rng.standard_normal((2, 4 * 48000)).astype(np.float32)
    expected = PartitionedConvolver(h, partition_size=256).process(x)
    count = [0]
    started, stop = threading.Event(), threading.Event()

    def counter():
        started.set()
        while not stop.is_set():
            count[0] += 1

    other_result = {}

    def other_convolver():  # a second instance in its own thread
        other_result["y"] = PartitionedConvolver(h, partition_size=256).process(x)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)  # no preemption between the two counter reads below
    threads = [threading.Thread(target=counter), threading.Thread(target=other_convolver)]
    try:
        threads[0].start()
        started.wait()
        conv = PartitionedConvolver(h, partition_size=256)
        before = count[0]
        y = conv.process(x)
        after = count[0]
    finally:
        stop.set()
        threads[0].join()
        sys.setswitchinterval(old_interval)
    threads[1].start()
    threads[1].join()
    assert after - before > 100, "the counter thread did not run while process() ran"
    assert np.array_equal(y, expected)
    assert np.array_equal(other_result["y"], expected)


def test_float64_audio_is_rejected():
    conv = PartitionedConvolver(np.ones((2, 1, 4), np.float32), partition_size=16)
    with pytest.raises(AudioFormatError, match=r"x must have dtype float32, got float64"):
        conv.process(np.zeros((2, 8)))


@pytest.mark.parametrize(
    ("x", "out", "error", "match"),
    [
        (np.zeros((3, 8), np.float32), None, ParameterError, r"x must have 2 channels"),
        (np.zeros((8, 2), np.float32).T, None, AudioFormatError, r"x must be C-contiguous"),
        (np.zeros((2, 8), np.float32), np.zeros((1, 7), np.float32), ParameterError,
         r"out must have 8 samples"),
        (np.zeros((2, 8), np.float32), np.zeros((2, 8), np.float32), ParameterError,
         r"out must have 1 channels"),
        (np.zeros((2, 8), np.float32), np.zeros((1, 8)), AudioFormatError,
         r"out must have dtype float32"),
    ],
)
def test_bad_audio(x, out, error, match):
    conv = PartitionedConvolver(np.ones((2, 1, 4), np.float32), partition_size=16)
    with pytest.raises(error, match=match):
        if out is None:
            conv.process(x)
        else:
            conv.process_into(x, out)


def test_read_only_out_and_overlap_are_rejected():
    conv = PartitionedConvolver(np.ones((1, 1, 4), np.float32), partition_size=16)
    out = np.zeros((1, 8), np.float32)
    out.flags.writeable = False
    with pytest.raises(ParameterError, match=r"out is read-only"):
        conv.process_into(np.zeros((1, 8), np.float32), out)
    buf = np.zeros((1, 16), np.float32)
    with pytest.raises(ParameterError, match=r"out partially overlaps the input"):
        conv.process_into(buf[:, :8], buf[:, 4:12])


@pytest.mark.parametrize(
    ("filters", "kwargs", "match"),
    [
        (np.full((1, 1, 4), np.nan), {}, r"filters contains NaN or Inf"),
        (np.ones((2, 4)), {}, r"filters must be 3-D"),
        (np.ones((1, 0, 4)), {}, r"filters must have every dimension >= 1"),
        (np.ones((1, 1, 4)), {"partition_size": 100}, r"partition_size must be a power of two"),
        (np.ones((1, 1, 4)), {"partition_size": 8}, r"partition_size must be a power of two"),
    ],
)
def test_bad_construction(filters, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        PartitionedConvolver(filters, **kwargs)


def test_bad_set_filters():
    conv = PartitionedConvolver(np.ones((1, 2, 4), np.float32), partition_size=16)
    with pytest.raises(ParameterError, match=r"filters must keep shape \(1, 2, 4\)"):
        conv.set_filters(np.ones((1, 2, 5), np.float32))
    with pytest.raises(ParameterError, match=r"filters contains NaN or Inf"):
        conv.set_filters(np.full((1, 2, 4), np.inf, np.float32))
    with pytest.raises(ParameterError, match=r"crossfade_samples must be >= 0"):
        conv.set_filters(np.ones((1, 2, 4), np.float32), -1)
    assert (conv.num_inputs, conv.num_outputs, conv.num_taps, conv.partition_size) == (1, 2, 4, 16)
