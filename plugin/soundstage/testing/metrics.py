"""Measurements of renders and residuals used by the audio regression checks.

Levels are in dBFS relative to an amplitude of 1.0 (an RMS of 1.0 is 0 dBFS); zero is
reported as :data:`SILENCE_DBFS` rather than −∞ so that every number stays JSON-serialisable.
All functions take channels-first ``(channels, n)`` arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "SILENCE_DBFS",
    "amplitude_to_dbfs",
    "power_to_dbfs",
    "WorstWindow",
    "worst_window",
    "third_octave_centres_hz",
    "band_levels_dbfs",
    "integrated_loudness_lufs",
]

#: Level reported for digital silence (dBFS).
SILENCE_DBFS = -300.0
#: Length of the window in which a residual is located (s).
WINDOW_S = 0.100
#: Hop between located windows (s).
HOP_S = 0.010
#: BS.1770 gating block (s): shorter signals have no integrated loudness.
LOUDNESS_BLOCK_S = 0.400


def amplitude_to_dbfs(amplitude) -> np.ndarray:
    """``20·log10(amplitude)`` with silence mapped to :data:`SILENCE_DBFS`."""
    amplitude = np.asarray(amplitude, dtype=float)
    with np.errstate(divide="ignore"):
        return np.maximum(20.0 * np.log10(np.abs(amplitude)), SILENCE_DBFS)


def power_to_dbfs(power) -> np.ndarray:
    """``10·log10(power)`` (mean-square) with silence mapped to :data:`SILENCE_DBFS`."""
    power = np.asarray(power, dtype=float)
    with np.errstate(divide="ignore"):
        return np.maximum(10.0 * np.log10(power), SILENCE_DBFS)


@dataclass(frozen=True)
class WorstWindow:
    """The window with the largest RMS of a (residual) signal.

    Attributes
    ----------
    start_s, end_s : float
        Window bounds in seconds from the start of the signal.
    channel : int
        Channel index.
    rms_dbfs : float
        RMS of that channel in that window (dBFS).
    """

    start_s: float
    end_s: float
    channel: int
    rms_dbfs: float

    def describe(self) -> str:
        """``"0.300–0.400 s in channel 1 (−47.10 dBFS)"``."""
        return (
            f"{self.start_s:.3f}–{self.end_s:.3f} s in channel {self.channel} "
            f"({self.rms_dbfs:.2f} dBFS)"
        )


def worst_window(
    audio: np.ndarray, sample_rate: int, window_s: float = WINDOW_S, hop_s: float = HOP_S
) -> WorstWindow:
    """Locate the ``window_s`` window (hop ``hop_s``) with the largest RMS of any channel.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
        Signal, typically a residual.
    sample_rate : int
        Sample rate in Hz.
    window_s, hop_s : float
        Window length and hop in seconds; a signal shorter than one window is one window.

    Returns
    -------
    WorstWindow
    """
    audio = np.asarray(audio, dtype=np.float64)
    n = audio.shape[-1]
    length = max(1, min(n, int(round(window_s * sample_rate))))
    hop = max(1, int(round(hop_s * sample_rate)))
    energy = np.concatenate([np.zeros((audio.shape[0], 1)), np.cumsum(audio**2, axis=-1)], axis=-1)
    starts = np.arange(0, n - length + 1, hop)
    if starts[-1] != n - length:
        starts = np.append(starts, n - length)
    mean_square = (energy[:, starts + length] - energy[:, starts]) / length
    channel, index = np.unravel_index(np.argmax(mean_square), mean_square.shape)
    start = int(starts[index])
    return WorstWindow(
        start_s=start / sample_rate,
        end_s=(start + length) / sample_rate,
        channel=int(channel),
        rms_dbfs=float(power_to_dbfs(max(mean_square[channel, index], 0.0))),
    )


def third_octave_centres_hz(sample_rate: int, low_hz: float = 20.0) -> np.ndarray:
    """Exact base-10 1/3-octave mid-band frequencies (IEC 61260-1) below Nyquist.

    ``f_m = 1000 · 10^(x/10)`` Hz for integer ``x``, from the band containing ``low_hz`` up to
    the last band whose upper edge ``f_m · 10^(1/20)`` lies at or below ``sample_rate / 2``.

    Returns
    -------
    np.ndarray [shape=(bands,)]
        Mid-band frequencies in Hz (nominal 20, 25, 31.5, … Hz appear as 19.95, 25.12, …).
    """
    first = int(np.round(10 * np.log10(low_hz / 1000.0)))
    last = int(np.floor(10 * np.log10(sample_rate / 2 / 1000.0) - 0.5))
    return 1000.0 * 10.0 ** (np.arange(first, last + 1) / 10.0)


def band_levels_dbfs(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean-square level of each 1/3-octave band of each channel.

    The power spectral density is a rectangular-window periodogram of the whole signal
    (:func:`scipy.signal.periodogram`), so the band powers add up to the signal's mean square
    (Parseval) and a pure delay of a signal that starts and ends in silence leaves them
    unchanged: the band comparison sees timbre, the null test sees time. Band edges are
    ``f_m · 10^(±1/20)``; bands that contain no frequency bin (very short signals) are
    dropped.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
    sample_rate : int
        Sample rate in Hz.

    Returns
    -------
    centres_hz : np.ndarray [shape=(bands,)]
        Mid-band frequencies in Hz.
    levels_dbfs : np.ndarray [shape=(channels, bands)]
        Band levels in dBFS (mean-square power re 1.0).
    """
    from ..monitor.metrics_bands import band_edges, band_energies

    audio = np.asarray(audio, dtype=np.float64)
    n = audio.shape[-1]
    centres_hz = third_octave_centres_hz(sample_rate)
    # No zero padding: each band is the exact Parseval share of its DFT bins.
    energies = band_energies(audio, sample_rate, centres_hz, n_fft=n)
    lower, upper = band_edges(centres_hz)
    bins = np.fft.rfftfreq(n, 1.0 / sample_rate)
    keep = np.searchsorted(bins, upper, side="left") > np.searchsorted(bins, lower, side="left")
    return centres_hz[keep], power_to_dbfs(energies[..., keep] / n)


def integrated_loudness_lufs(audio: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """ITU-R BS.1770-4 integrated loudness of each channel as a mono programme.

    Computed by :class:`pyloudnorm.Meter` (K-weighting, 400 ms blocks, absolute and relative
    gates). A channel whose blocks are all gated away (silence) reads :data:`SILENCE_DBFS`.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
    sample_rate : int
        Sample rate in Hz.

    Returns
    -------
    np.ndarray [shape=(channels,)] or None
        Loudness in LUFS, or ``None`` if the signal is shorter than one 400 ms block.
    """
    import pyloudnorm

    audio = np.asarray(audio, dtype=np.float64)
    if audio.shape[-1] < int(round(LOUDNESS_BLOCK_S * sample_rate)) + 1:
        return None
    meter = pyloudnorm.Meter(sample_rate)
    values = []
    for channel in audio:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = meter.integrated_loudness(channel)
        values.append(value if np.isfinite(value) else SILENCE_DBFS)
    return np.asarray(values, dtype=float)
