"""Headphone renders matched to the input's loudness (ITU-R BS.1770 via pyloudnorm).

The listening simulation's level depends on the enclosure, the room and the filters' gain (a
laptop came out 12.7 LU louder than its input, peaking at +9.6 dBFS), so a headphone render is
streamed to a float file beside the output, measured, scaled to the input's integrated loudness
and written in the requested format. A true-peak guard lowers the gain where the matched render
would pass :data:`~soundstage.cli.render_levels.TARGET_PEAK_DBTP`, so no sample exceeds full scale.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile

from .._atomic import publish, temporary_beside
from .._errors import ParameterError
from .render_levels import TARGET_PEAK_DBTP, PeakMeter

__all__ = ["loudness_match_gain_db", "render_loudness_matched"]


def loudness_match_gain_db(rendered: np.ndarray, reference: np.ndarray, sample_rate: float) -> float:
    """Gain (dB) bringing ``rendered`` (channels, n) to ``reference``'s integrated loudness, lowered
    if needed so that the result's true peak stays at or below the ceiling."""
    from ..compare.loudness import integrated_loudness_lufs, true_peak_dbtp

    target = integrated_loudness_lufs(reference, sample_rate, name="input")
    level = integrated_loudness_lufs(rendered, sample_rate, name="render")
    gain = 0.0 if not (np.isfinite(target) and np.isfinite(level)) else target - level
    peak = true_peak_dbtp(rendered, sample_rate)
    if np.isfinite(peak):
        gain = min(gain, TARGET_PEAK_DBTP - peak)
    return float(gain)


def render_loudness_matched(processor, args, integer: bool) -> tuple[float, np.ndarray]:
    """Stream ``args.input`` through ``processor`` into ``args.output`` at the input's loudness.

    Returns the gain applied (dB) and each channel's sample peak (dBFS)."""
    from ..board import stream_file

    out_path = Path(args.output)
    if out_path.exists() and not args.overwrite:
        raise ParameterError(f"out_path {str(out_path)!r} already exists; pass --yes to replace it")
    handle, raw = temporary_beside(out_path, suffix=".wav")
    os.close(handle)
    handle, final = temporary_beside(out_path, suffix=out_path.suffix)
    os.close(handle)
    try:
        meter = PeakMeter(processor)
        stream_file(meter, args.input, raw, buffer_size=args.buffer_size, overwrite=True,
                    progress=not args.quiet, bit_depth=32)
        rendered, sample_rate = soundfile.read(raw, dtype="float32", always_2d=True)
        source, _ = soundfile.read(args.input, dtype="float32", always_2d=True)
        gain_db = loudness_match_gain_db(rendered.T, source.T, sample_rate)
        out = rendered * np.float32(10 ** (gain_db / 20))
        from pedalboard.io import AudioFile

        depth = args.bit_depth if args.bit_depth is not None else (24 if out_path.suffix.lower() == ".flac" else 32)
        with AudioFile(final, "w", sample_rate, out.shape[1], bit_depth=depth) as writer:
            writer.write(np.ascontiguousarray(out.T))
        publish(final, out_path)
    finally:
        for name in (raw, final):
            Path(name).unlink(missing_ok=True)
    peaks = 20 * np.log10(np.maximum(np.max(np.abs(out), axis=0), 1e-12))
    return gain_db, peaks
