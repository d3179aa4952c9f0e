"""Batch outputs are ``soundstage render`` outputs bit for bit, also where the command chooses a
gain: integer formats (auto gain under a -1 dBTP ceiling) and headphone renders (matched to the
input's loudness). The reference is the real command in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from soundstage.batch import manifest_from_dict, render_batch

RATE = 48000


def soundstage_render(*args) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "soundstage.cli", "render", *map(str, args), "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    """1.5 s of a loud stereo mix (peaks near full scale, so the auto gain must be well below 0 dB)."""
    root = tmp_path_factory.mktemp("parity")
    rng = np.random.default_rng(3)
    t = np.arange(int(1.5 * RATE)) / RATE
    left = 0.6 * np.sin(2 * np.pi * 220 * t) + 0.3 * rng.standard_normal(t.size)
    right = 0.6 * np.sin(2 * np.pi * 330 * t + 1.0) + 0.3 * rng.standard_normal(t.size)
    audio = np.stack([left, right]) / np.max(np.abs([left, right])) * 0.95
    (root / "in").mkdir()
    soundfile.write(root / "in" / "song.wav", audio.T.astype(np.float32), RATE, subtype="FLOAT")
    return root / "in" / "song.wav"


@pytest.mark.parametrize("monitor, fmt, bit_depth, ext", [("drivers", "flac", None, "flac"),
                                                         ("headphones", "wav", 24, "wav")])
def test_a_batch_job_writes_what_soundstage_render_writes(song, tmp_path, monitor, fmt, bit_depth, ext):
    output = {"format": fmt, "pattern": "{stem}.{ext}"}
    if bit_depth is not None:
        output["bit_depth"] = bit_depth
    manifest = manifest_from_dict({"inputs": [str(song)], "presets": ["compact-speaker"], "monitor": monitor,
                                   "output": output}, base_dir=tmp_path)
    report = render_batch(manifest, tmp_path / "out", engine="serial", progress=False)
    assert report.ok, report.summary_table()
    batch = tmp_path / "out" / f"song.{ext}"
    single = tmp_path / f"single.{ext}"
    extra = [] if bit_depth is None else ["--bit-depth", bit_depth]
    command = soundstage_render(song, "-p", "compact-speaker", "--monitor", monitor, "-o", single, *extra)
    assert batch.read_bytes() == single.read_bytes()

    sidecar = json.loads(Path(f"{batch}.json").read_text())
    info = soundfile.info(batch)
    assert info.subtype == "PCM_24"
    assert f"gain {sidecar['gain_db']:+.1f} dB" in command.stderr  # the command reports the gain the sidecar records
    audio, _ = soundfile.read(batch, dtype="float64", always_2d=True)
    if monitor == "drivers":
        # auto gain: the loud input needs a cut, and the integer output keeps every sample below full scale
        assert sidecar["gain_rule"].startswith("auto") and sidecar["gain_db"] < -1.0
        assert sidecar["max_true_peak_dbtp"] <= -1.0 + 0.05
    else:
        # the ears are matched to the input's loudness (BS.1770), as the command does
        source, _ = soundfile.read(song, dtype="float64", always_2d=True)
        meter = pyloudnorm.Meter(RATE)
        assert sidecar["gain_rule"] == "matched to the input's loudness"
        assert meter.integrated_loudness(audio) == pytest.approx(meter.integrated_loudness(source), abs=0.1) \
            or sidecar["max_true_peak_dbtp"] == pytest.approx(-1.0, abs=0.05)  # or held by the true-peak guard


def test_a_manifest_gain_is_applied_and_checked(song, tmp_path):
    manifest = manifest_from_dict({"inputs": [str(song)], "presets": ["compact-speaker"],
                                   "output": {"format": "wav", "gain": -6.0, "pattern": "{stem}.{ext}"}},
                                  base_dir=tmp_path)
    assert render_batch(manifest, tmp_path / "out", engine="serial", progress=False).ok
    soundstage_render(song, "-p", "compact-speaker", "--gain", "-6", "-o", tmp_path / "single.wav")
    assert (tmp_path / "out" / "song.wav").read_bytes() == (tmp_path / "single.wav").read_bytes()
    from soundstage.batch import ManifestError

    with pytest.raises(ManifestError, match="output.gain"):
        manifest_from_dict({"inputs": [str(song)], "presets": ["compact-speaker"], "output": {"gain": "loud"}},
                           base_dir=tmp_path)
