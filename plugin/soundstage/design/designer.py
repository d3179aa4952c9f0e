"""``design_filterset``: enclosure + listener + parameters + sample rate → :class:`FilterSet`.

The design works in the frequency domain on a grid at least twice as fine as the FIR length, from
the acoustic model's plant (:func:`soundstage.acoustics.plant.plant_response`):

1. crossovers ``X`` per driver band (Linkwitz–Riley), folded into every path, and plain feeds
   that tile per input (one Linkwitz–Riley tree each) with every driver time-aligned at the
   listener (:mod:`.driver_feeds`);
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

Designs are cached per (enclosure, listener, parameters, sample rate), and each stage on what it
depends on (:mod:`.stage_cache`): a change of width, target, centre gain, beam or gains
recomputes only the stages it touches — the virtualizer's R_v for a width, the centre beam for
beam settings, then the blends, the gain cap and the FIR realisation — and reuses the plant,
the crossovers and the factored CTC / null-steering inverse. A cached redesign is bitwise the
from-scratch one (the same code runs on the same inputs).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from .._errors import DesignError, ParameterError
from ..acoustics.geometry import Enclosure, Listener
from . import stage_cache
from .beamformer import beam_solution, blend_beam
from .crossover import driver_band_sos, sos_response
from .crosstalk import CancellationSolver, design_cancellation
from .driver_feeds import plain_paths
from .ear_plant import design_plant as _plant
from .filterset import FilterSet
from .realise import GAIN_MARGIN_DB, realise_filters
from .tonal_balance import point_source_reference
from .voicing import voicing_ensemble, voicing_gains
from .parameters import DesignParameters
from .virtualizer import relative_hrtf

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

def _beam_solution(enclosure: Enclosure, parameters: DesignParameters, crossover, plain_centre, f):
    """The centre beam's unconstrained weights (see :func:`.beamformer.beam_solution`)."""
    from ..acoustics.plant import enclosure_far_field

    nulls = parameters.beam_null_azimuths_deg
    directions = enclosure_far_field(enclosure, (0.0,) + nulls + _LOBE_EDGES_DEG, f)
    return beam_solution(directions[0], directions[1:1 + len(nulls)], crossover, plain_centre, f,
                         parameters.beam_band_hz, lobe_far_field=directions[1 + len(nulls):])


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
    # Each stage is cached on exactly what it depends on (:mod:`.stage_cache`): a head model
    # given as an object (not a name) is keyed by identity (the cache holds it alive).
    grid_key = (num_taps, sample_rate)
    head_key = head_spec if isinstance(head_spec, str) else head

    # Plain feeds that tile per input, time-aligned at the listener (:mod:`.driver_feeds`).
    paths_full = stage_cache.cached(
        "plain_paths", (enclosure, listener, parameters.crossover_order, grid_key),
        lambda: plain_paths(enclosure, listener, f_full, sample_rate, parameters.crossover_order))  # (N, 3, F)
    plain = paths_full[:, :2, designed]
    crossover_full = stage_cache.cached(
        "crossover", (tuple(d.band_hz for d in enclosure.drivers), parameters.crossover_order, grid_key),
        lambda: np.stack([sos_response(driver_band_sos(d.band_hz, sample_rate, parameters.crossover_order),
                                       f_full, sample_rate) for d in enclosure.drivers]))
    crossover = crossover_full[:, designed]
    plant_key = (enclosure, head_key, grid_key)  # + listener: what the plant depends on
    plant = stage_cache.cached("plant", (*plant_key, listener), lambda: _plant(enclosure, listener, f, head))

    virtual_distance = _virtual_distance_m(enclosure, listener)
    virtual_relative = stage_cache.cached(
        "relative_hrtf", (head_key, listener.head_radius_m, parameters.width_deg, virtual_distance, grid_key),
        lambda: relative_hrtf(head, parameters.width_deg, f, virtual_distance))
    cancel = "ctc" not in bypass and not is_headphones
    if cancel and n_drivers < 2:
        raise DesignError(
            f"enclosure {enclosure.name!r} has one driver: crosstalk cancellation needs at least two; "
            "bypass the 'ctc' stage"
        )
    null_region_m = parameters.null_region_m if cancel and n_drivers > 2 else 0.0
    robust_heads = parameters.robust_heads if cancel else ()
    side_max_gain_db = parameters.max_gain_db - _PATH_SHARE_DB

    def build_solver():
        region = ()
        if null_region_m > 0:
            moved = [listener.moved(lateral_offset_m=listener.lateral_offset_m + s * null_region_m) for s in (-1.0, 1.0)]
            region = tuple(stage_cache.cached("plant", (*plant_key, m), lambda m=m: _plant(enclosure, m, f, head))
                           for m in moved)
        region_weights, region_yields = (0.5,) * len(region), (True,) * len(region)
        if robust_heads:  # design over an ensemble of heads (see .robust)
            from .robust import ensemble_plants, ensemble_row_weight, ensemble_yields, expand

            ensemble = stage_cache.cached(
                "ensemble", (enclosure, listener, robust_heads, null_region_m, grid_key),
                lambda: ensemble_plants(_plant, enclosure, listener, f, robust_heads, null_region_m))
            region, region_weights = region + ensemble, region_weights + (ensemble_row_weight(len(ensemble)),) * len(ensemble)
            region_yields += ensemble_yields(len(expand(robust_heads)), null_region_m)
        return CancellationSolver.build(plant, plain, crossover, region_plants=region, region_weight=region_weights,
                                        region_yields=region_yields, cancel=cancel, frequencies_hz=f)

    solver_key = (*plant_key, listener, null_region_m, robust_heads, parameters.crossover_order, cancel)
    solver = stage_cache.cached("cancellation", solver_key, build_solver)
    nulls = None
    if cancel:
        # Without null regions the cancellation-only solution does not depend on the gain cap.
        cap_key = 10 ** (side_max_gain_db / 20) if solver.limit else None
        nulls = stage_cache.cached("nulls", (solver_key, cap_key), lambda: solver.nulls(10 ** (side_max_gain_db / 20)))
    sides = design_cancellation(
        solver, nulls, parameters.effective_target.at(f), side_max_gain_db, f,
        virtual_relative=None if "virtualizer" in bypass else virtual_relative,
    )

    plain_centre = paths_full[:, 2, designed]  # (N, F)
    beam_on = parameters.beam and "beam" not in bypass and not is_headphones and n_drivers >= 2
    if beam_on:
        # the beam's solve does not depend on the effort or gain caps: only its blend does
        # (the plain centre feed it keeps on axis is time-aligned at the listener)
        beam_key = (enclosure, listener, parameters.crossover_order, parameters.beam_null_azimuths_deg,
                    parameters.beam_band_hz, grid_key)
        exact = stage_cache.cached("beam", beam_key, lambda: _beam_solution(enclosure, parameters, crossover,
                                                                            plain_centre, f))
        centre = blend_beam(exact, crossover, plain_centre, f, parameters.beam_band_hz, parameters.beam_max_effort_db,
                            max_gain_db=parameters.max_gain_db - GAIN_MARGIN_DB)
    else:
        centre = crossover * plain_centre
    centre_gain = 10 ** (parameters.centre_gain_db / 20)
    centre = centre * centre_gain
    side_weights = sides.weights
    gains = None
    if parameters.voicing and parameters.passband_hz is not None and not is_headphones:
        # Voicing: flat at the listener within the passband, re a point source (:mod:`.voicing`).

        reference = stage_cache.cached("point_source", (enclosure, listener, head_key, grid_key),
                                       lambda: point_source_reference(enclosure, listener, f, head))
        ensemble = None
        if parameters.voicing_heads:  # robust voicing over model heads (:mod:`.voicing`)
            ensemble = stage_cache.cached(
                "voicing_ensemble", (enclosure, listener, parameters.voicing_heads, parameters.passband_hz, grid_key),
                lambda: voicing_ensemble(_plant, point_source_reference, enclosure, listener, f,
                                         parameters.passband_hz, parameters.voicing_heads))

        def voice(w):
            return voicing_gains(plant, reference, w, f, parameters.passband_hz,
                                 smoothing_octaves=parameters.voicing_smoothing_octaves, ensemble=ensemble)

        gains = voice(np.concatenate([side_weights, centre[:, None, :]], axis=1))
        side_weights = side_weights * gains[None, :2, :]
        centre = centre * gains[None, 2, :]
        sides = replace(sides, weights=side_weights)
    # The cap holds for every input combination, not for each path alone (:mod:`.headroom`), on
    # the realised FIR; the modelling delay grows until the realised cancellation is the
    # designed one (:mod:`.realise`).
    upmix_on = "upmix" not in bypass and parameters.centre_extraction > 0
    paths = paths_full * np.array([1.0, 1.0, centre_gain])[None, :, None]  # (N, 3, F)
    realised = realise_filters(
        sides=sides, plain=plain, centre=centre, centre_plain=centre_gain * crossover * plain_centre * (1.0 if gains is None else gains[None, 2]),
        crossover=crossover, crossover_full=crossover_full, plain_paths=paths, designed_mask=designed,
        frequencies_hz=f_full, plant=plant, target_db=parameters.effective_target.at(f),
        max_gain_db=parameters.max_gain_db, output_gain_db=parameters.output_gain_db, upmix=upmix_on,
        sample_rate=sample_rate, num_taps=num_taps, delay_samples=delay, max_delay_samples=num_taps // 2,
        adapt_delay=parameters.adapt_modelling_delay, voicing=gains,
        revoice=None if gains is None else voice)
    if not np.all(np.isfinite(realised.weights)):
        raise DesignError(f"design for {enclosure.name!r} produced non-finite filters")
    fir, weights, rho = realised.fir, realised.weights, realised.rho

    nyquist_edges = tuple(e for e in _UPMIX_EDGES[parameters.upmix_bands] if e < 0.45 * sample_rate)
    extraction = 0.0 if "upmix" in bypass else parameters.centre_extraction
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
            "truncation_error_db": realised.truncation_error_db,
            "cancellation_shortfall_db": realised.cancellation_shortfall_db,
            "head": head,
        },
    )
