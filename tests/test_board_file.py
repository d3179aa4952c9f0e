"""Board.process_file / fileio.stream_file: streamed file renders equal one-shot processing."""

from __future__ import annotations

import os

import numpy as np
import pedalboard
import pytest
from pedalboard.io import AudioFile

from board_test_processors import DelayGain, MatrixProcessor, upmix_matrix
from soundstage._errors import ParameterError
from soundstage.board import Board
from soundstage.board.files import stream_file

RATE = 48000


def _write(path, x: np.ndarray) -> None:
    with AudioFile(str(path), "w", RATE, x.shape[0], bit_depth=32) as f:
        f.write(x[:, :1])  # a square array alone would be ambiguous to pedalboard's writer
        f.write(x[:, 1:])


def _read(path) -> np.ndarray:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


@pytest.fixture
def stereo_file(tmp_path):
    x = (np.random.default_rng(0).standard_normal((2, 30011)) * 0.2).astype(np.float32)
    path = tmp_path / "in.wav"
    _write(path, x)
    return path, x


def test_process_file_equals_one_shot(stereo_file, tmp_path):
    path, x = stereo_file
    board = Board([pedalboard.Compressor(), MatrixProcessor(upmix_matrix(), latency=100), pedalboard.Gain(-3)])
    out = tmp_path / "out.wav"
    board.process_file(path, out, buffer_size=4096, progress=False)
    rendered = _read(out)
    assert rendered.shape == (5, 30011)
    assert np.array_equal(rendered, board(x, RATE, buffer_size=4096))
    assert sorted(os.listdir(tmp_path)) == ["in.wav", "out.wav"]  # no temporary file left


def test_stream_file_with_a_processor_and_a_native_plugin(stereo_file, tmp_path):
    path, x = stereo_file
    stats = stream_file(DelayGain(latency=777, gain=0.5), path, tmp_path / "a.flac", progress=False)
    assert stats.frames == 30011 and stats.num_output_channels == 2 and stats.realtime_factor > 0
    assert np.max(np.abs(_read(tmp_path / "a.flac") - x * 0.5)) < 2.0**-22  # 24-bit FLAC
    stream_file(pedalboard.Gain(6), path, tmp_path / "b.wav", buffer_size=1000, progress=False)
    assert np.array_equal(_read(tmp_path / "b.wav"), pedalboard.Gain(6)(x, RATE))


def test_refuses_to_overwrite_unless_asked(stereo_file, tmp_path):
    path, _ = stereo_file
    out = tmp_path / "out.wav"
    out.write_bytes(b"keep me")
    with pytest.raises(ParameterError, match="already exists; pass overwrite=True"):
        stream_file(DelayGain(), path, out, progress=False)
    assert out.read_bytes() == b"keep me"
    stream_file(DelayGain(), path, out, overwrite=True, progress=False)
    assert _read(out).shape == (2, 30011)
    with pytest.raises(ParameterError, match="is the input file itself"):
        stream_file(DelayGain(), path, path, overwrite=True, progress=False)
    with pytest.raises(ParameterError, match="does not exist"):
        stream_file(DelayGain(), tmp_path / "missing.wav", tmp_path / "x.wav", progress=False)


def test_failure_leaves_no_file(stereo_file, tmp_path):
    path, _ = stereo_file

    class Failing(DelayGain):
        def process_block(self, block):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        stream_file(Failing(), path, tmp_path / "out.wav", progress=False)
    assert sorted(os.listdir(tmp_path)) == ["in.wav"]


def test_short_file_and_progress_bar(tmp_path, capsys):
    path = tmp_path / "short.wav"
    x = np.array([[0.1, -0.2], [0.3, 0.4]], np.float32)  # square: 2 channels, 2 samples
    _write(path, x)
    stream_file(DelayGain(latency=1, gain=1.0), path, tmp_path / "o.wav", progress=True)
    assert np.array_equal(_read(tmp_path / "o.wav"), x)
    assert "real time" in capsys.readouterr().err
