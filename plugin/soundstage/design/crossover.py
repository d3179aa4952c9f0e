"""Linkwitz–Riley crossovers per driver band.

A driver whose band is ``(low, high)`` gets a Linkwitz–Riley high-pass at ``low`` (when
``low > 0``) and a Linkwitz–Riley low-pass at ``high`` (when ``high`` is below Nyquist). A
Linkwitz–Riley filter of order 2n is a Butterworth filter of order n applied twice; adjacent
bands that share a crossover frequency sum to an all-pass (flat magnitude).

References
----------
S. H. Linkwitz, "Active crossover networks for noncoincident drivers", JAES 24(1), 1976.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .._errors import ParameterError

__all__ = ["linkwitz_riley_sos", "driver_band_sos", "sos_response"]


def linkwitz_riley_sos(cutoff_hz: float, sample_rate: float, btype: str, order: int = 4) -> np.ndarray:
    """Second-order sections of a Linkwitz–Riley low- or high-pass.

    Parameters
    ----------
    cutoff_hz : float
        Crossover frequency (−6 dB point), 0 < cutoff_hz < sample_rate / 2.
    sample_rate : float
        Sample rate in Hz.
    btype : {"lowpass", "highpass"}
    order : {2, 4, 8}
        Linkwitz–Riley order (twice the Butterworth order).

    Returns
    -------
    np.ndarray [shape=(order // 2, 6)]
    """
    if order not in (2, 4, 8):
        raise ParameterError(f"order must be 2, 4 or 8, got {order!r}")
    if not (0 < cutoff_hz < sample_rate / 2):
        raise ParameterError(f"cutoff_hz must be in (0, {sample_rate / 2}) Hz, got {cutoff_hz!r}")
    butter = signal.butter(order // 2, cutoff_hz, btype=btype, output="sos", fs=sample_rate)
    return np.concatenate([butter, butter], axis=0)


def driver_band_sos(band_hz: tuple[float, float], sample_rate: float, order: int = 4) -> np.ndarray:
    """Sections band-limiting one driver to ``band_hz``; an identity section if it is full range.

    Band edges at or above Nyquist, and a low edge of 0, are open.
    """
    low, high = band_hz
    sections = [np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])]
    if low > 0 and low < sample_rate / 2:
        sections.append(linkwitz_riley_sos(low, sample_rate, "highpass", order))
    if high < sample_rate / 2 * 0.999:
        sections.append(linkwitz_riley_sos(high, sample_rate, "lowpass", order))
    sos = np.concatenate(sections, axis=0)
    return sos[1:] if len(sos) > 1 else sos


def sos_response(sos: np.ndarray, frequencies_hz, sample_rate: float) -> np.ndarray:
    """Complex response of ``sos`` at ``frequencies_hz`` (Hz)."""
    _, h = signal.sosfreqz(sos, worN=np.asarray(frequencies_hz, dtype=float), fs=sample_rate)
    return h
