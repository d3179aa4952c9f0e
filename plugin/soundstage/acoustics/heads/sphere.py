"""The rigid-sphere head: the exact diffraction series of Duda & Martens (1998).

A point source at distance ``r`` from the centre of a rigid sphere of radius ``a``; the pressure
on the surface at the angle ``Θ`` between the source direction and the ear direction, relative
to the free-field pressure at the sphere's centre with the sphere absent, is (convention
``exp(+jωt)``, ``h_m`` the outgoing spherical Hankel function of order ``m``)

.. math::

    H(r, Θ, f) = -\\frac{r}{k a^2} e^{jkr} \\sum_{m=0}^{\\infty} (2m+1) P_m(\\cos Θ)
                 \\frac{h_m(kr)}{h_m'(ka)} .

Writing ``h_m(x) = j^{m+1} e^{-jx} Q_m(x) / x`` with ``Q_m`` a polynomial in ``z = 1/(jx)``
(``Q_{-1} = Q_0 = 1``, ``Q_{m+1} = Q_{m-1} + (2m+1) z Q_m``) the series becomes

.. math::

    H = z_a e^{jka} \\sum_m (2m+1) P_m(\\cos Θ)
        \\frac{Q_m(kr) / Q_m(ka)}{1/ρ^a_m + (m+1) z_a},
    \\qquad ρ_m = Q_m / Q_{m-1},\\; ρ_{m+1} = 1/ρ_m + (2m+1) z .

Only the ratios ``ρ_m`` and ``Q_m(kr)/Q_m(ka)`` are carried, so nothing overflows at high
orders; in the plane-wave limit ``Q_m(kr) → 1``. The series is summed for every position and
frequency at once and stops when the bound ``(2m+1)|term_m|`` falls below a relative tolerance
of the partial sum everywhere (two orders in a row).

References
----------
R. O. Duda and W. L. Martens, "Range dependence of the response of a spherical head model",
J. Acoust. Soc. Am. 104(5), 3048–3058, 1998.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..._errors import ParameterError
from ..frame import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S, spherical_to_cartesian
from .base import HeadModel, validate_frequencies, validate_positions

__all__ = ["RigidSphereHead", "rigid_sphere_transfer"]

#: Relative tolerance at which the series stops.
SERIES_TOLERANCE = 1e-12
#: Hard cap on the series order (reached only for sources almost touching the sphere).
MAX_ORDER = 2000


def rigid_sphere_transfer(cos_theta, frequencies_hz, distance_m, radius_m: float = HEAD_RADIUS_M,
                          speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> np.ndarray:
    """Pressure on a rigid sphere re the free-field pressure at its centre (Duda & Martens 1998).

    Parameters
    ----------
    cos_theta : array_like [shape=(...)]
        Cosine of the angle between the source direction and the surface point (the ear).
    frequencies_hz : array_like [shape=(F,)]
        Frequencies in Hz, > 0.
    distance_m : array_like [shape=(...)] or float
        Source distance from the centre in metres, > ``radius_m``; ``np.inf`` for a plane wave.
        Broadcast with ``cos_theta``.
    radius_m : float
        Sphere radius in metres.
    speed_of_sound_m_s : float
        Speed of sound in m/s.

    Returns
    -------
    np.ndarray [shape=(..., F), dtype=complex128]
        The transfer function ``H``; ``H → 1`` for a plane wave as ``f → 0``.
    """
    f = validate_frequencies(frequencies_hz)
    x, r = np.broadcast_arrays(np.asarray(cos_theta, dtype=float), np.asarray(distance_m, dtype=float))
    if np.any(np.abs(x) > 1 + 1e-12) or not np.all(np.isfinite(x)):
        raise ParameterError("cos_theta must lie in [-1, 1]")
    if np.any(r <= radius_m) or np.any(np.isnan(r)):
        raise ParameterError(f"distance_m must be > radius_m = {radius_m} m (np.inf for a plane wave)")
    x = np.clip(x, -1.0, 1.0)[..., None]  # (..., 1)
    k = 2 * np.pi * f / speed_of_sound_m_s  # (F,)
    z_a = 1.0 / (1j * k * radius_m)  # (F,)
    with np.errstate(divide="ignore"):
        z_r = np.where(np.isinf(r), 0.0, 1.0 / np.where(np.isinf(r), 1.0, r))[..., None] / (1j * k)

    # order 0: rho_0 = Q_0/Q_-1 = 1, T_0 = Q_0(kr)/Q_0(ka) = 1
    rho_a = np.ones_like(z_a)
    rho_r = np.ones_like(z_r)
    ratio = np.ones_like(z_r)  # Q_m(kr) / Q_m(ka), shape (..., F)
    legendre_prev, legendre = np.ones_like(x), x  # P_0, P_1
    total = ratio / (1.0 / rho_a + z_a) * legendre_prev  # the m = 0 term, (2·0+1) P_0 = 1
    below = 0
    for m in range(1, MAX_ORDER + 1):
        rho_a_new = 1.0 / rho_a + (2 * m - 1) * z_a
        rho_r_new = 1.0 / rho_r + (2 * m - 1) * z_r
        ratio = ratio * (rho_r_new / rho_a_new)
        rho_a, rho_r = rho_a_new, rho_r_new
        bound = (2 * m + 1) * ratio / (1.0 / rho_a + (m + 1) * z_a)  # (..., F)
        total = total + legendre * bound
        if np.all(np.abs(bound) <= SERIES_TOLERANCE * np.abs(total)):
            below += 1
            if below >= 2:
                break
        else:
            below = 0
        # Bonnet: (m+1) P_{m+1} = (2m+1) x P_m − m P_{m−1}
        legendre, legendre_prev = ((2 * m + 1) * x * legendre - m * legendre_prev) / (m + 1), legendre
    return z_a * np.exp(1j * k * radius_m) * total


class RigidSphereHead(HeadModel):
    """A rigid sphere with two point ears on its surface (Duda & Martens 1998).

    Parameters
    ----------
    radius_m : float
        Sphere radius in metres, > 0.
    ear_azimuths_deg : (float, float)
        Azimuths of the (left, right) ears on the equator, degrees, positive to the left.
    speed_of_sound_m_s : float
        Speed of sound in m/s, > 0.
    plane_wave : bool, keyword-only
        If true, every source is a plane wave from the direction of its position (its distance is
        ignored); otherwise a point source at the given position.

    Notes
    -----
    The response includes the near-field range dependence of the point source (for example
    ``1 + 1.5 a/r`` at low frequency for an ear facing the source) and the bright spot behind
    the sphere. ``impulse_responses`` is delayed by ``2 a / c`` (:meth:`bulk_delay_s`).

    References
    ----------
    R. O. Duda and W. L. Martens, J. Acoust. Soc. Am. 104(5), 3048–3058, 1998.
    """

    name = "rigid sphere"

    def __init__(self, radius_m: float = HEAD_RADIUS_M, ear_azimuths_deg: Sequence[float] = (90.0, -90.0),
                 speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S, *, plane_wave: bool = False):
        if not (np.isfinite(radius_m) and radius_m > 0):
            raise ParameterError(f"radius_m must be > 0 m, got {radius_m!r}")
        if not (np.isfinite(speed_of_sound_m_s) and speed_of_sound_m_s > 0):
            raise ParameterError(f"speed_of_sound_m_s must be > 0, got {speed_of_sound_m_s!r}")
        ears = np.asarray(ear_azimuths_deg, dtype=float)
        if ears.shape != (2,) or not np.all(np.isfinite(ears)):
            raise ParameterError(f"ear_azimuths_deg must be two finite angles (left, right), got {ear_azimuths_deg!r}")
        self.radius_m = float(radius_m)
        self.speed_of_sound_m_s = float(speed_of_sound_m_s)
        self.ear_azimuths_deg = (float(ears[0]), float(ears[1]))
        self.plane_wave = bool(plane_wave)

    def __repr__(self) -> str:
        return (f"RigidSphereHead(radius_m={self.radius_m}, ear_azimuths_deg={self.ear_azimuths_deg}, "
                f"speed_of_sound_m_s={self.speed_of_sound_m_s}, plane_wave={self.plane_wave})")

    def ear_positions_m(self) -> np.ndarray:
        """Ear positions in the head frame, shape ``(2, 3)`` (left, right)."""
        return spherical_to_cartesian(np.array(self.ear_azimuths_deg), 0.0, self.radius_m)

    def response(self, source_positions_m, frequencies_hz) -> np.ndarray:
        """Complex ear responses, shape ``(..., 2, F)``; see :meth:`HeadModel.response`."""
        f = validate_frequencies(frequencies_hz)
        p = validate_positions(source_positions_m, self.radius_m)
        r = np.linalg.norm(p, axis=-1)  # (...)
        ear_dirs = self.ear_positions_m() / self.radius_m  # (2, 3)
        cos_theta = np.einsum("...k,ek->...e", p, ear_dirs) / r[..., None]  # (..., 2)
        distance = np.full_like(r, np.inf) if self.plane_wave else r
        return rigid_sphere_transfer(cos_theta, f, distance[..., None], self.radius_m, self.speed_of_sound_m_s)

    def ild_db(self, azimuth_deg, frequencies_hz, distance_m: float = np.inf) -> np.ndarray:
        """Interaural level difference ``20·log10(|left| / |right|)`` in dB.

        Parameters
        ----------
        azimuth_deg : array_like [shape=(...)]
            Source azimuths on the horizontal plane, degrees, positive to the left (so a
            positive azimuth gives a positive ILD).
        frequencies_hz : array_like [shape=(F,)]
            Frequencies in Hz, > 0.
        distance_m : float
            Source distance in metres (> radius), ``np.inf`` for a plane wave.

        Returns
        -------
        np.ndarray [shape=(..., F)]
        """
        az = np.asarray(azimuth_deg, dtype=float)
        directions = spherical_to_cartesian(az, 0.0, 1.0)  # (..., 3)
        ear_dirs = self.ear_positions_m() / self.radius_m
        cos_theta = np.einsum("...k,ek->...e", directions, ear_dirs)
        h = rigid_sphere_transfer(cos_theta, frequencies_hz, distance_m, self.radius_m, self.speed_of_sound_m_s)
        return 20 * np.log10(np.abs(h[..., 0, :]) / np.abs(h[..., 1, :]))
