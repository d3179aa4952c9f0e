"""Tolerance, the measurements behind it and the comparison of renders with goldens."""

from __future__ import annotations

import re

import numpy as np
import pytest

from soundstage import ParameterError
from soundstage.testing import Tolerance, metrics, spatial
from soundstage.testing.comparison import compare, format_mismatch

FS = 48000


def _noise(seconds: float = 0.5, seed: int = 3, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((channels, int(seconds * FS)))).astype(np.float32)


# --- Tolerance -------------------------------------------------------------------------------

def test_default_and_strict():
    default = Tolerance.default()
    assert (default.residual_rms_dbfs, default.band_db, default.loudness_lu) == (-80.0, 0.1, 0.1)
    assert default.active == ("residual_rms_dbfs", "band_db", "loudness_lu")
    assert Tolerance.strict().active == ("bit_exact",)
    assert Tolerance().active == ()


def test_combination_takes_every_check_at_its_strictest():
    combined = Tolerance.default() & Tolerance(residual_rms_dbfs=-60.0, band_db=0.05, separation_db=1.0)
    assert (combined.residual_rms_dbfs, combined.band_db, combined.loudness_lu,
            combined.separation_db, combined.bit_exact) == (-80.0, 0.05, 0.1, 1.0, False)
    assert Tolerance(band_floor_dbfs=-70.0).combine(Tolerance(band_floor_dbfs=-100.0)).band_floor_dbfs == -100.0
    assert (Tolerance(band_floor_dbfs=None) & Tolerance()).band_floor_dbfs is None
    assert (Tolerance.default() & Tolerance.strict()).bit_exact


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"band_db": 0.0}, "band_db must be > 0"),
        ({"loudness_lu": -1.0}, "loudness_lu must be > 0"),
        ({"azimuth_deg": float("nan")}, "azimuth_deg must be a finite number"),
        ({"residual_rms_dbfs": "-80"}, "residual_rms_dbfs must be a finite number"),
        ({"separation_db": True}, "separation_db must be a finite number"),
        ({"bit_exact": 1}, "bit_exact must be True or False"),
    ],
)
def test_tolerance_validation(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        Tolerance(**kwargs)


# --- measurements ----------------------------------------------------------------------------

def test_third_octave_centres_follow_iec_61260():
    centres = metrics.third_octave_centres_hz(48000)
    assert centres.size == 31
    np.testing.assert_allclose(centres[[0, 17, -1]], [19.953, 1000.0, 19952.6], rtol=1e-4)
    # At 44.1 kHz the 20 kHz band's upper edge (22.39 kHz) passes Nyquist: 16 kHz is the last.
    assert metrics.third_octave_centres_hz(44100)[-1] == pytest.approx(15848.9, rel=1e-4)


def test_band_level_of_a_sine_and_parseval():
    t = np.arange(FS // 2) / FS
    sine = 0.5 * np.sin(2 * np.pi * 1000.0 * t)[np.newaxis]  # 500 whole periods
    centres, levels = metrics.band_levels_dbfs(sine, FS)
    k = int(np.argmin(np.abs(centres - 1000.0)))
    assert levels[0, k] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=1e-6)
    assert np.max(np.delete(levels[0], k)) < -200
    noise = _noise(channels=1).astype(np.float64)
    _, noise_levels = metrics.band_levels_dbfs(noise, FS)
    # 20 Hz–22.4 kHz holds nearly all of the white noise's power (the rest is 0–17.8 and 22.4–24 kHz).
    in_bands = np.sum(10 ** (noise_levels / 10))
    assert in_bands / np.mean(noise**2) == pytest.approx((22387 - 17.8) / 24000, rel=0.02)


def test_loudness_of_a_full_scale_sine_is_minus_3_lkfs():
    # ITU-R BS.1770-4: a 0 dBFS 1 kHz sine in one front channel reads −3.01 LKFS.
    t = np.arange(2 * FS) / FS
    sine = np.sin(2 * np.pi * 997.0 * t)[np.newaxis]
    assert metrics.integrated_loudness_lufs(sine, FS)[0] == pytest.approx(-3.01, abs=0.05)
    assert metrics.integrated_loudness_lufs(sine[:, : int(0.3 * FS)], FS) is None
    assert metrics.integrated_loudness_lufs(np.zeros((1, FS)), FS)[0] == metrics.SILENCE_DBFS


def test_worst_window_finds_a_burst():
    audio = np.zeros((3, FS))
    audio[2, 30000:30100] = 0.1
    worst = metrics.worst_window(audio, FS)
    assert worst.channel == 2
    assert worst.start_s <= 30000 / FS and worst.end_s >= 30100 / FS
    assert worst.end_s - worst.start_s == pytest.approx(0.1)
    assert worst.rms_dbfs == pytest.approx(10 * np.log10(0.01 * 100 / 4800), abs=1e-9)


def _sphere_ears(azimuth_deg: float, seconds: float = 1.0) -> np.ndarray:
    """Noise from ``azimuth_deg`` at 2 m through the rigid-sphere head's ear impulse responses."""
    from scipy.signal import oaconvolve

    from soundstage.acoustics.frame import spherical_to_cartesian
    from soundstage.acoustics.heads import RigidSphereHead

    irs = RigidSphereHead().impulse_responses(spherical_to_cartesian(azimuth_deg, 0.0, 2.0), FS, 512)
    noise = np.random.default_rng(7).standard_normal(int(seconds * FS)) * 0.1
    return np.stack([oaconvolve(noise, ir)[: noise.size] for ir in irs]).astype(np.float32)


def test_spatial_track_locates_sphere_sources_window_by_window():
    ears = _sphere_ears(30.0)
    track = spatial.spatial_track(ears, FS)
    assert track.source == "soundstage.monitor.metrics.AzimuthEstimator (rigid sphere)"
    assert track.starts_s.size == 19 and track.window_s == pytest.approx(0.1)
    np.testing.assert_allclose(track.azimuth_deg[1:], 30.0, atol=1.0)  # window 0 holds the onset
    first = ears[:, 2400:7200].astype(np.float64)  # window 1: 50 ms hop, 100 ms long
    assert track.separation_db[1] == pytest.approx(10 * np.log10(np.sum(first[0] ** 2) / np.sum(first[1] ** 2)))
    mirrored = spatial.spatial_track(ears[::-1].copy(), FS)
    np.testing.assert_allclose(mirrored.azimuth_deg[1:], -30.0, atol=1.0)
    silent_right = ears.copy()
    silent_right[1] = 0.0
    assert np.all(np.isnan(spatial.spatial_track(silent_right, FS).azimuth_deg))


# --- comparison ------------------------------------------------------------------------------

def test_gain_change_moves_every_band_and_the_residual_by_the_formula():
    golden = _noise()
    gain_db = 0.05
    obtained = (golden.astype(np.float64) * 10 ** (gain_db / 20)).astype(np.float32)
    result = compare(obtained, golden, FS, Tolerance(band_db=0.1, residual_rms_dbfs=-70.0))
    expected_rms = 20 * np.log10(np.sqrt(np.mean(golden.astype(np.float64) ** 2)) * (10 ** (gain_db / 20) - 1))
    assert result.measured["residual_rms_dbfs"] == pytest.approx(expected_rms, abs=0.01)
    assert result.measured["band_db_max"] == pytest.approx(gain_db, abs=1e-4)
    assert [f.metric for f in result.failures] == ["residual_rms_dbfs"]
    assert -65.5 < expected_rms < -64.0  # noise at −20 dBFS, residual 44.8 dB below it
    assert result.failures[0].excess == pytest.approx(expected_rms + 70.0, abs=0.01)


def test_band_floor_ignores_changes_in_silent_bands():
    t = np.arange(FS // 2) / FS
    loud = 0.1 * np.sin(2 * np.pi * 1000.0 * t)
    golden = np.stack([loud + 1e-5 * np.sin(2 * np.pi * 5000.0 * t)]).astype(np.float32)
    obtained = np.stack([loud + 2e-5 * np.sin(2 * np.pi * 5000.0 * t)]).astype(np.float32)
    assert compare(obtained, golden, FS, Tolerance(band_db=0.1)).passed  # 5 kHz at −103 dBFS
    failed = compare(obtained, golden, FS, Tolerance(band_db=0.1, band_floor_dbfs=-120.0))
    assert failed.failures[0].value == pytest.approx(20 * np.log10(2), abs=0.01)
    assert "band centred at 5012 Hz of channel 0" in failed.failures[0].detail


def test_bit_exact_counts_samples_and_refuses_negative_zero():
    golden = np.zeros((1, 100), dtype=np.float32)
    obtained = golden.copy()
    obtained[0, 40] = -0.0
    result = compare(obtained, golden, FS, Tolerance.strict())
    assert result.failures[0].describe().startswith(
        "bit_exact: 1 of 100 samples differ; the first at sample 40")
    assert compare(golden.copy(), golden, FS, Tolerance.strict()).passed


def test_spatial_tolerances_on_binaural_renders():
    golden = _sphere_ears(30.0)
    moved = compare(_sphere_ears(20.0), golden, FS, Tolerance(azimuth_deg=5.0))
    assert [f.metric for f in moved.failures] == ["azimuth_deg"]
    assert moved.failures[0].value == pytest.approx(10.0, abs=1.0)
    assert compare(_sphere_ears(20.0), golden, FS, Tolerance(azimuth_deg=15.0)).passed
    quieter_right = golden.copy()
    quieter_right[1] *= np.float32(10 ** (-1 / 20))  # the separation grows by exactly 1 dB
    louder = compare(quieter_right, golden, FS, Tolerance(separation_db=0.5))
    assert [f.metric for f in louder.failures] == ["separation_db"]
    assert louder.failures[0].value == pytest.approx(1.0, abs=0.01)
    assert re.match(r"window \d\.\d{3}–\d\.\d{3} s: obtained [+-]\d+\.\d\ddB, golden [+-]\d+\.\d\ddB",
                    louder.failures[0].detail)
    assert compare(quieter_right, golden, FS, Tolerance(separation_db=2.0)).passed


def test_spatial_tolerance_needs_two_channels():
    audio = _noise(channels=3)
    result = compare(audio, audio, FS, Tolerance(separation_db=1.0))
    assert "need a binaural (2, n) render; got 3 channels" in result.failures[0].detail


def test_format_mismatch_messages():
    assert format_mismatch((2, 100), FS, (2, 100), FS) is None
    assert format_mismatch((2, 100), 44100, (1, 90), FS) == (
        "sample rate 44100 Hz, golden has 48000 Hz; 2 channels, golden has 1; "
        "100 samples (0.0023 s), golden has 90 (0.0019 s)")
