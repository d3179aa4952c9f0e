"""File renders (``soundstage render``, batch jobs, ``stream_file``) run the processor's offline
engine fed chunk by chunk: the file holds the one-shot call's output bit for bit (float32 WAV
stores it exactly), which differs from the former streaming render only by float32 round-off,
and one or two threads write the same bytes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from soundstage.batch import render_file
from soundstage.board import stream_file
from soundstage.cli import main
from soundstage.processor import SpatialProcessor
from streaming_reference import assert_offline_matches_streaming, streaming_render

RATE = 48000


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """2.5 s of stereo noise with a louder burst, as a float WAV (and the samples it holds)."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((2, int(2.5 * RATE))) * 0.1).astype(np.float32)
    x[:, 50_000:52_000] *= 5.0
    path = tmp_path_factory.mktemp("render") / "song.wav"
    soundfile.write(path, x.T, RATE, subtype="FLOAT")
    return path, x


def _read(path):
    data, _ = soundfile.read(path, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T)


@pytest.mark.parametrize("num_threads", [1, 2])
def test_a_driver_feed_render_holds_the_one_shot_output(song, tmp_path, num_threads):
    path, x = song
    out = tmp_path / "feeds.wav"
    result = render_file(path, out, "studio-speaker", {"width_deg": 25.0}, buffer_size=5000, num_threads=num_threads)
    written = _read(out)
    expected = SpatialProcessor("studio-speaker", width_deg=25.0)(x, RATE)
    np.testing.assert_array_equal(written, expected)
    # The former streaming render of the same file, to float32 round-off (≤ 1e-6 of full scale).
    assert_offline_matches_streaming(written, streaming_render(SpatialProcessor("studio-speaker", width_deg=25.0), x, RATE))
    assert result.peaks_dbfs == pytest.approx(20 * np.log10(np.max(np.abs(expected), axis=1)), abs=1e-4)


def test_stream_file_renders_a_mono_file_on_the_offline_engine(song, tmp_path):
    path, x = song
    mono = tmp_path / "mono.wav"
    soundfile.write(mono, x[0], RATE, subtype="FLOAT")
    proc = SpatialProcessor("soundbar", num_threads=2)
    stream_file(proc, mono, tmp_path / "out.wav", buffer_size=8192, progress=False)
    np.testing.assert_array_equal(_read(tmp_path / "out.wav"), SpatialProcessor("soundbar")(x[0], RATE))


def test_the_command_writes_the_same_bytes_on_one_or_two_threads(song, tmp_path):
    path, _ = song
    files = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}.flac"
        assert main(["render", str(path), "-p", "compact-speaker", "-o", str(out), "--threads", threads, "--quiet"]) == 0
        files.append(out.read_bytes())
    assert files[0] == files[1]


def test_a_two_thread_render_writes_on_its_worker_and_runs_no_third_thread(song, tmp_path, monkeypatch):
    """With two threads the file is written by the render's worker between its blocks: a third
    (writer) thread would compete for the two cores, and whichever thread the OS set aside while
    it held the GIL stalled the other two."""
    import threading

    import soundstage.board.file_stream as file_stream

    path, x = song
    writers, threads_seen = [], set()
    real_write = file_stream._write

    def recording_write(file, block):
        writers.append(threading.current_thread().name)
        threads_seen.update(t.name for t in threading.enumerate())
        return real_write(file, block)

    monkeypatch.setattr(file_stream, "_write", recording_write)
    out = tmp_path / "feeds.wav"
    render_file(path, out, "studio-speaker", buffer_size=5000, num_threads=2)
    np.testing.assert_array_equal(_read(out), SpatialProcessor("studio-speaker")(x, RATE))
    # every block the render returns is written by its worker (a worker that has not started yet
    # or has stopped runs the writes left itself); only the output finish() returns, after the
    # render is over, is written by the calling thread
    assert len(writers) > 2 and all(name.startswith("soundstage-render") for name in writers[:-1]), writers
    assert writers[-1] == threading.current_thread().name
    assert not any(name.startswith("soundstage-write") for name in threads_seen), threads_seen


@pytest.mark.parametrize("num_threads", [1, 2])
def test_a_failing_write_raises_its_error_and_leaves_no_file(song, tmp_path, monkeypatch, num_threads):
    import threading

    import soundstage.board.file_stream as file_stream

    path, _ = song
    real_write, calls = file_stream._write, []

    def failing_write(file, block):
        calls.append(block.shape[1])
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real_write(file, block)

    monkeypatch.setattr(file_stream, "_write", failing_write)
    directory = tmp_path / "out"
    directory.mkdir()
    outcome = []

    def render():
        try:
            render_file(path, directory / "feeds.wav", "studio-speaker", buffer_size=5000, num_threads=num_threads)
        except OSError as error:
            outcome.append(error)

    thread = threading.Thread(target=render, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the render waits forever after a failed write"
    assert outcome and outcome[0].errno == 28
    assert list(directory.iterdir()) == []
