"""``design_report``: what a :class:`FilterSet` achieves, evaluated on an acoustic plant.

The report evaluates the *realised* FIR filters (not the ideal design weights) against the
driver→ear plant of the design listener, or any other plant given (a moved listener, another
head), so tests and plots see what the processor will really do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .crossover import driver_band_sos, sos_response
from .driver_feeds import plain_paths
from .ear_plant import design_plant as _plant
from .filterset import FilterSet
from .tonal_balance import TonalBalance, tonal_balance
from .virtualizer import ShelfFit

__all__ = ["DesignReport", "design_report", "report_frequencies"]


def report_frequencies(f_low: float = 50.0, f_high: float = 20000.0, per_octave: int = 24) -> np.ndarray:
    """Log-spaced evaluation grid (Hz), ``per_octave`` points per octave."""
    n = int(np.floor(np.log2(f_high / f_low) * per_octave)) + 1
    return f_low * 2.0 ** (np.arange(n) / per_octave)


@dataclass(frozen=True)
class DesignReport:
    """Achieved performance of a FilterSet on a plant.

    Attributes
    ----------
    frequencies_hz : np.ndarray [shape=(F,)]
    ears : np.ndarray [shape=(2, 3, F), complex]
        Ear responses (left, right) to each processor input (left', right', centre).
    separation_db : np.ndarray [shape=(2, F)]
        χ per side input: ipsilateral/contralateral ear level in dB (left input: left/right ear).
    target_db : np.ndarray [shape=(F,)]
        The target cancellation curve.
    ipsilateral_deviation_db : np.ndarray [shape=(2, F)]
        Ipsilateral ear response re the plain feed's own ipsilateral response (RTF form: 0 dB).
    interaural_db : np.ndarray [shape=(2, F)]
        Contralateral/ipsilateral ear level per side input (dB).
    reference_interaural_db : np.ndarray [shape=(F,)]
        The virtual ±θ pair's own contralateral/ipsilateral level |R_v| (dB).
    driver_gain_db : np.ndarray [shape=(n_drivers, 3, F)]
        Gain of each driver filter re the plain feed's unit gain (dB).
    beam_azimuths_deg : np.ndarray [shape=(A,)]
    beam_pattern_db : np.ndarray [shape=(A, F)] or None
        Far-field response of the centre path re its on-axis response (dB), None for headphones.
    virtualizer_fit : ShelfFit
    latency_samples : int
        The FilterSet's modelling delay (the processor adds its convolver's latency).
    tonal_balance : TonalBalance or None
        Hard-left and centred input per 1/3 octave re a flat point source at the enclosure, over
        the preset's ``passband_hz`` (100 Hz–12 kHz at most), on the report's listener and head;
        None for headphones.
    """

    frequencies_hz: np.ndarray
    ears: np.ndarray
    separation_db: np.ndarray
    target_db: np.ndarray
    ipsilateral_deviation_db: np.ndarray
    interaural_db: np.ndarray
    reference_interaural_db: np.ndarray
    driver_gain_db: np.ndarray
    beam_azimuths_deg: np.ndarray
    beam_pattern_db: np.ndarray | None
    virtualizer_fit: ShelfFit
    latency_samples: int
    tonal_balance: TonalBalance | None = None

    def band(self, values: np.ndarray, band_hz: tuple[float, float]) -> np.ndarray:
        """``values[..., F]`` restricted to ``band_hz`` (inclusive)."""
        mask = (self.frequencies_hz >= band_hz[0]) & (self.frequencies_hz <= band_hz[1])
        return values[..., mask]

    def beam_at(self, azimuth_deg: float) -> np.ndarray:
        """Beam pattern (dB, over frequency) at the nearest evaluated azimuth."""
        index = int(np.argmin(np.abs(self.beam_azimuths_deg - azimuth_deg)))
        return self.beam_pattern_db[index]


def _db(x) -> np.ndarray:
    return 20 * np.log10(np.maximum(np.abs(x), 1e-15))


def design_report(filterset: FilterSet, plant: np.ndarray | None = None, *,
                  frequencies_hz=None, listener=None, head=None,
                  beam_azimuths_deg=np.arange(-180.0, 181.0, 5.0)) -> DesignReport:
    """Evaluate what ``filterset`` achieves.

    Parameters
    ----------
    filterset : FilterSet
    plant : np.ndarray [shape=(2, n_drivers, F)], optional
        Driver→ear responses on ``frequencies_hz`` (bulk delay removed). Default: the plant of
        ``listener`` (default: the design listener) with ``head`` (default: the design head).
    frequencies_hz : array_like, optional
        Evaluation grid; default 50 Hz–min(20 kHz, 0.45·fs), 24 points per octave.
    listener : Listener, optional
        Where to evaluate (e.g. a moved listener for robustness figures).
    head : HeadModel or str, optional
    beam_azimuths_deg : array_like
        Azimuths (seen from the enclosure) for the centre beam pattern.
    """
    from ..acoustics.heads import make_head

    fs = filterset.sample_rate
    f = report_frequencies(50.0, min(20000.0, 0.45 * fs)) if frequencies_hz is None else np.asarray(frequencies_hz, float)
    enclosure = filterset.enclosure
    listener = filterset.listener if listener is None else listener
    head_model = filterset.diagnostics["head"] if head is None else make_head(head, radius_m=listener.head_radius_m)
    h = _plant(enclosure, listener, f, head_model) if plant is None else plant
    weights = filterset.fir_response(f)  # (N, 3, F)
    ears = np.einsum("enf,nif->eif", h, weights)

    crossover = np.stack([
        sos_response(driver_band_sos(d.band_hz, fs, filterset.parameters.crossover_order), f, fs)
        for d in enclosure.drivers
    ])
    plain = plain_paths(enclosure, filterset.listener, f, fs, filterset.parameters.crossover_order)  # (N, 2, F)
    effective = h * crossover[None]
    separation = np.empty((2, f.size))
    ipsi_dev = np.empty((2, f.size))
    interaural = np.empty((2, f.size))
    for side in (0, 1):
        ipsi, contra = side, 1 - side
        separation[side] = _db(ears[ipsi, side]) - _db(ears[contra, side])
        interaural[side] = -separation[side]
        plain_ipsi = np.einsum("nf,nf->f", effective[ipsi], plain[:, side])
        ipsi_dev[side] = _db(ears[ipsi, side]) - _db(plain_ipsi)

    from .virtualizer import fit_shelf, relative_hrtf

    relative = relative_hrtf(head_model, filterset.parameters.width_deg, f, filterset.diagnostics["virtual_distance_m"])
    azimuths = np.asarray(beam_azimuths_deg, dtype=float)
    pattern = None
    if enclosure.kind != "headphones":
        from ..acoustics.plant import enclosure_far_field

        far = enclosure_far_field(enclosure, azimuths, f)  # (A, N, F)
        response = np.einsum("anf,nf->af", far, weights[:, 2, :])
        on_axis = np.einsum("nf,nf->f", enclosure_far_field(enclosure, [0.0], f)[0], weights[:, 2, :])
        pattern = _db(response) - _db(on_axis)[None, :]
    return DesignReport(
        frequencies_hz=f,
        ears=ears,
        separation_db=separation,
        target_db=filterset.parameters.effective_target.at(f),
        ipsilateral_deviation_db=ipsi_dev,
        interaural_db=interaural,
        reference_interaural_db=_db(relative),
        driver_gain_db=_db(weights),
        beam_azimuths_deg=azimuths,
        beam_pattern_db=pattern,
        virtualizer_fit=fit_shelf(filterset.diagnostics["virtual_relative"], filterset.diagnostics["frequencies_hz"]),
        latency_samples=filterset.latency_samples,
        tonal_balance=_tonal_balance(filterset, listener, head),
    )


def _tonal_balance(filterset, listener, head):
    if filterset.enclosure.kind == "headphones":
        return None
    low, high = filterset.parameters.passband_hz or (100.0, 12000.0)
    return tonal_balance(filterset, head=head, listener=listener, band_hz=(max(low, 100.0), min(high, 12000.0)))
