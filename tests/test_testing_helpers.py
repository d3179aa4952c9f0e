"""Helpers of soundstage.testing: test signals, render_for_regression, golden files, imports."""

from __future__ import annotations

import hashlib
import importlib
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import soundstage.testing
from soundstage import AudioFormatError, ParameterError
from soundstage.testing import goldens, metrics, render_for_regression, signals

FS = 48000


# --- signals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", signals.SIGNAL_NAMES)
def test_signals_are_deterministic_stereo_float32(name):
    first = signals.generate(name, FS, 0.5)
    again = signals.generate(name, FS, 0.5)
    assert first.shape == (2, 24000) and first.dtype == np.float32 and first.flags.c_contiguous
    assert first.tobytes() == again.tobytes()
    assert 0 < np.max(np.abs(first)) <= 1.0


def test_seed_changes_the_noise_only_where_there_is_noise():
    assert not np.array_equal(signals.generate("pink-noise-sweep", FS, 0.5, seed=1),
                              signals.generate("pink-noise-sweep", FS, 0.5, seed=2))
    np.testing.assert_array_equal(signals.generate("sine-sweep", FS, 0.5, seed=1),
                                  signals.generate("sine-sweep", FS, 0.5, seed=2))


def _band_slope_db(audio, low_hz=100.0, high_hz=10000.0) -> float:
    """Slope (dB per 1/3-octave band) of the summed-channel band levels between two bands."""
    centres, levels = metrics.band_levels_dbfs(audio, FS)
    power = np.sum(10 ** (levels / 10), axis=0)
    inside = (centres >= low_hz) & (centres <= high_hz)
    return float(np.polyfit(np.arange(inside.sum()), 10 * np.log10(power[inside]), 1)[0])


def test_pink_noise_and_exponential_sweep_have_equal_power_per_third_octave():
    # White noise would rise by 10·log10(2^(1/3)) = 1.00 dB per band; pink noise and an
    # exponential sweep (equal time per band) are flat.
    assert abs(_band_slope_db(signals.generate("pink-noise-sweep", FS, 2.0))) < 0.1
    assert abs(_band_slope_db(signals.generate("sine-sweep", FS, 2.0))) < 0.1
    white = np.random.default_rng(0).standard_normal((2, 2 * FS))
    assert _band_slope_db(white) == pytest.approx(1.0, abs=0.1)


def test_pink_noise_pans_from_left_to_right_at_constant_power():
    audio = signals.generate("pink-noise-sweep", FS, 2.0).astype(np.float64)
    tenth = audio.shape[1] // 10

    def balance_db(part):
        return 10 * np.log10(np.sum(part[0] ** 2) / np.sum(part[1] ** 2))

    assert balance_db(audio[:, :tenth]) > 15.0
    assert balance_db(audio[:, -tenth:]) < -15.0
    middle = audio.shape[1] // 2
    assert abs(balance_db(audio[:, middle - 2400 : middle + 2400])) < 0.5
    assert np.max(np.abs(audio)) == pytest.approx(10 ** (-1 / 20), rel=0.2)


def test_impulse_pan_places_nine_clicks_left_to_right():
    audio = signals.generate("impulse-pan", FS, 0.9).astype(np.float64)
    indices = np.flatnonzero(np.any(audio != 0, axis=0))
    np.testing.assert_array_equal(indices, [int((k + 0.5) * 43200 / 9) for k in range(9)])
    clicks = audio[:, indices]
    np.testing.assert_allclose(np.hypot(clicks[0], clicks[1]), 0.5, rtol=1e-6)
    theta = np.arctan2(clicks[1], clicks[0])
    np.testing.assert_allclose(theta, np.linspace(0, np.pi / 2, 9), atol=1e-6)


def test_voice_like_has_its_pitch_glide():
    audio = signals.generate("voice-like", FS, 2.0)[0].astype(np.float64)

    def pitch_hz(segment):
        correlation = np.correlate(segment, segment, mode="full")[segment.size - 1 :]
        lags = np.arange(FS // 400, FS // 60)  # 60–400 Hz
        return FS / lags[np.argmax(correlation[lags])]

    start, end = audio[int(0.2 * FS) : int(0.3 * FS)], audio[int(1.7 * FS) : int(1.8 * FS)]
    assert pitch_hz(start) == pytest.approx(110 * (180 / 110) ** 0.125, rel=0.04)
    assert pitch_hz(end) == pytest.approx(110 * (180 / 110) ** 0.875, rel=0.04)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("white-noise", FS, 1.0), "signal must be one of 'pink-noise-sweep'"),
        (("sine-sweep", 4000, 1.0), "sample_rate must be ≥ 8000 Hz"),
        (("sine-sweep", 48000.0, 1.0), "sample_rate must be an integer"),
        (("sine-sweep", FS, 0.0), "seconds must be a finite duration > 0"),
        (("sine-sweep", FS, 1e-6), "gives no sample"),
    ],
)
def test_signal_validation(args, match):
    with pytest.raises(ParameterError, match=match):
        signals.generate(*args)


# --- render_for_regression -------------------------------------------------------------------

class _StandInProcessor:
    """Stands in for soundstage.processor.SpatialProcessor: three feeds L·g, R·g, (L+R)/2."""

    created: list = []

    def __init__(self, preset, *, gain=1.0):
        self.preset, self.gain = preset, gain
        type(self).created.append(self)

    def process(self, audio, sample_rate):
        audio = np.asarray(audio, dtype=np.float32)
        return np.stack([audio[0] * self.gain, audio[1] * self.gain, 0.5 * (audio[0] + audio[1])])


class _StandInBinaural:
    """Stands in for soundstage.monitor.BinauralProcessor: the first two feeds, swapped."""

    def __init__(self, processor):
        self.processor = processor

    def process(self, audio, sample_rate):
        return self.processor.process(audio, sample_rate)[1::-1]


@pytest.fixture
def stand_in_processor(monkeypatch):
    module = types.ModuleType("soundstage.processor")
    module.SpatialProcessor = _StandInProcessor
    monitor = types.ModuleType("soundstage.monitor")
    monitor.BinauralProcessor = _StandInBinaural
    _StandInProcessor.created = []
    monkeypatch.setitem(sys.modules, "soundstage.processor", module)
    monkeypatch.setitem(sys.modules, "soundstage.monitor", monitor)
    return _StandInProcessor


def test_render_runs_the_signal_through_spatial_processor(stand_in_processor):
    feeds = render_for_regression("studio", "sine-sweep", seconds=0.5, parameters={"gain": 0.5})
    source = signals.generate("sine-sweep", FS, 0.5)
    assert feeds.dtype == np.float32 and feeds.flags.c_contiguous and feeds.shape == (3, 24000)
    np.testing.assert_array_equal(feeds[0], source[0] * np.float32(0.5))
    np.testing.assert_array_equal(feeds[2], 0.5 * (source[0] + source[1]))
    (processor,) = stand_in_processor.created
    assert (processor.preset, processor.gain) == ("studio", 0.5)


def test_render_binaural_wraps_the_processor(stand_in_processor):
    stereo = np.random.default_rng(0).standard_normal((2, 1000))
    ears = render_for_regression("studio", stereo, output="binaural")
    np.testing.assert_array_equal(ears, stereo[::-1].astype(np.float32))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"output": "ears"}, ParameterError, "output must be one of"),
        ({"parameters": [1]}, ParameterError, "parameters must be a mapping"),
        ({"parameters": {"output": "binaural"}}, ParameterError, "must not contain 'output'"),
        ({"signal": np.zeros((2, 10), dtype=np.int16)}, AudioFormatError, "float32/float64"),
        ({"signal": "chirp"}, ParameterError, "signal must be one of"),
    ],
)
def test_render_validation(stand_in_processor, kwargs, error, match):
    with pytest.raises(error, match=match):
        render_for_regression("studio", **kwargs)


# --- golden files ----------------------------------------------------------------------------

def test_basenames():
    assert goldens.sanitise_basename("test_x[sine-sweep-0.5]") == "test_x_sine-sweep-0.5"
    assert goldens.sanitise_basename("test_y[a b/c]") == "test_y_a_b_c"
    assert goldens.validate_basename("studio.drivers-48k") == "studio.drivers-48k"
    for bad in ("../x", "a/b", ".hidden", "-x", ""):
        with pytest.raises(ParameterError, match="basename must be a file stem"):
            goldens.validate_basename(bad)


def test_float32_wav_round_trip_is_lossless(tmp_path):
    audio = np.random.default_rng(1).standard_normal((3, 999)).astype(np.float32) * 4  # > 0 dBFS too
    path = tmp_path / "sub" / "golden.wav"
    goldens.write_audio(path, audio, 44100)
    read, rate = goldens.read_audio(path)
    assert rate == 44100
    np.testing.assert_array_equal(read, audio)
    assert [p.name for p in path.parent.iterdir()] == ["golden.wav"]


def test_failed_write_leaves_no_temporary_file(tmp_path):
    with pytest.raises(RuntimeError):
        goldens._atomic_write(tmp_path / "x.wav", lambda handle: (_ for _ in ()).throw(RuntimeError()))
    assert list(tmp_path.iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(goldens.GoldenWriteError, match=r"cannot write .*file.*golden.wav"):
        goldens.write_audio(blocker / "golden.wav", np.zeros((1, 4), np.float32), FS)


def test_describe_preset(tmp_path):
    preset_file = tmp_path / "studio.toml"
    preset_file.write_bytes(b"name = 'studio'\n")
    digest = hashlib.sha256(b"name = 'studio'\n").hexdigest()
    assert goldens.describe_preset(preset_file) == {"name": "studio", "sha256": digest}
    assert goldens.describe_preset(None) is None
    assert goldens.describe_preset("no-such-preset") == {"name": "no-such-preset", "sha256": None}
    preset = types.SimpleNamespace(name="bar", content_hash="abc")
    assert goldens.describe_preset(preset) == {"name": "bar", "sha256": "abc"}
    assert goldens.describe_preset(types.SimpleNamespace(name="baz", path=preset_file))["sha256"] == digest


def test_audio_hash_depends_on_samples_and_shape():
    audio = np.arange(8, dtype=np.float32).reshape(2, 4)
    assert goldens.audio_sha256(audio) == goldens.audio_sha256(audio.astype(np.float64))
    assert goldens.audio_sha256(audio) != goldens.audio_sha256(audio.reshape(1, 8))


# --- the package -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", soundstage.testing.__all__)
def test_every_export_imports(name):
    assert getattr(importlib.import_module("soundstage.testing"), name) is not None


def test_plugin_import_is_light():
    # pytest imports the plugin in every run once soundstage is installed.
    code = ("import sys, soundstage.testing.plugin; "
            "print(','.join(m for m in ('numpy', 'scipy', 'matplotlib', 'pyloudnorm', 'soundfile', "
            "'soundstage.processor') if m in sys.modules))")
    package_root = Path(soundstage.testing.__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(package_root)}, check=True)
    assert result.stdout.strip() == ""


# --- AudioRegression.check argument handling -------------------------------------------------

@pytest.mark.parametrize(
    ("audio", "kwargs", "error", "match"),
    [
        (np.zeros((1000, 2), np.float32), {}, AudioFormatError, r"looks channels-last.*audio\.T"),
        (np.zeros((2, 100), np.int16), {}, AudioFormatError, "float32 or float64 array, got dtype int16"),
        (np.full((1, 10), np.nan, np.float32), {}, AudioFormatError, "sample 0 of channel 0 is nan"),
        (np.full((1, 10), 1e300), {}, AudioFormatError, "finite in float32"),
        (np.zeros((2, 3, 4), np.float32), {}, AudioFormatError, r"shape \(channels, n\) or \(n,\)"),
        (np.zeros((1, 10), np.float32), {"sample_rate": 0}, ParameterError, "sample_rate must be a positive"),
        (np.zeros((1, 10), np.float32), {"tolerance": 0.1}, ParameterError, "tolerance must be a Tolerance"),
        (np.zeros((1, 10), np.float32), {"metadata": {"x": object()}}, ParameterError, "JSON-serialisable"),
        (np.zeros((1, 10), np.float32), {"basename": "../up"}, ParameterError, "basename must be"),
    ],
)
def test_check_rejects_bad_arguments(tmp_path, audio, kwargs, error, match):
    regression = soundstage.testing.AudioRegression(tmp_path, "test_x", regen_all=True)
    kwargs = {"sample_rate": FS, **kwargs}
    with pytest.raises(error, match=match):
        regression.check(audio, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_unnamed_checks_in_one_test_get_numbered_goldens(tmp_path):
    regression = soundstage.testing.AudioRegression(tmp_path, "test_x[a]", regen_all=True)
    for _ in range(2):
        assert regression.check(np.zeros(100, np.float64), FS) is None  # mono 1-D accepted
    regression.check(np.zeros(100), FS, basename="named")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "named.json", "named.wav", "test_x_a-2.json", "test_x_a-2.wav", "test_x_a.json", "test_x_a.wav"]
