"""One-shot calls on the offline engine: equal to the streaming engine to float32 round-off, with
the same latency compensation (a click lands on the same sample), bitwise the same on two
threads, and leaving the streaming state as if everything had streamed."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.processor import SpatialProcessor
from soundstage.processor.offline_render import OFFLINE_MIN_SAMPLES
from streaming_reference import assert_offline_matches_streaming, streaming_render

SR = 48000.0


def _noise(n, seed=0, channels=2):
    return (np.random.default_rng(seed).standard_normal((channels, n)) * 0.1).astype(np.float32)


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar", "laptop"])
def test_offline_matches_the_streaming_engine_within_float32_round_off(name):
    proc = SpatialProcessor(name)
    x = _noise(3 * OFFLINE_MIN_SAMPLES + 1234, seed=1)
    streamed = streaming_render(proc, x, SR)
    offline = proc(x, SR)
    assert not np.array_equal(offline, streamed)  # really the other engine
    assert_offline_matches_streaming(offline, streamed)
    rms = np.sqrt(np.mean(streamed ** 2))
    assert np.sqrt(np.mean((offline - streamed) ** 2)) <= 1e-6 * rms


def test_a_click_lands_on_the_same_sample_in_both_engines():
    """An impulse at sample 20000: the same output length, the same arrival sample of every
    driver's peak, and the same response around it."""
    proc = SpatialProcessor("studio-speaker")
    x = np.zeros((2, 40000), np.float32)
    x[:, 20000] = 0.5
    streamed = streaming_render(proc, x, SR)
    offline = proc(x, SR)
    assert offline.shape == streamed.shape == (5, 40000)
    np.testing.assert_array_equal(np.argmax(np.abs(offline), axis=1), np.argmax(np.abs(streamed), axis=1))
    assert_offline_matches_streaming(offline, streamed)
    # The first sample above -60 dB re the peak (the start of the filters' pre-ringing over the
    # modelling delay) is the same; before it both hold only transform round-off.
    onsets = [np.argmax(np.abs(y) > 1e-3 * np.max(np.abs(y), axis=1, keepdims=True), axis=1)
              for y in (offline, streamed)]
    np.testing.assert_array_equal(onsets[0], onsets[1])
    earliest = 20000 - proc.filterset.latency_samples
    assert np.all(onsets[0] >= earliest)
    for y in (offline, streamed):
        assert np.max(np.abs(y[:, :earliest])) < 1e-6 * np.max(np.abs(y))


@pytest.mark.parametrize("n", [OFFLINE_MIN_SAMPLES, OFFLINE_MIN_SAMPLES + 77, 50001])
def test_the_raw_stream_after_a_one_shot_call_continues_bitwise(n):
    """After ``proc(x)`` the kernels hold what streaming x and the latency's zeros leaves (the
    upmix streamed them, the convolver is warmed on the tail at its partition phase): raw
    blocks that follow equal those of a processor that streamed everything."""
    x, y = _noise(n, seed=2), _noise(3000, seed=3)
    proc, reference = SpatialProcessor("studio-speaker"), SpatialProcessor("studio-speaker")
    proc(x, SR)
    reference(x, SR, reset=False)
    reference(np.zeros((2, reference.latency_samples), np.float32), SR, reset=False)
    for start in (0, 1000, 1999):
        block = np.ascontiguousarray(y[:, start:start + 1000 if start < 1999 else 3000])
        np.testing.assert_array_equal(proc.process_block(block), reference.process_block(block))


def test_two_threads_are_bitwise_one_thread_on_the_offline_engine():
    x = _noise(150_000, seed=4)
    one, two = SpatialProcessor("soundbar"), SpatialProcessor("soundbar", num_threads=2)
    expected = one(x, SR)
    for _ in range(3):  # whichever thread computes a block, it is the same block
        np.testing.assert_array_equal(two(x, SR), expected)
    np.testing.assert_array_equal(two(x[1], SR), one(x[1], SR))  # mono


def test_processors_of_one_design_share_its_block_convolver_across_threads():
    """The offline FIR matrix is built once per design and shared: two processors rendering
    different inputs at the same time on two threads each get their own one-shot output."""
    import threading

    first, second = SpatialProcessor("soundbar"), SpatialProcessor("soundbar")
    inputs = [_noise(120_000, seed=11), _noise(120_000, seed=12)]
    expected = [SpatialProcessor("soundbar")(x, SR) for x in inputs]
    results = [None, None]

    def render(k, proc):
        for _ in range(3):
            results[k] = proc(inputs[k], SR)

    threads = [threading.Thread(target=render, args=(k, proc)) for k, proc in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result, reference in zip(results, expected):
        np.testing.assert_array_equal(result, reference)
    assert first._block_convolver[1] is second._block_convolver[1]


def test_loud_mono_and_short_inputs():
    """Samples beyond the upmix's adaptation limit and mono input go through the same upmix as
    streaming; inputs shorter than OFFLINE_MIN_SAMPLES run the streaming engine itself."""
    proc = SpatialProcessor("compact-speaker")
    loud = _noise(20000, seed=5) * 80.0
    assert np.max(np.abs(loud)) > 4.0
    streamed = streaming_render(proc, loud, SR)
    assert_offline_matches_streaming(proc(loud, SR), streamed)
    mono = _noise(20000, seed=6, channels=1)[0]
    streamed_mono = np.concatenate([proc(mono, SR, reset=False), proc.flush()], axis=-1)
    assert_offline_matches_streaming(proc(mono, SR)[None], streamed_mono[None])
    short = _noise(OFFLINE_MIN_SAMPLES - 1, seed=7)
    np.testing.assert_array_equal(proc(short, SR), streaming_render(proc, short, SR))


def test_silence_and_a_decaying_tail_below_1e_30_are_exact_silence_as_when_streaming():
    proc = SpatialProcessor("studio-speaker")
    assert np.array_equal(proc(np.zeros((2, 30000), np.float32), SR), np.zeros((5, 30000), np.float32))
    tiny = _noise(30000, seed=8) * np.float32(1e-36)
    assert np.array_equal(proc(tiny, SR), np.zeros((5, 30000), np.float32))
    assert np.array_equal(streaming_render(proc, tiny, SR), np.zeros((5, 30000), np.float32))


def test_copies_keep_the_number_of_render_threads():
    import copy
    import pickle

    two = SpatialProcessor("compact-speaker", num_threads=2)
    for clone in (copy.copy(two), copy.deepcopy(two), pickle.loads(pickle.dumps(two))):
        assert clone.num_threads == 2


def _signal(kind, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, n)) * 0.1
    if kind == "silence in the middle":  # the split falls in silence: the states meet late
        x[:, n // 3: 2 * n // 3] = 0.0
    elif kind == "hard-panned pair and a centre":
        centre = rng.standard_normal(n) * 0.1 * (1 + np.sin(2 * np.pi * 0.7 * np.arange(n) / 48000))
        x = x * np.array([[1.0], [0.0]]) + np.roll(x, 1, axis=0) * np.array([[0.0], [1.0]]) + centre
    elif kind == "loud mono":
        x = x[:1] * 40.0  # beyond the upmix's adaptation limit
    return x.astype(np.float32)


@pytest.fixture
def split_runs(monkeypatch):
    """Counts the whole renders whose upmix the worker shared (and the steps each thread took)."""
    import threading

    from soundstage.processor import offline_render

    runs = {"forks": 0, "steps": []}
    real_fork, real_step = offline_render.OfflineRender._upmix_fork, offline_render.OfflineRender._upmix_step

    def fork(self, *args):
        runs["forks"] += 1
        return real_fork(self, *args)

    def step(self, stereo, bounds, x, kernel=None, out=None):
        runs["steps"].append((threading.current_thread().name, kernel is not None))
        return real_step(self, stereo, bounds, x, kernel, out)

    monkeypatch.setattr(offline_render.OfflineRender, "_upmix_fork", fork)
    monkeypatch.setattr(offline_render.OfflineRender, "_upmix_step", step)
    return runs


@pytest.mark.parametrize("kind", ["noise", "silence in the middle", "hard-panned pair and a centre", "loud mono"])
@pytest.mark.parametrize("name", ["compact-speaker", "laptop"])
def test_two_threads_share_the_upmix_and_stay_bitwise_one_thread(name, kind, split_runs):
    """A long one-shot call on two threads upmixes its second half on the worker (from a copy of
    the kernel started ≈ 2 s early) and keeps that output only from where the two kernels'
    states are bit for bit equal: the output, and the stream that continues after the call,
    are bitwise one thread's."""
    x = _signal(kind, 10 * 48000 + 77, seed=31)
    one, two = SpatialProcessor(name), SpatialProcessor(name, num_threads=2)
    expected = one(x, 48000)
    np.testing.assert_array_equal(two(x, 48000), expected)
    assert split_runs["forks"] == 1
    assert any(on_fork for _, on_fork in split_runs["steps"])
    after = _signal("noise", 4000, seed=32)[: x.shape[0]]
    np.testing.assert_array_equal(two.process(after, 48000, reset=False), one.process(after, 48000, reset=False))
    assert two._extractor.state_equals(one._extractor)


def test_a_fir_matrix_whose_blocks_outweigh_the_upmix_keeps_the_upmix_on_one_thread(split_runs):
    """With 5 outputs the worker's blocks already balance the calling thread's upmix; a split
    would only add its preroll."""
    x = _signal("noise", 10 * 48000, seed=35)
    two = SpatialProcessor("studio-speaker", num_threads=2)
    np.testing.assert_array_equal(two(x, 48000), SpatialProcessor("studio-speaker")(x, 48000))
    assert split_runs["forks"] == 0


def test_where_the_states_have_not_met_the_calling_thread_upmixes_on_until_they_do(monkeypatch, split_runs):
    """With a preroll too short for the copy to forget its start (one step instead of ≈ 2 s) the
    states differ at the split: the calling thread upmixes the next steps itself, over the
    copy's output, until they meet — still bitwise one thread."""
    from soundstage.processor import offline_render

    monkeypatch.setattr(offline_render, "SPLIT_PREROLL_TIME_CONSTANTS", 1)
    x = _signal("silence in the middle", 10 * 48000, seed=33)
    expected = SpatialProcessor("compact-speaker")(x, 48000)
    two = SpatialProcessor("compact-speaker", num_threads=2)
    np.testing.assert_array_equal(two(x, 48000), expected)
    split_step = ((x.shape[1] + offline_render.UPMIX_CHUNK) // 2) // offline_render.UPMIX_CHUNK
    calling = sum(not on_fork for _, on_fork in split_runs["steps"])
    assert calling > split_step, (calling, split_step)  # it went past the split


def test_a_failing_second_upmix_raises_and_the_processor_renders_again(monkeypatch):
    from soundstage.processor import offline_render

    x = _signal("noise", 10 * 48000, seed=34)
    expected = SpatialProcessor("compact-speaker")(x, 48000)
    two = SpatialProcessor("compact-speaker", num_threads=2)
    real_fork = offline_render.OfflineRender._upmix_fork

    def failing(self, stereo, state):
        raise MemoryError("the second upmix failed")

    monkeypatch.setattr(offline_render.OfflineRender, "_upmix_fork", failing)
    with pytest.raises(MemoryError, match="second upmix"):
        two(x, 48000)
    monkeypatch.setattr(offline_render.OfflineRender, "_upmix_fork", real_fork)
    np.testing.assert_array_equal(two(x, 48000), expected)
