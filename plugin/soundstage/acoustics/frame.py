"""The one coordinate frame soundstage uses, and its physical constants.

The frame is the SOFA (AES69) listener-centred frame:

* metres; the listener's head centre at the origin when the listener sits at the design position;
* **x** points ahead of the listener, **y** to the listener's left, **z** up;
* azimuth is measured in the horizontal plane, **positive to the left**, 0° straight ahead;
  elevation is positive upwards;
* an enclosure at distance ``d`` sits at ``(d, 0, 0)`` and faces the listener (its front points
  along −x); its drivers' positions and axes are given in the same axes, relative to the
  enclosure's centre (a front tweeter sits at ``(-r, 0, 0)`` with axis ``(-1, 0, 0)``; a driver
  firing toward the listener's left sits at ``(0, +r, 0)`` with axis ``(0, 1, 0)``).
* Directions *seen from the enclosure* (beam patterns) use an azimuth in the same sense: 0° points
  at the design listener (−x), +90° toward the listener's left (+y).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SPEED_OF_SOUND_M_S",
    "HEAD_RADIUS_M",
    "spherical_to_cartesian",
    "cartesian_to_spherical",
    "enclosure_direction",
]

#: Speed of sound used everywhere unless a preset says otherwise (m/s).
SPEED_OF_SOUND_M_S = 343.0
#: Head radius of the rigid-sphere and Brown–Duda models unless a preset says otherwise (m).
HEAD_RADIUS_M = 0.0875


def spherical_to_cartesian(azimuth_deg, elevation_deg, distance_m) -> np.ndarray:
    """Convert SOFA spherical coordinates to Cartesian ones.

    Parameters
    ----------
    azimuth_deg, elevation_deg : array_like
        Azimuth (positive to the left) and elevation (positive up) in degrees; broadcast together.
    distance_m : array_like
        Radius in metres.

    Returns
    -------
    np.ndarray [shape=(..., 3)]
        ``(x, y, z)`` in metres.
    """
    az = np.deg2rad(np.asarray(azimuth_deg, dtype=float))
    el = np.deg2rad(np.asarray(elevation_deg, dtype=float))
    r = np.asarray(distance_m, dtype=float)
    az, el, r = np.broadcast_arrays(az, el, r)
    return np.stack(
        [r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], axis=-1
    )


def cartesian_to_spherical(xyz) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert Cartesian coordinates ``(..., 3)`` to ``(azimuth_deg, elevation_deg, distance_m)``."""
    xyz = np.asarray(xyz, dtype=float)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    r = np.sqrt(x * x + y * y + z * z)
    az = np.rad2deg(np.arctan2(y, x))
    el = np.rad2deg(np.arctan2(z, np.hypot(x, y)))
    return az, el, r


def enclosure_direction(azimuth_deg, elevation_deg=0.0) -> np.ndarray:
    """Unit vectors ``(..., 3)`` leaving the enclosure at an azimuth seen from the enclosure.

    0° points back at the design listener (−x), +90° toward the listener's left (+y).
    """
    az = np.deg2rad(np.asarray(azimuth_deg, dtype=float))
    el = np.deg2rad(np.asarray(elevation_deg, dtype=float))
    az, el = np.broadcast_arrays(az, el)
    return np.stack([-np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)
