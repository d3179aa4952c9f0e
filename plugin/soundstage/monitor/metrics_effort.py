"""Driver effort: how much gain a filter matrix asks of each driver."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError

__all__ = ["DriverEffort", "driver_effort"]


@dataclass(frozen=True)
class DriverEffort:
    """Gain each driver is asked for; see :func:`driver_effort`."""

    #: Largest power gain over frequency (dB), shape ``(n_drivers,)``.
    peak_db: np.ndarray
    #: Power gain averaged over frequency (dB), shape ``(n_drivers,)``.
    rms_db: np.ndarray
    #: Power gain per driver and frequency point (dB), shape ``(n_drivers, F)``.
    gain_db: np.ndarray


def driver_effort(filters, *, n_fft: int | None = None) -> DriverEffort:
    """Peak and RMS gain per driver of a filter matrix from inputs to drivers.

    A driver's gain at frequency f is the power sum over inputs, ``Σ_i |H_i,d(f)|²`` — the power
    the driver receives when every input carries an independent signal of unit power.

    Parameters
    ----------
    filters : array_like [shape=(n_in, n_drivers, n_taps)] real, or [shape=(n_in, n_drivers, F)] complex
        FIR filters (real: impulse responses, transformed with an ``n_fft``-point rFFT) or
        frequency responses (complex, on any frequency grid).
    n_fft : int, optional, keyword-only
        FFT length for real filters (≥ n_taps; default 8 × n_taps rounded to a power of two).

    Returns
    -------
    DriverEffort
        ``peak_db`` = the maximum over frequency of the power gain, ``rms_db`` = its mean over the
        frequency points (for FIR filters on the full rFFT grid: the white-noise power gain,
        ``10·log10 Σ_i Σ_t h²``), in dB re unity.
    """
    h = np.asarray(filters)
    if h.ndim != 3:
        raise ParameterError(f"filters must have shape (n_in, n_drivers, n_taps or F), got {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ParameterError("filters contain NaN or Inf")
    if np.iscomplexobj(h):
        spectra = h
        power = np.sum(np.abs(spectra) ** 2, axis=0)
        mean_power = np.mean(power, axis=-1)
    else:
        n_taps = h.shape[-1]
        n = int(n_fft) if n_fft is not None else int(2 ** np.ceil(np.log2(8 * n_taps)))
        if n < n_taps:
            raise ParameterError(f"n_fft must be >= n_taps={n_taps}, got {n_fft}")
        power = np.sum(np.abs(np.fft.rfft(h, n=n, axis=-1)) ** 2, axis=0)
        # Parseval on the full grid: the mean over frequency is the white-noise power gain.
        mean_power = np.sum(h.astype(float) ** 2, axis=(0, 2))
    floor = 1e-30
    return DriverEffort(
        peak_db=10.0 * np.log10(np.maximum(np.max(power, axis=-1), floor)),
        rms_db=10.0 * np.log10(np.maximum(mean_power, floor)),
        gain_db=10.0 * np.log10(np.maximum(power, floor)),
    )
