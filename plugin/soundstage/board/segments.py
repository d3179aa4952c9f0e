"""The stages a :class:`soundstage.Board` compiles its items into.

Every stage is a raw stream (see :class:`soundstage.processor.base.Processor`): ``process_block``
returns exactly as many samples as it is given, delayed by ``latency_samples``. Each stage also
has an ``offline`` mode used by one-shot calls: the whole (already zero-padded) signal at once,
from a clean state, returning the same raw samples a stream would.

* :class:`NativeSegment` runs consecutive native pedalboard plugins as one
  ``pedalboard.Pedalboard`` that holds the user's own instances (parameters stay live; the GIL
  is released while it runs). pedalboard re-initialises a plugin, losing its state, when a
  block is larger than every block it saw before, and some plugins depend on block sizes at
  all. A segment of plugins known to be sample-stable is therefore *primed* once per stream
  (one block of zeros at the largest block size, then an empty call, both with ``reset=True``);
  any other segment is *re-blocked*: a FIFO hands it exactly ``B`` samples at a time, at the
  cost of up to ``B - 1`` samples of extra latency. Both match pedalboard's one-shot output bit
  for bit (``notes/pedalboard.md``; ``tests/test_board_native.py``).
* A segment's latency cannot be queried from Python: it is measured when the segment is
  prepared, by streaming zeros through the user's instances (with a reset before and after),
  as the largest number of samples pedalboard held back.
* :class:`ParallelStage` sums branches after delaying each to the slowest one. A native
  ``pedalboard.Mix`` becomes one (pedalboard streams a Mix of unequal branch latencies wrongly,
  but its one-shot output is the exact sum of its branches'); so does a
  :class:`soundstage.BoardMix`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pedalboard

from .._errors import ParameterError

__all__ = [
    "SampleQueue",
    "NativeSegment",
    "ProcessorStage",
    "ParallelStage",
    "Pipeline",
    "is_native",
    "native_leaves",
    "ONE_SHOT_ONLY",
]


def _types(*names: str) -> tuple[type, ...]:
    return tuple(getattr(pedalboard, name) for name in names if hasattr(pedalboard, name))


#: Built-ins whose streamed output is independent of block sizes once primed.
SAMPLE_STABLE = _types(
    "Gain", "HighpassFilter", "LowpassFilter", "HighShelfFilter", "LowShelfFilter", "PeakFilter",
    "LadderFilter", "Compressor", "Limiter", "BrickwallLimiter", "NoiseGate", "Reverb", "Delay",
    "Chorus", "Phaser", "Distortion", "Clipping", "Bitcrush", "Invert",
)  # fmt: skip
#: Built-ins that only work one-shot (pedalboard streams them wrongly: upstream #415, #267).
ONE_SHOT_ONLY = _types("PitchShift", "GSMFullRateCompressor")
#: Built-ins that silently misbehave above two channels.
_STEREO_ONLY_WARN = _types("Reverb", "Convolution")
_STEREO_ONLY_RAISE = _types("MP3Compressor")
#: Measuring a segment's latency gives up after this much audio without output (seconds).
_MEASURE_LIMIT_S = 60.0


def is_native(item: object) -> bool:
    """True for a native pedalboard plugin (including containers and loaded VST3/AU)."""
    return isinstance(item, pedalboard.Plugin)


def native_leaves(plugin: pedalboard.Plugin):
    """Yield the non-container plugins inside ``plugin`` (itself if it is not a container)."""
    if isinstance(plugin, pedalboard.PluginContainer):
        for child in plugin:
            if child is not None:
                yield from native_leaves(child)
    else:
        yield plugin


class SampleQueue:
    """A FIFO of ``(channels, n)`` float32 samples."""

    def __init__(self, num_channels: int) -> None:
        self.num_channels = num_channels
        self._parts: list[np.ndarray] = []
        self.size = 0

    def clear(self) -> None:
        self._parts.clear()
        self.size = 0

    def push(self, samples: np.ndarray) -> None:
        if samples.shape[1]:
            self._parts.append(samples)
            self.size += samples.shape[1]

    def pop(self, n: int) -> np.ndarray:
        """Remove and return the oldest ``n`` samples (``n <= size``)."""
        if n > self.size:
            raise RuntimeError(f"internal: asked for {n} samples, {self.size} queued")
        if n == 0:
            return np.zeros((self.num_channels, 0), dtype=np.float32)
        taken, got = [], 0
        while got < n:
            part = self._parts[0]
            need = n - got
            if part.shape[1] <= need:
                taken.append(self._parts.pop(0))
                got += part.shape[1]
            else:
                taken.append(part[:, :need])
                self._parts[0] = part[:, need:]
                got = n
        self.size -= n
        out = taken[0] if len(taken) == 1 else np.concatenate(taken, axis=1)
        return np.ascontiguousarray(out)


def delay_signal(signal: np.ndarray, delay: int) -> np.ndarray:
    """``signal`` delayed by ``delay`` samples, same length (zeros shifted in)."""
    if delay == 0:
        return signal
    out = np.zeros_like(signal)
    if delay < signal.shape[1]:
        out[:, delay:] = signal[:, : signal.shape[1] - delay]
    return out


class NativeSegment:
    """Consecutive native plugins run as one ``pedalboard.Pedalboard``.

    Parameters
    ----------
    plugins : list of pedalboard.Plugin
        The user's instances (not copies), in order; containers other than ``Mix`` have
        already been flattened into their children.
    labels : list of str
        Where each plugin sits in the Board, for error messages.
    """

    def __init__(self, plugins: list, labels: list[str]) -> None:
        self.plugins = plugins
        self.labels = labels
        self.board = pedalboard.Pedalboard(plugins)
        self.one_shot_only = [
            label for p, label in zip(plugins, labels) if isinstance(p, ONE_SHOT_ONLY)
        ]
        self.reblock = not all(type(p) in SAMPLE_STABLE for p in plugins)
        self.latency_samples = 0
        self._fifo: SampleQueue | None = None
        self._out: SampleQueue | None = None

    def output_channels(self, num_input_channels: int) -> int:
        return num_input_channels

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        for plugin, label in zip(self.plugins, self.labels):
            if num_input_channels > 2 and isinstance(plugin, _STEREO_ONLY_RAISE):
                raise ParameterError(
                    f"{label} cannot take {num_input_channels} channels: pedalboard's "
                    "MP3Compressor accepts at most 2; downmix before it."
                )
            if num_input_channels > 2 and isinstance(plugin, _STEREO_ONLY_WARN):
                warnings.warn(
                    f"{label} is fed {num_input_channels} channels; pedalboard's "
                    f"{type(plugin).__name__} only processes stereo correctly (Reverb passes "
                    "more channels through unchanged, Convolution overwrites channels 2+ with "
                    "channel 0's result).",
                    stacklevel=6,
                )
        self.sample_rate = sample_rate
        self.num_channels = num_input_channels
        # Blocks longer than the channel count keep pedalboard's layout guess unambiguous.
        self.block_size = max(max_block_size, num_input_channels + 1)
        self._fifo = SampleQueue(num_input_channels)
        self._out = SampleQueue(num_input_channels)
        self.latency_samples = 0 if self.one_shot_only else self._measure_latency()
        self.restart()

    def _measure_latency(self) -> int:
        """Largest number of samples held back while streaming zeros, plus the FIFO's."""
        self.restart()
        zeros = np.zeros((self.num_channels, self.block_size), dtype=np.float32)
        limit = max(int(_MEASURE_LIMIT_S * self.sample_rate), 4 * self.block_size)
        minimum = max(8 * self.block_size, int(self.sample_rate)) if self.reblock else 0
        fed = returned = held = after_output = 0
        while after_output < 3 or fed < minimum:
            returned += self._call(zeros).shape[1]
            fed += self.block_size
            held = max(held, fed - returned)
            after_output += returned > 0
            if fed > limit and returned == 0:
                raise ParameterError(
                    f"{', '.join(self.labels)}: no audio came out after {fed} samples of "
                    "streaming; this chain cannot run with reset=False."
                )
        return held + (self.block_size - 1 if self.reblock else 0)

    def _call(self, block: np.ndarray, reset: bool = False) -> np.ndarray:
        return self.board(block, self.sample_rate, buffer_size=self.block_size, reset=reset)

    def restart(self) -> None:
        """Clean state for a new stream (prime, or reset for re-blocked segments)."""
        if self._out is None:
            return
        if self.one_shot_only:
            pass
        elif self.reblock:
            self.board.reset()
        else:
            self._call(np.zeros((self.num_channels, self.block_size), np.float32), reset=True)
            self._call(np.zeros((self.num_channels, 0), np.float32), reset=True)
        assert self._fifo is not None
        self._fifo.clear()
        self._out.clear()
        self._out.push(np.zeros((self.num_channels, self.latency_samples), np.float32))

    def process_block(self, block: np.ndarray) -> np.ndarray:
        assert self._out is not None and self._fifo is not None
        n = block.shape[1]
        if n == 0:  # never hand pedalboard an empty block (Convolution: SIGFPE)
            return np.zeros((self.num_channels, 0), np.float32)
        if self.reblock:
            self._fifo.push(np.array(block, dtype=np.float32, copy=True))
            while self._fifo.size >= self.block_size:
                self._out.push(self._call(self._fifo.pop(self.block_size)))
        else:
            self._out.push(self._call(block))
        return self._out.pop(n)

    def offline(self, signal: np.ndarray, max_block_size: int) -> np.ndarray:
        n = signal.shape[1]
        if n == 0:
            return signal.copy()
        padded = signal
        if 1 < self.num_channels and n <= self.num_channels:
            padded = np.concatenate(
                [signal, np.zeros((self.num_channels, self.num_channels + 1 - n), np.float32)],
                axis=1,
            )
        aligned = self._call(padded, reset=True)[:, :n]
        return delay_signal(aligned, self.latency_samples)


class ProcessorStage:
    """A soundstage processor (or nested Board/BoardMix) as a Board stage."""

    def __init__(self, processor, label: str) -> None:
        self.processor = processor
        self.label = label
        self.latency_samples = 0
        self._out_channels = 0

    def output_channels(self, num_input_channels: int) -> int:
        try:
            return int(self.processor.output_channels(num_input_channels))
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"{self.label} cannot take {num_input_channels} channels: {exc}") from exc

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        self._out_channels = self.output_channels(num_input_channels)
        try:
            self.processor.prepare(sample_rate, num_input_channels, max_block_size)
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"{self.label} cannot take {num_input_channels} channels: {exc}") from exc
        if hasattr(self.processor, "_prepared_for"):  # a StreamingProcessor used inside a Board
            self.processor._prepared_for = (sample_rate, num_input_channels, max_block_size)
        latency = int(self.processor.latency_samples)
        if latency < 0:
            raise ParameterError(f"{self.label} reports negative latency_samples ({latency})")
        self.latency_samples = latency
        self.max_block_size = max_block_size

    def restart(self) -> None:
        reset_state = getattr(self.processor, "_reset_state", None)
        if reset_state is not None:
            reset_state()
        else:
            self.processor.reset()

    def process_block(self, block: np.ndarray) -> np.ndarray:
        out = self.processor.process_block(block)
        expected = (self._out_channels, block.shape[1])
        if getattr(out, "shape", None) != expected:
            raise ParameterError(
                f"{self.label}.process_block returned shape {getattr(out, 'shape', type(out))}, "
                f"expected {expected} (exactly as many samples as given)."
            )
        return np.ascontiguousarray(out, dtype=np.float32)

    def offline(self, signal: np.ndarray, max_block_size: int) -> np.ndarray:
        offline_raw = getattr(self.processor, "_offline_raw", None)
        if offline_raw is not None:
            return offline_raw(signal, max_block_size)
        self.restart()
        n = signal.shape[1]
        if n == 0:
            return np.zeros((self._out_channels, 0), np.float32)
        parts = [
            self.process_block(np.ascontiguousarray(signal[:, i : i + max_block_size]))
            for i in range(0, n, max_block_size)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


class Pipeline:
    """Stages in series."""

    def __init__(self, stages: Sequence) -> None:
        self.stages = list(stages)
        self.latency_samples = 0

    def output_channels(self, num_input_channels: int) -> int:
        for stage in self.stages:
            num_input_channels = stage.output_channels(num_input_channels)
        return num_input_channels

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        for stage in self.stages:
            stage.prepare(sample_rate, num_input_channels, max_block_size)
            num_input_channels = stage.output_channels(num_input_channels)
        self.latency_samples = sum(stage.latency_samples for stage in self.stages)

    def restart(self) -> None:
        for stage in self.stages:
            stage.restart()

    def process_block(self, block: np.ndarray) -> np.ndarray:
        for stage in self.stages:
            block = stage.process_block(block)
        return block

    def offline(self, signal: np.ndarray, max_block_size: int) -> np.ndarray:
        for stage in self.stages:
            signal = stage.offline(signal, max_block_size)
        return signal


class ParallelStage:
    """Branches fed the same input, each delayed to the slowest, summed in branch order."""

    def __init__(self, branches: Sequence, labels: Sequence[str]) -> None:
        self.branches = list(branches)
        self.labels = list(labels)
        self.latency_samples = 0
        self._delays: list[int] = []
        self._lines: list[SampleQueue] = []

    def output_channels(self, num_input_channels: int) -> int:
        counts = [b.output_channels(num_input_channels) for b in self.branches]
        if not counts:
            return num_input_channels
        for count, label in zip(counts, self.labels):
            if count != counts[0]:
                raise ParameterError(
                    f"{label} gives {count} channels but {self.labels[0]} gives {counts[0]}; "
                    "parallel branches must output the same number of channels."
                )
        return counts[0]

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        out_channels = self.output_channels(num_input_channels)
        for branch in self.branches:
            branch.prepare(sample_rate, num_input_channels, max_block_size)
        latencies = [b.latency_samples for b in self.branches]
        self.latency_samples = max(latencies, default=0)
        self._delays = [self.latency_samples - latency for latency in latencies]
        self._lines = [SampleQueue(out_channels) for _ in self.branches]
        self.restart()

    def restart(self) -> None:
        for branch, line, delay in zip(self.branches, self._lines, self._delays):
            branch.restart()
            line.clear()
            line.push(np.zeros((line.num_channels, delay), np.float32))

    def process_block(self, block: np.ndarray) -> np.ndarray:
        if not self.branches:
            return block.copy()
        out = None
        for branch, line in zip(self.branches, self._lines):
            line.push(branch.process_block(block))
            y = line.pop(block.shape[1])
            out = np.array(y, dtype=np.float32, copy=True) if out is None else out + y
        return out

    def offline(self, signal: np.ndarray, max_block_size: int) -> np.ndarray:
        if not self.branches:
            return signal.copy()
        out = None
        for branch, delay in zip(self.branches, self._delays):
            y = delay_signal(branch.offline(signal, max_block_size), delay)
            out = np.array(y, dtype=np.float32, copy=True) if out is None else out + y
        return out
