"""Closed-form interaural time differences of a spherical head (Woodworth, Kuhn)."""

from __future__ import annotations

import numpy as np

from ..._errors import ParameterError
from ..frame import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S

__all__ = ["woodworth_itd_s", "kuhn_low_frequency_itd_s", "woodworth_ear_delay_s"]


def _check(radius_m: float, speed_of_sound_m_s: float) -> None:
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise ParameterError(f"radius_m must be > 0 m, got {radius_m!r}")
    if not (np.isfinite(speed_of_sound_m_s) and speed_of_sound_m_s > 0):
        raise ParameterError(f"speed_of_sound_m_s must be > 0 m/s, got {speed_of_sound_m_s!r}")


def _lateral_angle_rad(azimuth_deg) -> np.ndarray:
    """Azimuth folded onto the lateral angle in [-90°, 90°] (front/back symmetric), radians."""
    az = np.deg2rad(np.asarray(azimuth_deg, dtype=float))
    return np.arcsin(np.clip(np.sin(az), -1.0, 1.0))


def woodworth_itd_s(azimuth_deg, radius_m: float = HEAD_RADIUS_M,
                    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> np.ndarray:
    """Woodworth's high-frequency ITD ``(a/c)(φ + sin φ)`` of a distant source, in seconds.

    Parameters
    ----------
    azimuth_deg : array_like
        Source azimuth in degrees, positive to the left; folded front/back onto the lateral angle
        ``arcsin(sin φ)``.
    radius_m : float
        Head radius in metres.
    speed_of_sound_m_s : float
        Speed of sound in m/s.

    Returns
    -------
    np.ndarray
        ITD = right-ear arrival minus left-ear arrival (s); positive for a source on the left.

    References
    ----------
    R. S. Woodworth and H. Schlosberg, *Experimental Psychology*, 1954.
    """
    _check(radius_m, speed_of_sound_m_s)
    phi = _lateral_angle_rad(azimuth_deg)
    return radius_m / speed_of_sound_m_s * (phi + np.sin(phi))


def kuhn_low_frequency_itd_s(azimuth_deg, radius_m: float = HEAD_RADIUS_M,
                             speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> np.ndarray:
    """Kuhn's low-frequency limit of the rigid-sphere ITD, ``3 (a/c) sin φ``, in seconds.

    Parameters and sign as :func:`woodworth_itd_s`.

    References
    ----------
    G. F. Kuhn, "Model for the interaural time differences in the azimuthal plane",
    J. Acoust. Soc. Am. 62(1), 157–167, 1977.
    """
    _check(radius_m, speed_of_sound_m_s)
    return 3.0 * radius_m / speed_of_sound_m_s * np.sin(np.deg2rad(np.asarray(azimuth_deg, dtype=float)))


def woodworth_ear_delay_s(incidence_deg, radius_m: float = HEAD_RADIUS_M,
                          speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> np.ndarray:
    """Arrival time at one ear re the head centre for a plane wave (Brown & Duda 1998, eq. 3).

    ``-(a/c) cos θ`` for ``θ < 90°``, ``(a/c)(θ − π/2)`` for ``90° ≤ θ ≤ 180°``, where ``θ`` is the
    angle between the source direction and the ear direction.

    Parameters
    ----------
    incidence_deg : array_like
        Angle θ in degrees, in [0, 180].
    radius_m, speed_of_sound_m_s : float
        Head radius (m) and speed of sound (m/s).

    Returns
    -------
    np.ndarray
        Delay in seconds (negative: the ear hears the source before the head centre would).
    """
    _check(radius_m, speed_of_sound_m_s)
    theta = np.deg2rad(np.abs(np.asarray(incidence_deg, dtype=float)))
    t = radius_m / speed_of_sound_m_s
    return np.where(theta < np.pi / 2, -t * np.cos(theta), t * (theta - np.pi / 2))
