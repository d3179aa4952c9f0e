"""Spatial metrics of binaural renders for the audio regression checks, window by window.

A binaural render ``(2, n)`` (left ear, right ear) is cut into 100 ms windows (hop 50 ms);
each window gets an azimuth estimate (degrees, positive to the left) and a separation
(interaural level difference, dB, positive when the left ear is louder). A regression check
compares these tracks window by window, so a failure can say *when* the image moved.

The azimuth is the project's image-azimuth estimator
(:class:`soundstage.monitor.metrics.AzimuthEstimator` with the rigid-sphere head: ITD below
1.5 kHz and high-frequency ILD located in the head's cue tables). Windows where either ear is
quieter than −70 dBFS have no azimuth (NaN) and are not compared. The separation is the
broadband ILD ``10·log10(Σ left² / Σ right²)`` of each window. Obtained and golden are always
measured the same way in the same run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .metrics import power_to_dbfs

__all__ = ["SpatialTrack", "spatial_track"]

WINDOW_S = 0.100
HOP_S = 0.050
ACTIVE_DBFS = -70.0
#: What measured the azimuth (stored with a failure's details).
SOURCE = "soundstage.monitor.metrics.AzimuthEstimator (rigid sphere)"


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


@functools.lru_cache(maxsize=4)
def _estimator(sample_rate: int):
    from ..acoustics.heads import RigidSphereHead
    from ..monitor.metrics import AzimuthEstimator

    return AzimuthEstimator(RigidSphereHead(), sample_rate)


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
    azimuths, separations = [], []
    for start in starts:
        window = ears[:, start : start + length]
        energy = np.mean(window**2, axis=-1)
        separations.append(float(power_to_dbfs(energy[0]) - power_to_dbfs(energy[1])))
        active = np.all(power_to_dbfs(energy) >= ACTIVE_DBFS)
        azimuths.append(float(_estimator(sample_rate).estimate(window)) if active else np.nan)
    return SpatialTrack(
        starts_s=starts / sample_rate,
        window_s=length / sample_rate,
        azimuth_deg=np.asarray(azimuths, dtype=float),
        separation_db=np.asarray(separations, dtype=float),
        source=SOURCE,
    )
