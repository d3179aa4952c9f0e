"""The most recent stereo input of a stream, kept so a FIR-matrix engine can start warm.

A processor streaming on the single-tap engine (:class:`~soundstage._kernels.TapMatrix`: the
``stereo-pair`` reference) has no upmix and no FFT convolution running. When automation makes
the design need the full FIR matrix, the upmix and the convolver must join the stream as if they
had run all along, so the switch can crossfade like any other parameter change. Both have finite
memory that matters: the convolver the FIR length plus one partition, the upmix a few time
constants of its one-pole power averages (40 ms). :class:`InputHistory` keeps the last
``length`` input samples in a preallocated ring (a copy per block, nothing allocated), and
:meth:`InputHistory.recent` hands them over in time order, preceded by zeros when the stream
is younger than that — exactly the silence the stream started from.
"""

from __future__ import annotations

import numpy as np

__all__ = ["InputHistory"]


class InputHistory:
    """Ring buffer of the last ``length`` samples of a ``num_channels`` float32 stream."""

    def __init__(self, num_channels: int, length: int):
        self._ring = np.zeros((num_channels, length), dtype=np.float32)
        self._end = 0  # write position: the oldest sample, next to be overwritten

    @property
    def length(self) -> int:
        return self._ring.shape[1]

    def push(self, block: np.ndarray) -> None:
        """Append ``block`` (num_channels, n)."""
        length = self._ring.shape[1]
        n = block.shape[1]
        if n >= length:
            self._ring[:] = block[:, n - length:]
            self._end = 0
            return
        first = min(n, length - self._end)
        self._ring[:, self._end:self._end + first] = block[:, :first]
        self._ring[:, : n - first] = block[:, first:]
        self._end = (self._end + n) % length

    def recent(self) -> np.ndarray:
        """The last ``length`` samples, oldest first (a new C-contiguous array)."""
        return np.ascontiguousarray(np.roll(self._ring, -self._end, axis=1))

    def clear(self) -> None:
        self._ring[:] = 0.0
        self._end = 0
