"""The processor layer: the streaming base with pedalboard's calling convention
(:mod:`.base`), :class:`SpatialProcessor` (:mod:`.spatial`), its parameter properties
(:mod:`.parameters`) and head tracking (:mod:`.tracking`, :mod:`.listener_track`).

May import: the root helpers, ``_kernels``, ``acoustics``, ``design`` and ``presets``.
"""

from .base import Processor, StreamingProcessor
from .listener_track import ListenerTrack
from .spatial import SpatialProcessor

__all__ = ["Processor", "StreamingProcessor", "SpatialProcessor", "ListenerTrack"]
