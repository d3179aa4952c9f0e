"""Geometry of an enclosure, its drivers and the listener, in the frame of :mod:`.frame`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .._errors import GeometryError
from .frame import HEAD_RADIUS_M

__all__ = ["Driver", "Enclosure", "Listener", "DIRECTIVITY_MODELS", "BODY_SHAPES"]

#: Driver directivity models understood by :mod:`soundstage.acoustics.directivity`.
DIRECTIVITY_MODELS = ("monopole", "piston", "cap")
#: Enclosure body shapes (used by the directivity model and for "inside the body" checks).
BODY_SHAPES = ("sphere", "cylinder", "none")


def _vector3(value, name: str) -> tuple[float, float, float]:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise GeometryError(f"{name} must be three finite numbers (x, y, z) in metres, got {value!r}")
    return (float(arr[0]), float(arr[1]), float(arr[2]))


@dataclass(frozen=True)
class Driver:
    """One loudspeaker driver of an enclosure.

    Parameters
    ----------
    name : str
        Unique name within the enclosure (``"tweeter"``, ``"mid_left"``...).
    position_m : tuple of 3 floats
        Centre of the diaphragm relative to the enclosure centre, frame axes, metres.
    axis : tuple of 3 floats
        Direction the driver fires (normalised on construction).
    radius_m : float
        Effective radiating radius in metres (> 0).
    directivity : {"monopole", "piston", "cap"}
        Directivity model: point source, baffled circular piston, or spherical-cap piston on a
        rigid sphere of the enclosure's body radius.
    band_hz : tuple of 2 floats
        Frequency band the driver may play (low, high), in Hz; ``0`` / ``inf`` for open ends.
        The crossovers are designed from these.
    plain_feed : tuple of 2 floats
        Gains from the left and right input in the plain (unprocessed) mix, e.g. ``(1, 0)`` for a
        left-firing driver and ``(0.5, 0.5)`` for a centre one.
    centre_feed : float or None
        Gain from the extracted centre in the plain feed (what the centre plays outside the
        beam); ``None`` (default) is the sum of ``plain_feed``, i.e. the centre played as L + R.
    """

    name: str
    position_m: tuple[float, float, float]
    axis: tuple[float, float, float]
    radius_m: float
    directivity: Literal["monopole", "piston", "cap"] = "piston"
    band_hz: tuple[float, float] = (0.0, float("inf"))
    plain_feed: tuple[float, float] = (0.5, 0.5)
    centre_feed: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise GeometryError(f"Driver name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "position_m", _vector3(self.position_m, f"driver {self.name!r} position_m"))
        axis = np.asarray(_vector3(self.axis, f"driver {self.name!r} axis"))
        norm = float(np.linalg.norm(axis))
        if norm == 0.0:
            raise GeometryError(f"driver {self.name!r} axis must not be the zero vector")
        if abs(norm - 1.0) > 1e-15:  # leave a unit axis as it is: normalising is idempotent
            object.__setattr__(self, "axis", tuple(float(a) for a in axis / norm))
        else:
            object.__setattr__(self, "axis", tuple(float(a) for a in axis))
        if not (np.isfinite(self.radius_m) and self.radius_m > 0):
            raise GeometryError(f"driver {self.name!r} radius_m must be > 0, got {self.radius_m!r}")
        if self.directivity not in DIRECTIVITY_MODELS:
            raise GeometryError(
                f"driver {self.name!r} directivity must be one of {DIRECTIVITY_MODELS}, got {self.directivity!r}"
            )
        low, high = (float(b) for b in self.band_hz)
        if not (0.0 <= low < high):
            raise GeometryError(f"driver {self.name!r} band_hz must satisfy 0 <= low < high, got {self.band_hz!r}")
        object.__setattr__(self, "band_hz", (low, high))
        feed = tuple(float(g) for g in self.plain_feed)
        if len(feed) != 2 or not all(np.isfinite(feed)):
            raise GeometryError(f"driver {self.name!r} plain_feed must be two finite gains (left, right)")
        object.__setattr__(self, "plain_feed", feed)
        if self.centre_feed is not None:
            if not np.isfinite(self.centre_feed):
                raise GeometryError(f"driver {self.name!r} centre_feed must be a finite gain, got {self.centre_feed!r}")
            object.__setattr__(self, "centre_feed", float(self.centre_feed))


@dataclass(frozen=True)
class Enclosure:
    """A loudspeaker enclosure: its drivers and the body they sit on.

    Parameters
    ----------
    name : str
        Short name (the preset name for built-in enclosures).
    drivers : tuple of Driver
        At least one driver; names must be unique.
    body : {"sphere", "cylinder", "none"}
        Body shape. ``"none"`` for separate boxes (a stereo pair) or headphones.
    body_radius_m : float
        Radius of the sphere or cylinder in metres (0 for ``"none"``).
    body_height_m : float
        Height of a cylindrical body in metres (0 otherwise).
    description : str
        One paragraph for people.
    kind : {"loudspeakers", "headphones"}
        ``"headphones"``: driver 0 plays into the left ear and driver 1 into the right ear with
        no acoustic crosstalk (the plant is the identity); ``"loudspeakers"`` otherwise.
    """

    name: str
    drivers: tuple[Driver, ...]
    body: Literal["sphere", "cylinder", "none"] = "none"
    body_radius_m: float = 0.0
    body_height_m: float = 0.0
    description: str = ""
    kind: Literal["loudspeakers", "headphones"] = "loudspeakers"

    def __post_init__(self) -> None:
        drivers = tuple(self.drivers)
        if not drivers:
            raise GeometryError(f"enclosure {self.name!r} needs at least one driver")
        names = [d.name for d in drivers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise GeometryError(f"enclosure {self.name!r} has duplicate driver names {duplicates}")
        object.__setattr__(self, "drivers", drivers)
        if self.body not in BODY_SHAPES:
            raise GeometryError(f"enclosure {self.name!r} body must be one of {BODY_SHAPES}, got {self.body!r}")
        if self.body_radius_m < 0 or self.body_height_m < 0:
            raise GeometryError(f"enclosure {self.name!r} body dimensions must be >= 0")
        if self.kind not in ("loudspeakers", "headphones"):
            raise GeometryError(f"enclosure {self.name!r} kind must be 'loudspeakers' or 'headphones', got {self.kind!r}")
        if self.kind == "headphones" and len(drivers) != 2:
            raise GeometryError(f"enclosure {self.name!r}: headphones need exactly two drivers (left, right)")

    @property
    def driver_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.drivers)

    @property
    def num_drivers(self) -> int:
        return len(self.drivers)

    def positions_m(self) -> np.ndarray:
        """Driver positions relative to the enclosure centre, shape ``(n_drivers, 3)``."""
        return np.array([d.position_m for d in self.drivers], dtype=float)

    def axes(self) -> np.ndarray:
        """Unit firing directions, shape ``(n_drivers, 3)``."""
        return np.array([d.axis for d in self.drivers], dtype=float)

    def plain_mix(self) -> np.ndarray:
        """The plain (unprocessed) mix matrix, shape ``(n_drivers, 2)`` from (left, right)."""
        return np.array([d.plain_feed for d in self.drivers], dtype=float)

    def centre_mix(self) -> np.ndarray:
        """The plain feed of the extracted centre, shape ``(n_drivers,)``: each driver's
        ``centre_feed``, or the sum of its ``plain_feed`` where that is not given."""
        return np.array([sum(d.plain_feed) if d.centre_feed is None else d.centre_feed for d in self.drivers],
                        dtype=float)


@dataclass(frozen=True)
class Listener:
    """Where the listener's head is, relative to the enclosure.

    The enclosure centre sits at ``(distance_m, 0, 0)``. The head centre sits at
    ``(fore_aft_offset_m, lateral_offset_m, 0)`` (positive lateral = to the listener's left,
    positive fore/aft = toward the enclosure) and is turned by ``yaw_deg`` (positive = to the
    left). ``head`` is a head model object from :mod:`soundstage.acoustics.heads` or ``None`` for
    the default rigid sphere.
    """

    distance_m: float = 2.5
    lateral_offset_m: float = 0.0
    fore_aft_offset_m: float = 0.0
    yaw_deg: float = 0.0
    head_radius_m: float = HEAD_RADIUS_M
    head: object | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("distance_m", "lateral_offset_m", "fore_aft_offset_m", "yaw_deg", "head_radius_m"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise GeometryError(f"Listener {name} must be finite, got {value!r}")
        if self.distance_m <= 0:
            raise GeometryError(f"Listener distance_m must be > 0, got {self.distance_m!r}")
        if self.head_radius_m <= 0:
            raise GeometryError(f"Listener head_radius_m must be > 0, got {self.head_radius_m!r}")

    @property
    def head_position_m(self) -> np.ndarray:
        """Head centre in the frame, shape ``(3,)``."""
        return np.array([self.fore_aft_offset_m, self.lateral_offset_m, 0.0])

    @property
    def enclosure_position_m(self) -> np.ndarray:
        """Enclosure centre in the frame, shape ``(3,)``."""
        return np.array([self.distance_m, 0.0, 0.0])

    def moved(self, **changes) -> "Listener":
        """A copy with some fields changed (``lateral_offset_m=0.05`` ...)."""
        from dataclasses import replace

        return replace(self, **changes)
