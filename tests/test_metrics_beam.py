"""Beam pattern, directivity index and null depth against first-order patterns α + (1−α)cos θ."""

import numpy as np
import pytest

from soundstage import ParameterError
from soundstage.monitor.metrics import beam_pattern, beam_pattern_db, directivity_index_db, null_depth_db

C = 343.0
THETA = np.linspace(0.0, 180.0, 181)
BOTH_SIDES = np.linspace(-180.0, 180.0, 361)


def first_order(alpha, theta_deg):
    return alpha + (1 - alpha) * np.cos(np.deg2rad(theta_deg))


@pytest.mark.parametrize(
    "name, pattern, di_db",
    [
        ("omni", lambda t: np.ones_like(t), 0.0),
        ("dipole", lambda t: first_order(0.0, t), 4.77),
        ("cardioid", lambda t: first_order(0.5, t), 4.77),
        ("hypercardioid", lambda t: first_order(0.25, t), 6.02),
        ("dipole x cardioid", lambda t: first_order(0.0, t) * first_order(0.5, t), 8.75),
    ],
)
def test_sphere_directivity_index_oracles(name, pattern, di_db):
    assert directivity_index_db(pattern(THETA), THETA) == pytest.approx(di_db, abs=0.01)
    # Both sides of the circle give the same answer (they are averaged).
    assert directivity_index_db(pattern(BOTH_SIDES), BOTH_SIDES) == pytest.approx(di_db, abs=0.01)


def test_closed_forms_and_the_horizontal_plane():
    # Analytic sphere DI of α + (1−α)cos θ: 1 / (α² + (1−α)²/3).
    alphas = np.array([0.1, 0.3, 0.7])
    patterns = np.stack([first_order(a, THETA) for a in alphas], axis=-1)  # (n_angles, 3)
    expected = 10 * np.log10(1 / (alphas**2 + (1 - alphas) ** 2 / 3))
    np.testing.assert_allclose(directivity_index_db(patterns, THETA), expected, atol=0.005)
    # In the horizontal plane alone (2-D), a dipole's DI is 10·log10(2) = 3.01 dB.
    assert directivity_index_db(first_order(0.0, BOTH_SIDES), BOTH_SIDES, geometry="horizontal") == pytest.approx(
        10 * np.log10(2), abs=0.005
    )


def test_directivity_needs_the_back_half():
    with pytest.raises(ParameterError, match="180"):
        directivity_index_db(np.ones(91), np.linspace(0, 90, 91))
    with pytest.raises(ParameterError, match="geometry"):
        directivity_index_db(np.ones(181), THETA, geometry="cube")


def _endfire_far_field(frequencies_hz, azimuths_deg, spacing_m):
    """Two monopoles on the enclosure axis (toward the listener at 0°), ±spacing/2."""
    k = 2 * np.pi * np.asarray(frequencies_hz) / C
    x = np.array([spacing_m / 2, -spacing_m / 2])  # along the 0° direction
    cos_az = np.cos(np.deg2rad(azimuths_deg))
    return np.exp(1j * k[None, None, :] * x[None, :, None] * cos_az[:, None, None])  # (n_dir, 2, F)


def test_dipole_pattern_is_minus_3_01_db_at_45_degrees():
    azimuths = np.arange(-180.0, 180.0, 1.0)
    # A driver whose own far field is the dipole cos θ: exactly −3.0103 dB at ±45°.
    far_field = first_order(0.0, azimuths)[:, None, None] * np.ones((1, 1, 2))
    level = beam_pattern_db(np.ones((1, 2)), far_field, azimuths_deg=azimuths)
    for angle in (45.0, -45.0):
        np.testing.assert_allclose(level[azimuths == angle][0], 20 * np.log10(np.cos(np.pi / 4)), atol=1e-12)
    # A small difference pair (kd ≪ 1) is a dipole: −3.01 dB at ±45° within 0.01 dB.
    frequencies = np.array([100.0, 200.0])
    array_far_field = _endfire_far_field(frequencies, azimuths, 0.05)
    level = beam_pattern_db(np.array([[1.0, 1.0], [-1.0, -1.0]]), array_far_field, azimuths_deg=azimuths)
    np.testing.assert_allclose(level[azimuths == 45.0][0], -3.0103, atol=0.01)
    # The pair is axisymmetric about its axis, so its sphere DI is the dipole's 4.77 dB.
    full_circle = np.linspace(-180.0, 180.0, 361)
    pattern = beam_pattern(np.array([[1.0, 1.0], [-1.0, -1.0]]), _endfire_far_field(frequencies, full_circle, 0.05))
    np.testing.assert_allclose(directivity_index_db(pattern, full_circle), 4.77, atol=0.01)


def test_null_depth_of_a_mismatched_pair_is_exact():
    azimuths = np.arange(-180.0, 180.0, 1.0)
    frequencies = np.array([500.0, 1000.0])
    far_field = _endfire_far_field(frequencies, azimuths, 0.05)
    weights = np.array([[1.0, 1.0], [-0.99, -0.99]])
    level = beam_pattern_db(weights, far_field, azimuths_deg=azimuths)
    depth = null_depth_db(level, azimuths, [90.0, -90.0])
    k = 2 * np.pi * frequencies / C
    on_axis = np.abs(np.exp(1j * k * 0.025) - 0.99 * np.exp(-1j * k * 0.025))
    expected = 20 * np.log10(on_axis / 0.01)  # at ±90° both paths are equal: 1 − 0.99
    np.testing.assert_allclose(depth, [expected, expected], atol=1e-9)
    # A null region reports its shallowest point: a 10° region around 90° is shallower.
    region = null_depth_db(level, azimuths, [90.0], half_width_deg=10.0)
    assert np.all(region[0] < depth[0])
    with pytest.raises(ParameterError, match="must contain 33.5"):
        null_depth_db(level, azimuths, [33.5])


def test_beam_pattern_shapes_are_checked():
    with pytest.raises(ParameterError, match="n_drivers"):
        beam_pattern(np.ones((3, 4)), np.ones((10, 2, 4)))
