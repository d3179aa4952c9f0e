"""Voicing EQ: each input's path made flat at the listener within the preset's passband.

For each processor input (left′, right′, centre) the ear response of its designed driver weights
on the design plant is compared with a flat point source at the enclosure's centre heard by the
same head (:func:`.tonal_balance.point_source_reference`): ipsilateral ear for the sides, both
ears' power for the centre. The power ratio is smoothed over ``smoothing_octaves`` (1/6 octave
unless the preset says otherwise) and inverted, with its mean over the passband removed, into a
real (zero-phase) gain per frequency that multiplies every driver weight of that input. One scalar
per input and frequency scales both ears alike, so the cancellation (ipsilateral/contralateral
ratio), the virtualizer's interaural response and the centre beam's pattern are untouched; only
the tone changes. Outside ``passband_hz`` the gain fades to 0 dB over 1/3 octave (a laptop is not
asked for 100 Hz), and it is limited to ±:data:`MAX_CORRECTION_DB`.

Robust voicing (``voicing_heads``): a correction designed on one head model also inverts that
model's detail — the interference of several drivers at an ear, whose notches move with the size
of the head and the position of its ears. With an ensemble of model heads
(:class:`VoicingEnsemble`, e.g. ``"default"``: spheres of 7.5–9.5 cm, ears at ±80/90/100°,
Brown–Duda) the ratio that is inverted is the power mean of the design head's
(weight :data:`DESIGN_HEAD_SHARE`) and the ensemble's: what every head shares (driver directivity,
crossovers, the beam's transitions) is corrected at full resolution, what the heads disagree on
only as far as they agree. The ensemble is evaluated on a log-spaced subset of the design grid
(:data:`ENSEMBLE_POINTS_PER_OCTAVE`), which is ample for a 1/6-octave smoothing and keeps the
extra plants cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .crosstalk import _smooth_log_frequency

__all__ = ["voicing_gains", "input_ratios", "VoicingEnsemble", "voicing_ensemble", "ensemble_subgrid", "MAX_CORRECTION_DB",
           "SMOOTHING_OCTAVES", "DESIGN_HEAD_SHARE", "ENSEMBLE_POINTS_PER_OCTAVE"]

#: Default smoothing of the measured response before it is inverted (octaves).
SMOOTHING_OCTAVES = 1 / 6
#: Largest boost or cut of the voicing EQ (dB).
MAX_CORRECTION_DB = 10.0
#: Weight of the design head in a robust voicing's power mean (the ensemble shares the rest).
DESIGN_HEAD_SHARE = 0.5
#: Density of the log-spaced subset of the design grid an ensemble is evaluated on.
ENSEMBLE_POINTS_PER_OCTAVE = 48


@dataclass(frozen=True, eq=False)
class VoicingEnsemble:
    """Plants of the ensemble heads on a subset of the design grid.

    Attributes
    ----------
    indices : np.ndarray [shape=(F',)]
        Indices into the design grid (increasing).
    plants : np.ndarray [shape=(K, 2, N, F')]
        Normalised plant of each ensemble head.
    references : np.ndarray [shape=(K, 2, F')]
        Ear responses of the flat point source at the enclosure centre, per head.
    """

    indices: np.ndarray
    plants: np.ndarray
    references: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.indices.nbytes + self.plants.nbytes + self.references.nbytes)


def ensemble_subgrid(frequencies_hz: np.ndarray, passband_hz: tuple[float, float]) -> np.ndarray:
    """Indices of the design grid nearest to :data:`ENSEMBLE_POINTS_PER_OCTAVE` log-spaced points
    from an octave below to an octave above the passband (all bins where the grid is sparser)."""
    f = np.asarray(frequencies_hz, dtype=float)
    low = max(passband_hz[0] / 2, f[1] if f.size > 1 else f[0])
    high = min(passband_hz[1] * 2, f[-1])
    n = max(int(np.ceil(np.log2(high / low) * ENSEMBLE_POINTS_PER_OCTAVE)), 2)
    wanted = np.geomspace(low, high, n)
    idx = np.clip(np.searchsorted(f, wanted), 1, f.size - 1)
    nearer_left = np.abs(f[idx - 1] - wanted) < np.abs(f[idx] - wanted)
    return np.unique(np.where(nearer_left, idx - 1, idx))


def voicing_ensemble(plant, reference, enclosure, listener, frequencies_hz: np.ndarray,
                     passband_hz: tuple[float, float], specs) -> VoicingEnsemble:
    """Plants and point-source references of the heads ``specs`` (see :func:`.robust.ensemble_heads`)
    on :func:`ensemble_subgrid`.

    Parameters
    ----------
    plant, reference : callable
        ``plant(enclosure, listener, frequencies_hz, head)`` → (2, N, F') and
        ``reference(enclosure, listener, frequencies_hz, head)`` → (2, F').
    """
    from .robust import ensemble_heads

    idx = ensemble_subgrid(frequencies_hz, passband_hz)
    f = frequencies_hz[idx]
    heads = ensemble_heads(specs, listener.head_radius_m)
    return VoicingEnsemble(idx, np.stack([plant(enclosure, listener, f, h) for h in heads]),
                           np.stack([reference(enclosure, listener, f, h) for h in heads]))


def input_ratios(plant: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Power ratio (3, F) of each input's ear response to the point source: left′ at the left ear,
    right′ at the right ear, the centre as both ears' mean power."""
    ears = np.einsum("enf,nif->eif", plant, weights)
    ref = np.maximum(np.abs(reference) ** 2, 1e-30)
    return np.stack([
        np.abs(ears[0, 0]) ** 2 / ref[0],
        np.abs(ears[1, 1]) ** 2 / ref[1],
        0.5 * (np.abs(ears[0, 2]) ** 2 / ref[0] + np.abs(ears[1, 2]) ** 2 / ref[1]),
    ])


def _smoothed_ratios(plant, reference, weights, frequencies_hz, octaves, ensemble):
    smoothed = _smooth_log_frequency(input_ratios(plant, reference, weights), frequencies_hz, octaves)
    if ensemble is None:
        return smoothed
    idx = ensemble.indices
    members = np.mean([input_ratios(p, r, weights[..., idx]) for p, r in zip(ensemble.plants, ensemble.references)],
                      axis=0)
    members_db = 10 * np.log10(np.maximum(_smooth_log_frequency(members, frequencies_hz[idx], octaves), 1e-30))
    logf, logf_sub = np.log2(frequencies_hz), np.log2(frequencies_hz[idx])
    on_grid = 10 ** (np.stack([np.interp(logf, logf_sub, row) for row in members_db]) / 10)
    return DESIGN_HEAD_SHARE * smoothed + (1 - DESIGN_HEAD_SHARE) * on_grid


def voicing_gains(plant: np.ndarray, reference: np.ndarray, weights: np.ndarray, frequencies_hz: np.ndarray,
                  passband_hz: tuple[float, float], *, smoothing_octaves: float = SMOOTHING_OCTAVES,
                  ensemble: VoicingEnsemble | None = None) -> np.ndarray:
    """Real voicing gains (3, F) for the inputs (left′, right′, centre).

    Parameters
    ----------
    plant : np.ndarray [shape=(2, N, F)]
        Design plant (ears × drivers).
    reference : np.ndarray [shape=(2, F)]
        Ear responses of the flat point source at the enclosure centre.
    weights : np.ndarray [shape=(N, 3, F)]
        Designed driver weights per input.
    frequencies_hz : np.ndarray [shape=(F,)]
    passband_hz : (float, float)
    smoothing_octaves : float, keyword-only
        Width of the log-frequency moving average of the power ratio before it is inverted (octaves, ≥ 0).
    ensemble : VoicingEnsemble or None, keyword-only
        Model heads whose mean response joins the design head's (see the module docstring).
    """
    smoothed = _smoothed_ratios(plant, reference, weights, frequencies_hz, smoothing_octaves, ensemble)
    correction_db = -10 * np.log10(np.maximum(smoothed, 1e-30))
    low, high = passband_hz
    inside = (frequencies_hz >= low) & (frequencies_hz <= high)
    if not inside.any():
        return np.ones_like(correction_db)
    logf = np.log2(np.maximum(frequencies_hz, 1e-3))
    # weight each octave alike when removing the mean (the grid is linear in frequency)
    octave_weight = np.where(inside, 1.0 / np.maximum(frequencies_hz, 1e-3), 0.0)
    mean = np.sum(correction_db * octave_weight, axis=1, keepdims=True) / np.sum(octave_weight)
    correction_db = np.clip(correction_db - mean, -MAX_CORRECTION_DB, MAX_CORRECTION_DB)
    # the correction holds 1/6 octave past the passband (its edge 1/3 octaves are whole), then
    # fades to 0 dB over 1/3 octave
    edge_low, edge_high = low * 2 ** (-1 / 6), high * 2 ** (1 / 6)
    held = (frequencies_hz >= edge_low) & (frequencies_hz <= edge_high)
    lo_edge = correction_db[:, np.argmax(held)][:, None]
    hi_edge = correction_db[:, len(held) - 1 - np.argmax(held[::-1])][:, None]
    below = np.clip(1 - (np.log2(edge_low) - logf) * 3, 0, 1)
    above = np.clip(1 - (logf - np.log2(edge_high)) * 3, 0, 1)
    shaped = np.where(frequencies_hz < edge_low, lo_edge * below,
                      np.where(frequencies_hz > edge_high, hi_edge * above, correction_db))
    return 10 ** (shaped / 20)
