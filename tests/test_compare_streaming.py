"""compare in bounded memory: the streaming BS.1770 meter against pyloudnorm on whole signals,
the excerpt of a long input taken from its active part, and the real ``soundstage compare``
leaving no temporary render behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
import soundfile

from soundstage.compare.excerpt import choose_excerpt
from soundstage.compare.loudness import true_peak_dbtp
from soundstage.monitor.loudness_meter import StreamingLoudnessMeter


def _measure(x: np.ndarray, rate: float, block: int):
    meter = StreamingLoudnessMeter(rate, x.shape[0])
    for start in range(0, x.shape[1], block):
        meter.process(x[:, start:start + block])
    return meter.result()


def _music_like(rate: float, seconds: float, seed: int = 0) -> np.ndarray:
    """Stereo with a slow swell, a fade to near silence (blocks under the -70 LUFS gate) and a burst."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    swell = 0.5 + 0.45 * np.sin(2 * np.pi * t / 3.0)
    fade = np.where(t > seconds * 0.6, 1e-4, 1.0)
    left = swell * fade * (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size))
    right = swell * fade * (0.2 * np.sin(2 * np.pi * 97 * t) + 0.05 * rng.standard_normal(t.size))
    right[int(0.2 * t.size):int(0.2 * t.size) + 500] += 0.8
    return np.stack([left, right])


@pytest.mark.parametrize("rate, seconds, block", [(48000, 6.3, 8193), (44100, 4.05, 65), (16000, 2.2, 1),
                                                  (48000, 0.43, 4800), (32000, 8.0, 1 << 16)])
def test_streaming_loudness_equals_pyloudnorm_on_the_whole_signal(rate, seconds, block):
    x = _music_like(rate, seconds, seed=int(rate) + block)
    if block == 1:
        x = x[:, : int(rate * seconds)]  # one sample at a time: the slowest path, kept short
    measured = _measure(x, rate, block)
    reference = pyloudnorm.Meter(rate)
    assert measured.integrated_lufs == pytest.approx(reference.integrated_loudness(x.T), abs=0.01)
    if seconds >= 1.5:
        assert measured.loudness_range_lu == pytest.approx(reference.loudness_range(x.T), abs=0.01)
    # loudness after a gain, from the stored block energies, equals measuring the scaled signal —
    # also where the gain moves blocks across the -70 LUFS absolute gate
    for gain_db in (-35.0, -6.0, 12.0):
        scaled = reference.integrated_loudness(x.T * 10 ** (gain_db / 20))
        assert measured.integrated_lufs_at(gain_db) == pytest.approx(scaled, abs=0.01)
    assert measured.sample_peak_dbfs == pytest.approx(20 * np.log10(np.max(np.abs(x))), abs=1e-6)


def test_chunking_does_not_change_any_measurement():
    x = _music_like(48000, 5.0, seed=3)
    one, many = _measure(x, 48000, x.shape[1]), _measure(x, 48000, 777)
    assert many.integrated_lufs == pytest.approx(one.integrated_lufs, abs=1e-9)
    np.testing.assert_allclose(many.block_energy, one.block_energy, rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(many.side_hop_energy, one.side_hop_energy, rtol=1e-9, atol=1e-18)
    assert many.true_peak_dbtp == pytest.approx(one.true_peak_dbtp, abs=1e-6)
    assert one.true_peak_dbtp == pytest.approx(true_peak_dbtp(x), abs=1e-6)  # the whole-signal measurement


def _sections(rate: float, seconds: float, parts) -> np.ndarray:
    """Quiet mono noise everywhere, with ``(start_s, stop_s, level, wide)`` sections on top:
    ``wide`` sections have independent left and right noise, the others are mono."""
    rng = np.random.default_rng(5)
    n = int(rate * seconds)
    mono = rng.standard_normal(n) * 0.003
    x = np.stack([mono, mono])
    for start_s, stop_s, level, wide in parts:
        span = slice(int(start_s * rate), int(stop_s * rate))
        noise = rng.standard_normal((2, span.stop - span.start)) * level
        x[:, span] += noise if wide else noise[:1]
    return x.astype(np.float32)


def test_the_excerpt_of_a_long_input_is_its_active_wide_part():
    rate = 16000
    # 0-20 s quiet; 20-45 s loud but mono; 70-95 s as loud and wide; quiet to 120 s
    x = _sections(rate, 120.0, [(20.0, 45.0, 0.2, False), (70.0, 95.0, 0.2, True)])
    measured = _measure(x, rate, 1 << 14)
    span = choose_excerpt(x.shape[1], rate, measured, versions=5)
    assert span.frames == 30 * rate  # 150 s of audio over 5 players
    assert 65.0 * rate <= span.start <= 70.0 * rate and span.stop >= 95.0 * rate  # the wide section, whole
    assert "most active" in span.how
    # the flags override it: a length (the start still follows the activity), a start, everything
    assert choose_excerpt(x.shape[1], rate, measured, versions=5, max_seconds=10.0).start >= 70.0 * rate
    assert choose_excerpt(x.shape[1], rate, measured, versions=5, start_s=3.0).start == 3 * rate
    assert choose_excerpt(x.shape[1], rate, measured, max_seconds=1e9).how == "whole input"
    # short inputs are embedded whole; many versions get shorter excerpts, never under 20 s
    assert choose_excerpt(25 * rate, rate, None).frames == 25 * rate
    assert choose_excerpt(x.shape[1], rate, measured, versions=12).frames == 20 * rate


def test_soundstage_compare_embeds_the_active_part_and_leaves_no_temporary_files(tmp_path):
    rate = 48000
    x = _sections(rate, 70.0, [(35.0, 60.0, 0.15, True)])
    song = tmp_path / "song.wav"
    soundfile.write(song, x.T, rate, subtype="FLOAT")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = subprocess.run([sys.executable, "-m", "soundstage.cli", "compare", str(song), "-p", "compact-speaker",
                             "--unprocessed", "none", "--no-spatial", "--quiet", "-o", str(tmp_path / "r.html")],
                            capture_output=True, text=True, timeout=600, env={**os.environ, "TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    match = re.search(r"excerpt: ([\d.]+)-([\d.]+) s of 70.0 s \(most active", result.stderr)
    assert match, result.stderr
    start, stop = float(match.group(1)), float(match.group(2))
    assert stop - start == pytest.approx(30.0) and 30.0 <= start <= 35.0 and stop >= 60.0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="soundstage-data">(.*?)</script>', html, flags=re.S).group(1))
    assert data["excerptStartS"] == pytest.approx(start, abs=0.05) and data["excerptS"] == pytest.approx(30.0)
    assert list(scratch.iterdir()) == []  # the streamed renders were temporary files, removed
