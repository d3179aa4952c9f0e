"""Beam metrics: the pattern of a weighted driver array, its directivity index and null depth.

Directions are azimuths *seen from the enclosure* (:func:`soundstage.acoustics.frame.enclosure_direction`):
0° points at the design listener, +90° toward the listener's left.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.integrate

from .._errors import ParameterError

__all__ = ["beam_pattern", "beam_pattern_db", "directivity_index_db", "null_depth_db"]

# Smallest squared magnitude taken into a logarithm (a −300 dB floor, so exact nulls stay finite).
_FLOOR = 1e-30


def beam_pattern(weights, far_field) -> np.ndarray:
    """Complex far-field pattern of an array of drivers driven with per-frequency weights.

    Parameters
    ----------
    weights : array_like [shape=(n_drivers, F)], complex
        Complex gain of each driver at each frequency (the beamformer's filters).
    far_field : array_like [shape=(n_dir, n_drivers, F)], complex
        Far-field response of each driver toward each direction (e.g.
        ``soundstage.acoustics.plant.enclosure_far_field``).

    Returns
    -------
    np.ndarray [shape=(n_dir, F)], complex
        ``Σ_d far_field[dir, d, f] · weights[d, f]`` (the units of ``far_field``).
    """
    w = np.asarray(weights)
    h = np.asarray(far_field)
    if w.ndim != 2 or h.ndim != 3 or h.shape[1:] != w.shape:
        raise ParameterError(
            f"weights must be (n_drivers, F) and far_field (n_dir, n_drivers, F) with matching "
            f"n_drivers and F; got weights {w.shape} and far_field {h.shape}"
        )
    return np.einsum("adf,df->af", h, w)


def beam_pattern_db(weights, far_field, *, azimuths_deg=None) -> np.ndarray:
    """Beam pattern in dB re the level toward 0° (the design listener).

    Parameters
    ----------
    weights, far_field
        See :func:`beam_pattern`.
    azimuths_deg : array_like [shape=(n_dir,)], optional, keyword-only
        Azimuths of the ``far_field`` directions (degrees); the reference is the direction at 0°,
        which must be present. Without it, row 0 of ``far_field`` must be the 0° direction.

    Returns
    -------
    np.ndarray [shape=(n_dir, F)]
        ``20·log10(|P(θ, f)| / |P(0°, f)|)`` in dB; 0 dB on axis.
    """
    pattern = beam_pattern(weights, far_field)
    reference = 0 if azimuths_deg is None else _index_of(azimuths_deg, 0.0, pattern.shape[0], "azimuths_deg")
    power = np.abs(pattern) ** 2
    on_axis = power[reference]
    if np.any(on_axis == 0):
        raise ParameterError("the beam has an exact null toward 0°; a pattern re 0° is undefined")
    return 10.0 * np.log10(np.maximum(power / on_axis, _FLOOR))


def _index_of(azimuths_deg, target_deg: float, n_dir: int, name: str, tolerance_deg: float = 1e-6) -> int:
    az = np.asarray(azimuths_deg, dtype=float)
    if az.shape != (n_dir,):
        raise ParameterError(f"{name} must have shape ({n_dir},) to match the pattern, got {az.shape}")
    distance = np.abs((az - target_deg + 180.0) % 360.0 - 180.0)
    i = int(np.argmin(distance))
    if distance[i] > tolerance_deg:
        raise ParameterError(f"{name} must contain {target_deg:g}°; the nearest is {az[i]:g}°")
    return i


def directivity_index_db(pattern, angles_deg, *, geometry: Literal["axisymmetric", "horizontal"] = "axisymmetric"):
    """Directivity index of a pattern (dB): on-axis intensity re the mean over all directions.

    Parameters
    ----------
    pattern : array_like [shape=(n_angles, ...)]
        Complex or real pressure pattern (linear, not dB) at ``angles_deg``; trailing axes (e.g.
        frequency) are kept.
    angles_deg : array_like [shape=(n_angles,)]
        Angles in degrees, 0° on axis, covering the whole circle: either ``[0, 180]`` (one side)
        or ``[−180, 180]`` (both sides, which are then averaged).
    geometry : {"axisymmetric", "horizontal"}, keyword-only
        ``"axisymmetric"`` (default) — **full-sphere** DI of a pattern rotationally symmetric about
        its axis, with the angle from the axis as θ:
        ``DI = 10·log10(2 |P(0)|² / ∫₀^π |P(θ)|² sin θ dθ)``. This is exact for axisymmetric
        patterns (first-order α + (1−α)cos θ, their products) and the usual horizontal-plane
        approximation for an enclosure whose vertical pattern is like its horizontal one.
        ``"horizontal"`` — the two-dimensional (cylindrical) DI of the horizontal plane alone,
        ``10·log10(2π |P(0)|² / ∮ |P(φ)|² dφ)`` (a dipole gives 3.01 dB here, 4.77 dB on the sphere).

    Returns
    -------
    float or np.ndarray [shape=(...)]
        Directivity index in dB (0 for an omnidirectional pattern; 4.77 dB dipole and cardioid,
        6.02 dB hypercardioid, 8.75 dB dipole × cardioid on the sphere).

    Notes
    -----
    The integrals use the trapezoidal rule on the given angles; 1° spacing is accurate to
    < 0.01 dB for smooth patterns.
    """
    if geometry not in ("axisymmetric", "horizontal"):
        raise ParameterError(f"geometry must be 'axisymmetric' or 'horizontal', got {geometry!r}")
    p = np.asarray(pattern)
    theta = np.asarray(angles_deg, dtype=float)
    if theta.ndim != 1 or p.shape[:1] != theta.shape or theta.size < 3:
        raise ParameterError(
            f"angles_deg must be 1-D with at least 3 angles matching pattern's first axis; got angles "
            f"{theta.shape} and pattern {p.shape}"
        )
    order = np.argsort(theta)
    theta, power = theta[order], (np.abs(p) ** 2)[order]
    if theta[0] < -180 - 1e-9 or theta[-1] > 180 + 1e-9:
        raise ParameterError(f"angles_deg must lie within [-180, 180] degrees, got {theta[0]:g}…{theta[-1]:g}")
    if theta[0] < -1e-9:
        # Both sides given: fold them onto [0, 180] by averaging the power at ±θ.
        if theta[0] > -180 + 1e-6 or theta[-1] < 180 - 1e-6:
            raise ParameterError("angles_deg spanning negative angles must cover the full [-180, 180] range")
        half = np.unique(np.abs(theta))
        folded_power = 0.5 * (_interp(half, theta, power) + _interp(-half, theta, power))
        theta, power = half, folded_power
    if abs(theta[0]) > 1e-6 or theta[-1] < 180 - 1e-6:
        raise ParameterError(
            f"angles_deg must cover 0° (on axis) to 180° (behind); got {theta[0]:g}…{theta[-1]:g}"
        )
    rad = np.deg2rad(theta)
    on_axis = power[0]
    if geometry == "axisymmetric":
        weight = np.sin(rad).reshape((-1,) + (1,) * (power.ndim - 1))
        mean_power = 0.5 * scipy.integrate.trapezoid(power * weight, rad, axis=0)
    else:
        mean_power = scipy.integrate.trapezoid(power, rad, axis=0) / np.pi
    di = 10.0 * np.log10(np.maximum(on_axis, _FLOOR) / np.maximum(mean_power, _FLOOR))
    return float(di) if np.ndim(di) == 0 else di


def _interp(x_new: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``y`` (first axis along ``x``) at ``x_new``."""
    flat = y.reshape(y.shape[0], -1)
    out = np.stack([np.interp(x_new, x, column) for column in flat.T], axis=-1)
    return out.reshape((x_new.size,) + y.shape[1:])


def null_depth_db(pattern_db, azimuths_deg, null_azimuths_deg, *, half_width_deg: float = 0.0) -> np.ndarray:
    """Depth of a beam's nulls: how far below the 0° level the pattern lies toward each null (dB).

    Parameters
    ----------
    pattern_db : array_like [shape=(n_dir, ...)]
        Beam pattern in dB (e.g. :func:`beam_pattern_db`; it need not be normalised).
    azimuths_deg : array_like [shape=(n_dir,)]
        Azimuths of the pattern's directions (degrees); must include 0°.
    null_azimuths_deg : array_like [shape=(n_nulls,)]
        Azimuths at which nulls are wanted (degrees).
    half_width_deg : float, keyword-only
        If > 0, the depth of each null is the *worst* (shallowest) one over all pattern directions
        within ±half_width_deg of it — a null region, as a moving listener needs. With 0 (default)
        the null azimuth itself must be one of ``azimuths_deg``.

    Returns
    -------
    np.ndarray [shape=(n_nulls, ...)]
        Null depth in dB, positive when the pattern is below its 0° level
        (``pattern_db(0°) − pattern_db(null)``).
    """
    level = np.asarray(pattern_db, dtype=float)
    az = np.asarray(azimuths_deg, dtype=float)
    reference = _index_of(az, 0.0, level.shape[0], "azimuths_deg")
    nulls = np.atleast_1d(np.asarray(null_azimuths_deg, dtype=float))
    if not half_width_deg >= 0:
        raise ParameterError(f"half_width_deg must be >= 0 degrees, got {half_width_deg!r}")
    depths = []
    for null in nulls:
        if half_width_deg == 0:
            rows = [_index_of(az, float(null), level.shape[0], "azimuths_deg")]
        else:
            distance = np.abs((az - null + 180.0) % 360.0 - 180.0)
            rows = np.flatnonzero(distance <= half_width_deg + 1e-9)
            if rows.size == 0:
                raise ParameterError(f"no azimuth within ±{half_width_deg:g}° of the null at {null:g}°")
        depths.append(level[reference] - np.max(level[rows], axis=0))
    return np.stack(depths)
