"""Far-field directivity of one loudspeaker driver.

Three models, chosen per driver by :attr:`Driver.directivity`:

``"monopole"``
    A point source: 1 in every direction at every frequency.
``"piston"``
    A rigid circular piston of radius ``a`` in an infinite baffle, ``2 J1(ka sinθ)/(ka sinθ)``
    in the front half-space (θ ≤ 90° from the axis). A real driver sits in a finite box, not an
    infinite baffle, so behind the baffle plane it does not fall silent: the model continues the
    side (θ = 90°) value into the rear half-space through a one-pole/one-zero shadow shelf of the
    Brown–Duda form ``(1 + jα ka_s/2)/(1 + j ka_s/2)`` whose high-frequency gain α falls smoothly
    from 1 at 90° to 0.1 (−20 dB) at 180° (``α(θ) = 0.1 + 0.9 (1 + cos θ)``); ``a_s`` is the
    shadowing radius, the larger of the body radius and the piston radius. The rear is therefore
    omnidirectional at low frequencies (a small box radiates like a monopole) and shadowed at
    high frequencies, and the pattern is continuous across the baffle plane.
``"cap"``
    A spherical-cap piston of half-angle ``α = arcsin(a / R)`` on a rigid sphere of radius ``R``
    (the enclosure's ``body_radius_m``), the classic series solution (Morse & Ingard §7.2; Aarts
    & Janssen 2011). The surface velocity is expanded in Legendre polynomials with coefficients
    ``u_n / u_0 = (P_{n-1}(cos α) − P_{n+1}(cos α)) / (1 − cos α)`` and the far field is
    ``D = −(kR)^{-2} Σ_n (u_n/u_0) j^{n+1} P_n(cos θ) / h_n'(kR)`` (outgoing ``h_n = h_n^{(2)}``,
    ``exp(+jωt)`` convention), i.e. the pressure relative to a point monopole of the same volume
    velocity at the sphere centre. It is 1 at DC, includes the sphere's diffraction (the
    on-axis +6 dB baffle step at high frequency) and, for a vanishing cap, equals by reciprocity
    the plane-wave response of a rigid-sphere head. A cylindrical body is modelled by the sphere of
    the same radius.

Phase convention: every response is referenced to the driver's own position (``driver.position_m``),
so that a plant multiplies it by ``exp(−jkr)/r`` with ``r`` measured from the driver. For the
cap the series is referenced to the sphere centre and moved to the driver by
``exp(−jkR cos θ)``. All three models are normalised to 1 on axis at DC.

References
----------
P. M. Morse and K. U. Ingard, *Theoretical Acoustics*, McGraw-Hill, 1968, §7.2.
R. M. Aarts and A. J. E. M. Janssen, "Sound radiation from a resilient spherical cap on a rigid
sphere", JASA 127(4), 2010.
L. L. Beranek and T. J. Mellow, *Acoustics: Sound Fields and Transducers*, 2012, §13 (piston).
C. P. Brown and R. O. Duda, "A structural model for binaural sound synthesis", IEEE TSAP 6(5),
1998 (the form of the rear shadow shelf).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._errors import GeometryError, ParameterError
from .frame import SPEED_OF_SOUND_M_S
from .geometry import Driver
from .heads.base import validate_frequencies

__all__ = ["driver_directivity", "REAR_SHADOW_MIN_GAIN"]

#: High-frequency gain of the piston model straight behind the driver (θ = 180°), −20 dB.
REAR_SHADOW_MIN_GAIN = 0.1


def _validate_directions(directions) -> np.ndarray:
    u = np.asarray(directions, dtype=float)
    if u.shape[-1:] != (3,):
        raise ParameterError(f"directions must have shape (..., 3), got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ParameterError("directions must be finite")
    norm = np.linalg.norm(u, axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise ParameterError("directions must not contain the zero vector")
    return u / norm


def _jinc(x: np.ndarray) -> np.ndarray:
    """``2 J1(x)/x`` with its limit 1 at x = 0."""
    out = np.ones_like(x)
    nz = np.abs(x) > 1e-8
    out[nz] = 2.0 * special.j1(x[nz]) / x[nz]
    return out


def _piston(cos_theta: np.ndarray, k: np.ndarray, radius_m: float, shadow_radius_m: float) -> np.ndarray:
    """Baffled piston with the rear shadow shelf; ``cos_theta`` (...), ``k`` (F) → (..., F)."""
    cos_theta = np.clip(cos_theta, -1.0, 1.0)[..., None]
    front = cos_theta >= 0.0
    sin_theta = np.where(front, np.sqrt(1.0 - cos_theta**2), 1.0)
    pattern = _jinc(k * radius_m * sin_theta).astype(complex)
    alpha = REAR_SHADOW_MIN_GAIN + (1.0 - REAR_SHADOW_MIN_GAIN) * (1.0 + cos_theta)
    half_ka = 0.5j * k * shadow_radius_m
    shelf = (1.0 + alpha * half_ka) / (1.0 + half_ka)
    return np.where(front, pattern, pattern * shelf)


def _cap_orders(ka_max: float) -> int:
    """Number of Legendre orders that converge the cap series up to ``ka_max``."""
    return int(np.ceil(ka_max + 4.0 * np.cbrt(max(ka_max, 1.0)) + 12.0))


def _inverse_hankel_derivatives(n_orders: int, x: np.ndarray) -> np.ndarray:
    """``1 / h_n'(x)`` for n = 0..N, outgoing ``h_n = h_n^{(2)} = j_n − j y_n``, shape ``(N+1, F)``.

    Upward recurrence ``h_{n+1} = (2n+1)/x h_n − h_{n−1}`` (stable: ``y_n`` dominates) and
    ``h_n' = h_{n−1} − (n+1)/x h_n``; where ``h_n`` overflows (orders far above x) the inverse is 0.
    """
    out = np.empty((n_orders + 1, x.size), dtype=complex)
    e = np.exp(-1j * x)
    h_prev = 1j * e / x  # h_0
    h = -e * (x - 1j) / x**2  # h_1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out[0] = -1.0 / h  # h_0' = −h_1
        for m in range(1, n_orders + 1):
            out[m] = 1.0 / (h_prev - (m + 1) / x * h)
            h_prev, h = h, (2 * m + 1) / x * h - h_prev
    out[~np.isfinite(out)] = 0.0
    return out


def _cap(cos_theta: np.ndarray, k: np.ndarray, cap_half_angle_rad: float, sphere_radius_m: float) -> np.ndarray:
    """Spherical cap on a rigid sphere, referenced to the cap centre; → (..., F)."""
    ka = k * sphere_radius_m
    n_orders = _cap_orders(float(np.max(ka)))
    n = np.arange(n_orders + 1)
    x0 = np.cos(cap_half_angle_rad)
    # Legendre polynomials P_0 .. P_{N+1} at cos α for the velocity coefficients.
    p_alpha = special.eval_legendre(np.arange(n_orders + 2), x0)
    # P_{n-1} for n = 0..N, with P_{-1} := P_0 = 1 so that n = 0 gives ∫_{cos α}^1 P_0 = 1 − cos α.
    p_prev = np.concatenate([[1.0], p_alpha[:n_orders]])
    p_next = p_alpha[1 : n_orders + 2]
    weights = (p_prev - p_next) / (1.0 - x0)  # u_n / u_0
    inv_dh = _inverse_hankel_derivatives(n_orders, ka)  # (N+1, F)
    coeff = -(weights * (1j ** (n + 1)))[:, None] * inv_dh / ka[None, :] ** 2  # (N+1, F)
    # Legendre polynomials of the observation angle, (..., N+1).
    p_theta = special.eval_legendre(n, np.clip(cos_theta, -1.0, 1.0)[..., None])
    # Real Legendre matrix times complex coefficients as two real products (BLAS, ~3× faster).
    pattern = p_theta @ coeff.real + 1j * (p_theta @ coeff.imag)  # (..., F), re the sphere centre
    return pattern * np.exp(-1j * ka * cos_theta[..., None])


def driver_directivity(
    driver: Driver,
    directions,
    frequencies_hz,
    *,
    body_radius_m: float = 0.0,
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
) -> np.ndarray:
    """Complex far-field directivity of ``driver`` in the given emission directions.

    Parameters
    ----------
    driver : Driver
        The driver; its ``axis``, ``radius_m`` and ``directivity`` model are used.
    directions : array_like [shape=(..., 3)]
        Directions of emission from the driver, frame axes (normalised here; not zero).
    frequencies_hz : array_like [shape=(F,)]
        Frequencies in Hz, > 0.
    body_radius_m : float
        Radius of the enclosure body in metres: the sphere of the ``"cap"`` model (which needs
        ``body_radius_m ≥ driver.radius_m``) and the shadowing radius of the piston's rear.
    speed_of_sound_m_s : float
        Speed of sound in m/s.

    Returns
    -------
    np.ndarray [shape=(..., F), dtype=complex128]
        Pressure relative to a point source of the same volume velocity at the driver position;
        1 on axis at DC. See the module docstring for each model and the phase convention.

    Raises
    ------
    ParameterError
        Bad directions, frequencies or speed of sound.
    GeometryError
        A ``"cap"`` driver without a body large enough to carry it.

    Examples
    --------
    >>> from soundstage.acoustics import Driver
    >>> tweeter = Driver("tweeter", (-0.08, 0, 0), (-1, 0, 0), 0.0125, "piston")
    >>> d = driver_directivity(tweeter, [[-1, 0, 0], [0, 1, 0]], [100.0, 16000.0])
    >>> bool(abs(d[0, 1] - 1) < 1e-12 and abs(d[1, 1]) < 0.5)
    True
    """
    u = _validate_directions(directions)
    f = validate_frequencies(frequencies_hz)
    if not (np.isfinite(speed_of_sound_m_s) and speed_of_sound_m_s > 0):
        raise ParameterError(f"speed_of_sound_m_s must be > 0, got {speed_of_sound_m_s!r}")
    if not (np.isfinite(body_radius_m) and body_radius_m >= 0):
        raise ParameterError(f"body_radius_m must be >= 0 m, got {body_radius_m!r}")
    k = 2.0 * np.pi * f / speed_of_sound_m_s
    cos_theta = u @ np.asarray(driver.axis, dtype=float)
    if driver.directivity == "monopole":
        return np.ones(cos_theta.shape + f.shape, dtype=complex)
    if driver.directivity == "piston":
        return _piston(cos_theta, k, driver.radius_m, max(body_radius_m, driver.radius_m))
    if driver.directivity == "cap":
        if body_radius_m < driver.radius_m:
            raise GeometryError(
                f"driver {driver.name!r} uses the 'cap' directivity, which needs a body_radius_m "
                f">= its radius_m {driver.radius_m} m, got {body_radius_m} m"
            )
        half_angle = float(np.arcsin(driver.radius_m / body_radius_m))
        return _cap(cos_theta, k, half_angle, body_radius_m)
    raise ParameterError(f"driver {driver.name!r} has an unknown directivity model {driver.directivity!r}")
