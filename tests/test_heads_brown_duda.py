"""Brown & Duda structural head and the closed-form ITDs (Woodworth, Kuhn) against oracles.md."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage import GeometryError, ParameterError
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.heads import BrownDudaHead, RigidSphereHead, kuhn_low_frequency_itd_s, woodworth_itd_s
from soundstage.acoustics.heads.itd import woodworth_ear_delay_s

A, C = 0.0875, 343.0


def test_woodworth_itd_oracle():
    itd_us = woodworth_itd_s([10.0, 30.0, 45.0, 60.0, 90.0]) * 1e6
    np.testing.assert_allclose(itd_us, [88.8, 261.1, 380.7, 488.1, 655.8], atol=0.06)


def test_woodworth_is_antisymmetric_and_front_back_symmetric():
    np.testing.assert_allclose(woodworth_itd_s(-30.0), -woodworth_itd_s(30.0))
    np.testing.assert_allclose(woodworth_itd_s(150.0), woodworth_itd_s(30.0), rtol=1e-12)
    np.testing.assert_allclose(woodworth_itd_s(30.0, radius_m=2 * A), 2 * woodworth_itd_s(30.0))


def test_kuhn_low_frequency_itd_oracle():
    np.testing.assert_allclose(kuhn_low_frequency_itd_s([30.0, 90.0]) * 1e6, [382.7, 765.3], atol=0.06)


def test_woodworth_ear_delays_give_woodworth_itd():
    phi = np.array([10.0, 45.0, 80.0])
    itd = woodworth_ear_delay_s(90 + phi) - woodworth_ear_delay_s(90 - phi)  # right − left
    np.testing.assert_allclose(itd, woodworth_itd_s(phi), rtol=1e-12)


def test_itd_rejects_bad_radius():
    with pytest.raises(ParameterError, match="radius_m"):
        woodworth_itd_s(30.0, radius_m=0.0)


def test_shadow_alpha_endpoints():
    head = BrownDudaHead()
    np.testing.assert_allclose(head.shadow_alpha([0.0, 150.0]), [2.0, 0.1], rtol=1e-12)


def test_head_shadow_unity_at_dc_and_alpha_at_high_frequency():
    head = BrownDudaHead()
    az = np.array([90.0, 30.0, 0.0, -60.0])  # incidence at the left ear: 0, 60, 90, 150°
    h = head.response(spherical_to_cartesian(az, 0.0, 2.0), [1e-3, 1e7])
    np.testing.assert_allclose(np.abs(h[:, :, 0]), 1.0, atol=1e-6)
    alpha = head.shadow_alpha([0.0, 60.0, 90.0, 150.0])
    np.testing.assert_allclose(np.abs(h[:, 0, 1]), alpha, rtol=1e-4)
    assert 20 * np.log10(np.abs(h[0, 0, 1])) == pytest.approx(6.02, abs=0.01)  # facing: +6 dB
    assert 20 * np.log10(np.abs(h[3, 0, 1])) == pytest.approx(-20.0, abs=0.01)  # θ_min: −20 dB


def test_high_frequency_itd_is_woodworth():
    head = BrownDudaHead()
    f = np.array([2e5, 2e5 + 10.0])  # where the shadow filter's phase is flat
    h = head.response(spherical_to_cartesian(np.array([30.0, 60.0]), 0.0, 3.0), f)
    phase = np.angle(h[:, 1] / h[:, 0])
    itd = -np.diff(np.unwrap(phase, axis=-1), axis=-1)[:, 0] / (2 * np.pi * 10.0)
    np.testing.assert_allclose(itd, woodworth_itd_s([30.0, 60.0]), rtol=1e-4)


def test_ild_rises_monotonically_to_the_alpha_ratio():
    """A one-pole shelf per ear: the ILD rises with frequency to 20·log10(α(90°−φ)/α(90°+φ)),
    and agrees with the rigid sphere at low frequency (it has no bright spot or ripple above)."""
    head = BrownDudaHead()
    f = np.geomspace(50.0, 1e6, 200)
    h = head.response(spherical_to_cartesian(np.array([30.0]), 0.0, 100.0), f)[0]
    ild = 20 * np.log10(np.abs(h[0] / h[1]))
    assert np.all(np.diff(ild) > 0)
    alpha = head.shadow_alpha([60.0, 120.0])
    assert ild[-1] == pytest.approx(20 * np.log10(alpha[0] / alpha[1]), abs=0.01)
    sphere = RigidSphereHead(plane_wave=True).ild_db(30.0, [250.0, 500.0])
    bd = head.response(spherical_to_cartesian(30.0, 0.0, 100.0), [250.0, 500.0])
    np.testing.assert_allclose(20 * np.log10(np.abs(bd[0] / bd[1])), sphere, atol=0.6)


def test_validation():
    head = BrownDudaHead()
    with pytest.raises(GeometryError):
        head.response([0.0, 0.0, 0.01], [100.0])
    with pytest.raises(ParameterError, match="frequencies_hz"):
        head.response([1.0, 0.0, 0.0], [-5.0])
    with pytest.raises(ParameterError, match="alpha_min"):
        BrownDudaHead(alpha_min=0.0)
    with pytest.raises(ParameterError, match="theta_min_deg"):
        BrownDudaHead(theta_min_deg=60.0)
