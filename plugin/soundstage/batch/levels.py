"""Output levels of a render (``soundstage render`` and every batch job): a gain decided before
streaming, peaks metered while streaming.

Integer outputs (FLAC, 16/24-bit WAV/AIFF) cannot hold a sample above full scale, and crosstalk
cancellation needs gain. ``--gain auto`` picks, before anything is processed, the largest gain
that keeps every driver's peak at or below :data:`TARGET_PEAK_DBTP`: the input's true peak (a
cheap read-only pre-pass, BS.1770-4 Annex 2: 4× oversampling with ``scipy.signal.resample_poly``)
plus the processor's worst-case driver gain over every input combination (``headroom_db``) must
not exceed it. The render is metered while it streams; an integer output whose samples would
still pass full scale is refused (nothing is written) rather than clipped. Headphone renders are
loudness-matched (ITU-R BS.1770 via pyloudnorm) to the input, with a true-peak guard.
"""

from __future__ import annotations

import numpy as np

from .._errors import SoundstageError
from ..monitor.loudness_meter import true_peak_dbtp

__all__ = ["TARGET_PEAK_DBTP", "ClippingError", "PeakMeter", "file_true_peak_dbtp", "auto_gain_db",
           "is_integer_output", "peak_line"]

#: Ceiling of ``--gain auto`` (dBTP), as streaming services ask of masters.
TARGET_PEAK_DBTP = -1.0


class ClippingError(SoundstageError, ValueError):
    """An integer output would have clipped; nothing was written."""


def is_integer_output(suffix: str, bit_depth: int | None) -> bool:
    """Whether a file with this extension and bit depth stores integers (FLAC always does)."""
    suffix = suffix.lower()
    if suffix == ".flac":
        return True
    if suffix in (".wav", ".aif", ".aiff"):
        return bit_depth is not None and bit_depth != 32
    return True


def file_true_peak_dbtp(path, block_frames: int = 1 << 16) -> float:
    """True peak (dBTP) of an audio file over all channels, read block by block (the blocks
    overlap by 64 frames so the interpolator sees every inter-sample peak)."""
    from pedalboard.io import AudioFile

    peak = -np.inf
    overlap = 64
    with AudioFile(str(path)) as reader:
        tail = np.zeros((reader.num_channels, 0), np.float32)
        while reader.tell() < reader.frames:
            block = reader.read(block_frames)
            if block.shape[1] == 0:
                break
            joined = np.concatenate([tail, block], axis=1)
            if joined.shape[1] >= 8 and np.any(joined):
                peak = max(peak, true_peak_dbtp(joined))
            tail = joined[:, -overlap:]
    return float(peak)


def auto_gain_db(headroom_db, input_true_peak_dbtp: float, *, target_dbtp: float = TARGET_PEAK_DBTP) -> float:
    """Largest gain (dB) with ``input peak + worst-case driver gain + gain ≤ target``.

    ``headroom_db`` is the processor's worst-case gain per driver at output gain 0 dB.
    """
    if not np.isfinite(input_true_peak_dbtp):  # a silent input: no gain is needed
        return 0.0
    return float(target_dbtp - input_true_peak_dbtp - np.max(headroom_db))


class PeakMeter:
    """Wraps a streaming processor; records each output channel's sample peak and applies a gain.

    ``integer_output`` makes :meth:`flush` raise :class:`ClippingError` (before the file is
    published) if any sample reached full scale.
    """

    def __init__(self, processor, gain_db: float = 0.0, *, integer_output: bool = False, output: str = "output"):
        self.processor = processor
        self.gain_db = float(gain_db)
        self._gain = float(10 ** (gain_db / 20))
        self.integer_output = integer_output
        self.output = output
        self.peaks = None

    def output_channels(self, num_input_channels: int) -> int:
        return self.processor.output_channels(num_input_channels)

    def reset(self) -> None:
        self.processor.reset()
        self.peaks = None

    def _meter(self, block: np.ndarray) -> np.ndarray:
        if self._gain != 1.0:
            block = block * np.float32(self._gain)
        if block.ndim == 2 and block.shape[1]:
            peaks = np.max(np.abs(block), axis=1)
            self.peaks = peaks if self.peaks is None else np.maximum(self.peaks, peaks)
        return block

    def process(self, audio, sample_rate, buffer_size=8192, reset=True):
        return self._meter(self.processor.process(audio, sample_rate, buffer_size, reset))

    def render_stream(self, sample_rate: float) -> "_MeteredRender | None":
        """The wrapped processor's offline render (see :func:`soundstage.stream_file`), metered
        like :meth:`process`; None if it has none."""
        make = getattr(self.processor, "render_stream", None)
        if not callable(make):
            return None
        self.peaks = None
        return _MeteredRender(self, make(sample_rate))

    def flush(self) -> np.ndarray:
        return self._check_clipping(self._meter(self.processor.flush()))

    def _check_clipping(self, out: np.ndarray) -> np.ndarray:
        if self.integer_output and self.peaks is not None and np.max(self.peaks) >= 1.0:
            raise ClippingError(
                f"{self.output}: the driver feeds would clip in an integer format (peak "
                f"{20 * np.log10(np.max(self.peaks)):+.1f} dBFS at gain {self.gain_db:+.1f} dB); nothing was "
                "written. Use --gain auto, a lower --gain DB, or a 32-bit float WAV output"
            )
        return out

    def peaks_dbfs(self) -> np.ndarray:
        peaks = np.zeros(1) if self.peaks is None else self.peaks
        return 20 * np.log10(np.maximum(peaks, 1e-12))


class _MeteredRender:
    """A processor's render stream seen through a :class:`PeakMeter` (gain, peaks, clipping)."""

    def __init__(self, meter: PeakMeter, stream):
        self._meter, self._stream = meter, stream

    @property
    def num_threads(self) -> int:
        return getattr(self._stream, "num_threads", 1)

    def push(self, chunk: np.ndarray) -> np.ndarray:
        return self._meter._meter(self._stream.push(chunk))

    def finish(self) -> np.ndarray:
        return self._meter._check_clipping(self._meter._meter(self._stream.finish()))

    def submit(self, fn, *args):
        return self._stream.submit(fn, *args)

    def close(self) -> None:
        self._stream.close()


def peak_line(names, peaks_dbfs, gain_db: float, how: str) -> str:
    """The one line every render ends with: peak dBFS per output channel and the gain applied."""
    parts = ", ".join(f"{name} {peak:+.1f}" for name, peak in zip(names, peaks_dbfs))
    return f"peak dBFS: {parts}; gain {gain_db:+.1f} dB ({how})"
