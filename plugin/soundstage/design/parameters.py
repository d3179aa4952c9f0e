"""Design parameters: everything besides geometry that shapes a :class:`FilterSet`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .._errors import ParameterError

__all__ = ["TargetCurve", "DesignParameters", "STAGES", "PARAMETER_RANGES"]

#: Allowed range (inclusive) of each numeric design parameter: the one table that the
#: parameters, the processor's properties and the preset schema all check against.
PARAMETER_RANGES = {
    "width_deg": (1.0, 90.0),
    "target_cancellation_db": (0.0, 40.0),
    "max_gain_db": (0.0, 30.0),
    "beam_max_effort_db": (0.0, 40.0),
    "centre_gain_db": (-24.0, 12.0),
    "output_gain_db": (-40.0, 12.0),
    "upmix_bands": (1, 8),
    "upmix_time_constant_ms": (1.0, 2000.0),
    "centre_extraction": (0.0, 1.0),
    "null_region_m": (0.0, 0.3),
    "voicing_smoothing_octaves": (0.0, 2.0),
    "filter_length_ms": (6.0, 500.0),
    # the design listener (a preset's [listener] and the processor's properties alike)
    "listener_distance_m": (0.001, 100.0),
    "listener_offset_m": (-2.0, 2.0),
}

#: Stages that can be bypassed individually.
STAGES = ("upmix", "virtualizer", "ctc", "beam")


@dataclass(frozen=True)
class TargetCurve:
    """Target cancellation gain χ_t(f): ipsilateral/contralateral ear power ratio in dB.

    Defined by points ``(frequencies_hz[i], cancellation_db[i])`` and interpolated linearly in
    dB over log-frequency; held constant beyond the first and last point.
    """

    frequencies_hz: tuple[float, ...]
    cancellation_db: tuple[float, ...]

    def __post_init__(self) -> None:
        f = np.asarray(self.frequencies_hz, dtype=float)
        g = np.asarray(self.cancellation_db, dtype=float)
        if f.ndim != 1 or f.shape != g.shape or f.size < 1:
            raise ParameterError(
                "TargetCurve needs frequencies_hz and cancellation_db of the same non-zero length, "
                f"got {f.size} and {g.size}"
            )
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
            raise ParameterError("TargetCurve points must be finite")
        if np.any(f <= 0) or np.any(np.diff(f) <= 0):
            raise ParameterError(f"TargetCurve frequencies_hz must be > 0 and increasing, got {self.frequencies_hz}")
        if np.any(g < 0):
            raise ParameterError(f"TargetCurve cancellation_db must be >= 0 dB, got {self.cancellation_db}")
        object.__setattr__(self, "frequencies_hz", tuple(float(x) for x in f))
        object.__setattr__(self, "cancellation_db", tuple(float(x) for x in g))

    def at(self, frequencies_hz) -> np.ndarray:
        """Target in dB at the given frequencies (Hz); 0 Hz takes the first point's value."""
        f = np.maximum(np.asarray(frequencies_hz, dtype=float), 1e-3)
        return np.interp(np.log(f), np.log(self.frequencies_hz), self.cancellation_db)

    def scaled_to(self, peak_db: float) -> "TargetCurve":
        """The same shape with its maximum set to ``peak_db`` (a 0-dB curve stays flat at 0)."""
        peak = max(self.cancellation_db)
        factor = 0.0 if peak == 0 else peak_db / peak
        return TargetCurve(self.frequencies_hz, tuple(g * factor for g in self.cancellation_db))


def _default_target() -> TargetCurve:
    return TargetCurve((100.0, 300.0, 1000.0, 8000.0, 16000.0), (0.0, 6.0, 20.0, 20.0, 12.0))


@dataclass(frozen=True)
class DesignParameters:
    """How to design the filters for one enclosure and listener.

    Parameters
    ----------
    width_deg : float
        Azimuth of the virtual loudspeakers, ±``width_deg`` (1–90°); 30° is the stereo standard.
    target : TargetCurve
        Target cancellation curve χ_t(f) (the preset's); must fall toward low frequencies.
    target_cancellation_db : float or None
        If given, the target curve is scaled so that its maximum equals this (0–40 dB).
    max_gain_db : float
        Cap on any driver filter's gain relative to the plain feed, G_max (0–30 dB).
    beam : bool
        Whether the centre goes through the midrange beamformer.
    beam_band_hz : (float, float)
        Band of the centre beamformer (Hz); outside it the centre is fed plainly.
    beam_null_azimuths_deg : tuple of float
        Directions, seen from the enclosure, where the centre beam places nulls.
    beam_max_effort_db : float
        Cap on the beam's white-noise effort (sum of squared weights re the plain feed), dB.
    centre_gain_db : float
        Gain applied to the extracted centre (−24…+12 dB).
    output_gain_db : float
        Gain applied to every driver feed (−40…+12 dB), e.g. to make room for the cancellation
        filters' gain (see ``FilterSet.headroom_db``) before an integer output format.
    upmix_bands : int
        Number of bands of the adaptive centre extraction (1–8).
    upmix_time_constant_ms : float
        Smoothing time constant of the per-band correlation estimates (1–2000 ms).
    centre_extraction : float
        Strength of the centre extraction, 0 (none) … 1 (full projection).
    null_region_m : float
        Half-width of the region around the contralateral ear where null-steering widens its
        null (0 = a point null at the ear). Only for enclosures with more than two drivers.
    filter_length_ms : float
        Length of the designed FIR filters (ms); the design's modelling delay is a part of it.
    modelling_delay_ms : float
        Delay given to every designed filter so that the non-causal part of the inverse fits
        (ms, 0.5 … filter_length_ms / 2); it is part of the processor's latency.
    adapt_modelling_delay : bool
        Lengthen the modelling delay (up to ``filter_length_ms / 2``) until the realised
        cancellation is within 0.3 dB per 1/3 octave of the designed one; the latency this costs
        is reported by the processor. False keeps ``modelling_delay_ms`` (lowest latency).
    passband_hz : (float, float) or None
        Band (Hz) in which the voicing EQ makes each input's response at the listener flat re a
        point source at the enclosure (the preset's ``passband_hz``), and in which tonal balance is
        reported.
    voicing : bool
        Apply the voicing EQ (needs ``passband_hz``).
    voicing_smoothing_octaves : float
        Smoothing (octaves, 0–2) of the modelled ear response before the voicing EQ inverts it:
        wider for an enclosure whose response at the ears is an interference pattern that moves
        with the listener's head (see :mod:`.voicing`).
    voicing_heads : tuple of str
        Model heads whose mean response the voicing EQ flattens jointly with ``head_model``
        (head specifications as in ``robust_heads``; ``"default"`` for the parametric ensemble;
        empty: the design head alone).
    head_model : str
        Head model used by the design: ``"sphere"``, ``"brown-duda"`` or a path to a SOFA file.
    crossover_order : int
        Linkwitz–Riley order of the crossovers (4 or 8).
    bypass : frozenset of str
        Stages (from :data:`STAGES`) replaced by the plain mix a naive implementation would do.
    robust_heads : tuple of str
        Ensemble of heads the crosstalk cancellation / null-steering is designed over jointly
        with ``head_model`` (see :mod:`.robust`): ``"default"`` (spheres 7.5–9.5 cm and
        Brown–Duda), ``"sphere:0.08"``, ``"brown-duda"``, ``"kemar"`` or SOFA paths; empty for a
        single-head design.
    """

    width_deg: float = 30.0
    target: TargetCurve = field(default_factory=_default_target)
    target_cancellation_db: float | None = None
    max_gain_db: float = 12.0
    beam: bool = True
    beam_band_hz: tuple[float, float] = (700.0, 5000.0)
    beam_null_azimuths_deg: tuple[float, ...] = (90.0, -90.0)
    beam_max_effort_db: float = 15.0
    centre_gain_db: float = 0.0
    output_gain_db: float = 0.0
    upmix_bands: int = 4
    upmix_time_constant_ms: float = 40.0
    centre_extraction: float = 1.0
    null_region_m: float = 0.0
    filter_length_ms: float = 40.0
    modelling_delay_ms: float = 3.0
    adapt_modelling_delay: bool = True
    passband_hz: tuple[float, float] | None = None
    voicing: bool = False
    head_model: str = "sphere"
    crossover_order: int = 4
    bypass: frozenset = frozenset()
    robust_heads: tuple = ()
    voicing_smoothing_octaves: float = 1 / 6
    voicing_heads: tuple = ()

    def __post_init__(self) -> None:
        def check(name, low=None, high=None):
            if low is None:
                low, high = PARAMETER_RANGES[name]
            value = getattr(self, name)
            if not (np.isfinite(value) and low <= value <= high):
                raise ParameterError(f"{name} must be in [{low}, {high}], got {value!r}")

        check("width_deg")
        check("max_gain_db")
        check("beam_max_effort_db")
        check("centre_gain_db")
        check("output_gain_db")
        check("upmix_bands")
        check("upmix_time_constant_ms")
        check("centre_extraction")
        check("null_region_m")
        check("voicing_smoothing_octaves")
        check("filter_length_ms")
        check("modelling_delay_ms", 0.5, self.filter_length_ms / 2)
        if self.target_cancellation_db is not None:
            check("target_cancellation_db")
        if self.passband_hz is not None:
            p_low, p_high = (float(b) for b in self.passband_hz)
            if not (0 < p_low < p_high):
                raise ParameterError(f"passband_hz must satisfy 0 < low < high, got {self.passband_hz!r}")
            object.__setattr__(self, "passband_hz", (p_low, p_high))
        low, high = (float(b) for b in self.beam_band_hz)
        if not (0 < low < high):
            raise ParameterError(f"beam_band_hz must satisfy 0 < low < high, got {self.beam_band_hz!r}")
        object.__setattr__(self, "beam_band_hz", (low, high))
        object.__setattr__(self, "beam_null_azimuths_deg", tuple(float(a) for a in self.beam_null_azimuths_deg))
        if self.crossover_order not in (2, 4, 8):
            raise ParameterError(f"crossover_order must be 2, 4 or 8, got {self.crossover_order!r}")
        bypass = frozenset(self.bypass)
        unknown = sorted(bypass - set(STAGES))
        if unknown:
            raise ParameterError(f"bypass names unknown stages {unknown}; allowed: {list(STAGES)}")
        object.__setattr__(self, "bypass", bypass)
        from .robust import check_robust_heads

        object.__setattr__(self, "robust_heads", check_robust_heads(self.robust_heads))
        try:
            object.__setattr__(self, "voicing_heads", check_robust_heads(self.voicing_heads))
        except ParameterError as exc:
            raise ParameterError(str(exc).replace("robust_heads entry", "voicing_heads entry")) from exc
        object.__setattr__(self, "upmix_bands", int(self.upmix_bands))

    @property
    def effective_target(self) -> TargetCurve:
        """The target curve after ``target_cancellation_db`` scaling."""
        if self.target_cancellation_db is None:
            return self.target
        return self.target.scaled_to(self.target_cancellation_db)

    def replace(self, **changes) -> "DesignParameters":
        """A validated copy with some fields changed."""
        return replace(self, **changes)
