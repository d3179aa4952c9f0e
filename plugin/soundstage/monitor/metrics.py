"""Spatial metrics of ear signals and designs: width, depth, listening zone, cancellation,
colouration, beams and driver effort.

The implementation lives in one module per concept; this module gathers their public names.

========================================  ==================================================
band energies                             :mod:`.metrics_bands`
separation, ILD/ITD, IACC, colouration    :mod:`.metrics_binaural`
image azimuth                             :mod:`.metrics_azimuth`
direct-to-reverberant ratio, r_c          :mod:`.metrics_depth`
beam pattern, directivity, nulls          :mod:`.metrics_beam`
listening zone                            :mod:`.metrics_zone`
driver effort                             :mod:`.metrics_effort`
========================================  ==================================================

Ear signals are ``(2, n)`` arrays (left ear, right ear); azimuths are positive to the left.
"""

from __future__ import annotations

from .metrics_azimuth import AzimuthEstimate, AzimuthEstimator, pan_sweep_azimuths
from .metrics_bands import band_edges, band_energies, exact_band_centres, third_octave_bands
from .metrics_beam import beam_pattern, beam_pattern_db, directivity_index_db, null_depth_db
from .metrics_binaural import (
    ChannelSeparation,
    Colouration,
    InterauralDifferences,
    channel_separation_db,
    colouration_db,
    iacc_early,
    interaural_differences,
    interaural_time_difference_s,
)
from .metrics_depth import critical_distance_m, diffuse_drr_db, direct_to_reverberant_db
from .metrics_effort import DriverEffort, driver_effort
from .metrics_zone import ZoneMap, listening_zone

__all__ = [
    "third_octave_bands",
    "exact_band_centres",
    "band_edges",
    "band_energies",
    "ChannelSeparation",
    "channel_separation_db",
    "InterauralDifferences",
    "interaural_differences",
    "interaural_time_difference_s",
    "iacc_early",
    "Colouration",
    "colouration_db",
    "AzimuthEstimate",
    "AzimuthEstimator",
    "pan_sweep_azimuths",
    "direct_to_reverberant_db",
    "critical_distance_m",
    "diffuse_drr_db",
    "beam_pattern",
    "beam_pattern_db",
    "directivity_index_db",
    "null_depth_db",
    "ZoneMap",
    "listening_zone",
    "DriverEffort",
    "driver_effort",
]
