"""Versions rendered block by block into temporary files, measured as they stream.

A comparison of a long input must not hold its renders in memory (a 10-minute input through
three presets is gigabytes of float32). :func:`render_version` reads the input in blocks
(:class:`InputSource`: an array or a file), runs the version's processors as streams
(``process(..., reset=False)`` then ``flush()``: the streaming engine, equal to their one-shot
output to float32 round-off), writes the
driver feeds and the ear signals to float32 WAV files in a working directory and feeds the ears
to a :class:`~soundstage.monitor.loudness_meter.StreamingLoudnessMeter`. What stays in memory is one block
per stage and the meter's block energies. :class:`StoredOutput` reads a render (or a slice of it)
back only when asked.

A custom renderer (``renderer(request, audio, sample_rate) -> RenderOutput``, for tests and
tools) gets the whole input as an array, as before; its output is stored and measured the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from .._errors import AudioFormatError, ParameterError
from ..monitor.loudness_meter import MeasuredLoudness, StreamingLoudnessMeter
from ..processor.render_stream import default_num_threads

__all__ = ["BLOCK_FRAMES", "InputSource", "StoredOutput", "render_version"]

#: Samples per channel read, processed and written at a time.
BLOCK_FRAMES = 1 << 16


class InputSource:
    """The comparison's input as ``(2, n)`` float32 blocks, from an array or an audio file.

    Use :meth:`from_array` or :meth:`from_file`. Mono is duplicated to two channels; non-finite
    samples are refused with the file named.
    """

    def __init__(self, sample_rate: float, frames: int, *, array: np.ndarray | None = None,
                 path: Path | None = None) -> None:
        self.sample_rate = float(sample_rate)
        self.frames = int(frames)
        self._array = array
        self.path = path
        self._sha256: str | None = None

    @classmethod
    def from_array(cls, audio: np.ndarray, sample_rate: float) -> "InputSource":
        """``audio`` already coerced to ``(2, n)`` float32."""
        return cls(sample_rate, audio.shape[1], array=audio)

    @classmethod
    def from_file(cls, path) -> "InputSource":
        """An audio file pedalboard reads; checked (exists, decodes, 1–2 channels, not empty)."""
        from pedalboard.io import AudioFile

        path = Path(path)
        if not path.is_file():
            raise AudioFormatError(f"input file {str(path)!r} does not exist or is not a file")
        try:
            with AudioFile(str(path)) as reader:
                sample_rate, frames, channels = float(reader.samplerate), int(reader.frames), reader.num_channels
        except Exception as exc:  # pedalboard raises ValueError/RuntimeError for undecodable files
            raise AudioFormatError(f"input file {str(path)!r} is not readable audio: {exc}") from exc
        if channels > 2:
            raise AudioFormatError(f"input file {str(path)!r} has {channels} channels; expected mono or stereo")
        if frames == 0:
            raise AudioFormatError(f"input file {str(path)!r} holds no audio samples")
        return cls(sample_rate, frames, path=path)

    @property
    def name(self) -> str:
        return f"input file {str(self.path)!r}" if self.path is not None else "audio"

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
        """The input in ``(2, <= block_frames)`` float32 blocks, C-contiguous."""
        if self._array is not None:
            for start in range(0, self.frames, block_frames):
                yield np.ascontiguousarray(self._array[:, start:start + block_frames])
            return
        from pedalboard.io import AudioFile

        with AudioFile(str(self.path)) as reader:
            while reader.tell() < self.frames:
                block = reader.read(min(block_frames, self.frames - reader.tell()))
                if block.shape[1] == 0:
                    break
                if block.shape[0] == 1:
                    block = np.repeat(block, 2, axis=0)
                if not np.all(np.isfinite(block)):
                    raise ParameterError(f"{self.name} contains NaN or infinite samples")
                yield np.ascontiguousarray(block, dtype=np.float32)

    def read_all(self) -> np.ndarray:
        """The whole input as one ``(2, n)`` array (only for a custom renderer)."""
        if self._array is not None:
            return self._array
        return np.concatenate(list(self.blocks()), axis=1)

    def sha256(self) -> str:
        """SHA-256 of the file's bytes (as ``sha256sum`` prints it), or of an array's float32 samples."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            if self._array is not None:
                digest.update(np.ascontiguousarray(self._array).tobytes())
            else:
                with open(self.path, "rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(chunk)
            self._sha256 = digest.hexdigest()
        return self._sha256


@dataclass(frozen=True)
class StoredOutput:
    """A version's render, kept in float32 WAV files.

    Attributes
    ----------
    ears_path : Path
        Left and right ear signals (the headphone render), time-aligned with the input.
    feeds_path : Path or None
        The enclosure's driver feeds (None for the input, or when not kept).
    driver_names : tuple of str
    latency_samples : int
        Streaming latency of the processing (samples).
    frames : int
        Samples per channel.
    """

    ears_path: Path
    feeds_path: Path | None
    driver_names: tuple
    latency_samples: int
    frames: int

    def read_ears(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Ear signals ``[start, stop)`` as ``(2, n)`` float32."""
        data, _ = soundfile.read(self.ears_path, start=start, stop=stop, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T)

    @property
    def ears(self) -> np.ndarray:
        """The whole headphone render ``(2, n)`` (read from disk: memory grows with the input)."""
        return self.read_ears()

    @property
    def driver_feeds(self) -> np.ndarray | None:
        """The whole driver feeds ``(n_drivers, n)`` (read from disk), or None."""
        if self.feeds_path is None:
            return None
        data, _ = soundfile.read(self.feeds_path, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T)


class _Writer:
    """A float32 WAV file opened on the first block (when its channel count is known)."""

    def __init__(self, path: Path | None, sample_rate: float) -> None:
        self.path, self.sample_rate, self.frames, self._file = path, sample_rate, 0, None

    def write(self, block: np.ndarray) -> None:
        if self.path is None or block.shape[1] == 0:
            return
        if self._file is None:
            self._file = soundfile.SoundFile(self.path, "w", int(round(self.sample_rate)), block.shape[0],
                                             subtype="FLOAT", format="RF64" if self.path.suffix == ".rf64" else "WAV")
        self._file.write(block.T)
        self.frames += block.shape[1]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _streams(request, sample_rate: float, num_threads: int = 1):
    """``(feeds_step, ears_step, finish, info, close)`` for the real renderer; ``info()`` gives the
    driver names and the latency once the stream has run, ``close()`` releases it after an error.
    The driver feeds come from the processor's offline engine fed block by block (bitwise its
    one-shot output, on ``num_threads`` threads)."""
    from ..monitor import Auralizer, StereoReference
    from ..processor.spatial import SpatialProcessor
    from .render import UNPROCESSED_BYPASS, _monitor_kwargs as monitor_kwargs

    if request.kind == "input":
        return (lambda x: None), (lambda x: x), (lambda: (None, None)), (lambda: ((), 0)), (lambda: None)
    if request.kind == "reference" and request.preset.name == "stereo-pair":
        ears = StereoReference(**monitor_kwargs(request))
        return ((lambda x: x), (lambda x: ears.process(x, sample_rate, reset=False)),
                (lambda: (None, ears.flush())), (lambda: (("left", "right"), 0)), (lambda: None))
    parameters = dict(request.parameters)
    if request.kind == "unprocessed":
        parameters["bypass"] = UNPROCESSED_BYPASS
    processor = SpatialProcessor(request.preset, num_threads=num_threads, **parameters)
    auralizer = Auralizer(request.preset.enclosure, listener=processor.listener, **monitor_kwargs(request))
    # The feeds on the offline engine fed block by block: bitwise the one-shot call's, bounded memory.
    render = processor.render_stream(sample_rate)

    def feeds_step(block):
        return render.push(block)

    def ears_step(feeds):
        return auralizer.process(feeds, sample_rate, reset=False) if feeds.shape[1] else feeds[:2]

    def finish():
        """The feeds' tail, and the ears of that tail followed by the auralizer's own tail."""
        tail = render.finish()
        ears = ears_step(tail) if tail.shape[1] else np.zeros((2, 0), np.float32)
        return tail, np.concatenate([ears, auralizer.flush()], axis=1)

    return (feeds_step, ears_step, finish, lambda: (tuple(processor.driver_names), int(processor.latency_samples)),
            render.close)


def render_version(request, source: InputSource, directory: Path, stem: str, *, keep_feeds: bool = True,
                   renderer=None) -> tuple[StoredOutput, MeasuredLoudness]:
    """Render one version of ``source`` into ``directory/<stem>.ears.wav`` (and ``.drivers.wav``)
    and measure its ears as they stream.

    Returns
    -------
    StoredOutput, MeasuredLoudness
    """
    rate = source.sample_rate
    ears_writer = _Writer(directory / f"{stem}.ears.wav", rate)
    feeds_writer = _Writer(directory / f"{stem}.drivers.wav" if keep_feeds else None, rate)
    meter = StreamingLoudnessMeter(rate, 2)

    def emit(feeds, ears):
        if feeds is not None:
            feeds_writer.write(feeds)
        if ears is not None and ears.shape[1]:
            ears_writer.write(ears)
            meter.process(ears)

    try:
        if renderer is not None:
            names, latency = _render_with(renderer, request, source, emit)
        else:
            feeds_step, ears_step, finish, info, close = _streams(request, rate, default_num_threads())
            try:
                for block in source.blocks():
                    feeds = feeds_step(block)
                    emit(feeds, ears_step(block if feeds is None else feeds))
                ending = finish()
                names, latency = info()  # (the processor is prepared by now, even for a short input)
                emit(*ending)
            finally:
                close()
    finally:
        ears_writer.close()
        feeds_writer.close()
    if ears_writer.frames != source.frames:
        raise ParameterError(f"the render of {request.kind} {stem!r} has {ears_writer.frames} samples; expected "
                             f"{source.frames} (the input's)")
    stored = StoredOutput(ears_writer.path, feeds_writer.path if feeds_writer.frames else None, tuple(names),
                          int(latency), ears_writer.frames)
    return stored, meter.result()


def _render_with(renderer, request, source: InputSource, emit) -> tuple[tuple, int]:
    """A custom array renderer: the whole input in, its arrays stored block by block."""
    output = renderer(request, source.read_all(), source.sample_rate)
    ears = np.asarray(output.ears, dtype=np.float32)
    if ears.shape != (2, source.frames):
        raise ParameterError(f"renderer returned ears of shape {ears.shape} for {request.kind!r}; expected "
                             f"{(2, source.frames)}")
    feeds = None if output.driver_feeds is None else np.asarray(output.driver_feeds, dtype=np.float32)
    for start in range(0, source.frames, BLOCK_FRAMES):
        emit(None if feeds is None else feeds[:, start:start + BLOCK_FRAMES], ears[:, start:start + BLOCK_FRAMES])
    return tuple(output.driver_names), int(output.latency_samples)
