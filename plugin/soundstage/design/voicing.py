"""Voicing EQ: each input's path made flat at the listener within the preset's passband.

For each processor input (left′, right′, centre) the ear response of its designed driver weights
on the design plant is compared with a flat point source at the enclosure's centre heard by the
same head (:func:`.tonal_balance.point_source_reference`): ipsilateral ear for the sides, both
ears' power for the centre. The power ratio is smoothed over 1/6 octave and inverted, with its
mean over the passband removed, into a real (zero-phase) gain per frequency that multiplies
every driver weight of that input. One scalar per input and frequency scales both ears alike,
so the cancellation (ipsilateral/contralateral ratio), the virtualizer's interaural response
and the centre beam's pattern are untouched; only the tone changes. Outside ``passband_hz`` the
gain fades to 0 dB over 1/3 octave (a laptop is not asked for 100 Hz), and it is limited to
±:data:`MAX_CORRECTION_DB`.
"""

from __future__ import annotations

import numpy as np

from .crosstalk import _smooth_log_frequency

__all__ = ["voicing_gains", "MAX_CORRECTION_DB"]

#: Smoothing of the measured response before it is inverted (octaves).
SMOOTHING_OCTAVES = 1 / 6
#: Largest boost or cut of the voicing EQ (dB).
MAX_CORRECTION_DB = 10.0


def voicing_gains(plant: np.ndarray, reference: np.ndarray, weights: np.ndarray, frequencies_hz: np.ndarray,
                  passband_hz: tuple[float, float]) -> np.ndarray:
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
    """
    ears = np.einsum("enf,nif->eif", plant, weights)
    ref = np.maximum(np.abs(reference) ** 2, 1e-30)
    ratios = np.stack([
        np.abs(ears[0, 0]) ** 2 / ref[0],
        np.abs(ears[1, 1]) ** 2 / ref[1],
        0.5 * (np.abs(ears[0, 2]) ** 2 / ref[0] + np.abs(ears[1, 2]) ** 2 / ref[1]),
    ])
    smoothed = _smooth_log_frequency(ratios, frequencies_hz, SMOOTHING_OCTAVES)
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
