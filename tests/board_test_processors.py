"""Small protocol-conforming processors used by the convention and Board tests.

Each is exact and simple enough that its one-shot output can be written down with NumPy.
"""

from __future__ import annotations

import numpy as np

from soundstage.processor.base import StreamingProcessor


class DelayLine:
    """A raw-stream integer delay of ``delay`` samples for any number of channels."""

    def __init__(self, num_channels: int, delay: int) -> None:
        self.delay = delay
        self.memory = np.zeros((num_channels, delay), dtype=np.float32)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.delay == 0:
            return block.copy()
        both = np.concatenate([self.memory, block], axis=1)
        self.memory = both[:, both.shape[1] - self.delay :].copy()
        return both[:, : block.shape[1]]

    def clear(self) -> None:
        self.memory[:] = 0.0


class DelayGain(StreamingProcessor):
    """Delay every channel by ``latency`` samples and multiply by ``gain``."""

    def __init__(self, latency: int = 37, gain: float = 0.5) -> None:
        super().__init__()
        self._latency = latency
        self.gain = np.float32(gain)
        self.prepare_calls: list[tuple[float, int, int]] = []
        self._line: DelayLine | None = None

    @property
    def latency_samples(self) -> int:
        return self._latency

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        self.prepare_calls.append((sample_rate, num_input_channels, max_block_size))
        self._line = DelayLine(num_input_channels, self._latency)

    def output_channels(self, num_input_channels: int) -> int:
        return num_input_channels

    def process_block(self, block: np.ndarray) -> np.ndarray:
        assert block.dtype == np.float32 and block.flags.c_contiguous
        assert self._line is not None
        return self._line(block) * self.gain

    def _reset_state(self) -> None:
        if self._line is not None:
            self._line.clear()


class MatrixProcessor(StreamingProcessor):
    """``out = matrix @ in`` delayed by ``latency`` samples (e.g. a 2 -> 5 upmix matrix)."""

    def __init__(self, matrix: np.ndarray, latency: int = 0) -> None:
        super().__init__()
        self.matrix = np.asarray(matrix, dtype=np.float32)
        self._latency = latency
        self._line: DelayLine | None = None

    @property
    def latency_samples(self) -> int:
        return self._latency

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        if num_input_channels != self.matrix.shape[1]:
            from soundstage._errors import ParameterError

            raise ParameterError(
                f"MatrixProcessor needs {self.matrix.shape[1]} input channels, got {num_input_channels}"
            )
        self._line = DelayLine(self.matrix.shape[0], self._latency)

    def output_channels(self, num_input_channels: int) -> int:
        return self.matrix.shape[0]

    def process_block(self, block: np.ndarray) -> np.ndarray:
        assert self._line is not None
        return self._line(self.matrix @ block)

    def _reset_state(self) -> None:
        if self._line is not None:
            self._line.clear()

    def __repr__(self) -> str:
        return f"MatrixProcessor({self.matrix.shape[1]}->{self.matrix.shape[0]}, latency={self._latency})"


class RawDelay:
    """A bare :class:`~soundstage.processor.base.Processor` (no base class): a pure delay."""

    def __init__(self, delay: int) -> None:
        self.delay = delay
        self.latency_samples = delay
        self._line: DelayLine | None = None

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        self._line = DelayLine(num_input_channels, self.delay)

    def output_channels(self, num_input_channels: int) -> int:
        return num_input_channels

    def process_block(self, block: np.ndarray) -> np.ndarray:
        assert self._line is not None
        return self._line(block)

    def reset(self) -> None:
        if self._line is not None:
            self._line.clear()

    def __repr__(self) -> str:
        return f"RawDelay({self.delay})"


def upmix_matrix() -> np.ndarray:
    """A 5 x 2 matrix: L, R, C=(L+R)/2, S=(L-R)/2, and 0.25 L."""
    return np.array(
        [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, -0.5], [0.25, 0.0]], dtype=np.float32
    )


def downmix_matrix() -> np.ndarray:
    """A 2 x 5 matrix folding the five channels above back to two."""
    return np.array(
        [[0.5, 0.0, 0.25, 0.25, 0.5], [0.0, 0.5, 0.25, -0.25, 0.0]], dtype=np.float32
    )
