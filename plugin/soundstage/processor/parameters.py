"""The parameter properties of :class:`soundstage.SpatialProcessor`, with units and ranges.

One table holds every range; each setter validates against it and hands the new value to the
processor's redesign machinery (``_schedule_redesign``), which designs off the audio path and
crossfades.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._errors import ParameterError, ParameterTypeError
from ..design import STAGES
from ..design.parameters import PARAMETER_RANGES

__all__ = ["ParameterProperties"]


class ParameterProperties:
    """Mixin: the user-facing parameters of a SpatialProcessor. The class it is mixed into
    provides ``_design``, ``_listener``, ``_parameter_lock`` and ``_schedule_redesign``."""

    # ------------------------------------------------------------------ parameters
    # name → (range or None for bool, where it lives)
    _PARAMETERS = {
        "width_deg": (PARAMETER_RANGES["width_deg"], "design"),
        "target_cancellation_db": (PARAMETER_RANGES["target_cancellation_db"], "design"),
        "centre_gain_db": (PARAMETER_RANGES["centre_gain_db"], "design"),
        "max_gain_db": (PARAMETER_RANGES["max_gain_db"], "design"),
        "output_gain_db": (PARAMETER_RANGES["output_gain_db"], "design"),
        "beam": (None, "design"),
        "listener_distance_m": (PARAMETER_RANGES["listener_distance_m"], "listener"),
        "listener_offset_m": (PARAMETER_RANGES["listener_offset_m"], "listener"),
    }

    def _set_design(self, **changes) -> None:
        with self._parameter_lock:
            self._design = replace(self._design, **changes)
            self._schedule_redesign()

    def _set_listener(self, **changes) -> None:
        with self._parameter_lock:
            self._listener = replace(self._listener, **changes)
            self._schedule_redesign()

    @classmethod
    def _checked(cls, name: str, value) -> float:
        """``value`` as a float inside the range of ``_PARAMETERS[name]``, or a clear error."""
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ParameterTypeError(f"{name} must be a number, got {value!r}")
        number = float(value)
        low, high = cls._PARAMETERS[name][0]
        if not (np.isfinite(number) and low <= number <= high):
            raise ParameterError(f"{name} must be in [{low:g}, {high:g}], got {value!r}")
        return number

    @property
    def width_deg(self) -> float:
        """Azimuth of the virtual loudspeakers (±, degrees, 1–90)."""
        return self._design.width_deg

    @width_deg.setter
    def width_deg(self, value: float) -> None:
        self._set_design(width_deg=self._checked("width_deg", value))

    @property
    def target_cancellation_db(self) -> float | None:
        """Peak of the target cancellation curve (dB, 0–40); None keeps the preset's curve."""
        return self._design.target_cancellation_db

    @target_cancellation_db.setter
    def target_cancellation_db(self, value: float | None) -> None:
        checked = None if value is None else self._checked("target_cancellation_db", value)
        self._set_design(target_cancellation_db=checked)

    @property
    def centre_gain_db(self) -> float:
        """Gain of the extracted centre (dB, −24…+12)."""
        return self._design.centre_gain_db

    @centre_gain_db.setter
    def centre_gain_db(self, value: float) -> None:
        self._set_design(centre_gain_db=self._checked("centre_gain_db", value))

    @property
    def output_gain_db(self) -> float:
        """Gain of every driver feed (dB, −40…+12); ``headroom_db`` tells what the filters need."""
        return self._design.output_gain_db

    @output_gain_db.setter
    def output_gain_db(self, value: float) -> None:
        self._set_design(output_gain_db=self._checked("output_gain_db", value))

    @property
    def headroom_db(self) -> np.ndarray:
        """Peak gain of each driver's filters (dB) at the sample rate in use (48 kHz before the
        first call): how far above the input's peak a driver feed can go. Set
        ``output_gain_db`` to minus its maximum for integer outputs."""
        return self.design(self._filters.sample_rate if self._filters is not None else 48000.0).headroom_db

    @property
    def max_gain_db(self) -> float:
        """Cap on any driver filter's gain re the plain feed (dB, 0–30)."""
        return self._design.max_gain_db

    @max_gain_db.setter
    def max_gain_db(self, value: float) -> None:
        self._set_design(max_gain_db=self._checked("max_gain_db", value))

    @property
    def beam(self) -> bool:
        """Whether the centre goes through the midrange beamformer."""
        return self._design.beam

    @beam.setter
    def beam(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise ParameterTypeError(f"beam must be True or False, got {value!r}")
        self._set_design(beam=bool(value))

    @property
    def listener_distance_m(self) -> float:
        """Distance from the listener to the enclosure (m, 0.001–100)."""
        return self._listener.distance_m

    @listener_distance_m.setter
    def listener_distance_m(self, value: float) -> None:
        self._set_listener(distance_m=self._checked("listener_distance_m", value))

    @property
    def listener_offset_m(self) -> float:
        """Lateral offset of the listener from the design axis (m, positive to the left, ±2)."""
        return self._listener.lateral_offset_m

    @listener_offset_m.setter
    def listener_offset_m(self, value: float) -> None:
        self._set_listener(lateral_offset_m=self._checked("listener_offset_m", value))

    @property
    def bypass(self) -> frozenset:
        """Stages replaced by the plain mix: a subset of ``("upmix", "virtualizer", "ctc", "beam")``."""
        return self._design.bypass

    @bypass.setter
    def bypass(self, stages) -> None:
        if isinstance(stages, str):
            stages = [stages]
        try:
            stages = frozenset(stages)
        except TypeError:
            stages = None
        if stages is None or not all(isinstance(stage, str) for stage in stages):
            raise ParameterTypeError(
                f"bypass must be a stage name or a collection of stage names from {list(STAGES)}, "
                f"got {stages if stages is not None else 'a non-collection'!r}"
            )
        unknown = sorted(stages - set(STAGES))
        if unknown:
            raise ParameterError(f"bypass names unknown stage(s) {unknown}; allowed: {list(STAGES)}")
        self._set_design(bypass=stages)
