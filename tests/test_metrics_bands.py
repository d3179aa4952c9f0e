"""One-third-octave bands and band energies (IEC 61260-1 base-10 series, Parseval)."""

import numpy as np
import pytest

from soundstage import ParameterError
from soundstage.monitor.metrics import band_edges, band_energies, exact_band_centres, third_octave_bands

FS = 48000


def test_nominal_centres_are_the_iec_series():
    expected = [100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500,
                3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000]
    np.testing.assert_array_equal(third_octave_bands(), expected)
    np.testing.assert_array_equal(third_octave_bands(20, 50), [20, 25, 31.5, 40, 50])


def test_exact_centres_and_edges_follow_base_ten():
    nominal = third_octave_bands(100, 16000)
    exact = exact_band_centres(nominal)
    n = np.arange(-10, 13)
    np.testing.assert_allclose(exact, 1000.0 * 10.0 ** (n / 10.0), rtol=1e-12)
    lower, upper = band_edges(nominal)
    np.testing.assert_allclose(upper[:-1], lower[1:], rtol=1e-12)  # contiguous bands
    np.testing.assert_allclose(upper / lower, 10.0 ** 0.1, rtol=1e-12)
    assert exact_band_centres([1111.0])[0] == 1111.0  # not a series member: used as given


def test_band_energies_sum_to_the_signal_energy():
    rng = np.random.default_rng(0)
    n = 4800
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1 / FS)
    spectrum[(f < 50) | (f > 20000)] = 0  # inside the 20 Hz – 20 kHz bands
    x = np.fft.irfft(spectrum, n)
    e = band_energies(x, FS, third_octave_bands(20, 20000), n_fft=n)
    np.testing.assert_allclose(e.sum(), np.sum(x**2), rtol=1e-12)
    # Zero-padding samples the same spectrum more finely; the total barely moves.
    e_padded = band_energies(x, FS, third_octave_bands(20, 20000))
    np.testing.assert_allclose(e_padded.sum(), np.sum(x**2), rtol=1e-3)


@pytest.mark.parametrize("frequency_hz, band_hz", [(1000.0, 1000.0), (1100.0, 1000.0), (1140.0, 1250.0)])
def test_a_sine_lands_in_its_band_with_its_energy(frequency_hz, band_hz):
    n = 4800  # 0.1 s: whole cycles at multiples of 10 Hz
    amplitude = 0.7
    x = amplitude * np.sin(2 * np.pi * frequency_hz * np.arange(n) / FS)
    centres = third_octave_bands(100, 16000)
    e = band_energies(np.stack([x, 2 * x]), FS, centres, n_fft=n)
    k = int(np.flatnonzero(centres == band_hz)[0])
    np.testing.assert_allclose(e[:, k], [amplitude**2 * n / 2, 4 * amplitude**2 * n / 2], rtol=1e-10)
    np.testing.assert_allclose(np.delete(e, k, axis=-1), 0.0, atol=1e-18)


def test_band_above_nyquist_is_rejected():
    with pytest.raises(ParameterError, match="Nyquist"):
        band_energies(np.ones(64), 16000, [8000.0])
    with pytest.raises(ParameterError, match="f_low"):
        third_octave_bands(200, 100)
    with pytest.raises(ParameterError, match="n_fft"):
        band_energies(np.ones(64), FS, [1000.0], n_fft=32)


def test_every_exported_metric_name_imports():
    import importlib

    metrics = importlib.import_module("soundstage.monitor.metrics")
    for name in metrics.__all__:
        assert getattr(metrics, name) is not None, name
