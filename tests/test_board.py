"""Board with soundstage processors: alignment, streaming, channel changes, guards, list API."""

from __future__ import annotations

import threading

import numpy as np
import pedalboard
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from board_test_processors import DelayGain, MatrixProcessor, RawDelay, downmix_matrix, upmix_matrix
from soundstage._errors import ParameterError
from soundstage.board import Board, BoardItemError, BoardMix

RATE = 48000


def _signal(seed: int, n: int, channels: int = 2) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((channels, n)) * 0.3).astype(np.float32)


def _driver_board() -> Board:
    """2 -> 5 (latency 64) -> per-driver Limiter -> 5 -> 2 -> Reverb, with filters in front."""
    return Board(
        [
            pedalboard.HighpassFilter(cutoff_frequency_hz=120),
            pedalboard.Compressor(threshold_db=-18, ratio=3),
            MatrixProcessor(upmix_matrix(), latency=64),
            pedalboard.Limiter(threshold_db=-6),
            MatrixProcessor(downmix_matrix(), latency=0),
            pedalboard.Reverb(room_size=0.4),
        ]
    )


def _stream(board: Board, x: np.ndarray, sizes, **kwargs) -> np.ndarray:
    parts, start, i = [], 0, 0
    while start < x.shape[1]:
        size = sizes[i % len(sizes)]
        parts.append(board(x[:, start : start + size], RATE, reset=False, **kwargs))
        start += size
        i += 1
    parts.append(board.flush())
    return np.concatenate(parts, axis=1)


def test_mixed_board_one_shot_equals_stagewise_pedalboard_reference():
    x = _signal(0, 12000)
    front = pedalboard.Pedalboard(
        [pedalboard.HighpassFilter(cutoff_frequency_hz=120), pedalboard.Compressor(threshold_db=-18, ratio=3)]
    )(x, RATE)
    drivers = pedalboard.Limiter(threshold_db=-6)(upmix_matrix() @ front, RATE)
    expected = pedalboard.Reverb(room_size=0.4)(downmix_matrix() @ drivers, RATE)
    board = _driver_board()
    y = board(x, RATE)
    assert y.shape == x.shape
    assert np.array_equal(y, expected)
    assert board.latency_samples == 64


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(min_value=3, max_value=9000), min_size=1, max_size=8))
def test_mixed_board_streaming_any_chunks_equals_one_shot(sizes):
    x = _signal(1, 15000)
    board = _driver_board()
    one_shot = board(x, RATE)
    streamed = _stream(board, x, sizes)
    assert streamed.shape == one_shot.shape
    assert np.array_equal(streamed, one_shot)


def test_growing_chunks_through_latency_and_reblocked_stages():
    x = _signal(2, 20000)
    board = Board(
        [
            pedalboard.Gain(2),
            MatrixProcessor(upmix_matrix(), latency=37),
            pedalboard.BrickwallLimiter(),
            pedalboard.Resample(16000),
            MatrixProcessor(downmix_matrix(), latency=5),
            pedalboard.Delay(delay_seconds=0.01, feedback=0.3, mix=0.5),
        ]
    )
    one_shot = board(x, RATE)
    for sizes in ([5, 50, 500, 5000, 9000], [9000, 1, 7, 8191, 2]):
        assert np.array_equal(_stream(board, x, sizes), one_shot)


def test_impulse_stays_aligned_through_several_latency_stages():
    n, at = 6000, 1234
    x = np.zeros((2, n), np.float32)
    x[0, at] = 0.25
    board = Board(
        [
            RawDelay(100),
            MatrixProcessor(upmix_matrix(), latency=37),
            pedalboard.BrickwallLimiter(ceiling_db=0),
            Board([pedalboard.Gain(0), DelayGain(latency=11, gain=1.0)]),
            MatrixProcessor(downmix_matrix(), latency=3),
        ]
    )
    y = board(x, RATE)
    assert y.shape == (2, n)
    assert board.latency_samples == 100 + 37 + 240 + 11 + 3
    assert int(np.argmax(np.abs(y[0]))) == at
    expected = downmix_matrix() @ (upmix_matrix() @ x)  # the limiter stays below threshold
    np.testing.assert_allclose(y, expected, atol=1e-6)


def test_channels_last_input_gives_transposed_result():
    x = _signal(3, 5000)
    up = Board([pedalboard.Gain(1), MatrixProcessor(upmix_matrix(), latency=20), pedalboard.Gain(-1)])
    first = up(x, RATE)
    assert first.shape == (5, 5000)
    last = Board([pedalboard.Gain(1), MatrixProcessor(upmix_matrix(), latency=20), pedalboard.Gain(-1)])(
        np.ascontiguousarray(x.T), RATE
    )
    assert last.shape == (5000, 5)
    assert np.array_equal(last, first.T)


def test_board_mix_sums_latency_aligned_branches():
    x = _signal(4, 8000)
    mix = BoardMix([[DelayGain(latency=30, gain=0.5)], RawDelay(7), pedalboard.Gain(gain_db=-6)])
    board = Board([mix, DelayGain(latency=3, gain=1.0)])
    y = board(x, RATE)
    gain = pedalboard.Gain(gain_db=-6)(x, RATE)
    expected = (x * np.float32(0.5) + x) + gain
    assert np.array_equal(y, expected)
    assert mix.latency_samples == 30 and board.latency_samples == 33
    assert np.array_equal(_stream(board, x, [333, 4000, 17]), y)
    assert np.array_equal(mix(x, RATE), expected)  # a BoardMix is itself a processor


def test_nested_boards_stream_like_one_shot():
    x = _signal(5, 9000)
    inner = Board([pedalboard.Chorus(), MatrixProcessor(upmix_matrix(), latency=9)])
    board = Board([pedalboard.Gain(3), inner, pedalboard.Compressor(), MatrixProcessor(downmix_matrix(), 4)])
    y = board(x, RATE)
    assert y.shape == (2, 9000)
    assert np.array_equal(_stream(board, x, [1000, 64, 4097]), y)


def test_one_shot_only_plugins_work_one_shot_and_refuse_streaming():
    x = _signal(6, 24000)
    reference = pedalboard.PitchShift(semitones=3)(x, RATE)
    board = Board([pedalboard.PitchShift(semitones=3)])
    assert np.array_equal(board(x, RATE), reference)
    with pytest.raises(ParameterError, match=r"item 0 .*PitchShift.*cannot stream with reset=False"):
        board(x, RATE, reset=False)
    mixed = Board([pedalboard.GSMFullRateCompressor(), DelayGain(latency=5, gain=2.0)])
    padded = np.concatenate([x, np.zeros((2, 5), np.float32)], axis=1)
    expected = pedalboard.GSMFullRateCompressor()(padded, RATE)[:, :24000] * np.float32(2.0)
    assert np.array_equal(mixed(x, RATE), expected)
    with pytest.raises(ParameterError, match="GSMFullRateCompressor.*cannot stream"):
        mixed(x, RATE, reset=False)


def test_channel_mismatch_names_the_item():
    board = Board([pedalboard.Gain(0), MatrixProcessor(upmix_matrix()), MatrixProcessor(upmix_matrix())])
    with pytest.raises(ParameterError, match=r"item 2 \(MatrixProcessor\(2->5.*cannot take 5 channels"):
        board(_signal(7, 100), RATE)


def test_mp3_above_two_channels_is_an_error_naming_the_item():
    board = Board([MatrixProcessor(upmix_matrix()), pedalboard.MP3Compressor()])
    with pytest.raises(ParameterError, match=r"item 1 \(<pedalboard.MP3Compressor.*5 channels"):
        board(_signal(8, 3000), RATE)


@pytest.mark.parametrize("make", [lambda: pedalboard.Reverb(), lambda: pedalboard.Convolution(_IR)])
def test_stereo_only_plugins_warn_above_two_channels(make, tmp_path):
    board = Board([MatrixProcessor(upmix_matrix()), make(), MatrixProcessor(downmix_matrix())])
    with pytest.warns(UserWarning, match=r"item 1 .*fed 5 channels"):
        board(_signal(9, 3000), RATE)


_IR = None


@pytest.fixture(autouse=True, scope="module")
def _ir_file(tmp_path_factory):
    import soundfile

    global _IR
    path = tmp_path_factory.mktemp("ir") / "ir.wav"
    ir = np.exp(-np.arange(2400) / 300.0).astype(np.float32) * 0.1
    soundfile.write(path, ir, RATE, subtype="FLOAT")
    _IR = str(path)


def test_same_instance_twice_is_refused_anywhere():
    gain = pedalboard.Gain(0)
    proc = DelayGain()
    with pytest.raises(ParameterError, match=r"twice.*item 0 and at item 1"):
        Board([gain, gain])
    with pytest.raises(ParameterError, match=r"twice.*item 1 -> item 0"):
        Board([proc, Board([proc])])
    with pytest.raises(ParameterError, match=r"twice.*item 0 -> 0 and at item 1"):
        Board([pedalboard.Chain([gain]), gain])
    with pytest.raises(ParameterError, match="twice"):
        Board([BoardMix([[gain], [pedalboard.Gain(1), gain]])])
    board = Board([gain])
    with pytest.raises(ParameterError, match="twice"):
        board.append(gain)
    assert len(board) == 1  # the failed append changed nothing


def test_nested_duplicate_added_later_is_caught_at_prepare():
    gain = pedalboard.Gain(0)
    inner = Board([pedalboard.Gain(1)])
    board = Board([gain, inner])
    inner.append(gain)
    with pytest.raises(ParameterError, match="twice"):
        board(_signal(10, 100), RATE)


def test_streaming_guards():
    board = _driver_board()
    x = _signal(11, 2000)
    board(x, RATE, reset=False)
    with pytest.raises(ParameterError, match="sample_rate changed"):
        board(x, 44100, reset=False)
    with pytest.raises(ParameterError, match="number of channels changed"):
        board(_signal(11, 2000, channels=3), RATE, reset=False)
    with pytest.raises(ParameterError, match="buffer_size must be >= 1"):
        board(x, RATE, buffer_size=0)


def test_non_processors_are_refused():
    with pytest.raises(BoardItemError, match=r"item 1 \(.*object.*neither a native"):
        Board([pedalboard.Gain(0), object()])
    with pytest.raises(TypeError):
        Board([lambda x: x])


def test_list_api_like_pedalboard():
    a, b, c, d = pedalboard.Gain(1), DelayGain(), pedalboard.Reverb(), RawDelay(3)
    board = Board([a, b])
    board.append(c)
    board.insert(0, d)
    assert list(board) == [d, a, b, c] and len(board) == 4
    assert board[0] is d and board[-1] is c
    assert b in board and pedalboard.Gain(1) not in board
    with pytest.raises(IndexError):
        board.insert(9, pedalboard.Gain(2))
    board.remove(d)
    assert list(board) == [a, b, c]
    sub = board[1:]
    assert isinstance(sub, Board) and list(sub) == [b, c]
    del board[1]
    board.extend([RawDelay(1), None])
    assert len(board) == 4 and board[3] is None
    board[0] = pedalboard.Gain(2)
    assert board[0] is not a
    text = repr(board)
    assert text.startswith("<soundstage.Board with 4 items: [<pedalboard.Gain") and "RawDelay(1)" in text
    assert Board().output_channels(2) == 2
    x = _signal(12, 500)
    assert np.array_equal(Board()(x, RATE), x) and np.array_equal(Board([None])(x, RATE), x)


def test_changing_items_ends_the_stream():
    board = Board([DelayGain(latency=10, gain=1.0)])
    x = _signal(13, 100)
    assert board(x, RATE, reset=False).shape == (2, 90)
    board.append(RawDelay(5))
    assert board(x, RATE, reset=False).shape == (2, 85)  # a new stream with the new latency


def test_to_pedalboard_names_the_first_non_native_item():
    with pytest.raises(ParameterError, match=r"item 1 \(MatrixProcessor.*not a native"):
        Board([pedalboard.Gain(0), MatrixProcessor(upmix_matrix()), DelayGain()]).to_pedalboard()


def test_threads_sharing_a_board_serialise():
    board = _driver_board()
    x = _signal(14, 6000)
    expected = board(x, RATE)
    results = [None] * 4

    def run(i):
        results[i] = board(x, RATE)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(r, expected) for r in results)
