"""DelayLine: exact integer delays, Lagrange accuracy against the ideal delay, streaming."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage._errors import AudioFormatError, ParameterError
from soundstage._kernels.delay import DelayLine, lagrange_taps

# The module docstring's table: order -> (max |magnitude error| dB, max phase-delay error samples)
# of the centred interpolator up to 0.25·sample_rate.
DOCUMENTED = {1: (3.01, 0.045), 3: (1.07, 0.018), 5: (0.44, 0.0078), 7: (0.20, 0.0035)}


def test_integer_delays_are_exact():
    rng = np.random.default_rng(0)
    delays = [0, 1, 5, 100]
    x = rng.standard_normal((4, 1000)).astype(np.float32)
    y = x.copy()
    DelayLine(delays, interpolation_order=7).process(y)
    for c, d in enumerate(delays):
        assert np.array_equal(y[c, d:], x[c, : 1000 - d])
        assert np.all(y[c, :d] == 0.0)


def test_lagrange_taps_are_an_impulse_at_integers_and_sum_to_one():
    assert np.array_equal(lagrange_taps(2.0, 3), [0.0, 0.0, 1.0, 0.0])
    assert abs(np.sum(lagrange_taps(1.37, 5)) - 1.0) < 1e-12


def band_limited_period(length, rng):
    """One period of noise with unit-magnitude bins up to 0.25·sample_rate and none above."""
    spectrum = np.zeros(length // 2 + 1, complex)
    band = np.arange(1, length // 4 + 1)
    spectrum[band] = np.exp(2j * np.pi * rng.random(band.size))
    return np.fft.irfft(spectrum, n=length), band


@pytest.mark.parametrize("order", [1, 3, 5, 7])
def test_fractional_delay_against_ideal_band_limited_delay(order):
    rng = np.random.default_rng(order)
    length = 4096
    period, band = band_limited_period(length, rng)
    scale = 0.5 / np.max(np.abs(period))
    x = np.tile(period * scale, 2)[None].astype(np.float32)
    worst_mag, worst_phase = 0.0, 0.0
    for delay in [12.1, 12.25, 12.5, 12.75, 12.9]:
        y = x.copy()
        DelayLine([delay], interpolation_order=order).process(y)
        steady = y[0, length:].astype(np.float64)  # second period: periodic steady state
        ratio = np.fft.rfft(steady)[band] / np.fft.rfft(x[0, :length].astype(np.float64))[band]
        omega = 2 * np.pi * band / length
        error = ratio / np.exp(-1j * omega * delay)
        worst_mag = max(worst_mag, np.max(np.abs(20 * np.log10(np.abs(error)))))
        worst_phase = max(worst_phase, np.max(np.abs(np.angle(error)) / omega))
    mag_db, phase_samples = DOCUMENTED[order]
    assert worst_mag <= mag_db + 0.01
    assert worst_mag >= 0.9 * mag_db  # the documented bound is reached at f = 0.5 (tight)
    assert worst_phase <= phase_samples * 1.05 + 1e-5


def chunked(line, x, sizes):
    out, start = [], 0
    for size in sizes:
        block = np.ascontiguousarray(x[:, start : start + size])
        line.process(block)
        out.append(block)
        start += size
    return np.concatenate(out, axis=1)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 65536), min_size=1, max_size=10), st.integers(0, 2**31))
def test_streaming_is_bitwise_one_call(sizes, seed):
    if sum(sizes) > 100_000:
        sizes = [s for s in sizes if s <= 30_000][:3] or [1]
    rng = np.random.default_rng(seed)
    delays = [0.0, 3.0, 7.4, 250.5]
    x = rng.standard_normal((4, sum(sizes))).astype(np.float32)
    whole = x.copy()
    DelayLine(delays).process(whole)
    assert np.array_equal(chunked(DelayLine(delays), x, sizes), whole)


def test_process_into_equals_in_place_and_reset():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 500)).astype(np.float32)
    line = DelayLine([2.5, 9.0], max_delay_samples=40)
    out = np.empty_like(x)
    line.process_into(x, out)
    line.reset()
    y = x.copy()
    line.process(y)
    assert np.array_equal(out, y)


def test_set_delays_within_capacity():
    x = np.zeros((1, 64), np.float32)
    x[0, 0] = 1.0
    line = DelayLine([1.0], max_delay_samples=30)
    line.set_delays([30.0])
    line.process(x)
    assert x[0, 30] == 1.0 and np.count_nonzero(x) == 1
    with pytest.raises(ParameterError, match=r"delays_samples\[0\] = 31.0 must lie in \[0, max_delay_samples"):
        line.set_delays([31.0])
    with pytest.raises(ParameterError, match=r"delays_samples must have 1 values"):
        line.set_delays([1.0, 2.0])


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1.0, -0.5],), {}, r"delays_samples\[1\] = -0.5 must lie in"),
        (([1.0, np.nan],), {}, r"delays_samples contains NaN or Inf"),
        (([[1.0]],), {}, r"delays_samples must be 1-D"),
        (([],), {}, r"delays_samples must name at least one channel"),
        (([1.0],), {"interpolation_order": 2}, r"interpolation_order must be one of"),
        (([1.0], -3), {}, r"max_delay_samples must be finite and >= 0"),
    ],
)
def test_bad_construction(args, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        DelayLine(*args, **kwargs)


def test_bad_audio():
    line = DelayLine([1.0, 2.0])
    with pytest.raises(AudioFormatError, match=r"x must have dtype float32, got float64"):
        line.process(np.zeros((2, 4)))
    with pytest.raises(ParameterError, match=r"x must have 2 channels"):
        line.process(np.zeros((1, 4), np.float32))
    with pytest.raises(AudioFormatError, match=r"x must be C-contiguous"):
        line.process(np.zeros((4, 2), np.float32).T)
    read_only = np.zeros((2, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ParameterError, match=r"out is read-only"):
        line.process_into(np.zeros((2, 4), np.float32), read_only)
