"""The pedalboard calling convention, checked against pedalboard 0.9.26 itself.

The oracle for "which layout did pedalboard pick" is a one-sample ``pedalboard.Delay`` at
1 kHz: the impulse at ``x.flat[0]`` moves along whichever axis pedalboard reads as time.
"""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from board_test_processors import DelayGain
from soundstage._convention import (
    AudioLayoutError,
    LayoutMemory,
    check_buffer_size,
    check_finite,
    check_sample_rate,
    coerce_audio,
    restore_layout,
    to_channels_first,
)
from soundstage._errors import AudioFormatError, ParameterError

RATE = 1000.0


def _one_sample_delay() -> pedalboard.Delay:
    return pedalboard.Delay(delay_seconds=1.0 / RATE, feedback=0.0, mix=1.0)


def _impulse(shape) -> np.ndarray:
    x = np.zeros(shape, dtype=np.float32)
    if x.size:
        x.flat[0] = 1.0
    return x


def _layout_read(process, shape, error_type) -> str:
    """'first', 'last' or 'error': how ``process`` (a pedalboard plugin or a soundstage
    processor) read an impulse array of ``shape``."""
    try:
        y = process(_impulse(shape), RATE)
    except error_type:
        return "error"
    assert y.shape == tuple(shape)
    if y.ndim == 2 and y.shape[0] > 1 and y[1, 0] == 1.0:
        return "last"
    if y.ndim == 2 and y.shape[1] > 1 and y[0, 1] == 1.0:
        return "first"
    raise AssertionError(f"cannot tell the layout of {shape} from {y}")


def _pedalboard_layout(plugin, shape) -> str:
    return _layout_read(plugin, shape, RuntimeError)


def _soundstage_layout(processor, shape) -> str:
    return _layout_read(processor, shape, AudioLayoutError)


# Each sequence: shapes fed one after the other; the last one is the probe. 'R' resets.
SEQUENCES = [
    [(3, 2)],
    [(2, 3)],
    [(2, 5)],
    [(5, 2)],
    [(2, 2)],  # square on a fresh plugin
    [(3, 3)],
    [(3, 100), (3, 2)],  # remembered 3 channels wins over "smaller is channels"
    [(3, 100), "R", (3, 2)],  # reset forgets it
    [(3, 100), (2, 2)],  # square after a known layout: cached layout
    [(100, 2), (2, 2)],
    [(100, 2), (2, 5)],
    [(100, 2), (3, 5)],
    [(100, 2), (5, 3)],
    [(100, 2), (4, 4)],
    [(2, 100), (100,), (3, 3)],  # mono remembers channels-first
    [(2, 100), (100,), (3, 2)],
    [(100, 2), "R", (2, 2)],
    [(0, 3), (3, 3)],
    [(3, 0), (3, 3)],
]


@pytest.mark.parametrize("sequence", SEQUENCES, ids=str)
def test_layout_detection_matches_pedalboard(sequence):
    reference, ours = _one_sample_delay(), DelayGain(latency=1, gain=1.0)
    for item in sequence[:-1]:
        if item == "R":
            reference.reset()
            ours.reset()
        else:
            reference(_impulse(item), RATE)
            ours(_impulse(item), RATE)
    probe = sequence[-1]
    expected = _pedalboard_layout(reference, probe)
    memory = LayoutMemory()
    for item in sequence[:-1]:
        if item == "R":
            memory.clear()
        else:
            memory.remember(memory.detect(item))
    try:
        layout = memory.detect(probe)
        got = "last" if layout.channels_last else "first"
    except AudioLayoutError:
        got = "error"
    assert got == expected
    # The same through a processor's public call (its own memory, updated by each call).
    if expected == "error":
        with pytest.raises(AudioLayoutError, match="Unable to determine channel layout"):
            ours.process(_impulse(probe), RATE)
    else:
        assert ours.process(_impulse(probe), RATE).shape == probe
        assert ours._layout_memory.channels_last == (expected == "last")


def test_fresh_two_by_one_is_channels_last_like_pedalboard():
    assert _pedalboard_layout(_one_sample_delay(), (2, 1)) == "last"
    layout = LayoutMemory().detect((2, 1))
    assert layout.channels_last and layout.num_channels == 1 and layout.num_samples == 2


def test_an_empty_stereo_block_fixes_the_layout_for_a_one_sample_start():
    p = DelayGain(latency=0, gain=1.0)
    assert p.process(np.zeros((2, 0), np.float32), RATE, reset=False).shape == (2, 0)
    first = np.array([[0.5], [-0.25]], np.float32)
    np.testing.assert_array_equal(p.process(first, RATE, reset=False), first)  # two channels


def test_processor_reads_layout_like_pedalboard_in_time():
    """A raw one-sample delay (streamed, not compensated) moves the impulse the same way."""
    for shape in [(3, 2), (2, 3), (2, 1)]:
        reference = _one_sample_delay()(_impulse(shape), RATE)
        p = DelayGain(latency=1, gain=1.0)
        raw = np.concatenate(
            [p.process(_impulse(shape), RATE, reset=False), p.flush()],
            axis=0 if LayoutMemory().detect(shape).channels_last else 1,
        )
        n = LayoutMemory().detect(shape).num_samples
        if LayoutMemory().detect(shape).channels_last:
            delayed = np.concatenate([np.zeros((1, shape[1]), np.float32), raw])[:n]
        else:
            delayed = np.concatenate([np.zeros((shape[0], 1), np.float32), raw], axis=1)[:, :n]
        np.testing.assert_array_equal(delayed, reference)


def test_square_on_fresh_processor_is_a_runtime_error_like_pedalboard():
    with pytest.raises(RuntimeError, match="Unable to determine channel layout"):
        pedalboard.Gain(0)(np.zeros((2, 2), np.float32), 48000)
    with pytest.raises(RuntimeError, match=r"\(2, 2\).*non-square array first"):
        DelayGain()(np.zeros((2, 2), np.float32), 48000)
    with pytest.raises(AudioFormatError):
        DelayGain()(np.zeros((2, 2), np.float32), 48000)


@pytest.mark.parametrize("ndim", [0, 3])
def test_wrong_number_of_dimensions(ndim):
    shape = (2,) * ndim
    with pytest.raises(RuntimeError, match="Number of input dimensions must be 1 or 2"):
        pedalboard.Gain(0)(np.zeros(shape, np.float32), 48000)
    with pytest.raises(AudioLayoutError, match=rf"must be 1 or 2 \(got {ndim}"):
        DelayGain()(np.zeros(shape, np.float32), 48000)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float16, np.complex64, bool])
def test_unsupported_dtypes_are_type_errors_like_pedalboard(dtype):
    x = np.zeros((2, 16), dtype=dtype)
    with pytest.raises(TypeError, match="only supports 32-bit and 64-bit floating point"):
        pedalboard.Gain(0)(x, 48000)
    with pytest.raises(AudioFormatError, match=r"only supports 32-bit and 64-bit.*dtype"):
        DelayGain()(x, 48000)
    with pytest.raises(TypeError):
        coerce_audio(x)


def test_non_arrays_are_rejected():
    with pytest.raises(AudioFormatError, match="input_array must be a numpy.ndarray.*list"):
        DelayGain()([0.0, 1.0], 48000)


def test_float32_used_as_is_and_float64_converted_like_pedalboard():
    rng = np.random.default_rng(1)
    x64 = rng.standard_normal((2, 500))
    x32 = x64.astype(np.float32)
    assert coerce_audio(x32) is x32
    assert coerce_audio(x64).dtype == np.float32
    # A unity gain shows the conversion: float64 -> float32 rounding, as pedalboard does.
    ref = pedalboard.Gain(0)(x64, 48000)
    ours = DelayGain(latency=3, gain=1.0)(x64, 48000)
    assert ours.dtype == ref.dtype == np.float32
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(ours, x32)


def test_output_is_a_new_array_and_input_untouched():
    x = np.random.default_rng(2).standard_normal((2, 300)).astype(np.float32)
    before = x.copy()
    p = DelayGain(latency=0, gain=1.0)
    y = p(x, 48000)
    assert not np.shares_memory(x, y)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(y, x)
    y[:] = 7  # writable and independent
    np.testing.assert_array_equal(x, before)


def test_mono_and_channels_last_round_trip():
    rng = np.random.default_rng(3)
    mono = rng.standard_normal(400).astype(np.float32)
    stereo_last = rng.standard_normal((400, 2)).astype(np.float32)
    p = DelayGain(latency=5, gain=2.0)
    y = p(mono, 48000)
    assert y.shape == (400,)
    np.testing.assert_array_equal(y, mono * np.float32(2.0))
    y = DelayGain(latency=5, gain=2.0)(stereo_last, 48000)
    assert y.shape == (400, 2) and y.flags.c_contiguous
    np.testing.assert_array_equal(y, stereo_last * np.float32(2.0))
    # non-contiguous views are accepted
    view = rng.standard_normal((800, 2))[::2]
    np.testing.assert_array_equal(
        DelayGain(latency=0, gain=1.0)(view, 48000), view.astype(np.float32)
    )


def test_helpers_restore_layout():
    memory = LayoutMemory()
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    layout = memory.detect(x.shape)
    block = to_channels_first(x, layout)
    assert block.shape == (2, 5) and block.flags.c_contiguous
    back = restore_layout(block, layout)
    np.testing.assert_array_equal(back, x)
    assert not np.shares_memory(back, block)


@pytest.mark.parametrize("buffer_size", [0, -1, 1.5, True, "8"])
def test_buffer_size_must_be_a_positive_integer(buffer_size):
    with pytest.raises(ParameterError, match="buffer_size must be"):
        check_buffer_size(buffer_size)
    with pytest.raises(ParameterError, match="buffer_size must be"):
        DelayGain()(np.zeros((2, 10), np.float32), 48000, buffer_size=buffer_size)


@pytest.mark.parametrize("sample_rate", [0, -48000, float("nan"), float("inf"), "fast"])
def test_sample_rate_must_be_positive_and_finite(sample_rate):
    with pytest.raises(ParameterError, match="sample_rate must be"):
        check_sample_rate(sample_rate)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_named_before_any_state_changes(bad):
    p = DelayGain(latency=4)
    x = np.random.default_rng(4).standard_normal((2, 50)).astype(np.float32)
    first = p.process(x, 48000, reset=False)
    assert first.shape == (2, 46)
    y = x.copy()
    y[1, 7] = bad
    y[0, 9] = bad
    with pytest.raises(ParameterError, match="channel 1, sample 7"):
        p.process(y, 48000, reset=False)
    with pytest.raises(ParameterError, match="channel 1, sample 7"):
        check_finite(y)
    # The stream continues as if the bad call never happened.
    rest = p.process(x, 48000, reset=False)
    tail = p.flush()
    full = np.concatenate([first, rest, tail], axis=1)
    np.testing.assert_array_equal(full, np.concatenate([x, x], axis=1) * np.float32(0.5))
    # channels-last input: the message still counts channels-first
    with pytest.raises(ParameterError, match="channel 1, sample 7"):
        DelayGain()(np.ascontiguousarray(y.T), 48000)


def test_one_shot_is_aligned_and_as_long_as_input():
    x = np.random.default_rng(5).standard_normal((2, 1000)).astype(np.float32)
    p = DelayGain(latency=123, gain=0.5)
    for buffer_size in (1, 64, 1000, 8192):
        y = p(x, 44100, buffer_size=buffer_size)
        np.testing.assert_array_equal(y, x * np.float32(0.5))


def test_streaming_holds_back_latency_and_zeros_flush():
    x = np.random.default_rng(6).standard_normal((2, 100)).astype(np.float32)
    p = DelayGain(latency=30, gain=1.0)
    lengths = [p.process(x[:, i : i + 10], 48000, reset=False).shape[1] for i in range(0, 100, 10)]
    assert lengths == [0, 0, 0, 10, 10, 10, 10, 10, 10, 10]
    tail = p.process(np.zeros((2, 30), np.float32), 48000, reset=False)
    np.testing.assert_array_equal(tail, x[:, 70:])


def test_streaming_guards():
    p = DelayGain(latency=3)
    x = np.zeros((2, 100), np.float32)
    p.process(x, 48000, reset=False)
    with pytest.raises(ParameterError, match=r"sample_rate changed.*48000 Hz -> 44100 Hz"):
        p.process(x, 44100, reset=False)
    with pytest.raises(ParameterError, match=r"number of channels changed.*2 -> 3"):
        p.process(np.zeros((3, 100), np.float32), 48000, reset=False)
    # reset=True or reset() starts afresh
    assert p.process(np.zeros((3, 100), np.float32), 44100).shape == (3, 100)
    assert p.process(x, 48000, reset=False).shape == (2, 97)
    p.reset()
    assert p.process(np.zeros((3, 100), np.float32), 44100, reset=False).shape == (3, 97)


def test_prepare_only_when_needed():
    p = DelayGain()
    x = np.zeros((2, 100), np.float32)
    p(x, 48000)
    p(x, 48000)
    p.process(x, 48000, reset=False)
    assert p.prepare_calls == [(48000.0, 2, 8192)]
    p(x, 44100)
    assert p.prepare_calls[-1] == (44100.0, 2, 8192)


def test_flush_without_stream_is_empty_and_flush_ends_stream():
    p = DelayGain(latency=5)
    assert p.flush().shape == (1, 0)
    x = np.ones((200, 2), np.float32)
    p.process(x, 48000, reset=False)
    tail = p.flush()
    assert tail.shape == (5, 2)
    assert p.process(x, 48000, reset=False).shape == (195, 2)  # a new stream


def test_protocol_attributes():
    p = DelayGain()
    assert p.is_effect is True and p.is_instrument is False
    assert DelayGain.__call__ is DelayGain.process


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=12),
    latency=st.integers(min_value=0, max_value=700),
    buffer_size=st.integers(min_value=1, max_value=600),
)
@example(sizes=[1], latency=0, buffer_size=1)  # a fresh (2, 1) block: see the docstring
@example(sizes=[1, 1, 0, 2], latency=1, buffer_size=1)
@example(sizes=[0, 1], latency=700, buffer_size=600)
def test_any_chunking_equals_one_call(sizes, latency, buffer_size):
    """Any split of a stereo stream equals one call, once the stream knows it is stereo.

    The first block of a stream decides the layout as in pedalboard: a fresh processor reads a
    ``(2, 1)`` block as one channel of two samples (channels-last), because a block with fewer
    samples than channels is, to pedalboard, ``(samples, channels)``. That is deliberate
    (``test_fresh_two_by_one_is_channels_last_like_pedalboard``): a host that may start a
    stereo stream with a one-sample block announces the layout first with an empty ``(2, 0)``
    block, as ``soundstage.board.stream_file`` does; the empty call processes nothing and
    only fixes the layout.
    """
    rng = np.random.default_rng(len(sizes) * 1000 + latency)
    x = rng.standard_normal((2, sum(sizes))).astype(np.float32)
    p = DelayGain(latency=latency, gain=0.75)
    one_shot = p.process(x, 48000, buffer_size=buffer_size)
    assert p.process(np.zeros((2, 0), np.float32), 48000, buffer_size=buffer_size, reset=False).shape == (2, 0)
    parts, start, given_total, returned_total = [], 0, 0, 0
    for size in sizes:
        part = p.process(x[:, start : start + size], 48000, buffer_size=buffer_size, reset=False)
        start += size
        given_total += size
        returned_total += part.shape[1]
        assert returned_total <= given_total  # never more than given
        assert returned_total == max(0, given_total - latency)
        parts.append(part)
    parts.append(p.flush())
    streamed = np.concatenate(parts, axis=1)
    assert streamed.shape == one_shot.shape
    assert np.array_equal(streamed, one_shot)
    np.testing.assert_array_equal(one_shot, x * np.float32(0.75))
