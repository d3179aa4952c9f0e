"""One job's render: a preset (and its parameters) applied to one audio file, streamed to another.

:func:`render_file` is the code path of ``soundstage render`` and of every batch job, so a batch
output is the same file, bit for bit, as the command's output for the same job. :func:`measure_levels`
reads a finished output back for its sidecar: integrated loudness per channel (ITU-R BS.1770-4 via
pyloudnorm) and true peak per channel (BS.1770-4 Annex 2: the peak of the signal oversampled 4×
with ``scipy.signal.resample_poly``, computed in overlapping blocks so memory stays bounded).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..board import FileStreamStats, stream_file
from ..monitor import BinauralProcessor
from ..processor import SpatialProcessor

__all__ = ["MONITORS", "build_processor", "render_file", "measure_levels"]

#: What a render writes: the enclosure's driver feeds, or the two ears of the listening simulation.
MONITORS = ("drivers", "headphones")

#: True-peak oversampling (BS.1770-4 Annex 2) and the block length it is computed in.
_OVERSAMPLING = 4
_PEAK_BLOCK = 1 << 18
#: Samples of context either side of a block: resample_poly's filter is 20·up taps long at most.
_PEAK_MARGIN = 64


def build_processor(preset, parameters: Mapping[str, object] | None = None, monitor: str = "drivers"):
    """The processor ``soundstage render`` runs: ``SpatialProcessor(preset, **parameters)``, wrapped
    in :class:`~soundstage.monitor.BinauralProcessor` for ``monitor="headphones"``."""
    if monitor not in MONITORS:
        from .._errors import ParameterError

        raise ParameterError(f"monitor must be one of {', '.join(MONITORS)}, got {monitor!r}")
    processor = SpatialProcessor(preset, **dict(parameters or {}))
    return BinauralProcessor(processor) if monitor == "headphones" else processor


def render_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    preset,
    parameters: Mapping[str, object] | None = None,
    *,
    monitor: str = "drivers",
    buffer_size: int = 8192,
    overwrite: bool = False,
    progress: bool = False,
    bit_depth: int | None = None,
):
    """Render ``in_path`` through ``preset`` into ``out_path`` (atomically, in constant memory).

    Parameters
    ----------
    in_path, out_path : str or os.PathLike
        Input audio (stereo or mono) and the output file (WAV/FLAC/AIFF, format from the extension).
    preset : str, os.PathLike or Preset
        A built-in name, a preset file or a loaded preset.
    parameters : mapping, optional
        Processor parameters (``width_deg=25.0``, ``bypass=frozenset({"ctc"})``, ...).
    monitor : {"drivers", "headphones"}
        Driver feeds, or the ear signals of the listening simulation.
    buffer_size, overwrite, progress, bit_depth
        As :func:`soundstage.stream_file`.

    Returns
    -------
    processor, FileStreamStats
        The processor that ran (its ``driver_names`` name the output channels) and the stream's
        statistics.
    """
    processor = build_processor(preset, parameters, monitor)
    stats: FileStreamStats = stream_file(processor, in_path, out_path, buffer_size=buffer_size,
                                         overwrite=overwrite, progress=progress, bit_depth=bit_depth)
    return processor, stats


def measure_levels(path: str | os.PathLike) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) of each channel of an audio file.

    Returns
    -------
    dict
        ``{"loudness_lufs": [...], "true_peak_dbtp": [...], "max_true_peak_dbtp": float}``; a
        channel too short or too quiet for BS.1770's gate has loudness ``None``; silence has true
        peak ``None``.
    """
    import pyloudnorm
    import scipy.signal
    from pedalboard.io import AudioFile

    with AudioFile(str(Path(path))) as reader:
        sample_rate = reader.samplerate
        audio = reader.read(reader.frames)
    meter = pyloudnorm.Meter(sample_rate)
    loudness, peaks = [], []
    for channel in audio:
        value = None
        if channel.shape[0] > int(0.4 * sample_rate):
            with np.errstate(divide="ignore", invalid="ignore"):
                value = float(meter.integrated_loudness(channel.astype(np.float64)))
        loudness.append(_finite(value))
        peak = float(np.max(np.abs(channel), initial=0.0))
        for start in range(0, channel.shape[0], _PEAK_BLOCK):
            lo, hi = max(start - _PEAK_MARGIN, 0), min(start + _PEAK_BLOCK + _PEAK_MARGIN, channel.shape[0])
            up = scipy.signal.resample_poly(channel[lo:hi], _OVERSAMPLING, 1)
            keep = up[(start - lo) * _OVERSAMPLING:(min(start + _PEAK_BLOCK, hi) - lo) * _OVERSAMPLING]
            peak = max(peak, float(np.max(np.abs(keep), initial=0.0)))
        peaks.append(_finite(20.0 * np.log10(peak)) if peak > 0 else None)
    present = [p for p in peaks if p is not None]
    return {"loudness_lufs": loudness, "true_peak_dbtp": peaks,
            "max_true_peak_dbtp": max(present) if present else None}


def _finite(value: float | None) -> float | None:
    return round(float(value), 4) if value is not None and np.isfinite(value) else None
