"""The immutable result of a design: every filter the processor runs at one sample rate."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FilterSet", "INPUT_NAMES"]

#: The processor's internal signals feeding the FIR matrix, in order.
INPUT_NAMES = ("left", "right", "centre")


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class FilterSet:
    """Filters for one enclosure, listener and parameter set at one sample rate.

    Attributes
    ----------
    sample_rate : float
        Sample rate in Hz the filters were designed for.
    driver_names : tuple of str
        Output channel order.
    fir : np.ndarray [shape=(3, n_drivers, n_taps), float32]
        FIR matrix from the upmixed signals (left', right', centre) to the driver feeds. Virtualizer,
        crosstalk cancellation, centre beam, centre gain, crossovers and delay alignment are all
        folded into it.
    latency_samples : int
        Modelling delay of ``fir`` (the processor adds its convolver's own latency).
    upmix_band_edges_hz : tuple of float
        Band edges of the adaptive centre extraction.
    upmix_time_constant_ms : float
    centre_extraction : float
        Strength of the centre extraction (0 when the upmix is bypassed).
    headroom_db : np.ndarray [shape=(n_drivers,)]
        Worst-case gain of each driver over frequency and every input combination, dB (its
        headroom need): the peak over frequency of ``|w_L| + |w_R| + |w_C − w_L − w_R|`` on the
        realised FIR (``|w_L| + |w_R|`` when the upmix is bypassed), see
        :func:`soundstage.design.headroom.worst_case_gain`. Output gain included.
    design_frequencies_hz : np.ndarray [shape=(F,)]
        The frequency grid the filters were designed on.
    design_weights : np.ndarray [shape=(n_drivers, 3, F), complex]
        The designed (ideal, before FIR realisation) driver weights, without the modelling delay.
    diagnostics : dict
        Design internals for reports, on the grid ``frequencies_hz`` (F' ≤ F: the modelled band,
        up to 20 kHz): ``rho`` (2, F'), ``reachable`` (2, F'), ``natural_separation_db``,
        ``virtual_relative`` (F,), ``truncation_error_db``, ``virtual_distance_m``.
    enclosure, listener, parameters
        What the design was made from.
    """

    sample_rate: float
    driver_names: tuple[str, ...]
    fir: np.ndarray
    latency_samples: int
    upmix_band_edges_hz: tuple[float, ...]
    upmix_time_constant_ms: float
    centre_extraction: float
    headroom_db: np.ndarray
    design_frequencies_hz: np.ndarray
    design_weights: np.ndarray
    enclosure: object
    listener: object
    parameters: object
    diagnostics: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fir", _frozen(np.asarray(self.fir, dtype=np.float32)))
        for name in ("headroom_db", "design_frequencies_hz", "design_weights"):
            object.__setattr__(self, name, _frozen(np.asarray(getattr(self, name))))

    @property
    def num_drivers(self) -> int:
        return self.fir.shape[1]

    @property
    def num_taps(self) -> int:
        return self.fir.shape[2]

    def fir_response(self, frequencies_hz) -> np.ndarray:
        """Complex response of the FIR matrix at ``frequencies_hz`` with the modelling delay
        removed, shape ``(n_drivers, 3, F)`` (drivers × inputs)."""
        f = np.asarray(frequencies_hz, dtype=float)
        n = np.arange(self.num_taps)
        kernel = np.exp(-2j * np.pi * np.outer(n, f) / self.sample_rate)  # (n_taps, F)
        response = np.einsum("idn,nf->dif", self.fir.astype(float), kernel)
        return response * np.exp(2j * np.pi * f * self.latency_samples / self.sample_rate)
