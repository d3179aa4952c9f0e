"""Tonal balance: what a listener hears of a hard-left and of a centred input, re a flat point source.

The reference is a flat point source (a monopole) at the enclosure's centre, heard by the same
head at the same position (notes/quality.md). For a hard-left input (the left′ path, left ear)
and a centred input (the centre path, both ears' power) the ear response over the reference is
averaged per 1/3 octave (power), the mean level over the band removed; the rms and the worst
band summarise it. The plant may come from another head than the design's (design on the
sphere, check on KEMAR).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TonalBalance", "third_octave_centres", "tonal_balance", "point_source_reference"]


def third_octave_centres(low_hz: float = 100.0, high_hz: float = 12000.0) -> np.ndarray:
    """Nominal-base-2 1/3-octave centres (1 kHz · 2^(k/3)) within [low_hz, high_hz]."""
    c = 1000.0 * 2.0 ** (np.arange(-30, 31) / 3)
    return c[(c >= low_hz * 0.99) & (c <= high_hz * 1.01)]


@dataclass(frozen=True)
class TonalBalance:
    """Per-band deviation (dB, mean removed) of the hard-left and centred inputs, and summaries."""

    centres_hz: np.ndarray
    left_db: np.ndarray
    centre_db: np.ndarray

    @property
    def left_rms_db(self) -> float:
        return float(np.sqrt(np.mean(self.left_db**2)))

    @property
    def centre_rms_db(self) -> float:
        return float(np.sqrt(np.mean(self.centre_db**2)))

    @property
    def worst_db(self) -> float:
        return float(max(np.max(np.abs(self.left_db)), np.max(np.abs(self.centre_db))))


def point_source_reference(enclosure, listener, frequencies_hz, head) -> np.ndarray:
    """Ear responses (2, F) of a monopole at the enclosure's centre, bulk delay removed."""
    from ..acoustics.geometry import Driver, Enclosure
    from .ear_plant import design_plant as _plant

    reference = Enclosure(f"{enclosure.name}-point-source",
                          (Driver("point", (0.0, 0.0, 0.0), (-1.0, 0.0, 0.0), 0.01, "monopole"),))
    return _plant(reference, listener, frequencies_hz, head)[:, 0, :]


def _band_db(response_power, frequencies_hz, centres_hz):
    out = np.empty(centres_hz.size)
    for k, c in enumerate(centres_hz):
        band = (frequencies_hz >= c * 2 ** (-1 / 6)) & (frequencies_hz < c * 2 ** (1 / 6))
        out[k] = 10 * np.log10(max(np.mean(response_power[band]), 1e-30))
    return out


def tonal_balance(filterset, *, head=None, listener=None, band_hz=(100.0, 12000.0),
                  points_per_band: int = 24) -> TonalBalance:
    """Tonal balance of a :class:`~.filterset.FilterSet`'s realised filters on a plant.

    Parameters
    ----------
    filterset : FilterSet
    head : HeadModel, str or None
        Head of the evaluation plant (default: the design's).
    listener : Listener or None
        Default: the design listener.
    band_hz : (float, float)
        Band of the 1/3 octaves evaluated (Hz).
    """
    from ..acoustics.heads import make_head
    from .ear_plant import design_plant as _plant

    listener = filterset.listener if listener is None else listener
    if head is None:
        head = filterset.diagnostics["head"]
    elif isinstance(head, str):
        head = make_head(head, radius_m=listener.head_radius_m)
    high = min(band_hz[1], 0.45 * filterset.sample_rate / 2 ** (1 / 6))
    centres = third_octave_centres(band_hz[0], high)
    f = np.concatenate([np.geomspace(c * 2 ** (-1 / 6), c * 2 ** (1 / 6), points_per_band, endpoint=False)
                        for c in centres])
    plant = _plant(filterset.enclosure, listener, f, head)  # (2, N, F)
    weights = filterset.fir_response(f)  # (N, 3, F)
    ears = np.einsum("enf,nif->eif", plant, weights)
    reference = np.abs(point_source_reference(filterset.enclosure, listener, f, head)) ** 2
    left = _band_db(np.abs(ears[0, 0]) ** 2 / reference[0], f, centres)
    centre = _band_db(0.5 * (np.abs(ears[0, 2]) ** 2 / reference[0] + np.abs(ears[1, 2]) ** 2 / reference[1]),
                      f, centres)
    return TonalBalance(centres, left - left.mean(), centre - centre.mean())
