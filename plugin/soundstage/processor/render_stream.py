"""A processor's offline render fed chunk by chunk: :class:`RenderStream` (what
``SpatialProcessor.render_chunks`` and the file renders run).

It holds back the first ``OFFLINE_MIN_SAMPLES`` samples (a shorter input is rendered as the
one-shot call renders it, on the streaming engine), then runs the offline engine
(:class:`~.offline_render.OfflineRender`) in bounded memory, or — where a one-shot call streams
(the single-tap engine, a listener track) — the processor's own stream (``process(reset=False)``
and ``flush()``). Either way the joined output is bitwise the one-shot call's on the joined input.
"""

from __future__ import annotations

import concurrent.futures
import weakref
from collections.abc import Iterable, Iterator

import numpy as np

from .._convention import MAX_ABS_SAMPLE, check_finite, check_sample_rate, coerce_audio
from .._errors import AudioFormatError
from .._kernels._checks import within
from .offline_render import OFFLINE_MIN_SAMPLES, OfflineRender, block_convolver_for, run_into

__all__ = ["OfflineRendering", "RenderStream", "default_num_threads"]


def default_num_threads() -> int:
    """2 where this process may run on at least two cores, else 1 (what ``soundstage render`` and
    ``compare`` render on): the second thread convolves the FIR matrix's blocks while the first
    upmixes, and the output does not depend on it. Batch jobs keep 1: they run in a pool of
    processes already."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


class RenderStream:
    """Push-style offline render of ``processor`` (a ``SpatialProcessor``) at ``sample_rate``.

    ``push(chunk)`` takes channels-first audio (1 or 2 channels, float32/float64, any length)
    and returns the output ready so far, ``(num_drivers, k)`` float32; ``finish()`` returns the
    rest: joined, the one-shot output of the joined input, time-aligned and as long. ``close()``
    abandons a render (the worker thread, if any, is released). The processor is reset first.
    """

    def __init__(self, processor, sample_rate: float):
        self._processor = processor
        self._sample_rate = check_sample_rate(sample_rate)
        self._channels: int | None = None
        self._held: list[np.ndarray] = []
        self._held_samples = 0
        self._render = None  # OfflineRender once started
        self._streaming = False  # the processor's own stream instead
        self._done = False
        with processor._lock:
            processor._stream = None
            processor._layout_memory.clear()

    @property
    def num_threads(self) -> int:
        """Threads the render runs on (the processor's ``num_threads``)."""
        return self._processor.num_threads

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Render ``chunk`` ``(channels, m)``; returns the output samples ready (maybe none)."""
        if self._done:
            raise RuntimeError("this render has finished; start another with render_stream()")
        block = self._checked(chunk)
        if self._render is None and not self._streaming:
            if block.shape[1]:
                self._held.append(block)
                self._held_samples += block.shape[1]
            if self._held_samples < OFFLINE_MIN_SAMPLES:
                return self._empty()
            block = np.concatenate(self._held, axis=1) if len(self._held) > 1 else self._held[0]
            self._start(block.shape[0])
            self._held = []
        if self._streaming:
            return self._processor.process(block, self._sample_rate, reset=False)
        with self._processor._lock:
            return self._render.push(block)

    def finish(self) -> np.ndarray:
        """End of the input: the rest of the output."""
        if self._done:
            raise RuntimeError("this render has finished; start another with render_stream()")
        self._done = True
        processor = self._processor
        if self._render is None and not self._streaming:
            if not self._held:  # no samples at all
                return self._empty()
            block = np.concatenate(self._held, axis=1) if len(self._held) > 1 else self._held[0]
            self._held = []
            # A zero-length call fixes the layout to channels-first: a block of one or two frames
            # is otherwise ambiguous. Then a short one-shot call (it streams).
            processor.process(np.zeros((block.shape[0], 0), np.float32), self._sample_rate, reset=False)
            return processor.process(block, self._sample_rate)
        if self._streaming:
            return processor.flush()
        with processor._lock:
            render, self._render = self._render, None
            return render.finish()

    def submit(self, fn, *args) -> concurrent.futures.Future:
        """Run ``fn(*args)`` on the render's worker thread between its blocks (in the order
        submitted), or on the calling thread where the render has no worker (one thread, a
        streaming render, before it starts or after it ends); returns its Future. A file render
        writes its output this way, so two threads share two cores with nothing waiting."""
        if self._render is not None:
            return self._render.submit(fn, *args)
        future: concurrent.futures.Future = concurrent.futures.Future()
        run_into(future, fn, *args)
        return future

    def close(self) -> None:
        """Abandon the render (nothing more is returned); idempotent."""
        self._done = True
        self._held = []
        if self._render is not None:
            render, self._render = self._render, None
            render.close()

    def _start(self, channels: int) -> None:
        processor = self._processor
        with processor._lock:
            processor._before_processing(self._sample_rate, channels, True)
            processor._ensure_prepared(self._sample_rate, channels, 8192)
            processor._reset_state()
            self._render = processor._offline_render(None)
        if self._render is None:
            self._streaming = True
            processor.reset()

    def _checked(self, chunk) -> np.ndarray:
        audio = coerce_audio(chunk, name="chunk")
        if audio.ndim == 1:
            audio = audio[np.newaxis, :]
        if audio.ndim != 2 or audio.shape[0] not in (1, 2):
            raise AudioFormatError(f"chunk must be channels-first (1 or 2, n) audio, got shape {audio.shape}")
        if self._channels is None:
            self._channels = audio.shape[0]
        elif audio.shape[0] != self._channels:
            raise AudioFormatError(f"chunk has {audio.shape[0]} channel(s); the render started with {self._channels}")
        block = np.ascontiguousarray(audio, dtype=np.float32)
        if not within(block, MAX_ABS_SAMPLE):
            check_finite(block, name="chunk")
        return block

    def _empty(self) -> np.ndarray:
        return np.zeros((self._processor.num_output_channels, 0), np.float32)


class OfflineRendering:
    """Mixin of ``SpatialProcessor``: its offline engine for long one-shot calls and over a
    stream of chunks (the processor provides its kernels, ``_lock`` and the processor protocol)."""

    def _one_shot(self, block: np.ndarray, sample_rate: float, buffer_size: int) -> np.ndarray:
        """A long one-shot call on the offline engine (:mod:`.offline_render`); short ones, the
        single-tap engine and tracked renders run the streaming engine."""
        if block.shape[1] < OFFLINE_MIN_SAMPLES:
            return super()._one_shot(block, sample_rate, buffer_size)
        self._stream = None
        self._ensure_prepared(sample_rate, block.shape[0], buffer_size)
        self._reset_state()
        render = self._offline_render(block.shape[1])
        if render is None:
            return super()._one_shot(block, sample_rate, buffer_size)
        return render.render_whole(block)

    def _offline_render(self, num_samples: int | None = None) -> OfflineRender | None:
        """The offline engine over the prepared, freshly reset kernels (None where the
        streaming engine must run: the single-tap engine, a listener track, or a latency the
        block engine cannot compensate). A render keeps the design it started with (a change
        is adopted by the next call)."""
        filters = self._filters
        if self._taps is not None or self._track is not None or filters.latency_samples >= filters.num_taps:
            return None
        if self._block_convolver is None or self._block_convolver[0] is not filters:
            self._block_convolver = (filters, block_convolver_for(filters))
        pool = None
        if self._num_threads == 2:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="soundstage-render")
            pool = self._pool
        previous = self._open_render() if self._open_render is not None else None
        if previous is not None:
            previous.close()  # it shares the kernels (and the worker) with the new one
        render = OfflineRender(self._upmix_limited, self._block_convolver[1], self._convolver,
                               fir_latency=filters.latency_samples, pool=pool, num_samples=num_samples,
                               upmix_kernel=self._extractor if self._strength_ramp is None else None)
        self._open_render = weakref.ref(render)
        return render

    def render_chunks(self, chunks: Iterable[np.ndarray], sample_rate: float) -> Iterator[np.ndarray]:
        """Render a stream of input chunks on the offline engine, in bounded memory.

        The processor is reset first. The output comes as it is ready (chunks of any size, not
        aligned with the input's); joined, it is bitwise ``self(np.concatenate(chunks, axis=1),
        sample_rate)`` — a one-shot call, time-aligned and as long as the input — whatever the
        chunking and the number of threads. Memory does not grow with the input (two segments of
        a few overlap-save blocks). Where a one-shot call streams (the single-tap engine, a
        listener track, fewer than ``OFFLINE_MIN_SAMPLES`` samples in all) this streams too.

        Parameters
        ----------
        chunks : iterable of numpy.ndarray [shape=(channels, m)]
            Channels-first float32/float64 audio, 1 (mono, a centred source) or 2 channels,
            every chunk the same channel count; ``m`` may vary (and be 0).
        sample_rate : float
            Sample rate in Hz.

        Yields
        ------
        numpy.ndarray [shape=(num_drivers, k), dtype=float32]

        Examples
        --------
        >>> import numpy as np
        >>> from soundstage import SpatialProcessor
        >>> proc = SpatialProcessor("studio-speaker")
        >>> x = np.random.default_rng(0).standard_normal((2, 30000)).astype(np.float32) * 0.1
        >>> pieces = proc.render_chunks((x[:, i:i + 7000] for i in range(0, 30000, 7000)), 48000)
        >>> np.array_equal(np.concatenate(list(pieces), axis=1), proc(x, 48000))
        True
        """
        stream = self.render_stream(sample_rate)
        try:
            for chunk in chunks:
                out = stream.push(chunk)
                if out.shape[1]:
                    yield out
            out = stream.finish()
            if out.shape[1]:
                yield out
        finally:
            stream.close()

    def render_stream(self, sample_rate: float) -> "RenderStream":
        """A push-style :meth:`render_chunks`: ``push(chunk)`` returns the output ready so far,
        ``finish()`` the rest, ``close()`` abandons the render (see :class:`.RenderStream`)."""
        return RenderStream(self, sample_rate)
