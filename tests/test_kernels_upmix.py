"""CentreExtractor: the projection-upmix oracles (notes/oracles.md "Upmix") and a float64 reference."""

import numpy as np
import pytest

from soundstage.design.reference import upmix_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage._errors import AudioFormatError, ParameterError
from soundstage._kernels.upmix import GAIN_HOP_SAMPLES, CentreExtractor

FS = 48000
EDGES = [200.0, 1000.0, 4000.0]


def db(energy_ratio):
    return 10 * np.log10(max(energy_ratio, 1e-30))  # exact silence counts as -300 dB


def reference(x, edges, fs, time_constant_ms=40.0, strength=1.0):
    """The vectorised float64 scipy statement of the algorithm (soundstage.design.reference)."""
    return upmix_reference(x, edges, fs, time_constant_ms, strength)


@pytest.mark.parametrize(("edges", "strength"), [
    (EDGES, 1.0), ([], 0.7), ([1000.0], 1.0), ([400.0, 2500.0], 0.5),
    ([125.0, 300.0, 700.0, 1500.0, 3500.0, 8000.0], 1.0),  # the 8-lane path
    ([100.0, 150.0, 220.0, 330.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0], 1.0),  # the 16-lane path
])
def test_matches_float64_reference(edges, strength):
    x = np.random.default_rng(0).standard_normal((2, 6000)).astype(np.float32) * 0.3
    x[1] += 0.5 * x[0]  # partially correlated
    y = CentreExtractor(edges, FS, strength=strength).process(x)
    np.testing.assert_allclose(y, reference(x, edges, FS, strength=strength), rtol=0, atol=2e-6)


def test_lossless_when_summed_back():
    x = np.random.default_rng(1).standard_normal((2, 20000)).astype(np.float32)
    y = CentreExtractor(EDGES, FS).process(x)
    assert np.max(np.abs(y[0] + y[2] - x[0])) <= 1e-6 * max(1.0, np.abs(x).max())
    assert np.max(np.abs(y[1] + y[2] - x[1])) <= 1e-6 * max(1.0, np.abs(x).max())


@pytest.mark.parametrize("pan", [-1.0, -0.6, -0.3, 0.3, 0.6, 1.0])
@pytest.mark.parametrize("edges", [EDGES, []])
def test_single_panned_source_gives_no_centre(pan, edges):
    source = np.random.default_rng(2).standard_normal(FS).astype(np.float32)
    theta = (pan + 1) * np.pi / 4  # constant-power pan law, pan = +-1 hard left/right
    x = np.stack([np.cos(theta) * source, np.sin(theta) * source]).astype(np.float32)
    y = CentreExtractor(edges, FS).process(x)
    settled = int(0.3 * FS)
    assert db(np.sum(y[2, settled:] ** 2) / np.sum(x[:, settled:] ** 2)) <= -30.0


def test_centred_source_is_all_centre():
    source = np.random.default_rng(3).standard_normal(FS).astype(np.float32)
    x = np.stack([source, source])
    y = CentreExtractor(EDGES, FS).process(x)
    settled = int(0.3 * FS)
    mid = 0.5 * (x[0] + x[1])
    assert db(np.sum(y[:2, settled:] ** 2) / np.sum(x[:, settled:] ** 2)) <= -40.0
    # from the third gain hop on (the gains start at zero after a reset and reach the first
    # grid point's over the second hop)
    start = 2 * GAIN_HOP_SAMPLES
    np.testing.assert_allclose(y[2, start:], mid[start:], atol=1e-6)


def test_centre_of_a_mixture_follows_the_centred_source():
    rng = np.random.default_rng(4)
    centred, left = rng.standard_normal((2, 2 * FS)).astype(np.float32)
    x = np.stack([centred + left, centred]).astype(np.float32)
    y = CentreExtractor(EDGES, FS).process(x)
    settled = int(0.3 * FS)
    c = y[2, settled:]
    corr = lambda a, b: np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))
    assert corr(c, centred[settled:]) >= 0.9
    assert abs(corr(c, left[settled:])) <= 0.2


def test_strength_scales_the_centre():
    x = np.random.default_rng(5).standard_normal((2, 3000)).astype(np.float32)
    full = CentreExtractor(EDGES, FS).process(x)
    none = CentreExtractor(EDGES, FS, strength=0.0).process(x)
    assert np.all(none[2] == 0.0) and np.array_equal(none[:2], x)
    half = CentreExtractor(EDGES, FS, strength=0.5).process(x)
    np.testing.assert_allclose(half[2], 0.5 * full[2], atol=1e-6)


def test_strength_ramp_is_a_raised_cosine_per_sample():
    """The kernel's strength ramp (an upmix-bypass change) scales the strength-1 centre by the
    raised cosine sample by sample, stays lossless, and in blocks equals one call bitwise."""
    x = np.random.default_rng(6).standard_normal((2, 3000)).astype(np.float32)
    n, (start, end, length) = x.shape[1], (0.2, 0.9, 1000)
    full = CentreExtractor(EDGES, FS).process(x)
    ramped = np.empty_like(full)
    CentreExtractor(EDGES, FS).process_into(x, ramped, strength_ramp=(start, end, length, 0))
    phase = np.minimum(np.arange(1, n + 1) / (length + 1), 1.0)
    strength = start + (end - start) * (0.5 - 0.5 * np.cos(np.pi * phase))
    np.testing.assert_allclose(ramped[2], strength * full[2], rtol=0, atol=2e-6)
    np.testing.assert_allclose(ramped[0] + ramped[2], x[0], rtol=0, atol=2e-6)
    extractor, parts = CentreExtractor(EDGES, FS), []
    for a in range(0, n, 301):
        part = np.empty((3, min(301, n - a)), np.float32)
        extractor.process_into(np.ascontiguousarray(x[:, a:a + 301]), part, strength_ramp=(start, end, length, a))
        parts.append(part)
    assert np.array_equal(np.concatenate(parts, axis=1), ramped)


@pytest.mark.parametrize("ramp", [(0.0, 1.5, 10, 0), (0.0, 1.0, -1, 0), (0.0, 1.0), "ramp"])
def test_bad_strength_ramp(ramp):
    x = np.zeros((2, 8), np.float32)
    with pytest.raises(ParameterError, match=r"strength_ramp"):
        CentreExtractor(EDGES, FS).process_into(x, np.empty((3, 8), np.float32), strength_ramp=ramp)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 65536), min_size=1, max_size=8), st.integers(0, 2**31))
def test_streaming_is_bitwise_one_call(sizes, seed):
    if sum(sizes) > 60_000:
        sizes = [s for s in sizes if s <= 20_000][:3] or [1]
    x = np.random.default_rng(seed).standard_normal((2, sum(sizes))).astype(np.float32)
    whole = CentreExtractor(EDGES, FS).process(x)
    extractor = CentreExtractor(EDGES, FS)
    edges = np.cumsum([0] + sizes)
    parts = [extractor.process(np.ascontiguousarray(x[:, a:b])) for a, b in zip(edges[:-1], edges[1:])]
    assert np.array_equal(np.concatenate(parts, axis=1), whole)
    extractor.reset()
    assert np.array_equal(extractor.process(x), whole)


@pytest.mark.parametrize("edges", [[], [1000.0], [125.0, 300.0, 700.0, 1500.0, 3500.0, 8000.0],
                                   [100.0, 150.0, 220.0, 330.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]])
def test_streaming_is_bitwise_one_call_for_every_band_count(edges):
    """Chunks that cut the 16-sample gain hops and the 128-sample split passes anywhere give the
    one-call output and per-sample coefficients bitwise (every specialised lane count)."""
    x = np.random.default_rng(8).standard_normal((2, 2000)).astype(np.float32)
    whole, whole_gains = np.empty((3, 2000), np.float32), np.empty((len(edges) + 1, 2, 2000), np.float32)
    CentreExtractor(edges, FS).process_into(x, whole, whole_gains)
    extractor, start, parts, gains = CentreExtractor(edges, FS), 0, [], []
    for size in [1, 15, 17, 127, 129, 16, 300, 1]:
        part = np.ascontiguousarray(x[:, start:start + size])
        parts.append(np.empty((3, size), np.float32))
        gains.append(np.empty((len(edges) + 1, 2, size), np.float32))
        extractor.process_into(part, parts[-1], gains[-1])
        start += size
    parts.append(extractor.process(np.ascontiguousarray(x[:, start:])))
    assert np.array_equal(np.concatenate(parts, axis=1), whole)
    assert np.array_equal(np.concatenate(gains, axis=2), whole_gains[:, :, :start])


def test_column_slices_in_and_out_are_taken_without_a_copy():
    """Rows any distance apart (column slices of larger arrays, as the offline engine upmixes
    straight from the caller's input into its padded buffer) give bitwise the contiguous call's
    output, chunk by chunk, and write nothing outside the slice."""
    x = np.random.default_rng(11).standard_normal((2, 5000)).astype(np.float32)
    whole = CentreExtractor(EDGES, FS).process(x)
    extractor = CentreExtractor(EDGES, FS)
    padded = np.full((3, 7000), np.nan, np.float32)
    for a, b in [(0, 1), (1, 1700), (1700, 1733), (1733, 5000)]:
        extractor.process_into(x[:, a:b], padded[:, 1000 + a:1000 + b])
    assert np.array_equal(padded[:, 1000:6000], whole)
    assert np.isnan(padded[:, :1000]).all() and np.isnan(padded[:, 6000:]).all()
    with pytest.raises(ParameterError, match=r"out overlaps x"):
        both = np.zeros((5, 100), np.float32)
        extractor.process_into(both[:2, 10:20], both[1:4, 12:22])
    frozen = np.zeros((3, 100), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ParameterError, match=r"out is read-only"):
        extractor.process_into(x[:, :10], frozen[:, 5:15])


def test_silence_after_a_signal_reaches_exact_zero():
    """The band-split state is flushed from the denormal range at the gain grid points, so a
    stream falling silent comes back to exact digital zero (and costs what noise costs)."""
    x = np.zeros((2, FS), np.float32)
    x[:, : FS // 5] = np.random.default_rng(9).standard_normal((2, FS // 5))
    y = CentreExtractor(EDGES, FS).process(x)
    assert np.all(y[:, FS // 2:] == 0.0)


def test_restores_the_callers_floating_point_mode():
    """Flush-to-zero is set for the call only: subnormal float32 arithmetic works afterwards."""
    CentreExtractor(EDGES, FS).process(np.full((2, 64), 1e-39, np.float32))
    tiny = np.array([1e-39], np.float32)
    assert (tiny * np.float32(1.0))[0] != 0.0


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1000.0, 500.0], FS), {}, r"band_edges_hz must be strictly increasing"),
        (([30000.0], FS), {}, r"band_edges_hz must lie in \(0, sample_rate/2"),
        (([np.nan], FS), {}, r"band_edges_hz contains NaN or Inf"),
        (([], 0.0), {}, r"sample_rate must be a finite number > 0"),
        (([], FS), {"time_constant_ms": 0.0}, r"time_constant_ms must be > 0"),
        (([], FS), {"strength": 1.5}, r"strength must lie in \[0, 1\]"),
    ],
)
def test_bad_construction(args, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        CentreExtractor(*args, **kwargs)


def test_bad_audio():
    extractor = CentreExtractor(EDGES, FS)
    assert extractor.num_bands == 4 and extractor.latency_samples == 0
    with pytest.raises(AudioFormatError, match=r"x must have dtype float32, got float64"):
        extractor.process(np.zeros((2, 8)))
    with pytest.raises(ParameterError, match=r"x must have 2 channels"):
        extractor.process(np.zeros((3, 8), np.float32))
    with pytest.raises(ParameterError, match=r"out must have 3 channels"):
        extractor.process_into(np.zeros((2, 8), np.float32), np.zeros((2, 8), np.float32))
    with pytest.raises(AudioFormatError, match=r"out must be C-contiguous"):
        extractor.process_into(np.zeros((2, 8), np.float32), np.zeros((8, 3), np.float32).T)


def _c(x):
    return np.ascontiguousarray(x)


def test_a_copy_continues_bitwise_and_state_equality_is_exact():
    x = (np.random.default_rng(21).standard_normal((2, 60_000)) * 0.1).astype(np.float32)
    a = CentreExtractor([250.0, 2500.0], 48000.0, strength=0.8)
    a.process(_c(x[:, :10_000]))
    b = a.copy()
    assert a.state_equals(b) and b.strength == 0.8
    np.testing.assert_array_equal(a.process(_c(x[:, 10_000:])), b.process(_c(x[:, 10_000:])))
    fresh = CentreExtractor([250.0, 2500.0], 48000.0, strength=0.8)
    assert not fresh.state_equals(a)
    fresh.take_state(a)
    assert fresh.state_equals(a)
    b.process(_c(x[:, :16]))  # one more hop: no longer equal
    assert not b.state_equals(a)
    assert not CentreExtractor([250.0, 2500.0], 48000.0, strength=0.5).state_equals(fresh)
    with pytest.raises(ParameterError, match="same band edges"):
        CentreExtractor([250.0, 2000.0], 48000.0).take_state(a)


@pytest.mark.parametrize("kind", ["noise", "centred voice over ambience"])
def test_two_starts_meet_bit_for_bit_once_the_start_is_forgotten(kind):
    """What the offline engine's split upmix relies on: an extractor started from rest part-way
    through a signal reaches bitwise the state of one that ran from the beginning, a little
    after the ≈ 37 time constants a float64 average takes to forget a relative difference of 1
    (41–43 here), within the split's preroll (48 time constants of 40 ms at 48 kHz)."""
    from soundstage.processor.offline_render import SPLIT_PREROLL_TIME_CONSTANTS

    rng = np.random.default_rng(22)
    n = 48000 * 4
    if kind == "noise":
        x = rng.standard_normal((2, n)) * 0.1
    else:
        voice = rng.standard_normal(n) * 0.1 * (1 + np.sin(2 * np.pi * 3 * np.arange(n) / 48000))
        x = voice + rng.standard_normal((2, n)) * 0.05
    x = x.astype(np.float32)
    whole = CentreExtractor([200.0, 800.0, 3200.0], 48000.0)
    whole.process(_c(x[:, :48000]))  # 1 s ahead
    late = CentreExtractor([200.0, 800.0, 3200.0], 48000.0)
    for start in range(48000, n, 16384):
        block = _c(x[:, start:start + 16384])
        whole.process(block)
        late.process(block)
        if late.state_equals(whole):
            break
    assert late.state_equals(whole), "the states never met"
    assert 37 * 0.04 * 48000 < start + 16384 - 48000 <= SPLIT_PREROLL_TIME_CONSTANTS * 0.04 * 48000
