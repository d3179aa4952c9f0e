"""Image azimuth from the interaural cues of a rigid-sphere head."""

import numpy as np
import pytest
import scipy.signal

from soundstage import ParameterError
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.heads import FreeFieldEars, RigidSphereHead, kuhn_low_frequency_itd_s, woodworth_itd_s
from soundstage.monitor.metrics import AzimuthEstimator, pan_sweep_azimuths

FS = 48000
DISTANCE_M = 2.0


@pytest.fixture(scope="module")
def sphere():
    return RigidSphereHead()


@pytest.fixture(scope="module")
def estimator(sphere):
    return AzimuthEstimator(sphere, FS)


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(7).standard_normal(FS // 5)


def _render(head, azimuth_deg, signal, distance_m=DISTANCE_M):
    irs = head.impulse_responses(spherical_to_cartesian(np.atleast_1d(azimuth_deg), 0.0, distance_m), FS, 512)
    return scipy.signal.fftconvolve(signal[None, None, :], irs, axes=-1)


def test_tables_lie_between_the_woodworth_and_kuhn_itds(estimator):
    az = estimator.azimuths_deg
    itd = estimator.itd_table_s
    np.testing.assert_allclose(itd, -itd[::-1], atol=1e-9)  # antisymmetric
    assert np.all(np.diff(itd) > 0)  # the low-frequency ITD is monotonic
    for angle in (30.0, 60.0, 90.0):
        value = itd[np.flatnonzero(az == angle)[0]]
        assert woodworth_itd_s(angle) < value < kuhn_low_frequency_itd_s(angle)
    # The sphere's high-frequency ILD rises from 0 to ~13 dB at 60° and falls at 90° (bright spot).
    assert estimator.ild_table_db[az == 0][0] == pytest.approx(0.0, abs=1e-9)
    assert estimator.ild_table_db[az == 90][0] < estimator.ild_table_db[az == 60][0]


def test_sources_at_known_angles_are_located_within_3_degrees(sphere, estimator, noise):
    azimuths = np.array([-60.0, -44.6, -31.3, -12.7, 0.0, 4.4, 18.9, 29.5, 47.2, 60.0])
    ears = _render(sphere, azimuths, noise)
    estimates = np.array([estimator.estimate(e) for e in ears])
    errors = estimates - azimuths
    # Measured: |error| <= 0.15° for the sphere locating itself; the requirement is ±3°.
    assert np.max(np.abs(errors)) < 0.5, errors
    assert np.max(np.abs(errors)) < 3.0


def test_estimates_are_symmetric_and_monotonic(sphere, estimator, noise):
    azimuths = np.arange(-80.0, 81.0, 10.0)
    ears = _render(sphere, azimuths, noise)
    estimates = np.array([estimator.estimate(e) for e in ears])
    np.testing.assert_allclose(estimates, -estimates[::-1], atol=0.1)
    assert np.all(np.diff(estimates) > 0), estimates


def test_single_cues_agree_below_sixty_degrees(sphere, estimator, noise):
    cues = estimator.estimate_cues(_render(sphere, 25.0, noise)[0])
    assert cues.itd_azimuth_deg == pytest.approx(25.0, abs=0.5)
    assert cues.ild_azimuth_deg == pytest.approx(25.0, abs=1.0)
    assert cues.itd_s > 0 and cues.ild_db > 0  # a source on the left


def test_pan_sweep_between_a_virtual_pair_is_monotonic(sphere, estimator, noise):
    pair = _render(sphere, np.array([30.0, -30.0]), noise)  # (2 speakers, 2 ears, n)

    def render_ears(pan):
        angle = (pan + 1) * np.pi / 4  # constant-power (sine/cosine) law
        return np.sin(angle) * pair[0] + np.cos(angle) * pair[1]

    pans = np.linspace(-1, 1, 9)
    azimuths = pan_sweep_azimuths(render_ears, pans, estimator=estimator)
    assert azimuths[-1] == pytest.approx(30.0, abs=0.5)
    assert azimuths[0] == pytest.approx(-30.0, abs=0.5)
    assert azimuths[4] == pytest.approx(0.0, abs=0.1)
    assert np.all(np.diff(azimuths) > 0), azimuths
    with pytest.raises(ParameterError, match="pans"):
        pan_sweep_azimuths(render_ears, [1.5], estimator=estimator)


def test_free_field_ears_are_located_by_their_itd(noise):
    head = FreeFieldEars()
    estimator = AzimuthEstimator(head, FS, max_azimuth_deg=60)
    ears = _render(head, np.array([-40.0, 15.0]), noise)
    np.testing.assert_allclose([estimator.estimate(e) for e in ears], [-40.0, 15.0], atol=1.0)


def test_estimator_rejects_bad_arguments(sphere):
    with pytest.raises(ParameterError, match="max_azimuth_deg"):
        AzimuthEstimator(sphere, FS, max_azimuth_deg=120)
    with pytest.raises(ParameterError, match="HeadModel"):
        AzimuthEstimator("sphere", FS)


def test_kemar_sources_are_located_by_a_kemar_table_and_near_by_the_sphere_table():
    from kemar_data import kemar_path

    path = kemar_path()
    from soundstage.acoustics.heads import SofaHead

    fs = 44100
    kemar = SofaHead(path)
    azimuths = np.array([-45.0, -30.0, 0.0, 30.0, 45.0])
    irs = kemar.impulse_responses(spherical_to_cartesian(azimuths, 0.0, 1.4), fs, 512)
    signal = np.random.default_rng(3).standard_normal(fs // 5)
    ears = scipy.signal.fftconvolve(signal[None, None, :], irs, axes=-1)
    # Its own table (the 5°-spaced measurements, nearest direction): measured 0° error at 0/±30°,
    # 2.05° at ±45°, where KEMAR's 40° and 45° cues are close.
    own = AzimuthEstimator(kemar, fs, distance_m=1.4)
    np.testing.assert_allclose([own.estimate(e) for e in ears], azimuths, atol=2.5)
    # A sphere's table places KEMAR sources slightly inside (KEMAR's ITD is 275 µs at 30°, the
    # sphere's 310 µs): measured 28.0° for 30° and 40.0° for 45°.
    sphere = AzimuthEstimator(RigidSphereHead(), fs)
    np.testing.assert_allclose([sphere.estimate(e) for e in ears], azimuths, atol=6.0)
