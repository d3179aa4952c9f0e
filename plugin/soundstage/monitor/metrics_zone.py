"""The listening zone: where around the design position the stereo image still works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError

__all__ = ["ZoneMap", "listening_zone"]


@dataclass(frozen=True)
class ZoneMap:
    """Channel separation and image width over a grid of head positions.

    Arrays indexed ``[i_lateral, i_fore_aft]``.
    """

    #: Lateral head offsets (m, sign as the caller's ``evaluate`` defines it), shape ``(n_lat,)``.
    lateral_m: np.ndarray
    #: Fore/aft head offsets (m, sign as the caller's ``evaluate`` defines it), shape ``(n_fa,)``.
    fore_aft_m: np.ndarray
    #: Channel separation χ at each position (dB), shape ``(n_lat, n_fa)``.
    chi_db: np.ndarray
    #: Image azimuth of a hard-left source at each position (degrees), shape ``(n_lat, n_fa)``.
    hard_left_azimuth_deg: np.ndarray
    #: Positions meeting both criteria, shape ``(n_lat, n_fa)``.
    in_zone: np.ndarray
    #: Area of the zone (m²): the sum of the grid cells of the positions in the zone.
    area_m2: float
    #: Area each grid point stands for (m²), shape ``(n_lat, n_fa)``.
    cell_area_m2: np.ndarray


def _cell_widths(grid: np.ndarray, name: str) -> np.ndarray:
    """Width each grid point stands for: from the midpoint with the previous point to the midpoint
    with the next; the end points get the same half-steps outward as inward."""
    g = np.asarray(grid, dtype=float)
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)):
        raise ParameterError(f"{name} must be a non-empty 1-D array of finite offsets in metres, got {grid!r}")
    if g.size == 1:
        return np.zeros(1)
    if np.any(np.diff(g) <= 0):
        raise ParameterError(f"{name} must be strictly increasing, got {g!r}")
    half_steps = np.diff(g) / 2.0
    return np.concatenate([half_steps[:1], half_steps]) + np.concatenate([half_steps, half_steps[-1:]])


def listening_zone(
    evaluate: Callable[[float, float], tuple[float, float]],
    lateral_m=np.linspace(-0.2, 0.2, 9),
    fore_aft_m=np.linspace(-0.5, 0.5, 5),
    *,
    min_chi_db: float = 10.0,
    min_azimuth_deg: float = 20.0,
) -> ZoneMap:
    """Map the listening zone: positions where separation and image width meet their minimums.

    Parameters
    ----------
    evaluate : callable(lateral_offset_m, fore_aft_offset_m) -> (chi_db, hard_left_azimuth_deg)
        Evaluates the system with the listener's head moved by the offsets (m) from the design
        position: returns the channel separation χ (dB, e.g. the mean over a band of
        :func:`~.metrics_binaural.channel_separation_db`) and the image azimuth of a hard-left
        source (degrees, e.g. from :class:`~.metrics_azimuth.AzimuthEstimator`). The sign
        convention of the offsets is the caller's (in the frame of :mod:`soundstage.acoustics.frame`
        lateral is +y, to the left, and fore/aft is +x).
    lateral_m, fore_aft_m : array_like [shape=(n_lat,), (n_fa,)]
        Strictly increasing grid offsets in metres.
    min_chi_db : float, keyword-only
        Smallest acceptable channel separation (dB).
    min_azimuth_deg : float, keyword-only
        Smallest acceptable hard-left image azimuth (degrees).

    Returns
    -------
    ZoneMap
        The grids, the χ and azimuth maps, the zone mask (``chi >= min_chi_db`` and
        ``azimuth >= min_azimuth_deg``) and its area. The area is the sum, over the positions in
        the zone, of the rectangle each grid point stands for (bounded by the midpoints to its
        neighbours; edge points extend half a step outward), so a uniform grid of n × m points
        with steps Δx, Δy covers n·m·Δx·Δy.
    """
    lateral = np.asarray(lateral_m, dtype=float)
    fore_aft = np.asarray(fore_aft_m, dtype=float)
    cells = np.outer(_cell_widths(lateral, "lateral_m"), _cell_widths(fore_aft, "fore_aft_m"))
    chi = np.empty(cells.shape)
    azimuth = np.empty(cells.shape)
    for i, x in enumerate(lateral):
        for j, y in enumerate(fore_aft):
            chi[i, j], azimuth[i, j] = evaluate(float(x), float(y))
    in_zone = (chi >= min_chi_db) & (azimuth >= min_azimuth_deg)
    return ZoneMap(lateral, fore_aft, chi, azimuth, in_zone, float(np.sum(cells[in_zone])), cells)
