"""Fractional-octave bands and the energy of signals in them.

The band centres follow IEC 61260-1 (base-10 system): the exact mid-band frequencies of the
one-third-octave series are ``1000 · 10^(n/10)`` Hz and their band edges lie at
``f_m · 10^(±1/20)``. Reports label bands with the *nominal* centres (100, 125, 160 … Hz); the
band edges are always computed from the exact centres the nominal ones stand for.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from .._errors import AudioFormatError, ParameterError

__all__ = ["third_octave_bands", "exact_band_centres", "band_edges", "band_energies"]

# IEC 61260-1 nominal one-third-octave mid-band frequencies within one decade (Annex E).
_NOMINAL_DECADE = (100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0, 500.0, 630.0, 800.0)
# Half a one-third-octave band on the base-10 scale: 10^(1/20).
_HALF_BAND = 10.0 ** (1.0 / 20.0)
# Minimum number of FFT bins the narrowest band gets when band_energies zero-pads.
_MIN_BINS_PER_BAND = 8


def _band_index(frequencies_hz: np.ndarray) -> np.ndarray:
    """Fractional index ``n`` of ``f = 1000 · 10^(n/10)``."""
    return 10.0 * np.log10(frequencies_hz / 1000.0)


def third_octave_bands(f_low: float = 100.0, f_high: float = 16000.0) -> np.ndarray:
    """Nominal one-third-octave centre frequencies (IEC 61260-1, base 10) from ``f_low`` to ``f_high``.

    Parameters
    ----------
    f_low, f_high : float
        Lowest and highest centre to include, in Hz (``0 < f_low <= f_high``). A band is included
        when its exact centre lies within the range (1 % tolerance, so ``16000`` includes the
        band whose exact centre is 15 849 Hz).

    Returns
    -------
    np.ndarray [shape=(n_bands,)]
        Nominal centre frequencies in Hz, ascending (e.g. 100, 125, 160, …, 16000).
    """
    f_low = float(f_low)
    f_high = float(f_high)
    if not (np.isfinite(f_low) and np.isfinite(f_high) and 0 < f_low <= f_high):
        raise ParameterError(f"third_octave_bands needs 0 < f_low <= f_high, got f_low={f_low!r}, f_high={f_high!r}")
    n_first = int(np.ceil(_band_index(np.array(f_low)) - 0.05))
    n_last = int(np.floor(_band_index(np.array(f_high)) + 0.05))
    n = np.arange(n_first, n_last + 1)
    # Nominal values repeat every decade (10 bands): mantissa from the table, times a power of ten.
    decade, step = np.divmod(n + 10, 10)  # n = -10 is 100 Hz
    return np.asarray(_NOMINAL_DECADE, dtype=float)[step] * 10.0 ** decade


def exact_band_centres(centres_hz) -> np.ndarray:
    """Exact base-10 mid-band frequencies of one-third-octave centres given as nominal values.

    A centre within 1.2 % (0.05 of a band) of the exact series ``1000 · 10^(n/10)`` Hz is replaced
    by the exact value; any other centre is used as given.

    Parameters
    ----------
    centres_hz : array_like [shape=(n_bands,)]
        Centre frequencies in Hz, > 0.

    Returns
    -------
    np.ndarray [shape=(n_bands,)]
        Exact centre frequencies in Hz.
    """
    f = _validate_centres(centres_hz)
    x = _band_index(f)
    n = np.round(x)
    return np.where(np.abs(x - n) < 0.05, 1000.0 * 10.0 ** (n / 10.0), f)


def band_edges(centres_hz) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges (Hz) of the one-third-octave bands at ``centres_hz``.

    Edges are ``f_m · 10^(∓1/20)`` of the exact centre ``f_m`` (IEC 61260-1, base 10), so adjacent
    bands of the series share their edges.
    """
    fm = exact_band_centres(centres_hz)
    return fm / _HALF_BAND, fm * _HALF_BAND


def _validate_centres(centres_hz) -> np.ndarray:
    f = np.atleast_1d(np.asarray(centres_hz, dtype=float))
    if f.ndim != 1 or f.size == 0:
        raise ParameterError(f"centres_hz must be a non-empty 1-D array of frequencies, got shape {f.shape}")
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ParameterError(f"centres_hz must be finite and > 0 Hz, got {centres_hz!r}")
    return f


def validate_sample_rate(sample_rate) -> float:
    """Return ``sample_rate`` as a float, rejecting non-finite values and values ≤ 0."""
    try:
        fs = float(sample_rate)
    except (TypeError, ValueError):
        raise ParameterError(f"sample_rate must be a number in Hz, got {sample_rate!r}") from None
    if not (np.isfinite(fs) and fs > 0):
        raise ParameterError(f"sample_rate must be finite and > 0 Hz, got {sample_rate!r}")
    return fs


def validate_signals(signals, name: str, *, leading_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return real ``signals`` (time last) as float64, checking the leading shape and finiteness."""
    x = np.asarray(signals)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise AudioFormatError(f"{name} must hold real samples (float), got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if x.ndim == 0 or x.shape[-1] < 2:
        raise AudioFormatError(f"{name} must have at least 2 samples on its last axis, got shape {x.shape}")
    if leading_shape is not None and x.shape[:-1] != tuple(leading_shape):
        expected = "(" + ", ".join(str(s) for s in leading_shape) + ", n)"
        raise AudioFormatError(f"{name} must have shape {expected}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError(f"{name} contains NaN or Inf samples")
    return x


def band_energies(signals, sample_rate: float, centres_hz=None, *, n_fft: int | None = None) -> np.ndarray:
    """Energy of signals in one-third-octave bands, from their discrete Fourier transform.

    The energy in a band is the part of ``Σ x[t]²`` (Parseval) carried by the FFT bins whose
    frequency lies in ``[f_lower, f_upper)`` of the band (ideal rectangular band filters, edges as
    in :func:`band_edges`). Signals are zero-padded to ``n_fft`` points, which samples the same
    spectrum more finely and leaves the energy unchanged.

    Parameters
    ----------
    signals : array_like [shape=(..., n)]
        Real signals, time last.
    sample_rate : float
        Sample rate in Hz.
    centres_hz : array_like [shape=(n_bands,)], optional
        Band centres in Hz (nominal or exact); default :func:`third_octave_bands` ``(100, 16000)``
        limited to the bands that fit below the Nyquist frequency.
    n_fft : int, optional
        FFT length (≥ n). Default: the smallest fast length ≥ n that gives the narrowest band at
        least 8 bins.

    Returns
    -------
    np.ndarray [shape=(..., n_bands)]
        Band energies in squared signal units × samples (sum of squares); divide by ``n`` for a
        mean power.

    Raises
    ------
    ParameterError
        If a band's upper edge lies above the Nyquist frequency, or ``n_fft < n``.
    """
    fs = validate_sample_rate(sample_rate)
    x = validate_signals(signals, "signals")
    if centres_hz is None:
        centres_hz = third_octave_bands(100.0, 16000.0)
        centres_hz = centres_hz[band_edges(centres_hz)[1] <= fs / 2]
    lower, upper = band_edges(centres_hz)
    if np.any(upper > fs / 2 * (1 + 1e-9)):
        bad = np.asarray(centres_hz, dtype=float)[upper > fs / 2][0]
        raise ParameterError(
            f"centres_hz: the band at {bad:g} Hz reaches {upper[upper > fs / 2][0]:.0f} Hz, above the "
            f"Nyquist frequency {fs / 2:g} Hz of sample_rate={fs:g}; drop it"
        )
    n = x.shape[-1]
    if n_fft is None:
        narrowest_hz = float(np.min(upper - lower))
        n_fft = scipy.fft.next_fast_len(max(n, int(np.ceil(_MIN_BINS_PER_BAND * fs / narrowest_hz))), real=True)
    elif int(n_fft) < n:
        raise ParameterError(f"n_fft must be >= the signal length {n}, got {n_fft}")
    n_fft = int(n_fft)
    spectrum = scipy.fft.rfft(x, n=n_fft, axis=-1)
    power = np.abs(spectrum) ** 2
    # One-sided spectrum: every bin but DC and Nyquist stands for two (±f) bins of the full DFT.
    power[..., 1 : (n_fft + 1) // 2] *= 2.0
    power /= n_fft
    freqs = scipy.fft.rfftfreq(n_fft, 1.0 / fs)
    # Cumulative sum: the energy between two edges is a difference of two look-ups.
    cumulative = np.concatenate([np.zeros(power.shape[:-1] + (1,)), np.cumsum(power, axis=-1)], axis=-1)
    lo = np.searchsorted(freqs, lower, side="left")
    hi = np.searchsorted(freqs, upper, side="left")
    return cumulative[..., hi] - cumulative[..., lo]
