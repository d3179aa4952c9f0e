"""The driver-gain cap holds for every input combination, measured on the processor's output."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.design.headroom import worst_case_gain
from soundstage.processor import SpatialProcessor

SR = 48000.0
N = 1 << 14
AT = 3000  # impulse position: the filters' pre-ringing before the modelling delay is kept


def _transfer_db(processor, left, right):
    """Peak gain (dB) of each driver feed's transfer function for an impulse pair (left, right)."""
    x = np.zeros((2, N), np.float32)
    x[0, AT], x[1, AT] = left, right
    y = processor(x, SR).astype(float)
    return 20 * np.log10(np.abs(np.fft.rfft(y, axis=-1)).max(axis=-1))


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar", "compact-speaker", "stereo-dipole", "laptop"])
def test_anti_phase_input_stays_within_the_cap(name):
    """L = −R has no centre (M = 0): the driver transfer |w_L − w_R| stays under max_gain_db.
    (Capping each path alone let the studio side mids reach +21.9 dB on an 18 dB cap; the
    voicing EQ re-applied after the cap took the compact speaker to +22.7 dB on a 22 dB cap.)"""
    proc = SpatialProcessor(name)
    gains = _transfer_db(proc, 1.0, -1.0)
    assert gains.max() <= proc.max_gain_db + 0.05, (gains, proc.max_gain_db)
    assert np.all(gains <= proc.headroom_db + 0.1)  # headroom_db is read on a coarser grid


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar"])
def test_mono_with_the_upmix_bypassed_stays_within_the_cap(name):
    """Bypassing the upmix sends a mono signal through both side paths at once (|w_L + w_R|);
    the studio's top mid reached +23.3 dB on an 18 dB cap when the paths were capped alone."""
    proc = SpatialProcessor(name, bypass=frozenset({"upmix"}))
    gains = _transfer_db(proc, 1.0, 1.0)
    assert gains.max() <= proc.max_gain_db + 0.05, (gains, proc.max_gain_db)
    assert np.all(gains <= proc.headroom_db + 0.1)  # headroom_db is read on a coarser grid


def test_headroom_is_the_worst_case_over_input_combinations():
    """headroom_db bounds every input combination the upmix produces and is reached by the worst
    one: a brute force over L, R at full scale with random phases and the centre estimate
    C = M − γS for γ in [−1, 1] (or C = 0) approaches it from below."""
    proc = SpatialProcessor("studio-speaker")
    filters = proc.design(SR)
    f = np.fft.rfftfreq(4 * filters.num_taps, 1 / SR)
    w = filters.fir_response(f)  # (N, 3, F)
    k = w[:, 2] - w[:, 0] - w[:, 1]  # y = w_L L + w_R R + (w_C − w_L − w_R) C
    rng = np.random.default_rng(0)
    best = np.zeros(filters.num_drivers)
    for trial in range(600):
        left, right = np.exp(2j * np.pi * rng.random(2))
        gamma = rng.uniform(-1, 1) if trial % 5 else None
        centre = 0.0 if gamma is None else 0.5 * (left + right) - gamma * 0.5 * (left - right)
        y = w[:, 0] * left + w[:, 1] * right + k * centre
        best = np.maximum(best, np.abs(y).max(axis=-1))
    reached = 20 * np.log10(best)
    assert np.all(reached <= filters.headroom_db + 0.05)  # two frequency grids sample the peak
    assert np.all(reached >= filters.headroom_db - 0.5)
    assert filters.headroom_db.max() <= proc.max_gain_db


def test_worst_case_gain_of_a_pass_through_is_unity():
    """A ±30° pair (L' + C to the left driver) never amplifies: G = 1 exactly."""
    w = np.zeros((2, 3, 4), complex)
    w[0, 0] = w[0, 2] = 1.0
    w[1, 1] = w[1, 2] = 1.0
    np.testing.assert_allclose(worst_case_gain(w), 1.0)
    np.testing.assert_allclose(worst_case_gain(w, upmix=False), 1.0)
