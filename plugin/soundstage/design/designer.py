"""``design_filterset``: enclosure + listener + parameters + sample rate → :class:`FilterSet`.

The design works in the frequency domain on a grid at least twice as fine as the FIR length, from
the acoustic model's plant (:func:`soundstage.acoustics.plant.plant_response`):

1. crossovers ``X`` per driver band (Linkwitz–Riley), folded into every path;
2. the virtualizer's relative HRTF ``R_v`` of a ±θ pair at the drivers' distance;
3. the side paths: crosstalk cancellation / null-steering to the target curve under G_max,
   in RTF form (:mod:`.crosstalk`);
4. the centre path: midrange beam with nulls (:mod:`.beamformer`) and the centre gain;
5. the worst case of each driver over every input combination is capped at G_max
   (:mod:`.headroom`), by blending paths toward their plain feeds;
6. every path gets the same modelling delay (so a centred impulse arrives coherently), long
   enough that the realised cancellation is the designed one (:mod:`.realise`), then the
   weights are inverse-transformed, truncated to the FIR length with a half-Hann fade-out, and
   stored as one (3 × n_drivers) FIR matrix.

Designs are cached per (enclosure, listener, parameters, sample rate).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from .._errors import DesignError, ParameterError
from ..acoustics.geometry import Enclosure, Listener
from . import plant_cache
from .beamformer import design_centre_beam
from .crossover import driver_band_sos, sos_response
from .crosstalk import design_cancellation
from .ear_plant import design_plant as _plant
from .filterset import FilterSet
from .realise import GAIN_MARGIN_DB, realise_filters
from .tonal_balance import point_source_reference
from .voicing import voicing_gains
from .parameters import DesignParameters
from .virtualizer import fit_shelf, relative_hrtf

__all__ = ["design_filterset", "design_grid", "MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE"]

MIN_SAMPLE_RATE = 22050.0
MAX_SAMPLE_RATE = 192000.0
#: Upmix band edges (Hz) by number of bands.
_UPMIX_EDGES = {1: (), 2: (1000.0,), 3: (400.0, 2500.0), 4: (250.0, 1000.0, 4000.0),
                5: (200.0, 600.0, 1800.0, 5400.0), 6: (150.0, 400.0, 1000.0, 2500.0, 6300.0),
                7: (125.0, 300.0, 700.0, 1500.0, 3500.0, 8000.0),
                8: (100.0, 220.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)}


#: Edges of the centre beam's main lobe, held near −3 dB (seen from the enclosure, degrees).
_LOBE_EDGES_DEG = (45.0, -45.0)
#: Filters are designed from the acoustic model up to here; above it (inaudible, and where the
#: head models are costly) every path is its plain feed.
_MAX_DESIGN_HZ = 20000.0
#: Each side path alone is designed (and its null region regularised) this far below G_max:
#: two side inputs at full scale in anti-phase add up to about twice one path's gain, and the
#: worst case over input combinations (:mod:`.headroom`) is what G_max caps.
_PATH_SHARE_DB = 4.0

def design_grid(num_taps: int, sample_rate: float) -> np.ndarray:
    """Design frequency grid (Hz) for ``num_taps`` taps: rFFT bins of 2× the next power of two;
    the DC bin is replaced by a quarter of the first bin (models are undefined at 0 Hz)."""
    n_fft = 2 * (1 << int(np.ceil(np.log2(num_taps))))
    f = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    f[0] = f[1] / 4
    return f


def _virtual_distance_m(enclosure: Enclosure, listener: Listener) -> float:
    if enclosure.kind == "headphones":
        return 2.0
    positions = listener.enclosure_position_m + enclosure.positions_m() - listener.head_position_m
    return float(np.mean(np.linalg.norm(positions, axis=1)))


def design_filterset(enclosure: Enclosure, listener: Listener, parameters: DesignParameters | None = None,
                     sample_rate: float = 48000.0, *, head=None) -> FilterSet:
    """Design every filter of the processing chain for one sample rate.

    Parameters
    ----------
    enclosure : Enclosure
    listener : Listener
        The design listener position.
    parameters : DesignParameters, optional
        Defaults to ``DesignParameters()``.
    sample_rate : float
        Sample rate in Hz, 22 050 … 192 000.
    head : HeadModel, str or None
        Head model; default ``parameters.head_model``.

    Returns
    -------
    FilterSet

    Raises
    ------
    ParameterError
        Sample rate out of range.
    DesignError
        Crosstalk cancellation asked of a single-driver enclosure.
    """
    parameters = DesignParameters() if parameters is None else parameters
    if not (np.isfinite(sample_rate) and MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE):
        raise ParameterError(f"sample_rate must be in [{MIN_SAMPLE_RATE:g}, {MAX_SAMPLE_RATE:g}] Hz, got {sample_rate!r}")
    head_spec = parameters.head_model if head is None else head
    if isinstance(head_spec, str):
        return _design_cached(enclosure, listener, parameters, float(sample_rate), head_spec)
    return _design(enclosure, listener, parameters, float(sample_rate), head_spec)


@functools.lru_cache(maxsize=32)
def _design_cached(enclosure, listener, parameters, sample_rate, head_spec):
    return _design(enclosure, listener, parameters, sample_rate, head_spec)


def _design(enclosure: Enclosure, listener: Listener, parameters: DesignParameters, sample_rate: float, head_spec) -> FilterSet:
    from ..acoustics.heads import make_head

    head = make_head(head_spec, radius_m=listener.head_radius_m)
    num_taps = int(round(parameters.filter_length_ms * sample_rate / 1000.0))
    delay = int(round(parameters.modelling_delay_ms * sample_rate / 1000.0))
    f_full = design_grid(num_taps, sample_rate)
    designed = f_full <= _MAX_DESIGN_HZ
    f = f_full[designed]
    n_drivers = enclosure.num_drivers
    bypass = parameters.bypass
    is_headphones = enclosure.kind == "headphones"

    plain = enclosure.plain_mix()
    crossover_full = np.stack([
        sos_response(driver_band_sos(d.band_hz, sample_rate, parameters.crossover_order), f_full, sample_rate)
        for d in enclosure.drivers
    ])
    crossover = crossover_full[:, designed]
    plant_key = (enclosure, head_spec, num_taps, sample_rate)  # + listener: what the plant depends on
    plant = plant_cache.cached((*plant_key, listener), lambda: _plant(enclosure, listener, f, head))

    virtual_distance = _virtual_distance_m(enclosure, listener)
    virtual_relative = relative_hrtf(head, parameters.width_deg, f, virtual_distance)
    cancel = "ctc" not in bypass and not is_headphones
    if cancel and n_drivers < 2:
        raise DesignError(
            f"enclosure {enclosure.name!r} has one driver: crosstalk cancellation needs at least two; "
            "bypass the 'ctc' stage"
        )
    region = ()
    if cancel and parameters.null_region_m > 0 and n_drivers > 2:
        moved = [listener.moved(lateral_offset_m=listener.lateral_offset_m + s * parameters.null_region_m)
                 for s in (-1.0, 1.0)]
        region = tuple(plant_cache.cached((*plant_key, m), lambda m=m: _plant(enclosure, m, f, head)) for m in moved)
    region_weights, region_yields = (0.5,) * len(region), (True,) * len(region)
    if cancel and parameters.robust_heads:  # design over an ensemble of heads (see .robust)
        from .robust import ensemble_plants, ensemble_row_weight, ensemble_yields, expand

        ensemble_region_m = parameters.null_region_m if n_drivers > 2 else 0.0
        ensemble_key = (enclosure, ("robust", parameters.robust_heads, ensemble_region_m), num_taps, sample_rate, listener)
        ensemble = tuple(plant_cache.cached(ensemble_key, lambda: np.stack(ensemble_plants(
            _plant, enclosure, listener, f, parameters.robust_heads, ensemble_region_m))))  # one entry
        region, region_weights = region + ensemble, region_weights + (ensemble_row_weight(len(ensemble)),) * len(ensemble)
        region_yields += ensemble_yields(len(expand(parameters.robust_heads)), ensemble_region_m)
    sides = design_cancellation(
        plant, plain, crossover, parameters.effective_target.at(f), parameters.max_gain_db - _PATH_SHARE_DB, f,
        virtual_relative=None if "virtualizer" in bypass else virtual_relative,
        region_plants=region, region_weight=region_weights, region_yields=region_yields, cancel=cancel,
    )

    plain_centre = plain.sum(axis=1)
    beam_on = parameters.beam and "beam" not in bypass and not is_headphones and n_drivers >= 2
    if beam_on:
        from ..acoustics.plant import enclosure_far_field

        nulls = parameters.beam_null_azimuths_deg
        directions = enclosure_far_field(enclosure, (0.0,) + nulls + _LOBE_EDGES_DEG, f)
        centre = design_centre_beam(directions[0], directions[1:1 + len(nulls)], crossover, plain_centre, f,
                                    parameters.beam_band_hz, parameters.beam_max_effort_db,
                                    lobe_far_field=directions[1 + len(nulls):],
                                    max_gain_db=parameters.max_gain_db - GAIN_MARGIN_DB)
    else:
        centre = crossover * plain_centre[:, None]
    centre_gain = 10 ** (parameters.centre_gain_db / 20)
    centre = centre * centre_gain
    side_weights = sides.weights
    gains = None
    if parameters.voicing and parameters.passband_hz is not None and not is_headphones:
        # Voicing: flat at the listener within the passband, re a point source (:mod:`.voicing`).

        reference = point_source_reference(enclosure, listener, f, head)
        gains = voicing_gains(plant, reference, np.concatenate([side_weights, centre[:, None, :]], axis=1),
                              f, parameters.passband_hz)
        side_weights = side_weights * gains[None, :2, :]
        centre = centre * gains[None, 2, :]
        sides = replace(sides, weights=side_weights)
    # The cap holds for every input combination, not for each path alone (:mod:`.headroom`), on
    # the realised FIR; the modelling delay grows until the realised cancellation is the
    # designed one (:mod:`.realise`).
    upmix_on = "upmix" not in bypass and parameters.centre_extraction > 0
    plain_paths = np.concatenate([plain, centre_gain * plain_centre[:, None]], axis=1)  # (N, 3)
    realised = realise_filters(
        sides=sides, plain=plain, centre=centre, centre_plain=centre_gain * crossover * plain_centre[:, None] * (1.0 if gains is None else gains[None, 2]),
        crossover=crossover, crossover_full=crossover_full, plain_paths=plain_paths, designed_mask=designed,
        frequencies_hz=f_full, plant=plant, target_db=parameters.effective_target.at(f),
        max_gain_db=parameters.max_gain_db, output_gain_db=parameters.output_gain_db, upmix=upmix_on,
        sample_rate=sample_rate, num_taps=num_taps, delay_samples=delay, max_delay_samples=num_taps // 2,
        adapt_delay=parameters.adapt_modelling_delay, voicing=gains,
        revoice=None if gains is None else (
            lambda w: voicing_gains(plant, reference, w, f, parameters.passband_hz)))
    if not np.all(np.isfinite(realised.weights)):
        raise DesignError(f"design for {enclosure.name!r} produced non-finite filters")
    fir, weights, rho = realised.fir, realised.weights, realised.rho

    nyquist_edges = tuple(e for e in _UPMIX_EDGES[parameters.upmix_bands] if e < 0.45 * sample_rate)
    extraction = 0.0 if "upmix" in bypass else parameters.centre_extraction
    shelf = fit_shelf(virtual_relative, f)
    return FilterSet(
        sample_rate=sample_rate,
        driver_names=enclosure.driver_names,
        fir=fir,
        latency_samples=realised.delay_samples,
        upmix_band_edges_hz=nyquist_edges,
        upmix_time_constant_ms=parameters.upmix_time_constant_ms,
        centre_extraction=extraction,
        headroom_db=realised.peak_gain_db,
        design_frequencies_hz=f_full,
        design_weights=weights,
        enclosure=enclosure,
        listener=listener,
        parameters=parameters,
        diagnostics={
            "frequencies_hz": f,
            "rho": rho,
            # a target the worst-case gain cap blended away is not reached
            "reachable": sides.reachable & (rho <= sides.rho + 1e-6),
            "natural_separation_db": sides.natural_separation_db,
            "virtual_relative": virtual_relative,
            "virtual_distance_m": virtual_distance,
            "virtualizer_fit": shelf,
            "truncation_error_db": realised.truncation_error_db,
            "cancellation_shortfall_db": realised.cancellation_shortfall_db,
            "head": head,
        },
    )
