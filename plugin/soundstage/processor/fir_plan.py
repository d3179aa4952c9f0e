"""Recognising FIR matrices that are pure gains and delays, so they skip FFT convolution.

A :class:`~soundstage.design.FilterSet` whose every path is one tap (a gain at an integer delay)
— the ``stereo-pair`` reference, any routing preset — needs no partitioned convolution: a
:class:`~soundstage._kernels.TapMatrix` gives the same result exactly, for a multiply-add per
tap and sample. When moreover the centre channel cancels (each output receives ``g·L'`` and
``g·C`` at the same delay, and ``L' + C = L``), the upmix itself drops out and the taps read the
stereo input directly: the ``stereo-pair`` preset becomes a copy with a delay.

A tap counts as the path's only one when the magnitudes of all the others add up to at most
:data:`NEGLIGIBLE` of it (−140 dB: the round-off the design leaves, below float32 resolution),
so replacing the path changes no output sample by more than that fraction of the input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NEGLIGIBLE", "StereoTaps", "single_taps", "stereo_taps"]

#: Largest sum of |other taps| relative to the main tap for a path to count as a pure gain/delay.
NEGLIGIBLE = 1e-7


@dataclass(frozen=True)
class StereoTaps:
    """Taps that read the stereo input (0 = left, 1 = right) directly: ``out[o, t] =
    sum gains[k]·x[inputs[k], t − delays[k]]`` over the taps of output ``o``."""

    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    delays: tuple[int, ...]
    gains: tuple[float, ...]


def single_taps(fir: np.ndarray) -> list[tuple[int, int, int, float]] | None:
    """``[(input, output, delay, gain), ...]`` when every non-zero path of ``fir`` (num_inputs,
    num_outputs, num_taps) is one tap within :data:`NEGLIGIBLE`, else None."""
    magnitude = np.abs(np.asarray(fir, dtype=np.float64))
    peak_index = np.argmax(magnitude, axis=-1)
    peak = np.take_along_axis(magnitude, peak_index[..., None], axis=-1)[..., 0]
    rest = magnitude.sum(axis=-1) - peak
    if np.any(rest > NEGLIGIBLE * peak):
        return None
    taps = []
    for i, o in zip(*np.nonzero(peak)):
        taps.append((int(i), int(o), int(peak_index[i, o]), float(fir[i, o, peak_index[i, o]])))
    return taps


def stereo_taps(fir: np.ndarray, centre_extraction: float) -> StereoTaps | None:
    """The stereo taps equivalent to upmix + ``fir`` (rows L', R', C), or None when the centre
    does not cancel or a path is not a single tap.

    With ``L' = L − C`` and ``R' = R − C``, output ``o`` is ``sum_d g_L'(d) L + g_R'(d) R +
    (g_C(d) − g_L'(d) − g_R'(d)) C`` at each delay ``d``: the upmix drops out when the last
    coefficient vanishes (to :data:`NEGLIGIBLE` of the largest gain) at every delay, or when the
    centre extraction is 0 (then ``C = 0`` and ``L' = L`` exactly).
    """
    if fir.shape[0] != 3:
        return None
    taps = single_taps(fir)
    if taps is None:
        return None
    largest = max((abs(g) for *_, g in taps), default=0.0)
    centre: dict[tuple[int, int], float] = {}
    kept = []
    for i, o, d, g in taps:
        if i == 2:
            centre[(o, d)] = centre.get((o, d), 0.0) + g
        else:
            centre[(o, d)] = centre.get((o, d), 0.0) - g
            kept.append((i, o, d, g))
    if centre_extraction != 0.0 and any(abs(c) > NEGLIGIBLE * largest for c in centre.values()):
        return None
    if not kept:
        return StereoTaps((), (), (), ())
    inputs, outputs, delays, gains = zip(*kept)
    return StereoTaps(inputs, outputs, delays, gains)
