"""A click metric for parameter automation: what is left of a sine's render once the sine is gone.

A time-varying but smooth filter (a crossfade of two designs, a ramp of the upmix) turns a
440 Hz sine into a sine whose amplitude and phase glide; all its energy stays within a few tens
of hertz of 440 Hz. A jump (a dropped crossfade, a switch in one step, a gap) spreads energy
over the whole spectrum. The residual is the peak of the render high-passed well above the sine
(4th-order Butterworth at 2 kHz, run forwards and backwards), relative to the render's peak.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

__all__ = ["SINE_HZ", "sine_input", "click_residual"]

#: Frequency of the test sine (Hz).
SINE_HZ = 440.0


def sine_input(seconds: float, sample_rate: float, *, right_gain: float = 0.5) -> np.ndarray:
    """A ``(2, n)`` float32 440 Hz sine at -6 dBFS on the left and ``right_gain`` times that on
    the right (panned, so the upmix, the virtualizer and the cancellation all act on it)."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    s = 0.5 * np.sin(2 * np.pi * SINE_HZ * t)
    return np.stack([s, right_gain * s]).astype(np.float32)


def click_residual(rendered: np.ndarray, sample_rate: float, *, skip_s: float = 0.2) -> float:
    """Peak of ``rendered`` (channels, n) high-passed at 2 kHz relative to its peak, ignoring
    the first and last ``skip_s`` seconds (the onset of the sine and the filter's edges)."""
    y = np.asarray(rendered, dtype=np.float64)
    sos = scipy.signal.butter(4, 2000.0, "highpass", fs=sample_rate, output="sos")
    residual = scipy.signal.sosfiltfilt(sos, y, axis=-1)
    skip = int(skip_s * sample_rate)
    window = slice(skip, y.shape[-1] - skip)
    peak = np.max(np.abs(y[..., window]))
    return float(np.max(np.abs(residual[..., window])) / peak) if peak > 0 else 0.0
