"""The interface every head model implements, and the simplest model (two points in free air)."""

from __future__ import annotations

import abc

import numpy as np

from ..._errors import GeometryError, ParameterError
from ..frame import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S

__all__ = ["HeadModel", "FreeFieldEars", "validate_frequencies", "validate_positions"]


def validate_frequencies(frequencies_hz, name: str = "frequencies_hz") -> np.ndarray:
    """Return ``frequencies_hz`` as a 1-D float array, rejecting values ≤ 0 and non-finite ones."""
    f = np.atleast_1d(np.asarray(frequencies_hz, dtype=float))
    if f.ndim != 1:
        raise ParameterError(f"{name} must be 1-D, got shape {f.shape}")
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        bad = f[~(np.isfinite(f) & (f > 0))][0]
        raise ParameterError(f"{name} must be finite and > 0 Hz, got {bad!r}")
    return f


def validate_positions(positions_m, min_distance_m: float, name: str = "source_positions_m") -> np.ndarray:
    """Return positions ``(..., 3)`` as floats, rejecting non-finite ones and any closer than
    ``min_distance_m`` to the origin (the head centre)."""
    p = np.asarray(positions_m, dtype=float)
    if p.shape[-1:] != (3,):
        raise ParameterError(f"{name} must have shape (..., 3), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ParameterError(f"{name} must be finite")
    r = np.linalg.norm(p, axis=-1)
    if np.any(r <= min_distance_m):
        raise GeometryError(
            f"{name}: a source at {float(np.min(r)):.4f} m from the head centre is inside the head "
            f"(radius {min_distance_m} m)"
        )
    return p


class HeadModel(abc.ABC):
    """A head: the complex pressure at its two ears for sources around it.

    Positions are in the *head* frame: head centre at the origin, looking along +x, +y to its
    left, +z up (the frame of :mod:`soundstage.acoustics.frame` after moving and turning the
    head). The response is relative to the free-field pressure the same source would produce at
    the head centre with the head absent: it excludes the propagation ``exp(-jkr)/r`` from the
    source to the head centre, which :mod:`soundstage.acoustics.plant` adds.

    Ear index 0 is the left ear, 1 the right ear.
    """

    #: Head radius in metres.
    radius_m: float = HEAD_RADIUS_M
    #: Speed of sound in m/s.
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S
    #: Name shown in reports.
    name: str = "head"

    @abc.abstractmethod
    def response(self, source_positions_m, frequencies_hz) -> np.ndarray:
        """Complex ear responses.

        Parameters
        ----------
        source_positions_m : array_like [shape=(..., 3)]
            Source positions in the head frame, metres, outside the head.
        frequencies_hz : array_like [shape=(F,)]
            Frequencies in Hz, > 0.

        Returns
        -------
        np.ndarray [shape=(..., 2, F), dtype=complex128]
            Pressure at (left, right) ear re the free-field pressure at the head centre.
        """

    def impulse_responses(self, source_positions_m, sample_rate: float, n_taps: int) -> np.ndarray:
        """Real impulse responses of :meth:`response`, shape ``(..., 2, n_taps)``.

        The default samples :meth:`response` on the rFFT grid of ``n_taps`` points and inverts it.
        The result is delayed by :meth:`bulk_delay_s` so that it is causal.
        """
        n_taps = int(n_taps)
        if n_taps < 2:
            raise ParameterError(f"n_taps must be >= 2, got {n_taps}")
        if not (np.isfinite(sample_rate) and sample_rate > 0):
            raise ParameterError(f"sample_rate must be > 0 Hz, got {sample_rate!r}")
        f = np.fft.rfftfreq(n_taps, 1.0 / sample_rate)
        f[0] = min(1.0, f[1] / 10)
        spectrum = self.response(source_positions_m, f)
        spectrum = spectrum * np.exp(-2j * np.pi * f * self.bulk_delay_s())
        if n_taps % 2 == 0:
            spectrum[..., -1] = spectrum[..., -1].real
        return np.fft.irfft(spectrum, n=n_taps, axis=-1)

    def bulk_delay_s(self) -> float:
        """Delay added by :meth:`impulse_responses` to make the responses causal (s)."""
        return 2.0 * self.radius_m / self.speed_of_sound_m_s

    def ear_positions_m(self) -> np.ndarray:
        """Ear positions in the head frame, shape ``(2, 3)`` (left, right)."""
        return np.array([[0.0, self.radius_m, 0.0], [0.0, -self.radius_m, 0.0]])


class FreeFieldEars(HeadModel):
    """No head at all: two omnidirectional points at the ear positions, ``±radius_m`` on y.

    The exact point-source ratio ``(r_c / r_ear) · exp(-jk (r_ear - r_c))``; useful as the
    simplest plant and for checking the others.
    """

    name = "free-field ears"

    def __init__(self, radius_m: float = HEAD_RADIUS_M, speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S):
        if not (np.isfinite(radius_m) and radius_m > 0):
            raise ParameterError(f"radius_m must be > 0, got {radius_m!r}")
        self.radius_m = float(radius_m)
        self.speed_of_sound_m_s = float(speed_of_sound_m_s)

    def response(self, source_positions_m, frequencies_hz) -> np.ndarray:
        f = validate_frequencies(frequencies_hz)
        p = validate_positions(source_positions_m, 0.0)
        r_centre = np.linalg.norm(p, axis=-1)[..., None]  # (..., 1)
        r_ears = np.linalg.norm(p[..., None, :] - self.ear_positions_m(), axis=-1)  # (..., 2)
        k = 2 * np.pi * f / self.speed_of_sound_m_s
        ratio = (r_centre / r_ears)[..., None]
        return ratio * np.exp(-1j * k * (r_ears - r_centre)[..., None])
