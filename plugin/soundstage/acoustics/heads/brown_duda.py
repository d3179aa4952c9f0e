"""The structural head model of Brown & Duda (1998): a one-pole/one-zero head shadow plus delay."""

from __future__ import annotations

import numpy as np

from ..._errors import ParameterError
from ..frame import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from .base import HeadModel, validate_frequencies, validate_positions
from .itd import woodworth_ear_delay_s

__all__ = ["BrownDudaHead"]


class BrownDudaHead(HeadModel):
    """Brown & Duda's spherical-head approximation.

    Each ear (at ±90°) gets a head-shadow filter and a delay depending on the angle ``θ`` between
    the source direction and the ear direction:

    .. math::

        H(θ, ω) = \\frac{1 + jα(θ) ω / 2ω_0}{1 + j ω / 2ω_0} e^{-jωτ(θ)},\\qquad ω_0 = c / a,

        α(θ) = (1 + α_{min}/2) + (1 − α_{min}/2) \\cos(θ / θ_{min} · 180°),

    with ``τ(θ)`` the Woodworth per-ear delay of :func:`.itd.woodworth_ear_delay_s` (negative for
    ``θ < 90°``: the facing ear hears the source before the head centre would). The model is a
    far-field one: only the source *direction* matters, its distance is ignored.

    Parameters
    ----------
    radius_m : float
        Head radius in metres, > 0.
    speed_of_sound_m_s : float
        Speed of sound in m/s, > 0.
    alpha_min : float
        Shadow gain at high frequency at ``θ_min`` (0 < alpha_min ≤ 2); 0.1 is −20 dB.
    theta_min_deg : float
        Incidence angle of the deepest shadow in degrees (90 < θ_min ≤ 180).

    References
    ----------
    C. P. Brown and R. O. Duda, "A structural model for binaural sound synthesis",
    IEEE Trans. Speech Audio Process. 6(5), 476–488, 1998.
    """

    name = "Brown-Duda"

    def __init__(self, radius_m: float = HEAD_RADIUS_M, speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
                 alpha_min: float = 0.1, theta_min_deg: float = 150.0):
        if not (np.isfinite(radius_m) and radius_m > 0):
            raise ParameterError(f"radius_m must be > 0 m, got {radius_m!r}")
        if not (np.isfinite(speed_of_sound_m_s) and speed_of_sound_m_s > 0):
            raise ParameterError(f"speed_of_sound_m_s must be > 0, got {speed_of_sound_m_s!r}")
        if not (np.isfinite(alpha_min) and 0 < alpha_min <= 2):
            raise ParameterError(f"alpha_min must be in (0, 2], got {alpha_min!r}")
        if not (np.isfinite(theta_min_deg) and 90 < theta_min_deg <= 180):
            raise ParameterError(f"theta_min_deg must be in (90, 180] degrees, got {theta_min_deg!r}")
        self.radius_m = float(radius_m)
        self.speed_of_sound_m_s = float(speed_of_sound_m_s)
        self.alpha_min = float(alpha_min)
        self.theta_min_deg = float(theta_min_deg)

    def __repr__(self) -> str:
        return (f"BrownDudaHead(radius_m={self.radius_m}, speed_of_sound_m_s={self.speed_of_sound_m_s}, "
                f"alpha_min={self.alpha_min}, theta_min_deg={self.theta_min_deg})")

    def shadow_alpha(self, incidence_deg) -> np.ndarray:
        """High-frequency shadow gain ``α(θ)`` for incidence angles θ (degrees from the ear axis)."""
        theta = np.abs(np.asarray(incidence_deg, dtype=float))
        return (1 + self.alpha_min / 2) + (1 - self.alpha_min / 2) * np.cos(
            np.deg2rad(theta / self.theta_min_deg * 180.0))

    def incidence_deg(self, source_positions_m) -> np.ndarray:
        """Angle between each source direction and each ear direction, degrees, shape ``(..., 2)``."""
        p = np.asarray(source_positions_m, dtype=float)
        ear_dirs = self.ear_positions_m() / self.radius_m
        cos_theta = np.einsum("...k,ek->...e", p, ear_dirs) / np.linalg.norm(p, axis=-1)[..., None]
        return np.rad2deg(np.arccos(np.clip(cos_theta, -1.0, 1.0)))

    def response(self, source_positions_m, frequencies_hz) -> np.ndarray:
        """Complex ear responses, shape ``(..., 2, F)``; see :meth:`HeadModel.response`."""
        f = validate_frequencies(frequencies_hz)
        p = validate_positions(source_positions_m, self.radius_m)
        theta = self.incidence_deg(p)[..., None]  # (..., 2, 1)
        alpha = self.shadow_alpha(theta)
        tau = woodworth_ear_delay_s(theta, self.radius_m, self.speed_of_sound_m_s)
        w = 2 * np.pi * f
        w0 = self.speed_of_sound_m_s / self.radius_m
        shadow = (1 + 1j * alpha * w / (2 * w0)) / (1 + 1j * w / (2 * w0))
        return shadow * np.exp(-1j * w * tau)
