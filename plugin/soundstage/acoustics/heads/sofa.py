"""Measured heads from SOFA (AES69) files."""

from __future__ import annotations

from .base import HeadModel

__all__ = ["SofaHead"]


class SofaHead(HeadModel):
    """Head-related transfer functions read from a SOFA file (work in progress)."""

    name = "SOFA"

    def __init__(self, path, interpolation: str = "nearest", speed_of_sound_m_s: float = 343.0):
        raise NotImplementedError("SofaHead is not implemented yet")

    def response(self, source_positions_m, frequencies_hz):
        raise NotImplementedError
