"""The ``soundstage`` command: demo, presets (render is tested in test_processor.py)."""

from __future__ import annotations

import json

import numpy as np
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
        assert (tmp_path / f"{row['preset']}.headphones.wav").is_file()
    assert (tmp_path / "reference.headphones.wav").is_file()
    assert "studio-speaker" in capsys.readouterr().out


def test_presets_list_and_show(capsys):
    assert main(["presets", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in presets.list())
    assert main(["presets", "show", "stereo-pair"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert presets.load_dict(shown).content_hash == presets.load("stereo-pair").content_hash


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
    np.testing.assert_allclose(ears.T, expected, atol=1e-6)
