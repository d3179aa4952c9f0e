"""SpatialProcessor: pedalboard's calling convention, streaming, alignment, parameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from soundstage import AudioFormatError, ParameterError, presets
from soundstage.design.crossover import driver_band_sos
from soundstage.processor import SpatialProcessor
from streaming_reference import assert_offline_matches_streaming, streaming_render

SR = 48000.0
ALL_STAGES = frozenset({"upmix", "virtualizer", "ctc", "beam"})


def _noise(n, seed=0, channels=2):
    return (np.random.default_rng(seed).standard_normal((channels, n)) * 0.1).astype(np.float32)


@pytest.fixture(scope="module")
def processors():
    return {name: SpatialProcessor(name) for name in presets.list()}


# ---------------------------------------------------------------- streaming = one-shot
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(presets.list())),
       chunks=st.lists(st.integers(1, 6000), min_size=1, max_size=12), seed=st.integers(0, 5))
def test_streaming_equals_one_shot(processors, name, chunks, seed):
    proc = processors[name]
    chunks = [max(chunks[0], 3)] + chunks[1:]  # a fresh (2, n < 3) chunk is channels-last to pedalboard
    x = _noise(sum(chunks), seed)
    one_shot = streaming_render(proc, x, SR)
    parts, start = [], 0
    for size in chunks:
        parts.append(proc(x[:, start:start + size], SR, reset=False))
        start += size
    parts.append(proc.flush())
    streamed = np.concatenate(parts, axis=1)
    np.testing.assert_array_equal(streamed, one_shot)
    assert_offline_matches_streaming(proc(x, SR), one_shot)


def test_streaming_holds_back_its_latency_and_flushes_with_zeros(processors):
    proc = processors["compact-speaker"]
    x = _noise(4000)
    first = proc(x, SR, reset=False)
    assert first.shape[1] == 4000 - proc.latency_samples
    rest = proc(np.zeros((2, proc.latency_samples), np.float32), SR, reset=False)
    np.testing.assert_array_equal(np.concatenate([first, rest], axis=1), proc(x, SR))


# ---------------------------------------------------------------- the reference and bypass
@pytest.mark.parametrize("sample_rate", [22050.0, 44100.0, 48000.0, 96000.0, 192000.0])
def test_reference_pair_is_pass_through(sample_rate):
    """The ±30° pair preset reduces to the identity (≤ −60 dB), time-aligned."""
    proc = SpatialProcessor("stereo-pair")
    x = _noise(int(sample_rate // 4))
    y = proc(x, sample_rate)
    assert y.shape == x.shape
    error_db = 10 * np.log10(np.sum((y - x) ** 2) / np.sum(x**2))
    assert error_db <= -60.0


def test_impulse_is_aligned_exactly():
    proc = SpatialProcessor("stereo-pair")
    x = np.zeros((2, 3000), np.float32)
    x[0, 1234] = 1.0
    y = proc(x, SR)
    assert np.argmax(np.abs(y[0])) == 1234
    assert abs(y[0, 1234] - 1.0) < 1e-4


@pytest.mark.parametrize("name", ["stereo-dipole", "compact-speaker"])
def test_bypassing_every_stage_is_the_plain_mix(name):
    """All stages bypassed and no voicing, a two-way-free enclosure (no crossovers, drivers
    equidistant from the listener) feeds each driver its plain mix of L and R, sample for sample.
    (Enclosures with crossovers get tiled, time-aligned plain feeds: tests/test_driver_feeds.py.)"""
    preset = presets.load(name)
    proc = SpatialProcessor(preset.enclosure, listener=preset.listener,
                            design=preset.parameters.replace(voicing=False, bypass=ALL_STAGES))
    x = _noise(24000, seed=3)
    y = proc(x, SR)
    plain = preset.enclosure.plain_mix() @ x.astype(float)
    expected = np.stack([
        signal.sosfilt(driver_band_sos(d.band_hz, SR, preset.parameters.crossover_order), plain[i])
        for i, d in enumerate(preset.enclosure.drivers)
    ])
    error_db = 10 * np.log10(max(np.sum((y - expected) ** 2) / np.sum(expected**2), 1e-30))  # exact: -300
    assert error_db <= -50.0


def test_mono_input_is_a_centred_source():
    proc = SpatialProcessor("compact-speaker")
    mono = _noise(6000, channels=1)[0]
    np.testing.assert_array_equal(proc(mono, SR), proc(np.stack([mono, mono]), SR))


# ---------------------------------------------------------------- silence, NaN, bad input
def test_silence_in_gives_exact_zeros_after_the_tail():
    proc = SpatialProcessor("studio-speaker")
    x = np.zeros((2, 96000), np.float32)
    x[:, :4800] = _noise(4800)
    y = proc(x, SR)
    tail = y[:, 48000:]
    assert np.all(tail == 0.0)
    smallest = np.min(np.abs(y[y != 0])) if np.any(y != 0) else 1.0
    assert smallest >= np.finfo(np.float32).tiny


def test_nan_input_names_the_first_bad_sample_and_keeps_state():
    proc = SpatialProcessor("compact-speaker")
    x = _noise(3000)
    reference = np.concatenate([proc(x[:, :1000], SR, reset=False), proc(x[:, 1000:], SR, reset=False)], axis=1)
    proc.reset()
    first = proc(x[:, :1000], SR, reset=False)
    bad = x[:, 1000:].copy()
    bad[1, 17] = np.nan
    with pytest.raises(ValueError, match=r"channel 1.*17"):
        proc(bad, SR, reset=False)
    rest = proc(x[:, 1000:], SR, reset=False)
    np.testing.assert_array_equal(np.concatenate([first, rest], axis=1), reference)


def test_bad_audio_is_rejected_like_pedalboard():
    proc = SpatialProcessor("compact-speaker")
    with pytest.raises(TypeError):
        proc(np.zeros((2, 100), np.int16), SR)
    with pytest.raises(AudioFormatError):
        proc(np.zeros((2, 100), np.complex64), SR)
    with pytest.raises(ValueError, match="stereo or mono"):
        proc(np.zeros((3, 1000), np.float32), SR)
    with pytest.raises(ValueError, match="sample_rate"):
        proc(np.zeros((2, 1000), np.float32), 8000)
    with pytest.raises(ValueError, match="buffer_size"):
        proc(np.zeros((2, 1000), np.float32), SR, buffer_size=0)


def test_layouts_and_dtypes_follow_the_caller():
    proc = SpatialProcessor("compact-speaker")
    x = _noise(5000)
    first = proc(x, SR)
    last = proc(np.ascontiguousarray(x.T), SR)
    assert last.shape == (5000, 2) and last.dtype == np.float32
    np.testing.assert_array_equal(last.T, first)
    np.testing.assert_array_equal(proc(x.astype(np.float64), SR), first)


@pytest.mark.parametrize("name, value, message", [
    ("width_deg", 0.0, "width_deg must be in"),
    ("width_deg", "wide", "width_deg must be a number"),
    ("target_cancellation_db", 50.0, "target_cancellation_db must be in"),
    ("centre_gain_db", 20.0, "centre_gain_db must be in"),
    ("beam", "yes", "beam must be True or False"),
    ("listener_distance_m", -1.0, "listener_distance_m must be in"),
    ("listener_offset_m", 3.0, "listener_offset_m must be in"),
    ("bypass", {"reverb"}, "unknown stage"),
    ("bypass", 3, "bypass must be a stage name"),
])
def test_parameters_are_range_checked(name, value, message):
    proc = SpatialProcessor("compact-speaker")
    with pytest.raises(ParameterError, match=message):
        setattr(proc, name, value)


def test_unknown_constructor_parameter_is_named():
    with pytest.raises(ParameterError, match="colour"):
        SpatialProcessor("compact-speaker", colour=3)


# ---------------------------------------------------------------- parameter changes
def test_parameter_change_mid_stream_has_no_click():
    proc = SpatialProcessor("compact-speaker")
    n = 512
    t = np.arange(n * 200) / SR
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    x = np.stack([tone, 0.5 * tone])
    out = []
    for i in range(200):
        if i == 60:
            proc.width_deg = 10.0
            proc.centre_gain_db = -6.0
        if i == 61:
            proc.wait_for_design()  # the design thread: wait so the crossfade lands in this run
        out.append(proc(x[:, i * n:(i + 1) * n], SR, reset=False))
    y = np.concatenate(out, axis=1)
    steady = y[:, 20 * n:55 * n]
    jumps = np.max(np.abs(np.diff(y[:, 55 * n:], axis=1)))
    assert jumps <= 1.2 * np.max(np.abs(np.diff(steady, axis=1)))
    assert proc.width_deg == 10.0
    # After the crossfade the output is exactly that of a processor streaming with the new
    # parameters from the start (same upmix state, same input history).
    fresh = SpatialProcessor("compact-speaker", width_deg=10.0, centre_gain_db=-6.0)
    z = np.concatenate([fresh(x[:, i * n:(i + 1) * n], SR, reset=False) for i in range(200)], axis=1)
    np.testing.assert_allclose(y[:, -100 * n:], z[:, -100 * n:], atol=1e-6)


def test_parameter_change_between_one_shot_calls_redesigns():
    proc = SpatialProcessor("compact-speaker")
    x = _noise(8000)
    wide = proc(x, SR)
    proc.width_deg = 60.0
    narrow = proc(x, SR)
    assert not np.allclose(wide, narrow)
    np.testing.assert_array_equal(narrow, SpatialProcessor("compact-speaker", width_deg=60.0)(x, SR))


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar", "headphones"])
def test_processor_matches_scipy_reference_of_its_filterset(name):
    """The compiled chain (upmix kernel, partitioned convolver) equals the scipy statement of the
    same FilterSet (sosfilt/lfilter upmix, oaconvolve per path), latency compensated."""
    from soundstage.design.reference import filterset_reference

    proc = SpatialProcessor(name)
    x = _noise(20000, seed=5)
    y = proc(x, SR)
    filterset = proc.design(SR)
    delay = filterset.latency_samples
    reference = filterset_reference(filterset, x)[:, delay:]
    error_db = 10 * np.log10(np.sum((y[:, :-delay] - reference) ** 2) / np.sum(reference**2))
    assert error_db <= -100.0


def test_render_cli_writes_a_readable_file_atomically(tmp_path):
    """``soundstage render``: the output gets ordinary permissions, matches the one-shot render,
    and an existing file is not overwritten without -y (exit 1, file untouched)."""
    import os
    import stat

    import soundfile

    from soundstage.cli import main

    x = _noise(9000)
    source, target = tmp_path / "in.wav", tmp_path / "out.wav"
    soundfile.write(source, x.T, int(SR), subtype="FLOAT")
    assert main(["render", str(source), "-p", "compact-speaker", "-o", str(target), "--quiet"]) == 0
    mode = stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    written, rate = soundfile.read(target, dtype="float32", always_2d=True)
    np.testing.assert_allclose(written.T, SpatialProcessor("compact-speaker")(x, SR), atol=1e-6)
    before = target.read_bytes()
    assert main(["render", str(source), "-p", "compact-speaker", "-o", str(target), "--quiet"]) == 1
    assert target.read_bytes() == before
    assert main(["render", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "x.wav"), "--quiet"]) == 1
    assert main(["render", str(source), "-p", "no-such-preset", "-o", str(tmp_path / "y.wav"), "--quiet"]) == 1
    assert not (tmp_path / "y.wav").exists()


def test_output_gain_scales_every_feed_exactly():
    x = _noise(6000)
    plain = SpatialProcessor("studio-speaker")(x, SR)
    quieter = SpatialProcessor("studio-speaker", output_gain_db=-20.0)(x, SR)
    np.testing.assert_allclose(quieter, 0.1 * plain, rtol=1e-4, atol=1e-7)
    proc = SpatialProcessor("studio-speaker")
    assert proc.headroom_db.shape == (5,) and proc.headroom_db.max() <= proc.max_gain_db + 0.5


def test_parameter_change_inside_a_board_crossfades_to_the_new_design():
    """A Board drives process_block directly: a change still redesigns and lands."""
    from soundstage import Board

    proc = SpatialProcessor("compact-speaker")
    board = Board([proc])
    x = _noise(48000)
    board(x, SR)
    proc.width_deg = 12.0
    proc.wait_for_design()
    y = board(x, SR)
    np.testing.assert_array_equal(y, streaming_render(SpatialProcessor("compact-speaker", width_deg=12.0), x, SR))
    # Streaming: after the change and its 30 ms crossfade the output is exactly that of a Board
    # whose processor had the new width from the start.
    parts = [board(x[:, i:i + 4800], SR, reset=False) for i in range(0, 24000, 4800)]
    proc.width_deg = 40.0
    proc.wait_for_design()
    parts += [board(x[:, i:i + 4800], SR, reset=False) for i in range(24000, 48000, 4800)]
    parts.append(board.flush())
    fresh = Board([SpatialProcessor("compact-speaker", width_deg=40.0)])
    expected = np.concatenate([fresh(x[:, i:i + 4800], SR, reset=False) for i in range(0, 48000, 4800)]
                              + [fresh.flush()], axis=1)
    streamed = np.concatenate(parts, axis=1)
    np.testing.assert_allclose(streamed[:, 30000:], expected[:, 30000:], atol=1e-6)
    assert not np.allclose(streamed[:, 2000:20000], expected[:, 2000:20000], atol=1e-4)


def test_a_design_that_fails_mid_stream_keeps_the_old_filters_and_parameters():
    from soundstage.acoustics.geometry import Driver, Enclosure, Listener
    from soundstage.design import DesignParameters

    mono = Enclosure("mono", (Driver("only", (-0.05, 0, 0), (-1, 0, 0), 0.03, "monopole"),))
    proc = SpatialProcessor(mono, listener=Listener(2.0),
                            design=DesignParameters(beam=False, bypass=frozenset({"ctc"})))
    x = _noise(9600)
    first = proc(x[:, :4800], SR, reset=False)
    proc.bypass = ()  # crosstalk cancellation with one driver cannot be designed
    proc.wait_for_design()
    with pytest.warns(RuntimeWarning, match="cannot be designed"):
        rest = proc(x[:, 4800:], SR, reset=False)
    assert proc.bypass == frozenset({"ctc"})
    streamed = np.concatenate([first, rest, proc.flush()], axis=1)
    np.testing.assert_array_equal(streamed, streaming_render(proc, x, SR))


def test_cli_bypass_parameter_parses_stage_names():
    from soundstage.cli.render import parse_param as _parse_param

    assert _parse_param("bypass=ctc,beam") == ("bypass", frozenset({"ctc", "beam"}))
    assert _parse_param("bypass=") == ("bypass", frozenset())
    assert _parse_param("target_cancellation_db=none") == ("target_cancellation_db", None)


def test_wrong_parameter_types_are_type_errors():
    proc = SpatialProcessor("compact-speaker")
    with pytest.raises(TypeError, match="width_deg must be a number"):
        proc.width_deg = "wide"
    with pytest.raises(TypeError, match="beam must be True or False"):
        proc.beam = "yes"
    proc.width_deg = np.float32(20)  # numpy scalars are numbers
    assert proc.width_deg == 20.0


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar", "compact-speaker"])
def test_left_input_is_heard_on_the_left_end_to_end(name):
    """Left-only noise through the processor and the listening simulation (free field, the
    plant's impulse responses, independent of the design's frequency-domain plant): the left ear
    is clearly louder from 1 to 4 kHz, and a right-only input mirrors it."""
    from scipy import signal as sig

    from soundstage.monitor import Auralizer

    preset = presets.load(name)
    x = _noise(48000, seed=9)[0]
    sos = sig.butter(4, [1000, 4000], "bandpass", fs=SR, output="sos")
    aural = Auralizer(preset.enclosure, listener=preset.listener)
    levels = []
    for stereo in (np.stack([x, 0 * x]), np.stack([0 * x, x])):
        ears = aural(SpatialProcessor(name)(stereo, SR), SR)
        band = sig.sosfilt(sos, ears.astype(float), axis=1)[:, 4800:]
        levels.append(10 * np.log10(np.sum(band**2, axis=1)))
    left_input, right_input = levels
    assert left_input[0] - left_input[1] >= 5.0
    assert right_input[1] - right_input[0] >= 5.0


def test_partition_size_changes_latency_not_the_aligned_output():
    x = _noise(12000)
    default = SpatialProcessor("compact-speaker")
    large = SpatialProcessor("compact-speaker", partition_size=1024)
    y, z = default(x, SR), large(x, SR)
    assert large.latency_samples - default.latency_samples == 1024 - 256
    np.testing.assert_allclose(z, y, atol=2e-6)
    with pytest.raises(ParameterError, match="partition_size must be a power of two"):
        SpatialProcessor("compact-speaker", partition_size=1000)
