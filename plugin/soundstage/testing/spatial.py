"""Spatial metrics of binaural renders for the audio regression checks, window by window.

A binaural render ``(2, n)`` (left ear, right ear) is cut into 100 ms windows (hop 50 ms);
each window gets an azimuth estimate (degrees, positive to the left) and a separation
(interaural level difference, dB, positive when the left ear is louder). A regression check
compares these tracks window by window, so a failure can say *when* the image moved.

Where the azimuth comes from
----------------------------
If ``soundstage.monitor.metrics`` imports and offers ``AzimuthEstimator``, the azimuth is the
monitor's estimate — ITD and high-frequency ILD located in the cue tables of a rigid-sphere
head (``AzimuthEstimator(RigidSphereHead(), sample_rate).estimate(window)``), the project's
reference. Otherwise (the monitor absent or failing to import) this module's simple estimate
stands in: the broadband ITD — the lag of the largest cross-correlation of both ears
low-passed below 1.5 kHz (4th-order Butterworth, zero phase), within ±1 ms, refined by a
parabola — mapped to an azimuth by inverting Woodworth's ITD ``(a/c)(φ + sin φ)``
(``soundstage.acoustics.heads.woodworth_itd_s``) over the frontal half-plane. Either way,
windows where either ear is quieter than −70 dBFS (or, for the fallback, whose normalised
correlation peak is below 0.3) have no azimuth (NaN) and are not compared. Obtained and golden
are always measured by the same implementation in the same run.

The separation is the broadband ILD ``10·log10(Σ left² / Σ right²)`` of each window.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.signal

from .metrics import power_to_dbfs

__all__ = ["SpatialTrack", "spatial_track", "metric_source"]

WINDOW_S = 0.100
HOP_S = 0.050
ITD_CUTOFF_HZ = 1500.0
MAX_ITD_S = 1.0e-3
ACTIVE_DBFS = -70.0
MIN_CORRELATION = 0.3
_MONITOR_MODULE = "soundstage.monitor.metrics"


@dataclass(frozen=True)
class SpatialTrack:
    """Spatial metrics of a binaural render per window.

    Attributes
    ----------
    starts_s : np.ndarray [shape=(windows,)]
        Window start times in seconds; every window is ``window_s`` long.
    window_s : float
        Window length in seconds.
    azimuth_deg : np.ndarray [shape=(windows,)]
        Azimuth estimate in degrees, positive to the left; NaN where undefined.
    separation_db : np.ndarray [shape=(windows,)]
        Interaural level difference in dB, positive when the left ear is louder.
    source : str
        Which implementation computed the metrics.
    """

    starts_s: np.ndarray
    window_s: float
    azimuth_deg: np.ndarray
    separation_db: np.ndarray
    source: str


def metric_source() -> tuple[Callable[[np.ndarray, int], float] | None, str]:
    """The monitor's azimuth estimator as ``(function(window, sample_rate), name)``.

    Returns ``(None, "soundstage.testing.spatial")`` when ``soundstage.monitor.metrics`` cannot
    be imported or has no ``AzimuthEstimator``.
    """
    try:
        module = importlib.import_module(_MONITOR_MODULE)
        estimator_class = module.AzimuthEstimator
        from ..acoustics.heads import RigidSphereHead
    except (ImportError, AttributeError):
        return None, __name__

    @functools.lru_cache(maxsize=4)
    def estimator(sample_rate: int):
        return estimator_class(RigidSphereHead(), sample_rate)

    def azimuth_deg(window: np.ndarray, sample_rate: int) -> float:
        if np.any(power_to_dbfs(np.mean(window**2, axis=-1)) < ACTIVE_DBFS):
            return np.nan
        return float(estimator(sample_rate).estimate(window))

    return azimuth_deg, f"{_MONITOR_MODULE}.AzimuthEstimator (rigid sphere)"


def spatial_track(ears: np.ndarray, sample_rate: int) -> SpatialTrack:
    """Azimuth and separation of a binaural render in 100 ms windows (hop 50 ms).

    Parameters
    ----------
    ears : np.ndarray [shape=(2, n)]
        Left-ear and right-ear signals.
    sample_rate : int
        Sample rate in Hz.

    Returns
    -------
    SpatialTrack
    """
    ears = np.asarray(ears, dtype=np.float64)
    n = ears.shape[-1]
    length = max(1, min(n, int(round(WINDOW_S * sample_rate))))
    hop = max(1, int(round(HOP_S * sample_rate)))
    starts = np.arange(0, n - length + 1, hop)
    azimuth_hook, source = metric_source()
    low = _low_pass(ears, sample_rate) if azimuth_hook is None else None
    table_itd_s, table_azimuth_deg = _woodworth_table() if azimuth_hook is None else (None, None)
    azimuths, separations = [], []
    for start in starts:
        window = ears[:, start : start + length]
        separations.append(_ild_db(window))
        if azimuth_hook is not None:
            azimuths.append(float(azimuth_hook(window, sample_rate)))
        else:
            itd_s = _itd_s(window, low[:, start : start + length], sample_rate)
            azimuths.append(float(np.interp(itd_s, table_itd_s, table_azimuth_deg)))
    return SpatialTrack(
        starts_s=starts / sample_rate,
        window_s=length / sample_rate,
        azimuth_deg=np.asarray(azimuths, dtype=float),
        separation_db=np.asarray(separations, dtype=float),
        source=source,
    )


def _ild_db(window: np.ndarray) -> float:
    energy = np.mean(window**2, axis=-1)
    return float(power_to_dbfs(energy[0]) - power_to_dbfs(energy[1]))


def _low_pass(ears: np.ndarray, sample_rate: int) -> np.ndarray:
    cutoff_hz = min(ITD_CUTOFF_HZ, 0.45 * sample_rate)
    sos = scipy.signal.butter(4, cutoff_hz, fs=sample_rate, output="sos")
    padlen = min(3 * 2 * len(sos), ears.shape[-1] - 1)
    return scipy.signal.sosfiltfilt(sos, ears, axis=-1, padlen=max(padlen, 0))


def _itd_s(window: np.ndarray, low: np.ndarray, sample_rate: int) -> float:
    """ITD (s), positive when the left ear leads; NaN where it is undefined."""
    energy = np.mean(window**2, axis=-1)
    if np.any(power_to_dbfs(energy) < ACTIVE_DBFS):
        return np.nan
    left, right = low
    norm = np.sqrt(np.sum(left**2) * np.sum(right**2))
    if norm == 0:
        return np.nan
    # c[k] = Σ right[t + k] · left[t]: peaks at k = d when the right ear lags by d samples.
    correlation = scipy.signal.correlate(right, left, mode="full", method="fft") / norm
    lags = scipy.signal.correlation_lags(right.size, left.size, mode="full")
    max_lag = int(np.ceil(MAX_ITD_S * sample_rate))
    inside = np.abs(lags) <= max_lag
    correlation, lags = correlation[inside], lags[inside]
    i = int(np.argmax(correlation))
    if correlation[i] < MIN_CORRELATION:
        return np.nan
    offset = 0.0
    if 0 < i < correlation.size - 1:
        y0, y1, y2 = correlation[i - 1 : i + 2]
        curvature = y0 - 2 * y1 + y2
        if curvature < 0:
            offset = 0.5 * (y0 - y2) / curvature
    return float((lags[i] + offset) / sample_rate)


def _woodworth_table() -> tuple[np.ndarray, np.ndarray]:
    from ..acoustics.heads import woodworth_itd_s

    azimuth_deg = np.linspace(-90.0, 90.0, 721)
    return np.asarray(woodworth_itd_s(azimuth_deg), dtype=float), azimuth_deg
