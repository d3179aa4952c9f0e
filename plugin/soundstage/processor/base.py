"""The processor protocol and a base class with pedalboard's calling semantics.

A soundstage processor works on raw streams: :meth:`Processor.process_block` takes a
``(channels, n)`` float32 block and returns exactly ``n`` samples per output channel, delayed by
``latency_samples``. :class:`StreamingProcessor` turns that into pedalboard's
``process(input_array, sample_rate, buffer_size=8192, reset=True)``:

* ``reset=True`` (one-shot): reset, prepare if needed, run the input and then
  ``latency_samples`` zeros through ``process_block`` in chunks of at most ``buffer_size``, and
  drop the first ``latency_samples`` outputs. The output has the input's length and is
  time-aligned with it; the tail beyond the input is dropped.
* ``reset=False`` (streaming): the first call starts a stream from a clean state; every call
  returns the samples available so far minus those still held back (the first calls return
  fewer samples than given, never more). Feeding zeros flushes; :meth:`flush` ends the stream
  and returns everything still held back.

Because ``process_block`` is a raw stream, any split of the input into chunks gives the same
samples as one call, bit for bit.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .._convention import (
    MAX_ABS_SAMPLE,
    BlockLayout,
    LayoutMemory,
    check_buffer_size,
    check_finite,
    check_reset,
    check_sample_rate,
    coerce_audio,
    restore_layout,
    to_channels_first,
)
from .._errors import AudioFormatError, ParameterError
from .._kernels._checks import within

__all__ = ["Processor", "StreamingProcessor"]


@runtime_checkable
class Processor(Protocol):
    """What :class:`soundstage.Board` accepts besides native pedalboard plugins.

    Attributes
    ----------
    latency_samples : int
        Delay (samples) of ``process_block`` output relative to its input. Valid after
        ``prepare``; it may change when ``prepare`` is called again.
    """

    latency_samples: int

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        """Get ready to stream at ``sample_rate`` (Hz) with blocks of at most
        ``max_block_size`` samples of ``num_input_channels`` channels."""

    def output_channels(self, num_input_channels: int) -> int:
        """Number of output channels for ``num_input_channels`` input channels."""

    def process_block(self, block: np.ndarray) -> np.ndarray:
        """Process a raw block.

        Parameters
        ----------
        block : numpy.ndarray [shape=(channels, n), dtype=float32, C-contiguous]
            Read-only input; ``n <= max_block_size``.

        Returns
        -------
        numpy.ndarray [shape=(output_channels, n), dtype=float32]
            Exactly ``n`` samples, delayed by ``latency_samples`` (nothing held back).
        """

    def reset(self) -> None:
        """Clear all stream state (delay lines, filter memories)."""


@dataclass
class _Stream:
    """Book-keeping of one ``reset=False`` stream."""

    sample_rate: float
    num_channels: int
    max_block_size: int
    to_drop: int  # leading raw output samples (the latency) still to discard
    layout: BlockLayout  # layout of the latest call, for flush()


class StreamingProcessor(abc.ABC):
    """Base class giving a raw-stream processor pedalboard's calling convention.

    Subclasses implement :meth:`prepare`, :meth:`output_channels`, :attr:`latency_samples`,
    :meth:`process_block` and :meth:`_reset_state` (see :class:`Processor`), and call
    ``super().__init__()``.

    Examples
    --------
    A pure delay of ``latency_samples``; streaming in chunks equals one call, bit for bit:

    >>> class Delay(StreamingProcessor):
    ...     latency_samples = 10
    ...     def prepare(self, sample_rate, num_input_channels, max_block_size):
    ...         self._line = np.zeros((num_input_channels, 10), np.float32)
    ...     def output_channels(self, num_input_channels):
    ...         return num_input_channels
    ...     def process_block(self, block):
    ...         both = np.concatenate([self._line, block], axis=1)
    ...         self._line = both[:, block.shape[1]:]
    ...         return both[:, :block.shape[1]]
    ...     def _reset_state(self):
    ...         if hasattr(self, "_line"):
    ...             self._line[:] = 0
    >>> x = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    >>> p = Delay()
    >>> one_shot = p.process(x, 48000)
    >>> np.array_equal(one_shot, x)  # latency compensated
    True
    >>> parts = [p.process(x[:, :300], 48000, reset=False), p.process(x[:, 300:], 48000, reset=False)]
    >>> [part.shape[1] for part in parts]
    [290, 700]
    >>> np.array_equal(np.concatenate(parts + [p.flush()], axis=1), one_shot)
    True
    """

    is_effect = True
    is_instrument = False
    #: True when ``process_block`` always returns a new array that nothing else references:
    #: a streaming call then hands it (or a fresh concatenation) to the caller without a copy.
    _process_block_returns_new_arrays = False

    def __init__(self) -> None:
        self._layout_memory = LayoutMemory()
        self._stream: _Stream | None = None
        self._prepared_for: tuple[float, int, int] | None = None
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- subclass interface
    @abc.abstractmethod
    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        """See :meth:`Processor.prepare`."""

    @abc.abstractmethod
    def output_channels(self, num_input_channels: int) -> int:
        """See :meth:`Processor.output_channels`."""

    @property
    @abc.abstractmethod
    def latency_samples(self) -> int:
        """See :class:`Processor`."""

    @abc.abstractmethod
    def process_block(self, block: np.ndarray) -> np.ndarray:
        """See :meth:`Processor.process_block`."""

    @abc.abstractmethod
    def _reset_state(self) -> None:
        """Clear the subclass's stream state (delay lines, filter memories)."""

    # ----------------------------------------------------------------- public API
    def process(
        self,
        input_array: np.ndarray,
        sample_rate: float,
        buffer_size: int = 8192,
        reset: bool = True,
    ) -> np.ndarray:
        """Process audio with pedalboard's semantics.

        Parameters
        ----------
        input_array : numpy.ndarray [shape=(channels, n), (n, channels) or (n,)]
            float32 or float64 audio; never modified.
        sample_rate : float
            Sample rate in Hz (> 0).
        buffer_size : int
            Largest block (samples) handed to the processing core, >= 1.
        reset : bool
            True: one-shot, output aligned with and as long as the input. False: continue (or
            start) a stream; returns the samples available so far.

        Returns
        -------
        numpy.ndarray
            New float32 array in the caller's layout and number of dimensions, with
            ``output_channels(channels)`` channels.

        Raises
        ------
        AudioFormatError
            Unsupported dtype or shape (``AudioLayoutError`` for an ambiguous shape).
        ParameterError
            ``buffer_size < 1``, a bad ``sample_rate``, non-finite samples, or a sample rate or
            channel count that changes in the middle of a stream.
        """
        buffer_size = check_buffer_size(buffer_size)
        sample_rate = check_sample_rate(sample_rate)
        reset = check_reset(reset)
        audio = coerce_audio(input_array)
        with self._lock:
            layout = self._layout_memory.detect(audio.shape)
            if audio.size == 0 and not reset:
                return self._empty_call(audio.shape, sample_rate, layout)
            block = to_channels_first(audio, layout)
            if not within(block, MAX_ABS_SAMPLE):  # the fast guard; the message comes from:
                check_finite(block)
            if not reset and self._stream is not None:
                self._check_stream_continues(sample_rate, layout.num_channels)
            self._before_processing(sample_rate, layout.num_channels, bool(reset))
            self._layout_memory.remember(layout)
            if reset:
                out = self._one_shot(block, sample_rate, buffer_size)
                # a new array of its own (not the caller's input) is returned without a copy
                owned = not np.may_share_memory(out, input_array)
            else:
                out = self._stream_step(block, sample_rate, buffer_size, layout)
                owned = self._process_block_returns_new_arrays
            return restore_layout(out, layout, owned=owned)

    __call__ = process

    def reset(self) -> None:
        """End any stream, forget the remembered layout and clear the processing state."""
        with self._lock:
            self._layout_memory.clear()
            self._stream = None
            self._reset_state()

    def flush(self) -> np.ndarray:
        """End the current stream and return the samples still held back.

        Returns
        -------
        numpy.ndarray
            float32 audio in the layout of the stream's latest call: after a stream of ``N``
            input samples, everything returned so far plus this equals the one-shot output of
            the same ``N`` samples. Without a stream, an empty array.
        """
        with self._lock:
            stream = self._stream
            if stream is None:
                channels = self._layout_memory.num_channels or 1
                empty = np.zeros((self.output_channels(channels), 0), dtype=np.float32)
                layout = BlockLayout(2, bool(self._layout_memory.channels_last), channels, 0)
                return restore_layout(empty, layout)
            zeros = np.zeros((stream.num_channels, self.latency_samples), dtype=np.float32)
            out = self._run(zeros, stream.max_block_size)
            out = out[:, stream.to_drop :]
            self._stream = None
            self._reset_state()
            return restore_layout(out, stream.layout)

    def _empty_call(self, shape: tuple, sample_rate: float, layout: BlockLayout) -> np.ndarray:
        """``reset=False`` with an empty array: nothing to process. The stream (if any) is left
        as it was, the layout is remembered and an empty output comes back; an array whose
        layout cannot be the stream's (or has no channels) is refused."""
        expected = self._stream.num_channels if self._stream is not None else None
        channels = layout.num_channels
        if channels == 0 or (expected is not None and channels != expected):
            wanted = f"the stream's {expected}" if expected is not None else "at least one"
            raise AudioFormatError(
                f"input_array is empty with shape {tuple(shape)}, read as {channels} channel(s) of 0 samples; "
                f"an empty block must have {wanted} channel(s). Nothing was processed."
            )
        if self._stream is not None:
            self._check_stream_continues(sample_rate, channels)
        else:
            try:
                self._before_processing(sample_rate, channels, False)
            except ParameterError as exc:
                raise type(exc)(f"input_array is empty with shape {tuple(shape)}, read as {channels} "
                                f"channel(s) of 0 samples: {exc}") from None
        self._layout_memory.remember(layout)  # an empty call may fix the layout, as in pedalboard
        empty = np.zeros((self.output_channels(channels), 0), dtype=np.float32)
        return restore_layout(empty, layout)

    # ----------------------------------------------------------------- hooks
    def _before_processing(self, sample_rate: float, num_channels: int, reset: bool) -> None:
        """Validate a call before any state changes (override to add guards)."""

    # ----------------------------------------------------------------- internals
    def _check_stream_continues(self, sample_rate: float, num_channels: int) -> None:
        stream = self._stream
        assert stream is not None
        if sample_rate != stream.sample_rate:
            raise ParameterError(
                f"sample_rate changed in the middle of a stream ({stream.sample_rate:g} Hz -> "
                f"{sample_rate:g} Hz); call reset() or flush() first, or pass reset=True."
            )
        if num_channels != stream.num_channels:
            raise ParameterError(
                f"the number of channels changed in the middle of a stream "
                f"({stream.num_channels} -> {num_channels}); call reset() or flush() first, "
                "or pass reset=True."
            )

    def _ensure_prepared(self, sample_rate: float, num_channels: int, max_block_size: int) -> None:
        key = (sample_rate, num_channels, max_block_size)
        if self._prepared_for != key:
            self.prepare(sample_rate, num_channels, max_block_size)
            self._prepared_for = key

    def _run(self, block: np.ndarray, max_block_size: int) -> np.ndarray:
        """Raw-stream ``block`` through ``process_block`` in chunks of ``max_block_size``."""
        n = block.shape[1]
        if n == 0:
            return np.zeros((self.output_channels(block.shape[0]), 0), dtype=np.float32)
        if n <= max_block_size:
            return np.asarray(self.process_block(block), dtype=np.float32)
        parts = [
            self.process_block(np.ascontiguousarray(block[:, start : start + max_block_size]))
            for start in range(0, n, max_block_size)
        ]
        return np.concatenate(parts, axis=1).astype(np.float32, copy=False)

    def _render_chunks(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """``process_block`` of each chunk of a one-shot render, in order. A subclass may
        override it to work ahead (e.g. on two threads) as long as the output is the same."""
        return map(self.process_block, chunks)

    def _one_shot(self, block: np.ndarray, sample_rate: float, buffer_size: int) -> np.ndarray:
        self._stream = None
        self._ensure_prepared(sample_rate, block.shape[0], buffer_size)
        self._reset_state()
        latency = self.latency_samples
        n = block.shape[1]
        out = np.empty((self.output_channels(block.shape[0]), n), dtype=np.float32)

        def chunks():
            """The raw stream: the input, then ``latency`` zeros, in buffer_size pieces."""
            for start in range(0, n + latency, buffer_size):
                stop = min(start + buffer_size, n + latency)
                if stop <= n:
                    yield np.ascontiguousarray(block[:, start:stop])
                else:
                    chunk = np.zeros((block.shape[0], stop - start), dtype=np.float32)
                    if start < n:
                        chunk[:, : n - start] = block[:, start:n]
                    yield chunk

        # Raw output sample j is output sample j - latency; written in place, no concatenation.
        start = 0
        for raw in self._render_chunks(chunks()):
            stop = start + raw.shape[1]
            skip = max(latency - start, 0)
            if skip < stop - start:
                out[:, start + skip - latency : stop - latency] = raw[:, skip:]
            start = stop
        return out

    def _stream_step(
        self, block: np.ndarray, sample_rate: float, buffer_size: int, layout: BlockLayout
    ) -> np.ndarray:
        stream = self._stream
        if stream is None:
            self._ensure_prepared(sample_rate, block.shape[0], buffer_size)
            self._reset_state()
            stream = _Stream(sample_rate, block.shape[0], buffer_size, self.latency_samples, layout)
            self._stream = stream
        stream.layout = layout
        if block.shape[1] == 0:
            return np.zeros((self.output_channels(block.shape[0]), 0), dtype=np.float32)
        out = self._run(block, min(buffer_size, stream.max_block_size))
        if stream.to_drop:
            dropped = min(stream.to_drop, out.shape[1])
            stream.to_drop -= dropped
            out = out[:, dropped:]
        return out
