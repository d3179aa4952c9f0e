"""The ``soundstage`` command: demo, presets (render is tested in test_processor.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from soundstage import BinauralProcessor, SpatialProcessor, presets, test_mix
from soundstage.cli import main


def test_demo_writes_every_preset_and_a_summary(tmp_path, capsys):
    assert main(["demo", "--output", str(tmp_path), "--seconds", "0.5"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["preset"] for row in summary["presets"]] == presets.list()
    mix = test_mix(48000.0, 0.5)
    stored_mix, rate = soundfile.read(tmp_path / "input.wav", dtype="float32", always_2d=True)
    np.testing.assert_array_equal(stored_mix.T, mix)
    for row in summary["presets"]:
        feeds, rate = soundfile.read(tmp_path / f"{row['preset']}.drivers.wav", dtype="float32", always_2d=True)
        assert rate == 48000 and feeds.shape[1] == len(row["drivers"])
        np.testing.assert_array_equal(feeds.T, SpatialProcessor(row["preset"])(mix, 48000.0))
        ears, _ = soundfile.read(tmp_path / f"{row['preset']}.headphones.wav", dtype="float32", always_2d=True)
        assert np.abs(ears).max() < 1.0
    assert (tmp_path / "reference.headphones.wav").is_file()
    assert "studio-speaker" in capsys.readouterr().out


def test_presets_list_and_show(capsys):
    assert main(["presets", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in presets.list())
    assert main(["presets", "show", "stereo-pair"]) == 0
    shown = capsys.readouterr().out
    assert "Infinity" not in shown and not shown.lstrip().startswith("{")
    assert presets.loads(shown).content_hash == presets.load("stereo-pair").content_hash


def test_unknown_preset_is_one_line_and_exit_1(capsys):
    assert main(["presets", "show", "no-such-speaker"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no-such-speaker" in err and len(err.splitlines()) == 1


def test_render_monitor_headphones_writes_the_listening_simulation(tmp_path):
    x = test_mix(48000.0, 0.5)
    source, target = tmp_path / "mix.wav", tmp_path / "ears.wav"
    soundfile.write(source, x.T, 48000, subtype="FLOAT")
    assert main(["render", str(source), "-p", "soundbar", "--monitor", "headphones", "-o", str(target),
                 "--quiet", "--param", "width_deg=25"]) == 0
    ears, rate = soundfile.read(target, dtype="float32", always_2d=True)
    expected = BinauralProcessor(SpatialProcessor("soundbar", width_deg=25.0))(x, 48000.0)
    assert ears.shape[1] == 2
    # the listening simulation, scaled by one gain (loudness matching)
    gain = np.sum(ears.T * expected) / np.sum(expected**2)
    np.testing.assert_allclose(ears.T, gain * expected, atol=1e-5)


# ---------------------------------------------------------------- levels of a render
def _loud_mix(path, seconds=1.0):
    x = test_mix(48000.0, seconds)
    x = (x / np.abs(x).max() * 0.98).astype(np.float32)  # a mastered mix: peaks near full scale
    soundfile.write(path, x.T, 48000, subtype="FLOAT")
    return x


def _true_peak_db(audio):
    from scipy.signal import resample_poly

    return 20 * np.log10(np.max(np.abs(resample_poly(audio.astype(float), 4, 1, axis=-1))))


def test_flac_render_never_clips_and_reports_its_peaks(tmp_path, capsys):
    """A FLAC render of a mix peaking near full scale: the default (auto) gain keeps every
    driver's true peak under -1 dBTP, the file is the float render times that gain, and the last
    line states each driver's peak and the gain. (The ungained studio feeds peak near +10 dBFS:
    a FLAC used to hard-clip ~15 % of their samples without a word.)"""
    x = _loud_mix(tmp_path / "mix.wav")
    assert main(["render", str(tmp_path / "mix.wav"), "-o", str(tmp_path / "out.flac"), "--quiet"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    feeds, _ = soundfile.read(tmp_path / "out.flac", dtype="float64", always_2d=True)
    assert max(_true_peak_db(ch) for ch in feeds.T) <= -1.0
    ungained = SpatialProcessor("studio-speaker")(x, 48000.0).astype(float)
    gain = np.sum(feeds.T * ungained) / np.sum(ungained**2)
    assert 20 * np.log10(gain) == pytest.approx(float(line.split("gain ")[1].split(" dB")[0]), abs=0.05)
    reference = gain * ungained
    assert np.abs(ungained).max() > 1.0 and np.abs(reference).max() < 1.0
    np.testing.assert_allclose(feeds.T, reference, atol=2 ** -22)  # 24-bit quantisation
    names = SpatialProcessor("studio-speaker").driver_names
    for name, channel in zip(names, reference):
        assert f"{name} {20 * np.log10(np.abs(channel).max()):+.1f}" in line


def test_integer_render_that_would_clip_is_refused(tmp_path, capsys):
    _loud_mix(tmp_path / "mix.wav", 0.5)
    target = tmp_path / "out.wav"
    assert main(["render", str(tmp_path / "mix.wav"), "-o", str(target), "--bit-depth", "16", "--gain", "0",
                 "--quiet"]) == 1
    assert "would clip" in capsys.readouterr().err and not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temporary left behind
    # float WAV stays available and keeps levels above full scale
    assert main(["render", str(tmp_path / "mix.wav"), "-o", str(target), "--quiet"]) == 0
    feeds, _ = soundfile.read(target, dtype="float32", always_2d=True)
    assert np.abs(feeds).max() > 1.0


def test_headphone_render_is_matched_to_the_input_loudness(tmp_path):
    """The laptop's listening simulation used to come out ~12 LU louder than its input and peak
    at +9.6 dBFS; the render now has the input's BS.1770 loudness and no sample over full scale."""
    import pyloudnorm

    x = _loud_mix(tmp_path / "mix.wav", 2.0)
    target = tmp_path / "ears.wav"
    assert main(["render", str(tmp_path / "mix.wav"), "-p", "laptop", "--monitor", "headphones", "-o", str(target),
                 "--quiet"]) == 0
    ears, _ = soundfile.read(target, dtype="float64", always_2d=True)
    meter = pyloudnorm.Meter(48000)
    shortfall = meter.integrated_loudness(x.T.astype(float)) - meter.integrated_loudness(ears)
    # matched, unless the −1 dBTP guard holds it lower: then its true peak (4× oversampled) sits there
    from scipy.signal import resample_poly

    true_peak_dbtp = 20 * np.log10(np.abs(resample_poly(ears, 4, 1, axis=0)).max())
    assert abs(shortfall) <= 0.1 or (shortfall > 0 and abs(true_peak_dbtp + 1.0) <= 0.2), (shortfall, true_peak_dbtp)
    assert np.abs(ears).max() < 1.0
