"""Listening-zone map and driver effort."""

import numpy as np
import pytest
import scipy.signal

from soundstage import ParameterError
from soundstage.monitor.metrics import driver_effort, listening_zone


def test_zone_mask_and_area_on_the_default_grid():
    # χ falls 1 dB per cm of lateral offset from 18 dB and 4 dB per 10 cm fore/aft;
    # the hard-left image narrows from 30° by 1° per cm.
    def evaluate(lateral_m, fore_aft_m):
        return 18.0 - 100.0 * abs(lateral_m) - 40.0 * abs(fore_aft_m), 30.0 - 100.0 * abs(lateral_m)

    zone = listening_zone(evaluate)
    assert zone.chi_db.shape == (9, 5) and zone.in_zone.shape == (9, 5)
    lateral, fore_aft = np.meshgrid(zone.lateral_m, zone.fore_aft_m, indexing="ij")
    chi = 18.0 - 100.0 * np.abs(lateral) - 40.0 * np.abs(fore_aft)
    expected = (chi >= 10.0) & (30.0 - 100.0 * np.abs(lateral) >= 20.0)
    np.testing.assert_array_equal(zone.in_zone, expected)
    # Uniform grid: each point stands for a 0.05 m × 0.25 m cell.
    np.testing.assert_allclose(zone.cell_area_m2, 0.05 * 0.25)
    assert zone.area_m2 == pytest.approx(expected.sum() * 0.05 * 0.25, abs=1e-12)
    everything = listening_zone(lambda x, y: (40.0, 40.0))
    assert everything.area_m2 == pytest.approx(9 * 0.05 * 5 * 0.25, abs=1e-12)
    assert listening_zone(lambda x, y: (40.0, 19.9)).area_m2 == 0.0


def test_zone_cells_on_a_non_uniform_grid_cover_the_grid_plus_half_steps():
    lateral = np.array([-0.2, -0.05, 0.0, 0.1])
    zone = listening_zone(lambda x, y: (20.0, 30.0), lateral, [0.0, 0.5])
    width = (0.1 - -0.2) + 0.15 / 2 + 0.1 / 2
    depth = 0.5 + 0.25 + 0.25
    assert zone.area_m2 == pytest.approx(width * depth, abs=1e-12)
    with pytest.raises(ParameterError, match="lateral_m must be strictly increasing"):
        listening_zone(lambda x, y: (0.0, 0.0), [0.1, 0.0])


def test_effort_of_gains_and_sums():
    taps = np.zeros((2, 3, 16))
    taps[0, 0, 0] = 0.5  # driver 0: one input at −6.02 dB
    taps[0, 1, 0] = taps[1, 1, 3] = 1.0  # driver 1: two unit inputs, independent: +3.01 dB
    taps[0, 2, :2] = 1.0  # driver 2: 1 + z⁻¹, peak 2 at DC (+6.02 dB), white-noise gain 2 (+3.01 dB)
    effort = driver_effort(taps)
    np.testing.assert_allclose(effort.peak_db, [20 * np.log10(0.5), 10 * np.log10(2), 20 * np.log10(2)], atol=1e-9)
    np.testing.assert_allclose(effort.rms_db, [20 * np.log10(0.5), 10 * np.log10(2), 10 * np.log10(2)], atol=1e-9)
    complex_effort = driver_effort(np.full((1, 2, 5), 2.0 + 0j))
    np.testing.assert_allclose(complex_effort.peak_db, 20 * np.log10(2), atol=1e-12)


def test_effort_peak_matches_scipy_freqz():
    b = scipy.signal.firwin(31, 0.3) * 3.0
    effort = driver_effort(b[None, None, :], n_fft=4096)
    _, h = scipy.signal.freqz(b, worN=np.fft.rfftfreq(4096), fs=1.0)
    assert effort.peak_db[0] == pytest.approx(20 * np.log10(np.max(np.abs(h))), abs=1e-9)
    with pytest.raises(ParameterError, match="n_in, n_drivers"):
        driver_effort(np.ones((2, 16)))
