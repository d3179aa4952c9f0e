"""Stream an audio file through a processor into another file, in constant memory.

Reading and writing go through ``pedalboard.io.AudioFile``; the output is written to a
temporary file in the destination directory and moved into place with ``os.replace`` only
when everything succeeded, so a failed or interrupted render never leaves a truncated file
behind.
"""

from __future__ import annotations

import os
import warnings
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile, get_supported_write_formats

from .._convention import check_buffer_size
from .._atomic import publish
from .._errors import ParameterError

__all__ = ["FileStreamStats", "stream_processor_file"]

#: Default bit depth per output extension (float WAV keeps levels above full scale; AIFF and
#: FLAC have no float format).
_DEFAULT_BIT_DEPTH = {".wav": 32, ".aif": 24, ".aiff": 24, ".flac": 24}
#: Bit depths each integer-only format can hold (pedalboard.io's writers).
_BIT_DEPTHS = {".flac": (16, 24), ".aif": (8, 16, 24), ".aiff": (8, 16, 24), ".wav": (8, 16, 24, 32)}


@dataclass(frozen=True)
class FileStreamStats:
    """What :func:`stream_file` did.

    Attributes
    ----------
    frames : int
        Samples per channel written (equal to the input's).
    sample_rate : float
        Sample rate of both files in Hz.
    num_input_channels, num_output_channels : int
        Channel counts read and written.
    elapsed_s : float
        Wall-clock time of the render in seconds.
    """

    frames: int
    sample_rate: float
    num_input_channels: int
    num_output_channels: int
    elapsed_s: float

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio rendered per second of wall-clock time."""
        return (self.frames / self.sample_rate) / max(self.elapsed_s, 1e-9)


def stream_processor_file(
    processor,
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    buffer_size: int = 8192,
    overwrite: bool = False,
    progress: bool = True,
    bit_depth: int | None = None,
) -> FileStreamStats:
    """Process ``in_path`` into ``out_path`` chunk by chunk, time-aligned and the same length.

    Parameters
    ----------
    processor : StreamingProcessor or Board
        Anything with pedalboard's ``process(..., reset=False)`` and ``flush()``. It is reset
        first. (:func:`soundstage.stream_file` also takes native pedalboard plugins.) A
        processor with ``render_stream(sample_rate)`` (a ``SpatialProcessor``) renders on its
        offline engine instead, in bounded memory: the file then holds its one-shot output.
    in_path, out_path : str or os.PathLike
        Files readable / writable by ``pedalboard.io.AudioFile`` (format from the extension).
    buffer_size : int
        Samples read and processed per step (>= 1); memory use is proportional to it. An
        offline render reads at least ``OFFLINE_READ_FRAMES`` per step (its output does not
        depend on the step; fewer, larger steps cost less).
    overwrite : bool
        Replace ``out_path`` if it exists. Otherwise an existing file is an error.
    progress : bool
        Show a tqdm progress bar on stderr with the speed in multiples of real time.
    bit_depth : int, optional
        Output bit depth; default 32-bit float for WAV/AIFF, 24 for FLAC, 16 otherwise.

    Returns
    -------
    FileStreamStats

    Raises
    ------
    ParameterError
        ``in_path`` missing, ``out_path`` existing without ``overwrite``, ``in_path`` and
        ``out_path`` the same file, or a bad ``buffer_size``.
    """
    buffer_size = check_buffer_size(buffer_size)
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise ParameterError(f"in_path {str(in_path)!r} does not exist or is not a file")
    if out_path.exists():
        if out_path.resolve() == in_path.resolve():
            raise ParameterError(f"out_path {str(out_path)!r} is the input file itself")
        if not overwrite:
            raise ParameterError(
                f"out_path {str(out_path)!r} already exists; pass overwrite=True to replace it"
            )
    if out_path.is_dir():
        raise ParameterError(f"out_path {str(out_path)!r} is a directory; give a file name")
    if not out_path.parent.is_dir():
        raise ParameterError(f"the directory of out_path {str(out_path)!r} does not exist")
    suffix = out_path.suffix.lower()
    writable = sorted(set(get_supported_write_formats()))
    if suffix not in writable:
        raise ParameterError(
            f"out_path {str(out_path)!r}: cannot write {'files without an extension' if not suffix else suffix!r}; "
            f"writable formats: {', '.join(writable)}")
    depth = bit_depth if bit_depth is not None else _DEFAULT_BIT_DEPTH.get(suffix, 16)
    if suffix in _BIT_DEPTHS and depth not in _BIT_DEPTHS[suffix]:
        raise ParameterError(f"bit_depth {depth} cannot be written to {suffix} (out_path {str(out_path)!r}); "
                             f"{suffix} holds {', '.join(map(str, _BIT_DEPTHS[suffix]))} bits")
    frames_present = _readable_frames(in_path)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=suffix, dir=out_path.parent)
    os.close(fd)
    start = time.perf_counter()
    try:
        with AudioFile(str(in_path)) as reader:
            sample_rate, channels, frames = reader.samplerate, reader.num_channels, frames_present
            out_channels = processor.output_channels(channels)
            offline = _render_stream(processor, sample_rate)
            if offline is None:
                processor.reset()
                # A zero-length call fixes the layout memory to channels-first before any data.
                processor.process(np.zeros((channels, 0), np.float32), sample_rate, buffer_size, False)
            bar = _progress_bar(frames, sample_rate, str(in_path.name), progress)
            try:
                with AudioFile(tmp_name, "w", sample_rate, out_channels, bit_depth=depth) as file, \
                        _Writer(file, offline if getattr(offline, "num_threads", 1) > 1 else None) as writer:
                    step = buffer_size if offline is None else max(buffer_size, OFFLINE_READ_FRAMES)
                    while reader.tell() < frames:
                        chunk = reader.read(min(step, frames - reader.tell()))
                        if chunk.shape[1] == 0:
                            break
                        if offline is None:
                            writer.write(processor.process(chunk, sample_rate, buffer_size, False))
                        else:
                            writer.write(offline.push(chunk))
                        bar.update(min(chunk.shape[1], frames - bar.n))
                        bar.set_postfix_str(_speed(reader.tell(), sample_rate, start))
                    writer.write(processor.flush() if offline is None else offline.finish())
                written = writer.written
            finally:
                if offline is not None:
                    offline.close()
            bar.close()
        if written != frames:
            raise RuntimeError(f"internal: wrote {written} frames for {frames} read")
        publish(tmp_name, out_path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)
        raise
    return FileStreamStats(frames, sample_rate, channels, out_channels, time.perf_counter() - start)


def _render_stream(processor, sample_rate: float):
    """The processor's offline render fed chunk by chunk (``render_stream(sample_rate)``, e.g.
    :meth:`soundstage.SpatialProcessor.render_stream`: the one-shot engine in bounded memory,
    on ``num_threads`` threads), or None for a plain stream (``process(..., reset=False)`` and
    ``flush()``). Both write the one-shot output of the whole file."""
    make = getattr(processor, "render_stream", None)
    return make(sample_rate) if callable(make) else None


#: Frames an offline render reads per step at least (256 kB of stereo float32): with two
#: threads, 60 s of the studio speaker render 1.50× → 1.62× faster than one thread than with
#: 8192-frame steps (the per-step hand-offs between the threads are fewer).
OFFLINE_READ_FRAMES = 32768


class _Writer:
    """Writes output blocks in order, on the calling thread or — given a render on two threads
    (anything with ``submit(fn, *args)`` returning a Future, run in order) — on the render's
    worker between its blocks (encoding and writing then overlap the upmix of the next chunks,
    and two threads share the two cores: a third, writing, would wait for a core while it holds
    the GIL; at most ``_WRITES_IN_FLIGHT`` blocks wait). ``written`` counts the frames."""

    def __init__(self, file, render=None):
        self._file = file
        self._render = render
        self._pending: list = []
        self.written = 0

    def write(self, block: np.ndarray) -> None:
        if self._render is None:
            self.written += _write(self._file, block)
            return
        self._pending.append(self._render.submit(_write, self._file, block))
        while len(self._pending) > _WRITES_IN_FLIGHT or (self._pending and self._pending[0].done()):
            self.written += self._pending.pop(0).result()

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc) -> None:
        pending, self._pending = self._pending, []
        if exc[0] is None:
            for future in pending:
                self.written += future.result()
            return
        try:
            if self._render is not None:
                self._render.close()  # its worker runs what is left, so every write below ends
        except Exception:  # noqa: BLE001 - the error that ended the render is the one raised
            pass
        finally:
            for future in pending:
                future.exception()  # wait for it: the file closes after its last write


#: Output blocks queued for the render's worker at most (bounded memory).
_WRITES_IN_FLIGHT = 4


def _write(writer, block: np.ndarray) -> int:
    if block.ndim == 1:
        block = block[np.newaxis, :]
    if block.shape[0] == block.shape[1] > 1:
        # pedalboard's writer cannot tell the layout of a square block; split it (the channel
        # count it was opened with resolves any non-square shape).
        writer.write(np.ascontiguousarray(block[:, :1]))
        writer.write(np.ascontiguousarray(block[:, 1:]))
    elif block.shape[1]:
        writer.write(block)
    return block.shape[1]


def _readable_frames(in_path: Path) -> int:
    """The number of frames ``in_path`` really holds; a clear error if it is not audio or holds
    none, and a warning when its header promises more than its data (a truncated file: only the
    frames present are rendered, not a tail of silence)."""
    try:
        with AudioFile(str(in_path)) as reader:
            frames, sample_rate = reader.frames, reader.samplerate
    except Exception as error:  # pedalboard raises ValueError/RuntimeError for unreadable files
        raise ParameterError(f"in_path {str(in_path)!r} is not a readable audio file ({error})") from None
    present = _frames_present(in_path)
    if present is not None and present < frames:
        warnings.warn(f"{in_path} is truncated: its header says {frames} frames ({frames / sample_rate:.1f} s) "
                      f"but it holds {present}; rendering the {present} frames present", TruncatedInputWarning,
                      stacklevel=3)
        frames = present
    if frames <= 0:
        raise ParameterError(f"in_path {str(in_path)!r} holds no audio samples")
    return frames


class TruncatedInputWarning(UserWarning):
    """An input file holds fewer frames than its header says."""


def _frames_present(path: Path) -> int | None:
    """Frames counted from the data itself (libsndfile), or None for formats it cannot read."""
    import soundfile

    try:
        return int(soundfile.info(str(path)).frames)
    except (RuntimeError, soundfile.LibsndfileError, TypeError, ValueError):
        return None



def _speed(frames_done: int, sample_rate: float, start: float) -> str:
    elapsed = max(time.perf_counter() - start, 1e-9)
    return f"{frames_done / sample_rate / elapsed:.1f}× real time"


def _progress_bar(frames: int, sample_rate: float, name: str, enabled: bool):
    """Progress in frames (whole numbers: no float overshoot, no negative ETA), shown in seconds."""
    from tqdm import tqdm

    return tqdm(
        total=frames,
        desc=name,
        unit="frame",
        unit_scale=1.0 / sample_rate,
        disable=not enabled,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s audio [{elapsed}<{remaining}{postfix}]",
    )
