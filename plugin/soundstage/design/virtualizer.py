"""The virtualizer: the relative HRTF of a ±θ loudspeaker pair.

For a virtual loudspeaker at azimuth +θ (on the listener's left) the left ear is ipsilateral and
the right ear contralateral. In relative-transfer-function (RTF) form the ipsilateral path is
the identity (an all-pass) and the contralateral path is the ratio

    R_v(f) = H_contra(f) / H_ipsi(f),

a delayed low-pass (the interaural time difference and the head shadow). soundstage realises the
head model's own R_v (so that a device that *is* the ±θ pair reduces to the identity) and reports
how well the classic one-pole/one-zero shelf with a delay,
``g · (1 + j f/f_z) / (1 + j f/f_p) · exp(-j 2π f τ)``, describes it (oracles: KEMAR 30° ≈
−2.8 dB, f_p ≈ 1324 Hz, f_z ≈ 4837 Hz, τ ≈ 260–275 µs).

References
----------
J. Bauck and D. H. Cooper, "Generalized transaural stereo and applications", JAES 44(9), 1996.
C. P. Brown and R. O. Duda, "A structural model for binaural sound synthesis", IEEE TSAP 6(5), 1998.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..acoustics.frame import spherical_to_cartesian

__all__ = ["relative_hrtf", "ShelfFit", "fit_shelf"]


def relative_hrtf(head, width_deg: float, frequencies_hz, distance_m: float) -> np.ndarray:
    """Contralateral/ipsilateral ratio R_v(f) of a source at ``+width_deg``, ``distance_m``.

    Parameters
    ----------
    head : HeadModel
        Head model (see :mod:`soundstage.acoustics.heads`).
    width_deg : float
        Azimuth of the virtual loudspeaker in degrees (positive: listener's left).
    frequencies_hz : array_like [shape=(F,)]
        Frequencies in Hz (> 0).
    distance_m : float
        Distance of the virtual loudspeaker from the head centre in metres.

    Returns
    -------
    np.ndarray [shape=(F,), dtype=complex]
        Right-ear / left-ear response; by symmetry also the left/right ratio of the source at −θ.
    """
    position = spherical_to_cartesian(width_deg, 0.0, distance_m)
    ears = head.response(position, frequencies_hz)  # (2, F): left, right
    return ears[1] / ears[0]


@dataclass(frozen=True)
class ShelfFit:
    """A one-pole/one-zero shelf with a delay fitted to a relative HRTF."""

    gain_db: float
    pole_hz: float
    zero_hz: float
    delay_s: float
    rms_error_db: float
    max_error_db: float

    def response(self, frequencies_hz) -> np.ndarray:
        """Complex response of the fitted shelf at ``frequencies_hz``."""
        f = np.asarray(frequencies_hz, dtype=float)
        g = 10 ** (self.gain_db / 20)
        return g * (1 + 1j * f / self.zero_hz) / (1 + 1j * f / self.pole_hz) * np.exp(-2j * np.pi * f * self.delay_s)


def fit_shelf(relative, frequencies_hz, band_hz=(200.0, 8000.0)) -> ShelfFit:
    """Fit :class:`ShelfFit` to a relative HRTF over ``band_hz`` (magnitude on 1/12-octave
    spacing in dB; the delay from the phase slope below 1.5 kHz after removing the shelf's phase)."""
    f = np.asarray(frequencies_hz, dtype=float)
    rel = np.asarray(relative)
    fit_f = np.geomspace(band_hz[0], band_hz[1], int(np.log2(band_hz[1] / band_hz[0]) * 12) + 1)
    target_db = np.interp(fit_f, f, 20 * np.log10(np.maximum(np.abs(rel), 1e-12)))

    def model_db(p, freqs):
        g_db, log_fp, log_fz = p
        return g_db + 10 * np.log10(1 + (freqs / np.exp(log_fz)) ** 2) - 10 * np.log10(1 + (freqs / np.exp(log_fp)) ** 2)

    result = optimize.least_squares(
        lambda p: model_db(p, fit_f) - target_db, x0=[-3.0, np.log(1300.0), np.log(5000.0)]
    )
    g_db, log_fp, log_fz = result.x
    err = model_db(result.x, fit_f) - target_db
    fp, fz = float(np.exp(log_fp)), float(np.exp(log_fz))
    low = (f > 0) & (f <= 1500.0)
    shelf_phase = np.arctan(f[low] / fz) - np.arctan(f[low] / fp)
    excess = np.unwrap(np.angle(rel[low])) - shelf_phase
    delay = float(-np.polyfit(2 * np.pi * f[low], excess, 1)[0]) if np.count_nonzero(low) > 1 else 0.0
    return ShelfFit(
        gain_db=float(g_db),
        pole_hz=fp,
        zero_hz=fz,
        delay_s=delay,
        rms_error_db=float(np.sqrt(np.mean(err**2))),
        max_error_db=float(np.max(np.abs(err))),
    )
