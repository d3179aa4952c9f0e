"""Plugin conformance in the spirit of pluginval at strictness 10, for every built-in preset.

* streaming in blocks = one streaming call, bit for bit, at every sample rate a host uses and
  block sizes from 1 to 65536 (and a random split), and the one-shot call (the offline engine)
  equal to it to float32 round-off;
* random parameter automation on every block: no NaN, no click (the residual of a 440 Hz sine,
  :mod:`soundstage.testing.clicks`, stays within 5x the static render's), and the last value
  lands;
* state round trips (copy, deepcopy, pickle, get/set_state, TOML export) render bit-identical;
* threads: processors streaming side by side, parameters set from another thread;
* abuse: NaN, Inf and huge samples refused with their index, empty blocks mid-stream, wrong
  argument types.

Signals are short (a few hundred samples at block size 1) so the whole file runs in well under
three minutes on two cores; the parametrisation is per preset (and sample rate) so ``-n 2``
spreads it.
"""

from __future__ import annotations

import copy
import pickle
import threading
import warnings

import numpy as np
import pytest

from soundstage import ParameterError, presets
from soundstage.processor import SpatialProcessor
from soundstage.testing.clicks import click_residual, sine_input
from streaming_reference import assert_offline_matches_streaming, streaming_render

PRESETS = presets.list()
SAMPLE_RATES = (22050.0, 44100.0, 48000.0, 88200.0, 96000.0, 192000.0)
BLOCK_SIZES = (1, 7, 64, 511, 4096, 65536, "random")
#: Signal length per block size: enough for several blocks (and a partial one), short at 1.
_LENGTH = {1: 300, 7: 2000, 64: 3000, 511: 3000, 4096: 9000, 65536: 70000, "random": 6000}


def _noise(n, seed):
    return (np.random.default_rng(seed).standard_normal((2, n)) * 0.1).astype(np.float32)


def _stream(proc, x, sizes, sample_rate, buffer_size):
    parts, start = [], 0
    for size in sizes:
        parts.append(proc(x[:, start:start + size], sample_rate, buffer_size=buffer_size, reset=False))
        start += size
    parts.append(proc.flush())
    return np.concatenate(parts, axis=1)


# ---------------------------------------------------------------- streaming = one-shot
@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("name", PRESETS)
def test_streaming_equals_one_shot_at_every_rate_and_block_size(name, sample_rate):
    proc = SpatialProcessor(name)
    rng = np.random.default_rng(int(sample_rate))
    for block in BLOCK_SIZES:
        n = _LENGTH[block]
        x = _noise(n, seed=n)
        if block == "random":
            sizes = []
            while sum(sizes) < n:
                size = int(rng.integers(0, 1500)) if sizes else int(rng.integers(3, 1500))  # stereo: >= 3 first
                sizes.append(min(size, n - sum(sizes)))
            buffer_size = int(rng.integers(1, 2048))
        else:
            sizes = [block] * (n // block) + [n % block]
            buffer_size = block
        whole = streaming_render(proc, x, sample_rate)
        streamed = _stream(proc, x, sizes, sample_rate, buffer_size)
        assert np.array_equal(streamed, whole), f"{name} at {sample_rate:g} Hz, blocks of {block}"
        assert_offline_matches_streaming(proc(x, sample_rate, buffer_size=8192), whole)


# ---------------------------------------------------------------- automation
_AUTOMATION = (
    ("width_deg", lambda r: float(r.uniform(5.0, 80.0))),
    ("centre_gain_db", lambda r: float(r.uniform(-12.0, 6.0))),
    ("output_gain_db", lambda r: float(r.uniform(-12.0, 0.0))),
    ("target_cancellation_db", lambda r: float(r.uniform(0.0, 30.0))),
    ("listener_offset_m", lambda r: float(r.uniform(-0.3, 0.3))),
    ("beam", lambda r: bool(r.integers(2))),
    ("bypass", lambda r: {s for s in ("upmix", "virtualizer", "ctc", "beam") if r.random() < 0.3}),
)


@pytest.mark.parametrize("name", PRESETS)
def test_random_automation_on_every_block_never_clicks(name):
    sample_rate, block = 48000.0, 512
    x = sine_input(0.9, sample_rate)
    static = click_residual(SpatialProcessor(name)(x, sample_rate), sample_rate)
    rng = np.random.default_rng(sum(map(ord, name)))
    proc = SpatialProcessor(name)
    outs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a combination that cannot be designed is skipped
        for i, start in enumerate(range(0, x.shape[1], block)):
            if start > 0.25 * sample_rate:
                parameter, draw = _AUTOMATION[rng.integers(len(_AUTOMATION))]
                setattr(proc, parameter, draw(rng))
                if i % 12 == 0:  # let some designs land within the test's short signal
                    proc.wait_for_design()
            outs.append(proc(x[:, start:start + block], sample_rate, reset=False))
        last = proc.design_parameters
        proc.wait_for_design()
        for _ in range(40):  # the last value lands once the running crossfade has ended
            outs.append(proc(np.zeros((2, block), np.float32), sample_rate, reset=False))
    y = np.concatenate(outs, axis=1)[:, :x.shape[1]]
    assert np.isfinite(y).all()
    assert click_residual(y, sample_rate) <= 5 * static
    assert proc.filterset.parameters == last


# ---------------------------------------------------------------- state
@pytest.mark.parametrize("name", PRESETS)
def test_state_round_trips_render_bit_identical(name, tmp_path):
    x = _noise(4000, seed=7)
    proc = SpatialProcessor(name, width_deg=24.0, centre_gain_db=-2.0)
    expected = proc(x, 48000.0)
    restored = SpatialProcessor("stereo-pair" if name != "stereo-pair" else "studio-speaker")
    restored.set_state(proc.get_state())
    path = tmp_path / "exported.toml"
    path.write_text(proc.preset.to_toml(), encoding="utf-8")
    for twin in (copy.copy(proc), copy.deepcopy(proc), pickle.loads(pickle.dumps(proc)), restored,
                 SpatialProcessor(presets.load(path))):
        assert np.array_equal(twin(x, 48000.0), expected)


# ---------------------------------------------------------------- threads
def test_processors_stream_side_by_side_in_threads():
    x = _noise(20000, seed=3)
    names = PRESETS[:4]
    expected = {name: streaming_render(SpatialProcessor(name), x, 48000.0) for name in names}
    results, errors = {}, []

    def run(name):
        try:
            proc = SpatialProcessor(name)
            results[name] = _stream(proc, x, [256] * (x.shape[1] // 256) + [x.shape[1] % 256], 48000.0, 256)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for name in names:
        assert np.array_equal(results[name], expected[name])


def test_parameters_set_from_another_thread_while_streaming():
    proc = SpatialProcessor("compact-speaker")
    x = _noise(48000, seed=4)
    stop, widths = threading.Event(), np.linspace(10.0, 70.0, 200)

    def automate():
        for width in widths:
            proc.width_deg = float(width)
            if stop.wait(0.002):
                return

    thread = threading.Thread(target=automate)
    thread.start()
    outs = [proc(x[:, s:s + 128], 48000.0, reset=False) for s in range(0, x.shape[1], 128)]
    thread.join()
    stop.set()
    proc.wait_for_design()
    for _ in range(20):
        outs.append(proc(np.zeros((2, 128), np.float32), 48000.0, reset=False))
    assert np.isfinite(np.concatenate(outs, axis=1)).all()
    assert proc.filterset.parameters.width_deg == widths[-1]


# ---------------------------------------------------------------- abuse
@pytest.mark.parametrize("name", PRESETS)
def test_abuse_leaves_every_preset_streaming_correctly(name):
    x = _noise(3000, seed=9)
    proc = SpatialProcessor(name)
    expected = proc(x, 48000.0)
    parts = [proc(x[:, :1000], 48000.0, reset=False)]
    for bad_value, where in ((np.nan, "sample 17"), (np.inf, "sample 17"), (1e30, "sample 17")):
        bad = x[:, 1000:1100].copy()
        bad[1, 17] = bad_value
        with pytest.raises(ParameterError, match=where):
            proc(bad, 48000.0, reset=False)
    for call in (lambda: proc(x[:, :10], "48000", reset=False), lambda: proc(x[:, :10], 48000.0, reset="no"),
                 lambda: proc(x[:, :10], 48000.0, buffer_size=2.5, reset=False)):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(ParameterError):
        proc(x[:, :10], 44100.0, reset=False)  # another sample rate mid-stream
    parts.append(proc(np.zeros((2, 0), np.float32), 48000.0, reset=False))
    parts.append(proc(x[:, 1000:], 48000.0, reset=False))
    parts.append(proc.flush())
    assert np.array_equal(np.concatenate(parts, axis=1), expected)
