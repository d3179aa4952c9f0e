"""The offline engine fed chunk by chunk (``SpatialProcessor.render_chunks`` / ``render_stream``):
bitwise the one-shot call on the joined input for any chunking and either number of threads,
in memory that does not grow with the input, and the streaming engine where a one-shot call
streams too."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from soundstage._errors import AudioFormatError, SoundstageError
from soundstage.processor import ListenerTrack, SpatialProcessor
from soundstage.processor.offline_render import OFFLINE_MIN_SAMPLES
from streaming_reference import assert_offline_matches_streaming, streaming_render

SR = 48000.0


def _noise(n, seed=0, channels=2):
    return (np.random.default_rng(seed).standard_normal((channels, n)) * 0.1).astype(np.float32)


def _split(x, sizes):
    """``x`` cut into consecutive chunks of the given sizes, cycling."""
    chunks, start, k = [], 0, 0
    while start < x.shape[-1]:
        chunks.append(x[..., start:start + sizes[k % len(sizes)]])
        start += sizes[k % len(sizes)]
        k += 1
    return chunks


def _joined(proc, chunks):
    pieces = list(proc.render_chunks(chunks, SR))
    return np.concatenate(pieces, axis=1) if pieces else np.zeros((proc.num_output_channels, 0), np.float32)


CHUNKINGS = [[8192], [1, 0, 4095, 40000], [33333], [997, 12289], [10 ** 6]]


@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("name", ["studio-speaker", "soundbar"])
def test_joined_chunks_are_bitwise_the_one_shot_call(name, num_threads):
    x = _noise(190_001, seed=1)
    proc = SpatialProcessor(name, num_threads=num_threads)
    expected = SpatialProcessor(name)(x, SR)
    streamed = streaming_render(SpatialProcessor(name), x, SR)
    assert not np.array_equal(expected, streamed)  # the one-shot call ran the offline engine
    for sizes in CHUNKINGS:
        np.testing.assert_array_equal(_joined(proc, _split(x, sizes)), expected, err_msg=f"chunks {sizes}")
    assert_offline_matches_streaming(expected, streamed)


def test_mono_float64_and_loud_chunks():
    proc = SpatialProcessor("compact-speaker", num_threads=2)
    mono = _noise(60_000, seed=2, channels=1)[0].astype(np.float64) * 60.0  # beyond the upmix's clip limit
    expected = proc(mono, SR)
    np.testing.assert_array_equal(_joined(proc, _split(mono[None], [5000, 777])), expected)


@pytest.mark.parametrize("n", [1, OFFLINE_MIN_SAMPLES - 1, OFFLINE_MIN_SAMPLES, OFFLINE_MIN_SAMPLES + 1])
def test_short_inputs_render_as_the_one_shot_call_does(n):
    proc = SpatialProcessor("studio-speaker")
    x = _noise(n, seed=3)
    np.testing.assert_array_equal(_joined(proc, _split(x, [3000])), proc(x, SR))
    assert _joined(proc, []).shape == (5, 0)


def test_where_the_one_shot_call_streams_the_chunks_stream_too():
    """The single-tap engine (the ±30° pair) and a listener track run the streaming engine."""
    x = _noise(50_000, seed=4)
    pair = SpatialProcessor("stereo-pair", num_threads=2)
    np.testing.assert_array_equal(_joined(pair, _split(x, [4096, 10000])), pair(x, SR))
    tracked = SpatialProcessor("studio-speaker")
    tracked.track = ListenerTrack([0.0, 0.5, 1.0], [[0.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.2, 0.0]])
    np.testing.assert_array_equal(_joined(tracked, _split(x, [4096, 10000])), tracked(x, SR))


def test_the_raw_stream_after_a_chunked_render_continues_bitwise():
    x, y = _noise(70_000, seed=5), _noise(3000, seed=6)
    proc, reference = SpatialProcessor("studio-speaker", num_threads=2), SpatialProcessor("studio-speaker")
    _joined(proc, _split(x, [6000]))
    reference(x, SR, reset=False)
    reference(np.zeros((2, reference.latency_samples), np.float32), SR, reset=False)
    np.testing.assert_array_equal(proc.process_block(y), reference.process_block(y))


def _peak_bytes(proc, seconds):
    """Peak traced allocation of a chunked render of ``seconds`` of noise made on the fly."""
    chunk = _noise(8192, seed=7)

    def chunks():
        for _ in range(int(seconds * SR) // 8192):
            yield chunk

    tracemalloc.start()
    try:
        for out in proc.render_chunks(chunks(), SR):
            del out
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("num_threads", [1, 2])
def test_memory_does_not_grow_with_the_input(num_threads):
    proc = SpatialProcessor("studio-speaker", num_threads=num_threads)
    proc(_noise(20_000), SR)  # design outside the measurement
    short, long = _peak_bytes(proc, 10.0), _peak_bytes(proc, 60.0)
    # 50 s more input would be 50 · 48000 · 4 · (2 + 3 + 5) = 96 MB if input, upmix or output were
    # kept. One thread allocates the same every time, but for where the segments' ends fall
    # among the chunks (a push hands out one block's output more or less: hop · 5 · 4 bytes);
    # with two, what is in flight when the peak is reached depends on the threads' timing (a
    # few scratch arrays and output pieces).
    block_output = proc._block_convolver[1].hop * proc.filterset.num_drivers * 4
    slack = 2 * block_output if num_threads == 1 else 3 * 1024 * 1024
    assert long - short < slack, (short, long)
    assert long < 8 * 1024 * 1024


def test_an_abandoned_two_thread_render_releases_its_worker():
    proc = SpatialProcessor("studio-speaker", num_threads=2)
    x = _noise(100_000, seed=8)
    expected = proc(x, SR)
    pieces = proc.render_chunks(_split(x, [8192]), SR)
    next(pieces)
    pieces.close()
    np.testing.assert_array_equal(proc(x, SR), expected)  # the one worker is free again
    np.testing.assert_array_equal(_joined(proc, _split(x, [8192])), expected)


def test_bad_chunks_are_refused_with_their_name():
    proc = SpatialProcessor("studio-speaker")
    with pytest.raises(AudioFormatError, match="chunk"):
        _joined(proc, [np.zeros((3, 100), np.float32)])
    with pytest.raises(AudioFormatError, match="render started with 2"):
        _joined(proc, [np.zeros((2, 100), np.float32), np.zeros((1, 100), np.float32)])
    bad = _noise(20_000)
    bad[1, 12345] = np.nan
    with pytest.raises(SoundstageError, match="chunk"):
        _joined(proc, [bad])
    with pytest.raises(AudioFormatError):
        _joined(proc, [np.zeros((2, 100), np.int16)])


def _finishes(call, seconds=60.0):
    """``call()`` run on a daemon thread: its result, or a failure if it does not return (a
    deadlock must fail the test, not hang the suite)."""
    import threading

    result = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"the call did not return within {seconds} s"
    return result[0]


def test_an_abandoned_two_thread_render_does_not_hold_up_the_processor():
    """A render dropped without close() (a stream pushed into, a generator partly consumed)
    releases the worker it shares with the processor's next render."""
    import gc

    proc = SpatialProcessor("studio-speaker", num_threads=2)
    x = _noise(100_000, seed=5)
    reference = proc(x, 48000.0)
    stream = proc.render_stream(48000.0)
    stream.push(x[:, :20000])
    del stream
    gc.collect()
    np.testing.assert_array_equal(_finishes(lambda: proc(x, 48000.0)), reference)
    chunks = proc.render_chunks(_split(x, [10000]), 48000.0)
    next(chunks)
    next(chunks)  # still referenced, not finished
    np.testing.assert_array_equal(_finishes(lambda: proc(x, 48000.0)), reference)


def test_a_superseded_render_raises_instead_of_returning_wrong_audio():
    proc = SpatialProcessor("studio-speaker", num_threads=2)
    x = _noise(40000, seed=6)
    first = proc.render_stream(48000.0)
    first.push(x[:, :20000])
    second = proc.render_stream(48000.0)
    joined = np.concatenate([second.push(x[:, :20000]), second.push(x[:, 20000:]), second.finish()], axis=1)
    np.testing.assert_array_equal(joined, proc(x, 48000.0))
    with pytest.raises(RuntimeError, match="superseded"):
        first.push(x[:, 20000:])
        first.finish()


def test_a_script_that_leaves_a_render_open_still_exits():
    import subprocess
    import sys

    script = ("import numpy as np\nfrom soundstage.processor import SpatialProcessor\n"
              "p = SpatialProcessor('studio-speaker', num_threads=2)\n"
              "s = p.render_stream(48000.0)\n"
              "s.push(np.zeros((2, 20000), np.float32))\n")
    done = subprocess.run([sys.executable, "-c", script], timeout=120, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


@pytest.mark.parametrize("frames", [1, 2])
def test_one_or_two_stereo_frames_stay_stereo(frames):
    """A chunk of one or two frames is channels-first stereo, as documented (its shape alone
    is ambiguous): the render equals the one-shot call of the same (2, n) input."""
    proc = SpatialProcessor("studio-speaker")
    x = np.array([[0.1, -0.2][:frames], [0.3, 0.05][:frames]], dtype=np.float32)
    joined = np.concatenate(list(proc.render_chunks([x], 48000.0)), axis=1)
    assert joined.shape == (proc.num_output_channels, frames)
    np.testing.assert_array_equal(joined, proc(x, 48000.0))


def test_a_render_whose_start_failed_does_not_finish_silently():
    proc = SpatialProcessor("studio-speaker")
    stream = proc.render_stream(1000.0)  # below the design's sample-rate range
    with pytest.raises(SoundstageError):
        stream.push(_noise(20000, seed=7))
    with pytest.raises(SoundstageError):
        stream.finish()


@pytest.mark.parametrize("num_threads", [1, 2])
def test_short_filters_whose_segments_are_shorter_than_a_chunk_do_not_wait_forever(num_threads):
    """With 6 ms filters a segment of blocks spans less than one 32768-sample chunk (a file
    render's step), so one upmix step fills a segment and the next: the first one's blocks must
    be offered before the render waits for them."""
    import threading

    from soundstage import presets

    preset = presets.load("studio-speaker")
    design = preset.parameters.replace(filter_length_ms=6.0, modelling_delay_ms=2.0, adapt_modelling_delay=False)
    proc = SpatialProcessor(preset.enclosure, listener=preset.listener, design=design, num_threads=num_threads)
    x = _noise(1_000_000, seed=13)
    expected = proc(x, SR)
    assert 4 * proc._block_convolver[1].hop < 32768  # the case in question
    result = []
    render = threading.Thread(target=lambda: result.append(_joined(proc, _split(x, [32768]))), daemon=True)
    render.start()
    render.join(timeout=120)
    assert not render.is_alive(), "the chunked render is waiting for blocks nobody was offered"
    np.testing.assert_array_equal(result[0], expected)


@pytest.mark.parametrize("num_threads", [1, 2])
def test_pieces_handed_out_are_the_callers_own(num_threads):
    """The pieces are views of output arrays the render never writes again (a reused segment
    gets a new one): pieces held until the end are still the one-shot output, and scribbling
    over one changes none of the others."""
    proc = SpatialProcessor("studio-speaker", num_threads=num_threads)
    x = _noise(300_000, seed=14)
    expected = proc(x, SR)
    held = list(proc.render_chunks(_split(x, [20000]), SR))  # none copied while the render went on
    np.testing.assert_array_equal(np.concatenate(held, axis=1), expected)
    held[0][...] = np.nan
    np.testing.assert_array_equal(np.concatenate(held[1:], axis=1), expected[:, held[0].shape[1]:])


class _RecordingBlocks:
    """A block convolver that records the blocks asked of it (and convolves nothing)."""

    def __init__(self, real):
        self._real = real
        self.asked: list[tuple[int, int]] = []

    def __getattr__(self, name):
        return getattr(self._real, name)

    def convolve_into(self, x, out, first, stop):
        self.asked.append((first, stop))


def test_waiting_for_a_segment_convolves_only_the_blocks_waited_for():
    """Before a segment is reused the calling thread takes the unclaimed blocks it must wait
    for, and leaves the later ones that are ready to the worker (taking them all starved the
    worker: a 60 s chunked render on two threads ran 1.5× one thread instead of 1.8–1.9×)."""
    from soundstage.processor.offline_render import OfflineRender

    proc = SpatialProcessor("studio-speaker")
    proc(_noise(OFFLINE_MIN_SAMPLES), SR)  # designed and prepared
    blocks = _RecordingBlocks(proc._block_convolver[1])
    render = OfflineRender(proc._upmix_limited, blocks, proc._convolver, fir_latency=proc._filters.latency_samples)
    try:
        render._queue.publish(8)  # eight blocks' windows complete, none claimed yet
        render._help_until(3)
        assert blocks.asked and max(stop for _, stop in blocks.asked) == 3, blocks.asked
        assert render._queue.next == 3 and render._queue.done == 3
    finally:
        render.close()


def _guarded(target, seconds=120):
    """Run ``target`` on a thread; it must end within ``seconds`` (a hang fails the test)."""
    import threading

    outcome = []

    def run():
        try:
            outcome.append(("value", target()))
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome.append(("error", error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), "the render is waiting forever"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


@pytest.mark.parametrize("num_threads", [1, 2])
def test_submitted_tasks_run_in_order_on_the_worker_without_changing_the_output(num_threads):
    """``render_stream().submit`` (what a file render writes with) runs tasks in the order
    submitted: on the render's worker between its blocks with two threads, on the calling thread
    with one and once the render has ended; the output stays bitwise the one-shot call's."""
    import threading

    proc = SpatialProcessor("studio-speaker", num_threads=num_threads)
    x = _noise(400_000, seed=15)
    expected = proc(x, SR)
    ran: list[tuple[int, str]] = []
    stream = proc.render_stream(SR)
    pieces, futures, caller = [], [], []

    def render():
        caller.append(threading.current_thread().name)
        for k, chunk in enumerate(_split(x, [32768])):
            pieces.append(stream.push(chunk))
            futures.append(stream.submit(lambda k=k: ran.append((k, threading.current_thread().name)) or k))
        pieces.append(stream.finish())
        futures.append(stream.submit(lambda: ran.append((-1, threading.current_thread().name)) or -1))

    _guarded(render)
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), expected)
    assert [k for k, _ in ran] == list(range(len(futures) - 1)) + [-1]
    assert [f.result(timeout=0) for f in futures] == [k for k, _ in ran]
    assert ran[-1][1] == caller[0]  # after the render, on the calling thread
    if num_threads == 2:  # every task submitted while the render runs, on its worker
        assert all(name.startswith("soundstage-render") for _, name in ran[:-1]), ran
    else:
        assert {name for _, name in ran} == {caller[0]}


def test_a_task_error_lands_in_its_future_and_the_render_goes_on():
    proc = SpatialProcessor("studio-speaker", num_threads=2)
    x = _noise(200_000, seed=16)
    stream = proc.render_stream(SR)

    def render():
        pieces = [stream.push(x[:, :100_000])]
        failed = stream.submit(lambda: 1 / 0)
        pieces += [stream.push(x[:, 100_000:]), stream.finish()]
        return failed, np.concatenate(pieces, axis=1)

    failed, out = _guarded(render)
    with pytest.raises(ZeroDivisionError):
        failed.result(timeout=0)
    np.testing.assert_array_equal(out, proc(x, SR))


def test_tasks_left_by_a_failed_worker_still_run_and_its_error_is_raised(monkeypatch):
    """A worker that fails (here its blocks) stops; the calling thread then runs the tasks it
    left, in order, and raises the worker's error — nothing waits forever."""
    import threading

    from soundstage.processor import offline_render

    proc = SpatialProcessor("studio-speaker", num_threads=2)
    proc(_noise(OFFLINE_MIN_SAMPLES), SR)
    worker_started = threading.Event()
    release = threading.Event()
    real_worker = offline_render._worker

    def stalled_worker(queue, convolve_ref):
        worker_started.set()
        release.wait(60)  # tasks pile up meanwhile
        queue.cancel()  # as the real worker does when it fails
        raise RuntimeError("the worker failed")

    monkeypatch.setattr(offline_render, "_worker", stalled_worker)
    stream = proc.render_stream(SR)
    ran = []

    def render():
        stream.push(_noise(50_000, seed=17))
        assert worker_started.wait(60)
        futures = [stream.submit(ran.append, k) for k in range(3)]
        release.set()
        with pytest.raises(RuntimeError, match="the worker failed"):
            stream.push(_noise(100_000, seed=18))
            stream.finish()
        futures.append(stream.submit(ran.append, 3))  # the render is over: at once
        return futures

    futures = _guarded(render)
    assert ran == [0, 1, 2, 3] and all(f.done() for f in futures)
    monkeypatch.setattr(offline_render, "_worker", real_worker)


def test_writes_waiting_on_a_worker_that_fails_still_end(monkeypatch):
    """A file render waits on its oldest writes once several are queued: when the worker fails
    on a block meanwhile, it runs the tasks left before it stops, so the wait ends (it waited
    forever) and the worker's error is raised with its own type."""
    import threading

    from soundstage.board.file_stream import _WRITES_IN_FLIGHT, _Writer
    from soundstage.processor import offline_render

    real_convolve = offline_render.OfflineRender._convolve
    entered, queued = threading.Event(), threading.Event()

    def failing_convolve(self, first, stop):
        if threading.current_thread().name.startswith("soundstage-render"):
            entered.set()
            queued.wait(30)  # the calling thread queues writes meanwhile
            raise MemoryError("a block failed")
        return real_convolve(self, first, stop)

    class File:
        def write(self, block):
            pass

    monkeypatch.setattr(offline_render.OfflineRender, "_convolve", failing_convolve)
    proc = SpatialProcessor("laptop", num_threads=2)
    stream = proc.render_stream(SR)
    x = _noise(40_000, seed=19)  # within one segment: the calling thread never waits for a block

    def render():
        try:
            with _Writer(File(), stream) as writer:
                stream.push(x)
                assert entered.wait(30), "the worker took no block"
                for k in range(2 * _WRITES_IN_FLIGHT):
                    if k == _WRITES_IN_FLIGHT:
                        queued.set()  # the next write waits for the oldest
                    writer.write(np.zeros((2, 10), np.float32))
                stream.finish()
        finally:
            stream.close()

    with pytest.raises(MemoryError, match="a block failed"):
        _guarded(render, seconds=30)


def test_the_tasks_of_a_render_dropped_unfinished_still_resolve():
    import gc
    import time

    proc = SpatialProcessor("studio-speaker", num_threads=2)
    stream = proc.render_stream(SR)
    stream.push(_noise(40_000, seed=20))
    futures = [stream.submit(time.sleep, 0.05) for _ in range(3)]
    del stream
    gc.collect()
    assert [f.result(timeout=30) for f in futures] == [None, None, None]


def test_a_render_superseded_from_another_thread_keeps_its_tasks_in_order():
    """Another thread's one-shot call closes an open chunked render of the same processor; a
    task submitted to the closed render runs after the ones queued before, never beside them."""
    import threading
    import time

    proc = SpatialProcessor("studio-speaker", num_threads=2)
    stream = proc.render_stream(SR)
    stream.push(_noise(40_000, seed=21))
    events = []

    def task(name, seconds):
        events.append(("start", name))
        time.sleep(seconds)
        events.append(("end", name))

    stream.submit(task, "first", 0.3)
    time.sleep(0.05)  # the worker is in it
    other = threading.Thread(target=lambda: proc(_noise(20_000, seed=22), SR))
    other.start()
    time.sleep(0.05)  # the other thread is closing the render, waiting for the worker
    stream.submit(task, "second", 0.0).result(timeout=30)
    other.join(30)
    assert events == [("start", "first"), ("end", "first"), ("start", "second"), ("end", "second")]
