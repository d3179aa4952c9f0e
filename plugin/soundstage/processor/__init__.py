"""The processor layer: the streaming base with pedalboard's calling convention
(:mod:`.base`), :class:`SpatialProcessor` (:mod:`.spatial`) and its parameter properties
(:mod:`.parameters`).

May import: the root helpers, ``_kernels``, ``acoustics``, ``design`` and ``presets``.
"""

from .base import Processor, StreamingProcessor
from .spatial import SpatialProcessor

__all__ = ["Processor", "StreamingProcessor", "SpatialProcessor"]
