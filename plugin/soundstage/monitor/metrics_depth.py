"""Depth: the direct-to-reverberant ratio of a room response and its diffuse-field prediction.

In a diffuse field the reverberant energy density is the same everywhere while the direct
sound falls as ``1/r²``; the two are equal at the critical distance

.. math::

    r_c ≈ 0.057 \\sqrt{Q V / T_{60}}  \\;\\text{m}, \\qquad Q = 10^{DI/10},

(``V`` in m³, ``T60`` in s; Sabine's reverberation time, ``r_c = sqrt(Q A / 16π)`` with
``A = 0.161 V / T60``), so the direct-to-reverberant ratio at distance ``r`` is
``DRR(r) = 20·log10(r_c / r)`` dB: each dB of source directivity index buys a dB of DRR.
:func:`critical_distance_m` is the one of :mod:`soundstage.acoustics.room`, re-exported here.

References
----------
H. Kuttruff, *Room Acoustics*, 5th ed., Spon Press, 2009, §5.1 (critical distance).
"""

from __future__ import annotations

import numpy as np

from .._errors import ParameterError
from ..acoustics.room import critical_distance_m
from .metrics_bands import validate_sample_rate, validate_signals

__all__ = ["direct_to_reverberant_db", "critical_distance_m", "diffuse_drr_db"]


def diffuse_drr_db(distance_m: float, volume_m3: float, t60_s: float, directivity_index_db: float = 0.0) -> float:
    """Diffuse-field direct-to-reverberant ratio at a distance (dB): ``20·log10(r_c / r)``.

    Parameters
    ----------
    distance_m : float
        Source–listener distance in m (> 0).
    volume_m3 : float
        Room volume in m³ (> 0).
    t60_s : float
        Reverberation time in s (> 0).
    directivity_index_db : float
        Directivity index of the source toward the listener in dB (0 for omnidirectional).

    Returns
    -------
    float
        DRR in dB (positive inside the critical distance :func:`critical_distance_m`).

    Examples
    --------
    >>> round(diffuse_drr_db(2.5, 54.0, 0.4), 1), round(diffuse_drr_db(2.5, 54.0, 0.4, 4.77), 1)
    (-11.5, -6.8)
    """
    if not (np.isfinite(distance_m) and distance_m > 0):
        raise ParameterError(f"distance_m must be finite and > 0 m, got {distance_m!r}")
    return float(20.0 * np.log10(critical_distance_m(volume_m3, t60_s, directivity_index_db) / distance_m))


def direct_to_reverberant_db(impulse_response, sample_rate: float, *, direct_window_ms: float = 2.5) -> float:
    """Direct-to-reverberant energy ratio of a room impulse response (dB).

    The direct sound is the energy within ``±direct_window_ms`` of the largest absolute sample
    (the direct-path peak); the reverberant part is all the energy after that window. Energy
    before the window (pre-delay, measurement noise) is ignored.

    Parameters
    ----------
    impulse_response : array_like [shape=(n,)]
        Room impulse response (one ear or one microphone).
    sample_rate : float
        Sample rate in Hz.
    direct_window_ms : float, keyword-only
        Half-width of the direct-sound window in ms (> 0; 2.5 ms is customary).

    Returns
    -------
    float
        DRR = 10·log10(E_direct / E_reverberant) in dB.

    Raises
    ------
    ParameterError
        If the response is silent, 1-D is violated, or nothing follows the direct window.
    """
    fs = validate_sample_rate(sample_rate)
    h = validate_signals(impulse_response, "impulse_response")
    if h.ndim != 1:
        raise ParameterError(f"impulse_response must be 1-D (n,), got shape {h.shape}")
    if not direct_window_ms > 0:
        raise ParameterError(f"direct_window_ms must be > 0 ms, got {direct_window_ms!r}")
    energy = h * h
    if not np.any(energy):
        raise ParameterError("impulse_response is all zeros; the DRR is undefined")
    peak = int(np.argmax(energy))
    half = int(round(direct_window_ms * 1e-3 * fs))
    start, stop = max(0, peak - half), min(h.size, peak + half + 1)
    direct = float(np.sum(energy[start:stop]))
    reverberant = float(np.sum(energy[stop:]))
    if reverberant == 0.0:
        raise ParameterError(
            f"impulse_response has no energy after the direct window (peak at sample {peak}, window "
            f"±{direct_window_ms} ms); the DRR is infinite"
        )
    return float(10.0 * np.log10(direct / reverberant))
