"""Channel separation, ILD/ITD, IACC_E and colouration against exact constructions."""


import numpy as np
import pytest

from soundstage import AudioFormatError, ParameterError
from soundstage.monitor.metrics import (
    band_edges,
    channel_separation_db,
    colouration_db,
    iacc_early,
    interaural_differences,
    interaural_time_difference_s,
    third_octave_bands,
)

FS = 48000


def _noise(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n)


def _fractional_delay(x, delay_s, fs=FS):
    """Delay by an FFT phase shift (circular; the signal is padded so nothing wraps)."""
    n = 2 * x.size
    f = np.fft.rfftfreq(n, 1 / fs)
    return np.fft.irfft(np.fft.rfft(x, n) * np.exp(-2j * np.pi * f * delay_s), n)


def test_channel_separation_of_scaled_ears_is_exact():
    h = _noise(2048)
    centres = third_octave_bands(100, 16000)
    sep = channel_separation_db(np.stack([h, 0.1 * h]), np.stack([0.5 * h, h]), FS, centres)
    np.testing.assert_allclose(sep.left_db, 20.0, atol=1e-9)
    np.testing.assert_allclose(sep.right_db, 20 * np.log10(2), atol=1e-9)
    np.testing.assert_allclose(sep.mean_db, 0.5 * (20 + 20 * np.log10(2)), atol=1e-9)
    np.testing.assert_array_equal(sep.centres_hz, centres)


@pytest.mark.parametrize("delay_s", [250e-6, 300e-6, -412.3e-6])
def test_itd_recovers_a_delay_with_its_sign(delay_s):
    left = _noise(9600)
    right = _fractional_delay(left, delay_s)  # right ear later: left leads, ITD > 0
    ears = np.stack([np.pad(left, (0, right.size - left.size)), right])
    assert interaural_time_difference_s(ears, FS) == pytest.approx(delay_s, abs=1e-6)
    swapped = interaural_time_difference_s(ears[::-1], FS)
    assert swapped == pytest.approx(-delay_s, abs=1e-6)


def test_ild_of_a_level_difference_and_itd_of_identical_ears():
    h = _noise(4096, seed=3)
    result = interaural_differences(np.stack([2 * h, h]), FS)
    np.testing.assert_allclose(result.ild_db, 20 * np.log10(2), atol=1e-9)
    assert result.itd_s == pytest.approx(0.0, abs=1e-9)


def test_ears_must_be_two_rows():
    with pytest.raises(AudioFormatError, match=r"shape \(2, n\)"):
        interaural_differences(np.zeros((3, 100)), FS)
    with pytest.raises(ParameterError, match="silent"):
        interaural_time_difference_s(np.zeros((2, 100)), FS)


def _decaying_noise(n_ms, seed):
    t = np.arange(int(n_ms * 1e-3 * FS)) / FS
    return _noise(t.size, seed) * np.exp(-t / 0.01)


def test_iacc_of_identical_delayed_and_independent_ears():
    burst = np.concatenate([np.zeros(100), _decaying_noise(50, 1)])  # dies out within the window
    assert iacc_early(np.stack([burst, burst]), FS) == pytest.approx(1.0, abs=1e-12)
    delayed = np.concatenate([np.zeros(24), burst])  # 0.5 ms at 48 kHz
    assert iacc_early(np.stack([np.append(burst, np.zeros(24)), delayed]), FS) == pytest.approx(1.0, abs=1e-9)
    assert iacc_early(np.stack([burst, -burst]), FS) == pytest.approx(1.0, abs=1e-12)  # |IACF|
    independent = np.stack([_noise(FS // 5, 2), _noise(FS // 5, 3)])
    assert iacc_early(independent, FS) < 0.1
    # A delay beyond ±1 ms is outside the lag range: the coefficient falls.
    late = np.concatenate([np.zeros(96), burst])  # 2 ms
    assert iacc_early(np.stack([np.append(burst, np.zeros(96)), late]), FS) < 0.2


def test_colouration_of_a_gain_a_delay_and_a_known_filter():
    reference = np.zeros(256)
    reference[10] = 1.0
    centres = third_octave_bands(100, 16000)
    gained = colouration_db(2 * reference, reference, FS, centres)
    np.testing.assert_allclose(gained.deviation_db, 20 * np.log10(2), atol=1e-9)
    assert gained.rms_db == pytest.approx(20 * np.log10(2), abs=1e-9)
    assert gained.mean_db == pytest.approx(20 * np.log10(2), abs=1e-9)
    assert colouration_db(np.roll(reference, 37), reference, FS).rms_db == pytest.approx(0.0, abs=1e-9)
    # Two-tap average: |H(f)|² = cos²(πf/fs); each band holds the mean of |H|² over the band.
    averaged = np.convolve(reference, [0.5, 0.5])[:256]
    result = colouration_db(averaged, reference, FS, centres)
    lower, upper = band_edges(centres)
    expected = [10 * np.log10(np.mean(np.cos(np.pi * np.linspace(lo, hi, 2001) / FS) ** 2))
                for lo, hi in zip(lower, upper)]
    np.testing.assert_allclose(result.deviation_db, expected, atol=0.02)
    inside = (centres >= 200) & (centres <= 8000)
    assert result.rms_db == pytest.approx(np.sqrt(np.mean(np.square(expected)[inside])), abs=0.02)


def test_kemar_cues_at_30_degrees_match_the_measured_figures():
    from kemar_data import kemar_path

    KEMAR = kemar_path()
    from soundstage.acoustics.frame import spherical_to_cartesian
    from soundstage.acoustics.heads import SofaHead

    head = SofaHead(KEMAR)
    fs = 44100
    ears = head.impulse_responses(spherical_to_cartesian(30.0, 0.0, 1.4), fs, 512)
    result = interaural_differences(ears, fs, [500.0, 1000.0, 2000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(result.ild_db, [2.8, 8.0, 7.8, 10.6, 13.7], atol=1.0)
    assert result.itd_s == pytest.approx(275e-6, abs=15e-6)
