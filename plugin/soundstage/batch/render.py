"""One job's render: a preset (and its parameters) applied to one audio file, streamed to another.

Driver feeds are rendered on the processor's offline engine fed chunk by chunk
(:meth:`soundstage.SpatialProcessor.render_stream`: bitwise its one-shot output, in bounded
memory, on one or two threads); headphone renders stream through the listening simulation.

:func:`render_file` is the code path of ``soundstage render`` and of every batch job — gain rule
(:mod:`.levels`), bit depth and the headphone loudness matching (:mod:`.loudness_match`) included —
so a batch output is the same file, bit for bit, as the command's output for the same job. :func:`measure_levels`
reads a finished output back for its sidecar: integrated loudness per channel (ITU-R BS.1770-4 via
pyloudnorm) and true peak per channel (BS.1770-4 Annex 2: the peak of the signal oversampled 4×
with ``scipy.signal.resample_poly``, computed in overlapping blocks so memory stays bounded).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import ParameterError
from ..board import FileStreamStats, stream_file
from ..monitor import BinauralProcessor
from ..processor import ListenerTrack, SpatialProcessor
from .levels import TARGET_PEAK_DBTP, PeakMeter, auto_gain_db, file_true_peak_dbtp, is_integer_output
from .loudness_match import render_loudness_matched

__all__ = ["MONITORS", "RenderResult", "build_processor", "check_gain", "render_file", "measure_levels"]

#: What a render writes: the enclosure's driver feeds, or the two ears of the listening simulation.
MONITORS = ("drivers", "headphones")

#: True-peak oversampling (BS.1770-4 Annex 2) and the block length it is computed in.
_OVERSAMPLING = 4
_PEAK_BLOCK = 1 << 18
#: Samples of context either side of a block: resample_poly's filter is 20·up taps long at most.
_PEAK_MARGIN = 64


def build_processor(preset, parameters: Mapping[str, object] | None = None, monitor: str = "drivers", *,
                    num_threads: int = 1):
    """The processor ``soundstage render`` runs: ``SpatialProcessor(preset, num_threads=num_threads,
    **parameters)``, wrapped in :class:`~soundstage.monitor.BinauralProcessor` for
    ``monitor="headphones"``."""
    if monitor not in MONITORS:
        raise ParameterError(f"monitor must be one of {', '.join(MONITORS)}, got {monitor!r}")
    processor = SpatialProcessor(preset, num_threads=num_threads, **dict(parameters or {}))
    return BinauralProcessor(processor) if monitor == "headphones" else processor


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_file` did.

    Attributes
    ----------
    processor : SpatialProcessor or BinauralProcessor
        The processor that ran.
    channel_names : tuple of str
        One name per output channel (the drivers, or ``left_ear``/``right_ear``).
    stats : FileStreamStats
        The stream's statistics (frames, sample rate, time).
    gain_db : float
        Gain applied to the output (dB).
    gain_rule : str
        How the gain was chosen (``"fixed"``, ``"auto: true peak <= -1 dBTP"``, ``"matched to the
        input's loudness"``).
    peaks_dbfs : np.ndarray
        Sample peak of each output channel after the gain (dBFS).
    """

    processor: object
    channel_names: tuple
    stats: FileStreamStats
    gain_db: float
    gain_rule: str
    peaks_dbfs: np.ndarray


def check_gain(gain) -> float | str | None:
    """``None`` (the format's default), ``"auto"`` or a finite number of dB; anything else is a
    :class:`~soundstage.ParameterError` naming ``gain``."""
    if gain is None or (isinstance(gain, str) and gain.strip().lower() == "auto"):
        return None if gain is None else "auto"
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not np.isfinite(gain):
        raise ParameterError(f"gain must be 'auto' or a finite number of dB, got {gain!r}")
    return float(gain)


def render_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    preset,
    parameters: Mapping[str, object] | None = None,
    *,
    monitor: str = "drivers",
    gain: float | str | None = None,
    bit_depth: int | None = None,
    buffer_size: int = 8192,
    overwrite: bool = False,
    progress: bool = False,
    track=None,
    num_threads: int = 1,
) -> RenderResult:
    """Render ``in_path`` through ``preset`` into ``out_path`` (atomically, in constant memory).

    This is ``soundstage render`` (and every batch job): the same gain rule, bit depth and
    loudness matching, so both write the same file bit for bit.

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
    gain : None, "auto" or float
        Output gain: ``"auto"`` = the largest keeping every driver's true peak at or below
        :data:`~soundstage.batch.levels.TARGET_PEAK_DBTP` (from the input's true peak and the
        filters' worst-case gain); a number = that many dB. None: auto for integer outputs (FLAC,
        16/24-bit WAV/AIFF), 0 dB for float WAV. Headphone renders with None or "auto" are matched
        to the input's integrated loudness (BS.1770) under the same true-peak ceiling.
    bit_depth : {16, 24, 32} or None
        Output bit depth (32 = float, WAV/AIFF only); None: float WAV/AIFF, 24-bit FLAC.
    buffer_size, overwrite, progress
        As :func:`soundstage.stream_file`.
    track : ListenerTrack, str or os.PathLike, optional
        A listener trajectory (or its CSV file): the design follows it, and with
        ``monitor="headphones"`` the simulated listener moves along it; the auto gain takes the
        worst-case gain of every design along the track.
    num_threads : {1, 2}
        Threads of the driver-feed render (``SpatialProcessor(num_threads=...)``); the file is
        bitwise the same either way. Driver feeds are rendered on the offline engine (the
        one-shot call's output, in bounded memory; a track streams); headphone renders stream
        (the listening simulation follows the listener block by block).

    Returns
    -------
    RenderResult

    Raises
    ------
    ParameterError
        A bad ``gain``/``bit_depth``/``monitor``, or FLAC at 32 bits.
    ClippingError
        An integer output would clip at the gain given (nothing is written).
    """
    from pedalboard.io import AudioFile

    gain = check_gain(gain)
    suffix = Path(out_path).suffix.lower()
    if bit_depth not in (None, 16, 24, 32):
        raise ParameterError(f"bit_depth must be 16, 24 or 32, got {bit_depth!r}")
    if bit_depth == 32 and suffix == ".flac":
        raise ParameterError(f"bit depth 32 (float) is not available for FLAC ({out_path}); use 16 or 24")
    integer = is_integer_output(suffix, bit_depth)
    processor = build_processor(preset, parameters, monitor, num_threads=num_threads)
    spatial = processor.processor if monitor == "headphones" else processor
    if track is not None:
        spatial.track = track if isinstance(track, ListenerTrack) else ListenerTrack.from_csv(track)
    names = tuple(processor.driver_names)
    if monitor == "headphones" and gain in (None, "auto"):
        if Path(out_path).exists() and not overwrite:
            raise ParameterError(f"{out_path} already exists; add -y/--overwrite to replace it")
        gain_db, peaks, stats = render_loudness_matched(processor, in_path, out_path, bit_depth=bit_depth,
                                                        buffer_size=buffer_size, progress=progress)
        return RenderResult(processor, names, stats, gain_db, "matched to the input's loudness", peaks)
    if gain == "auto" or (gain is None and integer):
        with AudioFile(str(in_path)) as reader:
            sample_rate = reader.samplerate
        designs = spatial.design_track(sample_rate) or [spatial.design(sample_rate)]
        headroom = np.max([filters.headroom_db for filters in designs], axis=0)  # the worst along a track
        gain_db = auto_gain_db(headroom, file_true_peak_dbtp(in_path))
        rule = f"auto: true peak <= {TARGET_PEAK_DBTP:g} dBTP"
    else:
        gain_db, rule = (0.0 if gain is None else gain), "fixed"
    meter = PeakMeter(processor, gain_db, integer_output=integer, output=str(out_path))
    stats: FileStreamStats = stream_file(meter, in_path, out_path, buffer_size=buffer_size, overwrite=overwrite,
                                         progress=progress, bit_depth=bit_depth)
    return RenderResult(processor, names, stats, gain_db, rule, meter.peaks_dbfs())


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
