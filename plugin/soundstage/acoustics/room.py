"""The shoebox room: geometry, absorption, reverberation figures and image sources.

A room is a box ``[0, Lx] × [0, Ly] × [0, Lz]`` in its own axes (metres, z up). The design
listener (the origin of the frame of :mod:`.frame`) stands at ``listener_position_m`` in room
axes, facing one of the room axes (``listener_facing``); a point ``p`` of the frame sits at
``listener_position_m + R · p`` in the room, ``R`` the rotation about z that takes the frame's +x
to the facing direction. Walls are ordered ``(x0, x1, y0, y1, z0, z1)``: the walls at x = 0,
x = Lx, y = 0 ... Each wall has an energy absorption coefficient α and the (real,
frequency-independent) pressure reflection coefficient ``β = sqrt(1 − α)``.

The impulse responses of a room are computed by :mod:`.room_response`.

References
----------
J. B. Allen and D. A. Berkley, "Image method for efficiently simulating small-room acoustics",
J. Acoust. Soc. Am. 65(4), 943–950, 1979.
H. Kuttruff, *Room Acoustics*, 5th ed., 2009 (Sabine and Eyring reverberation times, critical
distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import GeometryError, ParameterError
from .geometry import Enclosure, Listener
from .plant import yaw_matrix

__all__ = [
    "Room",
    "ROOMS",
    "room_by_name",
    "image_sources",
    "image_source_count",
    "sabine_t60_s",
    "eyring_t60_s",
    "critical_distance_m",
    "SABINE_CONSTANT_S_M",
    "LISTENER_FACINGS",
]

#: Sabine's constant 24 ln(10)/c ≈ 0.161 s/m (T60 = 0.161 V / A).
SABINE_CONSTANT_S_M = 0.161
#: Directions the listener may face, with the frame's yaw in room axes (degrees).
LISTENER_FACINGS = {"+x": 0.0, "+y": 90.0, "-x": 180.0, "-y": -90.0}
_WALLS = ("x0", "x1", "y0", "y1", "z0", "z1")


def _dimensions(dimensions_m) -> np.ndarray:
    dims = np.asarray(dimensions_m, dtype=float)
    if dims.shape != (3,) or not np.all(np.isfinite(dims)) or np.any(dims <= 0):
        raise ParameterError(f"dimensions_m must be three lengths > 0 m (Lx, Ly, Lz), got {dimensions_m!r}")
    return dims


def _absorption(absorption) -> np.ndarray:
    alpha = np.asarray(absorption, dtype=float)
    if alpha.ndim == 0:
        alpha = np.full(6, float(alpha))
    if alpha.shape != (6,) or not np.all(np.isfinite(alpha)) or np.any(alpha < 0) or np.any(alpha > 1):
        raise ParameterError(
            f"absorption must be one value or six values {_WALLS} in [0, 1], got {absorption!r}"
        )
    return alpha


def _wall_areas_m2(dims: np.ndarray) -> np.ndarray:
    lx, ly, lz = dims
    return np.array([ly * lz, ly * lz, lx * lz, lx * lz, lx * ly, lx * ly])


def sabine_t60_s(dimensions_m, absorption) -> float:
    """Sabine reverberation time ``T60 = 0.161 V / Σ S_i α_i`` in seconds.

    Parameters
    ----------
    dimensions_m : (float, float, float)
        Room size ``(Lx, Ly, Lz)`` in metres.
    absorption : float or six floats
        Energy absorption coefficient, one for all walls or per wall ``(x0, x1, y0, y1, z0, z1)``.
    """
    dims, alpha = _dimensions(dimensions_m), _absorption(absorption)
    area = float(np.sum(_wall_areas_m2(dims) * alpha))
    if area == 0.0:
        return float("inf")
    return SABINE_CONSTANT_S_M * float(np.prod(dims)) / area


def eyring_t60_s(dimensions_m, absorption) -> float:
    """Eyring reverberation time ``T60 = 0.161 V / (−S ln(1 − ᾱ))`` in seconds (ᾱ area-weighted).

    The image-source model decays at close to this rate; Sabine's formula is its low-absorption
    limit.
    """
    dims, alpha = _dimensions(dimensions_m), _absorption(absorption)
    areas = _wall_areas_m2(dims)
    mean = float(np.sum(areas * alpha) / np.sum(areas))
    if mean == 0.0:
        return float("inf")
    if mean >= 1.0:
        return 0.0
    return SABINE_CONSTANT_S_M * float(np.prod(dims)) / (-float(np.sum(areas)) * np.log1p(-mean))


def critical_distance_m(volume_m3: float, t60_s: float, directivity_index_db: float = 0.0) -> float:
    """Critical distance ``r_c = 0.057 √(Q V / T60)`` in metres, ``Q = 10^(DI/10)``.

    The diffuse-field direct-to-reverberant ratio at distance ``r`` is ``20 log10(r_c / r)``.
    For 54 m³ and 0.4 s: 0.662 m omnidirectional, 1.147 m with a 4.77 dB directivity index.

    Examples
    --------
    >>> round(critical_distance_m(54.0, 0.4), 3), round(critical_distance_m(54.0, 0.4, 4.77), 3)
    (0.662, 1.147)
    """
    if not (np.isfinite(volume_m3) and volume_m3 > 0):
        raise ParameterError(f"volume_m3 must be > 0, got {volume_m3!r}")
    if not (np.isfinite(t60_s) and t60_s > 0):
        raise ParameterError(f"t60_s must be > 0 s, got {t60_s!r}")
    if not np.isfinite(directivity_index_db):
        raise ParameterError(f"directivity_index_db must be finite, got {directivity_index_db!r}")
    q = 10.0 ** (directivity_index_db / 10.0)
    return 0.057 * float(np.sqrt(q * volume_m3 / t60_s))


@dataclass(frozen=True)
class Room:
    """A shoebox room with a listener in it.

    Parameters
    ----------
    dimensions_m : (float, float, float)
        ``(Lx, Ly, Lz)`` in metres.
    absorption : float or six floats
        Energy absorption coefficients in [0, 1], one for all walls or per wall
        ``(x0, x1, y0, y1, z0, z1)``.
    listener_position_m : (float, float, float)
        Where the design listener's head centre is, room axes, metres (inside the room).
    listener_facing : {"+x", "-x", "+y", "-y"}
        Room axis the listener faces (the frame's +x).
    name : str
        Short name for reports.
    """

    dimensions_m: tuple[float, float, float] = (5.0, 4.0, 2.7)
    absorption: float | tuple[float, ...] = 0.2
    listener_position_m: tuple[float, float, float] = (5.0 / 3.0, 2.0, 1.2)
    listener_facing: str = "+x"
    name: str = "room"

    def __post_init__(self) -> None:
        dims = _dimensions(self.dimensions_m)
        object.__setattr__(self, "dimensions_m", tuple(float(d) for d in dims))
        object.__setattr__(self, "absorption", tuple(float(a) for a in _absorption(self.absorption)))
        pos = np.asarray(self.listener_position_m, dtype=float)
        if pos.shape != (3,) or not np.all(np.isfinite(pos)):
            raise ParameterError(f"listener_position_m must be three finite numbers, got {self.listener_position_m!r}")
        if np.any(pos <= 0) or np.any(pos >= dims):
            raise GeometryError(
                f"room {self.name!r}: listener_position_m {pos.tolist()} is outside the room {dims.tolist()} m"
            )
        object.__setattr__(self, "listener_position_m", tuple(float(p) for p in pos))
        if self.listener_facing not in LISTENER_FACINGS:
            raise ParameterError(
                f"listener_facing must be one of {sorted(LISTENER_FACINGS)}, got {self.listener_facing!r}"
            )

    @classmethod
    def from_t60(cls, dimensions_m, t60_s: float, listener_position_m=None, **kwargs) -> "Room":
        """A room with the same absorption on every wall, chosen for a Sabine ``t60_s``.

        ``α = 0.161 V / (S · T60)``; raises :class:`ParameterError` if that exceeds 1.
        """
        dims = _dimensions(dimensions_m)
        if not (np.isfinite(t60_s) and t60_s > 0):
            raise ParameterError(f"t60_s must be > 0 s, got {t60_s!r}")
        alpha = SABINE_CONSTANT_S_M * float(np.prod(dims)) / (float(np.sum(_wall_areas_m2(dims))) * t60_s)
        if alpha > 1.0:
            raise ParameterError(
                f"t60_s = {t60_s} s is too short for a {dims.tolist()} m room by Sabine's formula "
                f"(needs absorption {alpha:.2f} > 1)"
            )
        if listener_position_m is None:
            listener_position_m = (dims[0] / 3.0, dims[1] / 2.0, min(1.2, dims[2] / 2.0))
        return cls(tuple(dims), alpha, tuple(listener_position_m), **kwargs)

    @property
    def volume_m3(self) -> float:
        return float(np.prod(self.dimensions_m))

    @property
    def surface_m2(self) -> float:
        return float(np.sum(_wall_areas_m2(np.asarray(self.dimensions_m))))

    @property
    def reflection_coefficients(self) -> np.ndarray:
        """Pressure reflection coefficients ``β = sqrt(1 − α)`` per wall, shape ``(6,)``."""
        return np.sqrt(1.0 - np.asarray(self.absorption))

    def sabine_t60_s(self) -> float:
        """Sabine T60 of this room (s)."""
        return sabine_t60_s(self.dimensions_m, self.absorption)

    def eyring_t60_s(self) -> float:
        """Eyring T60 of this room (s)."""
        return eyring_t60_s(self.dimensions_m, self.absorption)

    def frame_rotation(self) -> np.ndarray:
        """``R`` (3, 3): frame axes → room axes."""
        return yaw_matrix(LISTENER_FACINGS[self.listener_facing])

    def to_room(self, frame_points_m) -> np.ndarray:
        """Frame positions ``(..., 3)`` → room positions ``(..., 3)``."""
        return np.asarray(self.listener_position_m) + np.asarray(frame_points_m, float) @ self.frame_rotation().T

    def check_fits(self, enclosure: Enclosure, listener: Listener, head_radius_m: float | None = None) -> None:
        """Raise :class:`GeometryError` unless the enclosure and the listener's head are inside."""
        dims = np.asarray(self.dimensions_m)
        head_r = listener.head_radius_m if head_radius_m is None else head_radius_m
        head = self.to_room(listener.head_position_m)
        if np.any(head - head_r <= 0) or np.any(head + head_r >= dims):
            raise GeometryError(
                f"room {self.name!r}: the listener's head at {np.round(head, 3).tolist()} m (room axes) "
                f"does not fit in the room {dims.tolist()} m"
            )
        centre = self.to_room(listener.enclosure_position_m)
        if np.any(centre - enclosure.body_radius_m <= 0) or np.any(centre + enclosure.body_radius_m >= dims):
            raise GeometryError(
                f"room {self.name!r}: enclosure {enclosure.name!r} at {np.round(centre, 3).tolist()} m (room "
                f"axes, body radius {enclosure.body_radius_m} m) is outside the room {dims.tolist()} m; "
                f"reduce the listener distance_m ({listener.distance_m} m) or move the listener"
            )
        for driver in enclosure.drivers:
            p = self.to_room(listener.enclosure_position_m + np.asarray(driver.position_m))
            if np.any(p <= 0) or np.any(p >= dims):
                raise GeometryError(f"room {self.name!r}: driver {driver.name!r} of {enclosure.name!r} is outside the room")


#: Built-in rooms by name; ``"anechoic"`` is ``None`` (free field, no reflections).
ROOMS: dict[str, Room | None] = {
    "anechoic": None,
    "living-room": Room.from_t60((5.0, 4.0, 2.7), 0.4, (5.0 / 3.0, 2.0, 1.2), name="living-room"),
    "studio": Room.from_t60((6.0, 5.0, 3.0), 0.25, (2.0, 2.5, 1.2), name="studio"),
}


def room_by_name(name: str) -> Room | None:
    """The built-in room called ``name`` (``None`` for ``"anechoic"``)."""
    if name not in ROOMS:
        raise ParameterError(f"room must be one of {sorted(ROOMS)}, got {name!r}")
    return ROOMS[name]


def image_source_count(max_order: int) -> int:
    """Number of image sources up to ``max_order``, the source itself included:
    ``(4N³ + 6N² + 8N + 3) / 3``.

    >>> [image_source_count(n) for n in (1, 2, 3, 10)]
    [7, 25, 63, 1561]
    """
    n = int(max_order)
    return (4 * n**3 + 6 * n**2 + 8 * n + 3) // 3


def _image_lattice(max_order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allen & Berkley's ``(n, q)`` per axis with total order ≤ ``max_order``.

    Returns ``n`` (K, 3) ints, ``q`` (K, 3) in {0, 1} and the order (K,), sorted by order. Along
    one axis the image sits at ``2 n L + (1 − 2q) x`` after ``|n − q|`` reflections off the wall
    at 0 and ``|n|`` off the wall at L.
    """
    n1 = np.arange(-max_order - 1, max_order + 2)
    n_axis, q_axis = np.meshgrid(n1, [0, 1], indexing="ij")
    n_axis, q_axis = n_axis.ravel(), q_axis.ravel()
    order_axis = np.abs(n_axis - q_axis) + np.abs(n_axis)
    keep = order_axis <= max_order
    n_axis, q_axis, order_axis = n_axis[keep], q_axis[keep], order_axis[keep]
    ix, iy, iz = np.meshgrid(*(np.arange(n_axis.size),) * 3, indexing="ij")
    ix, iy, iz = ix.ravel(), iy.ravel(), iz.ravel()
    order = order_axis[ix] + order_axis[iy] + order_axis[iz]
    sel = order <= max_order
    idx = np.stack([ix[sel], iy[sel], iz[sel]], axis=-1)
    order = order[sel]
    perm = np.argsort(order, kind="stable")
    return n_axis[idx][perm], q_axis[idx][perm], order[perm]


def _image_gains(room: Room, n: np.ndarray, q: np.ndarray) -> np.ndarray:
    beta = room.reflection_coefficients.reshape(3, 2)  # (axis, wall 0 / wall L)
    hits_low = np.abs(n - q)
    hits_high = np.abs(n)
    with np.errstate(divide="ignore"):
        # 0 ** 0 = 1: a fully absorbing wall kills only the images that hit it
        return np.prod(beta[:, 0] ** hits_low * beta[:, 1] ** hits_high, axis=-1)


def image_sources(room: Room, source_position_m, max_order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image sources of a point source in a shoebox room (Allen & Berkley 1979).

    Parameters
    ----------
    room : Room
        The room.
    source_position_m : (float, float, float)
        Source position in *room* axes, metres, inside the room.
    max_order : int
        Highest reflection order, ≥ 0.

    Returns
    -------
    positions_m : np.ndarray [shape=(K, 3)]
        Image positions in room axes; row 0 is the source itself. ``K = image_source_count(N)``.
    gains : np.ndarray [shape=(K,)]
        Products of the wall reflection coefficients ``β`` along each path (no ``1/r``).
    orders : np.ndarray [shape=(K,), dtype=int]
        Number of reflections, non-decreasing.
    """
    if int(max_order) != max_order or max_order < 0:
        raise ParameterError(f"max_order must be an integer >= 0, got {max_order!r}")
    src = np.asarray(source_position_m, dtype=float)
    dims = np.asarray(room.dimensions_m)
    if src.shape != (3,) or not np.all(np.isfinite(src)):
        raise ParameterError(f"source_position_m must be three finite numbers, got {source_position_m!r}")
    if np.any(src <= 0) or np.any(src >= dims):
        raise GeometryError(f"source_position_m {src.tolist()} is outside the room {dims.tolist()} m")
    n, q, order = _image_lattice(int(max_order))
    positions = 2 * n * dims + (1 - 2 * q) * src
    return positions, _image_gains(room, n, q), order
