"""soundstage.acoustics: the acoustic model every filter is designed from.

One frame for everything (:mod:`.frame`, the SOFA listener-centred frame): metres, x ahead of
the listener, y to the listener's left, z up; azimuth positive to the left, 0° straight ahead.
An enclosure at distance ``d`` sits at ``(d, 0, 0)`` facing the listener; its drivers' positions
and axes are given in the same axes, relative to the enclosure's centre.

What lives here: the geometry (:class:`Enclosure`, :class:`Driver`, :class:`Listener`), driver
directivity, head models (rigid sphere, Brown–Duda, measured HRTFs from SOFA files), the
driver→ear plant and the shoebox room (image sources and a statistical tail).

May import: the root helpers only (``_kernels`` too, though it needs none).
"""

from __future__ import annotations

from .directivity import driver_directivity
from .frame import (
    HEAD_RADIUS_M,
    SPEED_OF_SOUND_M_S,
    cartesian_to_spherical,
    enclosure_direction,
    spherical_to_cartesian,
)
from .geometry import BODY_SHAPES, DIRECTIVITY_MODELS, Driver, Enclosure, Listener
from .heads import (
    HEAD_NAMES,
    BrownDudaHead,
    FreeFieldEars,
    HeadModel,
    RigidSphereHead,
    SofaHead,
    make_head,
)
from .plant import enclosure_far_field, plant_impulse_responses, plant_response
from .room import (
    ROOMS,
    Room,
    critical_distance_m,
    eyring_t60_s,
    image_source_count,
    image_sources,
    room_by_name,
    sabine_t60_s,
)
from .room_response import RoomResponse, room_impulse_responses

__all__ = [
    # frame
    "SPEED_OF_SOUND_M_S",
    "HEAD_RADIUS_M",
    "spherical_to_cartesian",
    "cartesian_to_spherical",
    "enclosure_direction",
    # geometry
    "Driver",
    "Enclosure",
    "Listener",
    "DIRECTIVITY_MODELS",
    "BODY_SHAPES",
    # heads
    "HeadModel",
    "FreeFieldEars",
    "RigidSphereHead",
    "BrownDudaHead",
    "SofaHead",
    "make_head",
    "HEAD_NAMES",
    # directivity and plant
    "driver_directivity",
    "plant_response",
    "plant_impulse_responses",
    "enclosure_far_field",
    # room
    "Room",
    "ROOMS",
    "room_by_name",
    "image_sources",
    "image_source_count",
    "sabine_t60_s",
    "eyring_t60_s",
    "critical_distance_m",
    "RoomResponse",
    "room_impulse_responses",
]
