"""Critical distance, diffuse-field DRR and the DRR of impulse responses."""

import numpy as np
import pytest

from soundstage import ParameterError
from soundstage.monitor.metrics import critical_distance_m, diffuse_drr_db, direct_to_reverberant_db

FS = 48000


def test_critical_distance_and_drr_oracles():
    # 5 x 4 x 2.7 m room (54 m³), T60 = 0.4 s (oracles.md).
    assert critical_distance_m(54.0, 0.4) == pytest.approx(0.662, abs=5e-4)
    assert critical_distance_m(54.0, 0.4, 4.77) == pytest.approx(1.147, abs=5e-4)
    assert diffuse_drr_db(2.5, 54.0, 0.4) == pytest.approx(-11.5, abs=0.05)
    assert diffuse_drr_db(2.5, 54.0, 0.4, 4.77) == pytest.approx(-6.8, abs=0.05)


def test_drr_laws():
    # Each dB of directivity index buys one dB of DRR; doubling the distance costs 6.02 dB.
    di = np.array([0.0, 3.0, 4.77, 8.75])
    gained = [diffuse_drr_db(2.5, 54.0, 0.4, d) - diffuse_drr_db(2.5, 54.0, 0.4) for d in di]
    np.testing.assert_allclose(gained, di, atol=1e-12)
    assert diffuse_drr_db(1.0, 54, 0.4) - diffuse_drr_db(2.0, 54, 0.4) == pytest.approx(20 * np.log10(2), abs=1e-12)
    assert diffuse_drr_db(critical_distance_m(80.0, 0.7), 80.0, 0.7) == pytest.approx(0.0, abs=1e-12)
    # The 0.057 constant is Sabine's: r_c = sqrt(A / 16π) with A = 0.161 V / T60.
    assert critical_distance_m(54.0, 0.4) == pytest.approx(np.sqrt(0.161 * 54 / 0.4 / (16 * np.pi)), rel=0.01)


def _synthetic_ir(drr_db, *, fractional_direct=False, seed=0):
    """A direct sound at 10 ms and exponentially decaying noise (T60 0.4 s) from 13 ms on,
    scaled so the reverberant energy is exactly 10^(−DRR/10) times the direct energy."""
    n = int(0.6 * FS)
    t0 = int(0.010 * FS)
    h = np.zeros(n)
    if fractional_direct:
        k = np.arange(-64, 65)
        pulse = np.sinc(k - 0.37) * np.hanning(k.size)
        h[t0 + k] = pulse
    else:
        h[t0] = 1.0
    direct_energy = np.sum(h**2)
    start = t0 + int(0.003 * FS)
    t = np.arange(n - start) / FS
    tail = np.random.default_rng(seed).standard_normal(t.size) * 10 ** (-3 * t / 0.4)  # −60 dB at T60
    tail *= np.sqrt(direct_energy * 10 ** (-drr_db / 10) / np.sum(tail**2))
    h[start:] += tail
    return h


@pytest.mark.parametrize("drr_db", [6.0, 0.0, -11.5])
def test_drr_of_a_synthetic_impulse_response(drr_db):
    assert direct_to_reverberant_db(_synthetic_ir(drr_db), FS) == pytest.approx(drr_db, abs=1e-9)
    # A band-limited direct sound between samples keeps its energy inside the ±2.5 ms window.
    assert direct_to_reverberant_db(_synthetic_ir(drr_db, fractional_direct=True), FS) == pytest.approx(
        drr_db, abs=0.5
    )


def test_drr_rejects_silence_and_a_missing_tail():
    with pytest.raises(ParameterError, match="all zeros"):
        direct_to_reverberant_db(np.zeros(100), FS)
    impulse = np.zeros(1000)
    impulse[10] = 1
    with pytest.raises(ParameterError, match="no energy after"):
        direct_to_reverberant_db(impulse, FS)
    with pytest.raises(ParameterError, match="volume_m3"):
        critical_distance_m(-1.0, 0.4)
