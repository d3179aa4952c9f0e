"""Driver directivity: baffled piston, spherical cap on a rigid sphere, monopole."""

import numpy as np
import pytest
from scipy import optimize, special

from soundstage import GeometryError, ParameterError
from soundstage.acoustics.directivity import REAR_SHADOW_MIN_GAIN, driver_directivity
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.geometry import Driver
from soundstage.acoustics.heads.sphere import rigid_sphere_transfer

C = 343.0
A = 0.0125  # piston radius, m
BODY = 0.0875  # sphere radius, m


def _driver(model, radius_m=A, axis=(1.0, 0.0, 0.0)):
    return Driver("d", (0.0, 0.0, 0.0), axis, radius_m, model)


def _directions(theta_deg):
    """Unit vectors at angles theta from +x, in the x–y plane."""
    return spherical_to_cartesian(np.asarray(theta_deg, float), 0.0, 1.0)


def test_monopole_is_one_everywhere():
    d = driver_directivity(_driver("monopole"), _directions(np.arange(0, 360, 15)), [20.0, 1e3, 2e4])
    np.testing.assert_array_equal(d, 1.0)


def test_piston_on_axis_is_one_at_every_frequency():
    f = np.geomspace(10, 24000, 50)
    d = driver_directivity(_driver("piston"), [[1.0, 0, 0]], f)
    np.testing.assert_allclose(d, 1.0, rtol=0, atol=1e-14)


def test_piston_first_null_and_minus_3_db_point():
    first_zero = special.jn_zeros(1, 1)[0]  # 3.8317
    assert first_zero == pytest.approx(3.8317, abs=1e-4)
    theta = np.deg2rad(40.0)
    f_null = first_zero * C / (2 * np.pi * A * np.sin(theta))
    d = driver_directivity(_driver("piston"), _directions([40.0]), [f_null])
    assert abs(d[0, 0]) < 1e-10
    # −3 dB: 2 J1(x)/x = 1/√2 at x = 1.6163 (the textbook beamwidth figure).
    x3 = optimize.brentq(lambda x: 2 * special.j1(x) / x - 2**-0.5, 0.5, 3.0)
    assert x3 == pytest.approx(1.6163, abs=1e-4)
    f_3db = x3 * C / (2 * np.pi * A * np.sin(theta))
    d = driver_directivity(_driver("piston"), _directions([40.0]), [f_3db])
    assert 20 * np.log10(abs(d[0, 0])) == pytest.approx(-3.0103, abs=1e-3)


def test_piston_rear_is_continuous_omni_at_low_and_shadowed_at_high_frequency():
    drv = _driver("piston")
    f = np.array([20.0, 2e3, 20e3])
    side = driver_directivity(drv, _directions([89.999, 90.001]), f, body_radius_m=BODY)
    np.testing.assert_allclose(side[0], side[1], atol=1e-4)
    low = driver_directivity(drv, _directions(np.arange(0, 181, 10)), [20.0], body_radius_m=BODY)
    np.testing.assert_allclose(np.abs(low), 1.0, atol=2e-3)
    # Straight behind, far above the shadow corner: the side value times REAR_SHADOW_MIN_GAIN.
    f_high = [200e3]
    behind = driver_directivity(drv, _directions([180.0]), f_high, body_radius_m=BODY)
    at_side = driver_directivity(drv, _directions([90.0]), f_high, body_radius_m=BODY)
    assert abs(behind[0, 0] / at_side[0, 0]) == pytest.approx(REAR_SHADOW_MIN_GAIN, rel=1e-2)
    # The rear falls monotonically from the side to the back at a fixed frequency.
    rear = np.abs(driver_directivity(drv, _directions(np.arange(90, 181, 10)), [8e3], body_radius_m=BODY))[:, 0]
    assert np.all(np.diff(rear) < 0)


def test_small_cap_equals_rigid_sphere_point_source_by_reciprocity():
    # A vanishing cap on a rigid sphere radiates, by reciprocity, the sphere's plane-wave ear
    # response (Duda & Martens), referenced to the sphere centre.
    drv = _driver("cap", radius_m=1e-5)
    theta = np.arange(0, 181, 15.0)
    f = np.array([100.0, 1e3, 4e3, 10e3, 20e3])
    d = driver_directivity(drv, _directions(theta), f, body_radius_m=BODY)
    k = 2 * np.pi * f / C
    centre_referenced = d * np.exp(1j * k * BODY * np.cos(np.deg2rad(theta))[:, None])
    reference = rigid_sphere_transfer(np.cos(np.deg2rad(theta)), f, np.inf, BODY, C)
    np.testing.assert_allclose(centre_referenced, reference, rtol=1e-5, atol=1e-7)
    # On axis, high frequency: the +6 dB baffle step of the sphere.
    assert 20 * np.log10(abs(d[0, -1])) == pytest.approx(6.02, abs=0.1)


def test_cap_is_omni_at_low_ka_and_directional_at_high_ka():
    drv = _driver("cap", radius_m=0.03)
    theta = np.arange(0, 181, 15.0)
    low = driver_directivity(drv, _directions(theta), [10.0], body_radius_m=BODY)
    np.testing.assert_allclose(low, 1.0, atol=1e-2)  # kR = 0.016: phase within ~kR/2
    high = np.abs(driver_directivity(drv, _directions([0.0, 90.0, 180.0]), [10e3], body_radius_m=BODY))[:, 0]
    assert high[0] > 3 * high[1] > 3 * high[2] / 3  # beams forward
    assert 20 * np.log10(high[0] / high[2]) > 15.0


@pytest.mark.parametrize("model", ["piston", "cap"])
def test_directivity_is_axisymmetric(model):
    axis = np.array([-1.0, 1.0, 0.5]) / np.linalg.norm([-1.0, 1.0, 0.5])
    drv = _driver(model, radius_m=0.02, axis=tuple(axis))
    # Two directions at the same angle from the axis, on opposite sides of it.
    ortho = np.cross(axis, [0.0, 0.0, 1.0])
    ortho /= np.linalg.norm(ortho)
    other = np.cross(axis, ortho)
    t = np.deg2rad(50.0)
    u = np.array([np.cos(t) * axis + np.sin(t) * ortho, np.cos(t) * axis - np.sin(t) * other])
    d = driver_directivity(drv, u, [500.0, 5e3, 15e3], body_radius_m=BODY)
    np.testing.assert_allclose(d[0], d[1], rtol=1e-12)


def test_directions_need_not_be_normalised():
    drv = _driver("piston")
    np.testing.assert_allclose(
        driver_directivity(drv, [[3.0, 4.0, 0.0]], [8e3]), driver_directivity(drv, [[0.6, 0.8, 0.0]], [8e3])
    )


def test_bad_input():
    with pytest.raises(GeometryError, match="body_radius_m"):
        driver_directivity(_driver("cap", radius_m=0.03), [[1.0, 0, 0]], [1e3], body_radius_m=0.01)
    with pytest.raises(ParameterError, match=r"directions must have shape \(\.\.\., 3\)"):
        driver_directivity(_driver("piston"), [[1.0, 0]], [1e3])
    with pytest.raises(ParameterError, match="zero vector"):
        driver_directivity(_driver("piston"), [[0.0, 0, 0]], [1e3])
    with pytest.raises(ParameterError, match="frequencies_hz"):
        driver_directivity(_driver("piston"), [[1.0, 0, 0]], [0.0, 1e3])
    with pytest.raises(ParameterError, match="speed_of_sound_m_s"):
        driver_directivity(_driver("piston"), [[1.0, 0, 0]], [1e3], speed_of_sound_m_s=-1)
