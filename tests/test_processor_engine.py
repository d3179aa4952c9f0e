"""The processor's choice of engine: pure gains/delays skip the FFT convolution (and the upmix
when the centre cancels) with the same output and latency as the convolver would give."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.processor import SpatialProcessor
from soundstage.processor.fir_plan import NEGLIGIBLE, single_taps, stereo_taps
from streaming_reference import streaming_render


def _noise(n, seed=0):
    return (np.random.default_rng(seed).standard_normal((2, n)) * 0.1).astype(np.float32)


@pytest.mark.parametrize("sample_rate", [44100.0, 48000.0, 96000.0])
def test_reference_pair_is_an_exact_delayed_copy(sample_rate):
    """The ±30° pair reduces to L → left, R → right: bit for bit, time-aligned, in one call or
    streamed, and with the same latency as the convolution engine."""
    proc = SpatialProcessor("stereo-pair")
    x = _noise(int(sample_rate // 5))
    np.testing.assert_array_equal(proc(x, sample_rate), x)
    parts = [proc(x[:, :1000], sample_rate, reset=False), proc(x[:, 1000:], sample_rate, reset=False),
             proc.flush()]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), x)
    assert proc.latency_samples == proc.filterset.latency_samples + 256 * (1 + (sample_rate > 50000))


def _matrix(num_outputs=2, taps=64):
    fir = np.zeros((3, num_outputs, taps), np.float32)
    for o in range(num_outputs):
        fir[o % 2, o, 10] = fir[2, o, 10] = 0.7  # L' and C reach output o with one gain: C cancels
    return fir


def test_cancelling_centre_gives_taps_on_the_stereo_input():
    taps = stereo_taps(_matrix(), centre_extraction=1.0)
    assert sorted(zip(taps.inputs, taps.outputs, taps.delays)) == [(0, 0, 10), (1, 1, 10)]
    assert np.allclose(taps.gains, 0.7)


def test_a_centre_that_does_not_cancel_or_a_dense_path_needs_the_full_chain():
    fir = _matrix()
    fir[2, 0, 10] = 0.5
    assert stereo_taps(fir, centre_extraction=1.0) is None
    assert stereo_taps(fir, centre_extraction=0.0) is not None  # no centre at all: C rows unused
    dense = _matrix()
    dense[0, 0, 11] = 1e-3
    assert single_taps(dense) is None and stereo_taps(dense, 1.0) is None


def test_round_off_below_the_threshold_counts_as_one_tap():
    fir = _matrix()
    fir[0, 0, 20:40] = 0.7 * NEGLIGIBLE / 40  # sums to half the threshold
    assert stereo_taps(fir, 1.0) is not None
    fir[0, 0, 20:40] = 0.7 * NEGLIGIBLE / 10  # twice the threshold
    assert stereo_taps(fir, 1.0) is None


def test_a_redesign_into_and_out_of_the_tap_engine_keeps_the_alignment():
    """A centre gain on the ±30° pair stops the centre cancelling (upmix + convolver), back to
    0 dB the pair is a pure copy again; every render equals a fresh processor's, also when the
    change comes in the middle of a stream (same latency, no gap)."""
    x = _noise(9600, seed=2)
    proc = SpatialProcessor("stereo-pair")
    np.testing.assert_array_equal(proc(x, 48000.0), x)
    proc.centre_gain_db = 3.0
    louder = SpatialProcessor("stereo-pair", centre_gain_db=3.0)(x, 48000.0)
    assert np.max(np.abs(louder - x)) > 1e-3
    np.testing.assert_array_equal(proc(x, 48000.0), louder)
    proc.centre_gain_db = 0.0
    np.testing.assert_array_equal(proc(x, 48000.0), x)
    first = proc(x[:, :4000], 48000.0, reset=False)
    proc.centre_gain_db = 3.0
    proc.wait_for_design()
    rest = np.concatenate([proc(x[:, 4000:], 48000.0, reset=False), proc.flush()], axis=1)
    assert first.shape[1] + rest.shape[1] == x.shape[1]
    np.testing.assert_array_equal(first, x[:, :first.shape[1]])


@pytest.mark.parametrize("num_threads", [1, 2])
def test_leaving_the_tap_engine_mid_stream_crossfades_from_a_warm_fir_engine(num_threads):
    """A centre gain in the middle of a ±30° pair stream: up to the change the output is the exact
    copy, then it crossfades (30 ms) into the new design computed as if the upmix and the FIR
    matrix had run from the start — after the crossfade it equals, to float32 round-off, a
    processor streaming the new design all along (no restart transient of the FIR engine)."""
    sample_rate, switch = 48000.0, 12000
    x = _noise(30000, seed=11)
    x += 2.0 * x[0]  # a strong centre: the centre gain changes the output
    proc = SpatialProcessor("stereo-pair", num_threads=num_threads)
    head = proc(x[:, :switch], sample_rate, reset=False)
    proc.centre_gain_db = -6.0
    proc.wait_for_design()
    tail = proc(x[:, switch:], sample_rate, reset=False)
    y = np.concatenate([head, tail, proc.flush()], axis=1)
    reference = SpatialProcessor("stereo-pair", centre_gain_db=-6.0)
    z = np.concatenate([reference(x, sample_rate, reset=False), reference.flush()], axis=1)
    latency = proc.latency_samples
    np.testing.assert_array_equal(y[:, :switch - latency], x[:, :switch - latency])
    settled = switch - latency + int(0.030 * sample_rate)
    assert np.max(np.abs(z[:, settled:] - x[:, settled:])) > 1e-2  # the new design is audible
    assert np.max(np.abs(y[:, settled:] - z[:, settled:])) < 1e-5


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar", "compact-speaker", "stereo-pair"])
def test_two_thread_render_is_bitwise_the_one_thread_render(name):
    x = _noise(30000, seed=5)
    one = SpatialProcessor(name)
    two = SpatialProcessor(name, num_threads=2)
    for buffer_size in (4096, 777):
        np.testing.assert_array_equal(two(x, 48000.0, buffer_size=buffer_size), one(x, 48000.0, buffer_size=buffer_size))
    np.testing.assert_array_equal(two(x[0], 48000.0), one(x[0], 48000.0))  # mono
    streamed = [two(x[:, :5000], 48000.0, reset=False), two(x[:, 5000:], 48000.0, reset=False), two.flush()]
    np.testing.assert_array_equal(np.concatenate(streamed, axis=1), streaming_render(one, x, 48000.0))


def test_two_thread_render_follows_a_redesign_like_one_thread():
    x = _noise(20000, seed=6)
    one, two = SpatialProcessor("studio-speaker"), SpatialProcessor("studio-speaker", num_threads=2)
    for proc in (one, two):
        proc(x, 48000.0)
        proc.width_deg = 20.0
    np.testing.assert_array_equal(two(x, 48000.0), one(x, 48000.0))


@pytest.mark.parametrize("value", [0, 3, 1.5, True, "2"])
def test_num_threads_is_checked(value):
    from soundstage import ParameterError

    with pytest.raises(ParameterError, match="num_threads must be 1 or 2"):
        SpatialProcessor("studio-speaker", num_threads=value)


def test_a_crossfade_mid_stream_is_the_same_with_two_threads():
    x = _noise(24000, seed=7)
    outputs = []
    for threads in (1, 2):
        proc = SpatialProcessor("studio-speaker", num_threads=threads)
        parts = [proc(x[:, :9000], 48000.0, reset=False)]
        proc.centre_gain_db = -4.0
        proc.wait_for_design()
        parts += [proc(x[:, 9000:], 48000.0, reset=False), proc.flush()]
        outputs.append(np.concatenate(parts, axis=1))
    np.testing.assert_array_equal(outputs[1], outputs[0])
