"""Rigid-sphere head (Duda & Martens 1998) against oracles.md and a scipy reference series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import eval_legendre, spherical_jn, spherical_yn

from soundstage import GeometryError, ParameterError
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.heads import (
    BrownDudaHead,
    FreeFieldEars,
    HeadModel,
    RigidSphereHead,
    make_head,
)
from soundstage.acoustics.heads.sphere import rigid_sphere_transfer

A, C = 0.0875, 343.0
BANDS_HZ = np.array([250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0])

# oracles.md: plane-wave ILD (dB), rows 15/30/45/60/90°
PLANE_WAVE_ILD_DB = np.array([
    [0.08, 0.90, 2.68, 2.80, 3.28, 4.07],
    [0.15, 1.52, 4.86, 4.40, 5.94, 7.90],
    [0.20, 1.80, 5.34, 7.48, 9.86, 11.03],
    [0.24, 1.85, 4.28, 9.99, 9.65, 12.86],
    [0.26, 1.80, 2.85, 3.90, 4.69, 6.08],
])


def reference_series(cos_theta: float, frequencies_hz, distance_m: float) -> np.ndarray:
    """Duda & Martens eq. (the textbook form) summed with scipy's spherical Bessel functions."""
    k = 2 * np.pi * np.asarray(frequencies_hz) / C
    mu, rho = k * A, distance_m / A
    total = np.zeros_like(k, dtype=complex)
    for m in range(80):
        h_r = spherical_jn(m, mu * rho) - 1j * spherical_yn(m, mu * rho)
        dh_a = spherical_jn(m, mu, derivative=True) - 1j * spherical_yn(m, mu, derivative=True)
        total += (2 * m + 1) * eval_legendre(m, cos_theta) * h_r / dh_a
    return -(rho / mu) * np.exp(1j * mu * rho) * total


def test_plane_wave_ild_table_matches_oracle():
    head = RigidSphereHead()
    ild = head.ild_db(np.array([15.0, 30.0, 45.0, 60.0, 90.0]), BANDS_HZ)
    np.testing.assert_allclose(ild, PLANE_WAVE_ILD_DB, atol=0.1)


def test_point_source_at_1_4_m_matches_oracle():
    ild = RigidSphereHead().ild_db(30.0, BANDS_HZ[1:], distance_m=1.4)
    np.testing.assert_allclose(ild, [2.23, 5.50, 5.16, 6.81, 8.95], atol=0.05)


@pytest.mark.parametrize("cos_theta, distance_m", [(1.0, 0.5), (0.3, 1.4), (-0.8, 0.3)])
def test_recursive_series_equals_scipy_bessel_series(cos_theta, distance_m):
    f = np.array([100.0, 1000.0, 5000.0, 12000.0])
    ours = rigid_sphere_transfer(cos_theta, f, distance_m, A, C)
    np.testing.assert_allclose(ours, reference_series(cos_theta, f, distance_m), rtol=1e-8)


def test_on_axis_ear_goes_from_0_db_to_plus_6_db():
    h = rigid_sphere_transfer(1.0, [1.0, 40000.0], np.inf, A, C)
    level = 20 * np.log10(np.abs(h))
    assert abs(level[0]) < 0.01
    assert level[1] == pytest.approx(20 * np.log10(2), abs=0.05)


def test_far_point_source_equals_plane_wave():
    f = np.geomspace(20, 20000, 50)
    cos_theta = np.cos(np.deg2rad([0.0, 60.0, 120.0, 180.0]))[:, None]
    far = rigid_sphere_transfer(cos_theta, f, 1000.0, A, C)
    plane = rigid_sphere_transfer(cos_theta, f, np.inf, A, C)
    assert np.max(np.abs(20 * np.log10(np.abs(far / plane)))) < 0.01


def test_bright_spot_lowers_ild_at_90_degrees():
    ild = RigidSphereHead().ild_db(np.array([60.0, 90.0]), [8000.0])
    assert ild[1, 0] < ild[0, 0]


@pytest.mark.parametrize("theta_deg", [0.0, 70.0, 180.0])
def test_near_field_low_frequency_limit(theta_deg):
    """As k → 0 the series tends to the potential-flow sum Σ (2m+1)/(m+1) (a/r)^m P_m(cos Θ)."""
    r, x = 0.5, np.cos(np.deg2rad(theta_deg))
    limit = sum((2 * m + 1) / (m + 1) * (A / r) ** m * eval_legendre(m, x) for m in range(60))
    h = rigid_sphere_transfer(x, [0.01], r, A, C)
    assert abs(h[0]) == pytest.approx(limit, rel=1e-6)


def test_response_shape_symmetry_and_ear_order():
    head = RigidSphereHead()
    f = np.array([500.0, 3000.0])
    pos = spherical_to_cartesian(np.array([[40.0, -40.0]]), 10.0, 1.2)  # (1, 2, 3)
    h = head.response(pos, f)
    assert h.shape == (1, 2, 2, 2)
    np.testing.assert_allclose(h[0, 0, 0], h[0, 1, 1], rtol=1e-12)  # left ear @+40 == right @-40
    assert np.all(np.abs(h[0, 0, 0]) > np.abs(h[0, 0, 1]))  # a source on the left is louder left


def test_plane_wave_option_ignores_distance():
    head = RigidSphereHead(plane_wave=True)
    f = np.array([700.0, 7000.0])
    np.testing.assert_allclose(head.response([0.3, 0.4, 0.0], f), head.response([3.0, 4.0, 0.0], f))
    np.testing.assert_allclose(head.response([3.0, 4.0, 0.0], f)[0],
                               rigid_sphere_transfer(0.8, f, np.inf, A, C), rtol=1e-12)


def test_impulse_response_peaks_at_bulk_delay_minus_lead():
    head = RigidSphereHead()
    fs = 96000
    ir = head.impulse_responses([0.0, 2.0, 0.0], fs, 256)  # source at +90°: left ear leads by a/c
    peak_s = np.argmax(np.abs(ir[0])) / fs
    assert peak_s == pytest.approx(head.bulk_delay_s() - A / C, abs=2 / fs)
    assert np.all(np.isfinite(ir))


def test_rejects_sources_inside_the_head_and_bad_frequencies():
    head = RigidSphereHead()
    with pytest.raises(GeometryError, match="inside the head"):
        head.response([0.05, 0.0, 0.0], [1000.0])
    with pytest.raises(ParameterError, match="frequencies_hz"):
        head.response([1.0, 0.0, 0.0], [0.0, 100.0])
    with pytest.raises(ParameterError, match="radius_m"):
        RigidSphereHead(radius_m=-1)
    with pytest.raises(ParameterError, match="ear_azimuths_deg"):
        RigidSphereHead(ear_azimuths_deg=(90.0,))


def test_make_head_names_and_instances():
    assert isinstance(make_head(None), RigidSphereHead)
    assert isinstance(make_head("sphere", radius_m=0.09), RigidSphereHead)
    assert make_head("sphere", radius_m=0.09).radius_m == 0.09
    assert isinstance(make_head("brown-duda"), BrownDudaHead)
    assert isinstance(make_head("free-field"), FreeFieldEars)
    head = BrownDudaHead()
    assert make_head(head) is head
    assert isinstance(head, HeadModel)


@pytest.mark.parametrize("spec", ["cube", "missing.sofa", 3.0])
def test_make_head_rejects_unknown_specs(spec):
    with pytest.raises(ParameterError, match="head must be one of 'sphere', 'brown-duda', 'free-field'"):
        make_head(spec)
