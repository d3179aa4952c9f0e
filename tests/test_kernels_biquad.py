"""BiquadCascade against scipy.signal.sosfilt, streaming equivalence and argument checks."""

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage._errors import AudioFormatError, ParameterError
from soundstage._kernels.biquad import BiquadCascade


def random_sos(rng, num_channels, order=6):
    """Stable sections from scipy designs at random cutoffs, one filter per channel."""
    designs = []
    for c in range(num_channels):
        wn = rng.uniform(0.01, 0.9)
        kind = c % 3
        if kind == 0:
            sos = ss.butter(order, wn, btype="lowpass", output="sos")
        elif kind == 1:
            sos = ss.cheby1(order, 1.0, wn, btype="highpass", output="sos")
        else:
            sos = ss.ellip(order, 0.5, 40.0, wn, btype="lowpass", output="sos")
        designs.append(sos)
    return np.stack(designs)


def reference(sos, x):
    return np.stack([ss.sosfilt(sos[c], x[c].astype(np.float64)) for c in range(x.shape[0])])


def rel_rms(y, ref):
    return np.sqrt(np.mean((y - ref) ** 2) / np.mean(ref**2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sosfilt(seed):
    rng = np.random.default_rng(seed)
    sos = random_sos(rng, 5)
    x = rng.standard_normal((5, 20000)).astype(np.float32)
    y = x.copy()
    BiquadCascade(sos).process(y)
    ref = reference(sos, x)
    for c in range(5):
        assert rel_rms(y[c], ref[c]) <= 1e-5


def test_unnormalised_a0_is_normalised():
    rng = np.random.default_rng(3)
    sos = random_sos(rng, 2)
    scaled = sos * 3.5  # same filter, a0 = 3.5
    x = rng.standard_normal((2, 4000)).astype(np.float32)
    y1, y2 = x.copy(), x.copy()
    BiquadCascade(sos).process(y1)
    BiquadCascade(scaled).process(y2)
    np.testing.assert_allclose(y1, y2, rtol=1e-5, atol=1e-6)


def chunked(cascade, x, sizes):
    out, start = [], 0
    for size in sizes:
        block = np.ascontiguousarray(x[:, start : start + size])
        cascade.process(block)
        out.append(block)
        start += size
    return np.concatenate(out, axis=1)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 65536), min_size=1, max_size=12), st.integers(0, 2**31))
def test_streaming_is_bitwise_one_call(sizes, seed):
    total = sum(sizes)
    if total > 100_000:
        sizes = [s for s in sizes if s <= 100_000][:3] or [100_000]
        total = sum(sizes)
    rng = np.random.default_rng(seed)
    sos = random_sos(rng, 3, order=4)
    x = rng.standard_normal((3, total)).astype(np.float32)
    whole = x.copy()
    BiquadCascade(sos).process(whole)
    assert np.array_equal(chunked(BiquadCascade(sos), x, sizes), whole)


def test_growing_blocks_and_reset():
    rng = np.random.default_rng(4)
    sos = random_sos(rng, 4)
    sizes = [1, 2, 3, 65, 128, 1000, 8193, 20000]
    x = rng.standard_normal((4, sum(sizes))).astype(np.float32)
    whole = x.copy()
    cascade = BiquadCascade(sos)
    cascade.process(whole)
    cascade.reset()
    assert np.array_equal(chunked(cascade, x, sizes), whole)


def test_set_sos_carries_state_like_scipy_zi():
    rng = np.random.default_rng(5)
    sos1, sos2 = random_sos(rng, 1), random_sos(rng, 1)
    x = rng.standard_normal((1, 6000)).astype(np.float32)
    y = x.copy()
    cascade = BiquadCascade(sos1)
    first, second = np.ascontiguousarray(y[:, :3000]), np.ascontiguousarray(y[:, 3000:])
    cascade.process(first)
    cascade.set_sos(sos2)
    cascade.process(second)
    ref1, zf = ss.sosfilt(sos1[0], x[0, :3000].astype(np.float64), zi=np.zeros((sos1.shape[1], 2)))
    ref2, _ = ss.sosfilt(sos2[0], x[0, 3000:].astype(np.float64), zi=zf)
    assert rel_rms(np.concatenate([first[0], second[0]]), np.concatenate([ref1, ref2])) <= 1e-5


def test_silence_decays_to_exact_zero_without_subnormals():
    # A high-Q resonator rings for a long time; the state must be flushed, not left subnormal.
    sos = ss.iirpeak(0.05, 30.0, fs=2.0)
    sos = ss.tf2sos(*sos)[None]
    x = np.zeros((1, 100_000), dtype=np.float32)
    x[0, 0] = 1.0
    BiquadCascade(sos).process(x)
    tiny = np.finfo(np.float32).tiny
    assert not np.any((x != 0) & (np.abs(x) < tiny))
    assert np.all(x[0, -1000:] == 0.0)  # exact digital silence, no limit cycle


def test_float64_audio_is_rejected():
    cascade = BiquadCascade(random_sos(np.random.default_rng(6), 2))
    with pytest.raises(AudioFormatError, match=r"x must have dtype float32, got float64"):
        cascade.process(np.zeros((2, 10)))


@pytest.mark.parametrize(
    ("audio", "error", "match"),
    [
        (np.zeros((3, 10), np.float32), ParameterError, r"x must have 2 channels"),
        (np.zeros(10, np.float32), AudioFormatError, r"x must be 2-D"),
        (np.zeros((10, 2), np.float32).T, AudioFormatError, r"x must be C-contiguous"),
        ([[0.0], [0.0]], AudioFormatError, r"x must be a numpy.ndarray"),
    ],
)
def test_bad_audio(audio, error, match):
    cascade = BiquadCascade(random_sos(np.random.default_rng(7), 2))
    with pytest.raises(error, match=match):
        cascade.process(audio)


def test_read_only_audio_is_rejected():
    cascade = BiquadCascade(random_sos(np.random.default_rng(8), 1))
    x = np.zeros((1, 10), np.float32)
    x.flags.writeable = False
    with pytest.raises(ParameterError, match=r"x is read-only"):
        cascade.process(x)


def _sos_with(index, value):
    sos = np.tile(ss.butter(2, 0.2, output="sos"), (2, 1, 1))
    sos[index] = value
    return sos


@pytest.mark.parametrize(
    ("sos", "match"),
    [
        (_sos_with((1, 0, 1), np.nan), r"sos contains NaN or Inf"),
        (_sos_with((0, 0, 4), np.inf), r"sos contains NaN or Inf"),
        (_sos_with((1, 0, 3), 0.0), r"sos\[1, 0, 3\] \(a0\) is 0"),
        (_sos_with((0, 0, 5), 1.5), r"sos\[0, 0\] is not stable"),
        (np.zeros((2, 6)), r"sos must be 3-D"),
        (np.zeros((2, 1, 5)), r"sos must have shape"),
    ],
)
def test_bad_sos(sos, match):
    with pytest.raises(ParameterError, match=match):
        BiquadCascade(sos)


def test_set_sos_rejects_new_layout():
    cascade = BiquadCascade(_sos_with((0, 0, 0), 1.0))
    with pytest.raises(ParameterError, match=r"sos must keep shape \(2, 1, 6\)"):
        cascade.set_sos(np.tile(ss.butter(2, 0.2, output="sos"), (3, 1, 1)))
    assert cascade.num_channels == 2 and cascade.num_sections == 1
