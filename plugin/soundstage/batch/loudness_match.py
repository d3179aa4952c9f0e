"""Headphone renders matched to the input's loudness (ITU-R BS.1770, :mod:`soundstage.monitor.loudness_meter`).

The listening simulation's level depends on the enclosure, the room and the filters' gain (a
laptop came out 12.7 LU louder than its input, peaking at +9.6 dBFS), so a headphone render is
streamed to a float file beside the output, measured as it is read back block by block (the input
too), scaled to the input's integrated loudness and written in the requested format: memory does
not grow with the file. A true-peak guard lowers the gain where the matched render
would pass :data:`~soundstage.batch.levels.TARGET_PEAK_DBTP`, so no sample exceeds full scale.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._atomic import publish, temporary_beside
from ..monitor.loudness_meter import (MIN_DURATION_S, MeasuredLoudness, StreamingLoudnessMeter,
                                      integrated_loudness_lufs, true_peak_dbtp)
from .levels import TARGET_PEAK_DBTP, PeakMeter

__all__ = ["loudness_match_gain_db", "render_loudness_matched"]


def _loudness(audio: np.ndarray, sample_rate: float) -> float:
    """Integrated loudness (LUFS); ``-inf`` for silence or audio shorter than one gating block."""
    if audio.shape[1] < MIN_DURATION_S * sample_rate:
        return float("-inf")
    with np.errstate(divide="ignore"):
        return integrated_loudness_lufs(audio, sample_rate)


def loudness_match_gain_db(rendered: np.ndarray, reference: np.ndarray, sample_rate: float) -> float:
    """Gain (dB) bringing ``rendered`` (channels, n) to ``reference``'s integrated loudness, lowered
    if needed so that the result's true peak stays at or below the ceiling."""
    target, level = _loudness(reference, sample_rate), _loudness(rendered, sample_rate)
    gain = 0.0 if not (np.isfinite(target) and np.isfinite(level)) else target - level
    peak = true_peak_dbtp(rendered) if rendered.shape[1] else -np.inf
    if np.isfinite(peak):
        gain = min(gain, TARGET_PEAK_DBTP - peak)
    return float(gain)


def render_loudness_matched(processor, in_path, out_path, *, bit_depth: int | None, buffer_size: int = 8192,
                            progress: bool = False):
    """Stream ``in_path`` through ``processor`` into ``out_path`` at the input's loudness.

    Returns
    -------
    gain_db : float
        The gain applied (dB).
    peaks_dbfs : np.ndarray
        Each channel's sample peak after the gain (dBFS).
    stats : FileStreamStats
        The stream's statistics.
    """
    from pedalboard.io import AudioFile

    from ..board import stream_file

    out_path = Path(out_path)
    handle, raw = temporary_beside(out_path, suffix=".wav")
    os.close(handle)
    handle, final = temporary_beside(out_path, suffix=out_path.suffix)
    os.close(handle)
    try:
        stats = stream_file(PeakMeter(processor), in_path, raw, buffer_size=buffer_size, overwrite=True,
                            progress=progress, bit_depth=32)
        source, rendered = _measure_file(in_path), _measure_file(raw)
        gain_db = 0.0
        if np.isfinite(source.integrated_lufs) and np.isfinite(rendered.integrated_lufs):
            gain_db = source.integrated_lufs - rendered.integrated_lufs
        if np.isfinite(rendered.true_peak_dbtp) and rendered.frames:
            gain_db = min(gain_db, TARGET_PEAK_DBTP - rendered.true_peak_dbtp)
        scale = np.float32(10 ** (gain_db / 20))
        depth = bit_depth if bit_depth is not None else (24 if out_path.suffix.lower() == ".flac" else 32)
        peaks = np.zeros(0)
        with AudioFile(raw) as reader, AudioFile(final, "w", reader.samplerate, reader.num_channels,
                                                  bit_depth=depth) as writer:
            peaks = np.zeros(reader.num_channels, np.float32)
            while reader.tell() < reader.frames:
                block = reader.read(_BLOCK_FRAMES) * scale
                np.maximum(peaks, np.max(np.abs(block), axis=1, initial=0.0), out=peaks)
                writer.write(block)
        publish(final, out_path)
    finally:
        for name in (raw, final):
            Path(name).unlink(missing_ok=True)
    return float(gain_db), 20 * np.log10(np.maximum(peaks, 1e-12)), stats


#: Frames per block when a file is measured or rescaled (bounded memory).
_BLOCK_FRAMES = 1 << 16


def _measure_file(path) -> MeasuredLoudness:
    """Loudness and true peak of an audio file, read block by block."""
    from pedalboard.io import AudioFile

    with AudioFile(str(path)) as reader:
        meter = StreamingLoudnessMeter(reader.samplerate, reader.num_channels)
        while reader.tell() < reader.frames:
            meter.process(reader.read(_BLOCK_FRAMES))
    return meter.result()
