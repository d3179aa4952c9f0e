"""A Board of native plugins against pedalboard.Pedalboard of the same plugins.

The references are fresh, identically configured instances (pedalboard plugins cannot be
shared or copied). Streaming relies on two measured pedalboard 0.9.26 facts
(``notes/pedalboard.md``): priming makes sample-stable plugins chunk-size independent, and
fixed re-blocking makes Resample, MP3Compressor and Convolution match one-shot exactly.
"""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest
import soundfile

from soundstage.board import Board

RATE = 48000
N = 20000


@pytest.fixture(scope="module")
def ir_path(tmp_path_factory):
    """A 1 s decaying-noise impulse response written with soundfile."""
    rng = np.random.default_rng(7)
    ir = rng.standard_normal(RATE) * np.exp(-np.arange(RATE) / 4000.0) * 0.1
    path = tmp_path_factory.mktemp("ir") / "ir_1s.wav"
    soundfile.write(path, ir.astype(np.float32), RATE, subtype="FLOAT")
    return str(path)


CHAINS = {
    "gain-compressor-reverb-chorus": lambda ir: [
        pedalboard.Gain(gain_db=3),
        pedalboard.Compressor(threshold_db=-20, ratio=4),
        pedalboard.Reverb(room_size=0.6),
        pedalboard.Chorus(),
    ],
    "resample-brickwall": lambda ir: [pedalboard.Resample(8000), pedalboard.BrickwallLimiter()],
    "delay-mp3": lambda ir: [
        pedalboard.Delay(delay_seconds=0.05, feedback=0.5, mix=0.5),
        pedalboard.MP3Compressor(),
    ],
    "convolution-ladder": lambda ir: [pedalboard.Convolution(ir), pedalboard.LadderFilter()],
    # Branches of different latency: 0 and 240 samples (BrickwallLimiter).
    "mix-unequal-latency": lambda ir: [
        pedalboard.Mix(
            [
                pedalboard.Gain(gain_db=2),
                pedalboard.Chain([pedalboard.BrickwallLimiter(), pedalboard.Gain(gain_db=-3)]),
            ]
        ),
        pedalboard.Reverb(),
    ],
    "nested-chain-latency-then-tail": lambda ir: [
        pedalboard.Reverb(room_size=0.3),
        pedalboard.Pedalboard([pedalboard.HighpassFilter(200), pedalboard.BrickwallLimiter()]),
    ],
}


def _signal(seed: int = 0, n: int = N) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((2, n)) * 0.3).astype(np.float32)


def _schedules():
    rng = np.random.default_rng(11)
    random_sizes = [int(s) for s in rng.integers(1, 9001, size=40)]
    growing = [5, 10, 50, 200, 1000, 4000, 8192, 9000]  # (2, 1) first would be mono
    return {"random": random_sizes, "growing": growing * 3}


def _stream(board: Board, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    parts, start, i = [], 0, 0
    while start < x.shape[1]:
        size = sizes[i % len(sizes)]
        part = board(x[:, start : start + size], RATE, reset=False)
        assert part.shape[1] <= size
        parts.append(part)
        start += size
        i += 1
    parts.append(board.flush())
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("name", list(CHAINS))
def test_one_shot_is_bit_identical_to_pedalboard(name, ir_path):
    x = _signal()
    reference = pedalboard.Pedalboard(CHAINS[name](ir_path))(x, RATE)
    board = Board(CHAINS[name](ir_path))
    y = board(x, RATE)
    assert y.shape == x.shape
    assert np.array_equal(y, reference)
    # a second call (plugins already prepared, latency measured) is still identical
    assert np.array_equal(board(x, RATE), reference)


@pytest.mark.parametrize("schedule", ["random", "growing"])
@pytest.mark.parametrize("name", list(CHAINS))
def test_streaming_any_chunks_equals_pedalboard_one_shot(name, schedule, ir_path):
    x = _signal(1)
    reference = pedalboard.Pedalboard(CHAINS[name](ir_path))(x, RATE)
    board = Board(CHAINS[name](ir_path))
    streamed = _stream(board, x, _schedules()[schedule])
    assert streamed.shape == reference.shape
    # Exact, Convolution included: its segment is re-blocked (priming would leave ~2e-8).
    assert np.array_equal(streamed, reference)


def _stream_mono(board, x, size, buffer_size):
    parts = [
        board(x[i : i + size], RATE, buffer_size=buffer_size, reset=False)
        for i in range(0, x.shape[0], size)
    ]
    return np.concatenate(parts + [board.flush()])


@pytest.mark.parametrize("first", ["resample", "convolution"])
def test_streaming_with_small_buffer_size_and_mono(first, ir_path):
    x = _signal(2, 6000)[0]

    def chain():
        head = pedalboard.Resample(11025) if first == "resample" else pedalboard.Convolution(ir_path)
        return [head, pedalboard.Gain(-2)]

    reference = pedalboard.Pedalboard(chain())(x, RATE, buffer_size=512)
    board = Board(chain())
    assert np.array_equal(board(x, RATE, buffer_size=512), reference)
    streamed = _stream_mono(board, x, 700, 512)
    assert streamed.ndim == 1 and np.array_equal(streamed, reference)


def test_convolution_after_resample_matches_to_float_rounding(ir_path):
    """Resample hands the Convolution blocks of varying length; the one-shot run ends on a
    partial block where the re-blocked stream does not, and JUCE's partitioned convolution
    rounds differently for different block patterns. The difference stays at float32
    rounding of the output (measured max 1.2e-8 for signals of rms 0.3)."""
    x = _signal(2, 6000)
    chain = lambda: [pedalboard.Resample(11025), pedalboard.Convolution(ir_path)]  # noqa: E731
    reference = pedalboard.Pedalboard(chain())(x, RATE, buffer_size=512)
    board = Board(chain())
    parts = [board(x[:, i : i + 700], RATE, buffer_size=512, reset=False) for i in range(0, 6000, 700)]
    streamed = np.concatenate(parts + [board.flush()], axis=1)
    assert streamed.shape == reference.shape
    assert np.max(np.abs(streamed - reference)) <= 2e-8
    assert np.max(np.abs(reference)) > 0.01  # the bound is meaningful: the output is not silent


def test_latency_is_measured_not_assumed():
    board = Board([pedalboard.BrickwallLimiter(), pedalboard.Gain(0)])
    x = _signal(3, 4000)
    first = board(x, RATE, reset=False)
    # BrickwallLimiter holds back 240 samples at 48 kHz and is primed, not re-blocked.
    assert board.latency_samples == 240
    assert first.shape == (2, 4000 - 240)
    assert board.flush().shape == (2, 240)


def test_parameters_stay_live():
    gain = pedalboard.Gain(gain_db=0)
    board = Board([gain, pedalboard.LowpassFilter(4000)])
    x = _signal(4, 3000)
    quiet = board(x, RATE)
    gain.gain_db = 6.0
    loud = board(x, RATE)
    reference = pedalboard.Pedalboard([pedalboard.Gain(6), pedalboard.LowpassFilter(4000)])(x, RATE)
    assert not np.array_equal(quiet, loud)
    assert np.array_equal(loud, reference)


def test_to_pedalboard_holds_the_same_instances():
    items = [pedalboard.Gain(1), pedalboard.Reverb()]
    native = Board(items).to_pedalboard()
    assert isinstance(native, pedalboard.Pedalboard)
    assert all(a is b for a, b in zip(native, items))
