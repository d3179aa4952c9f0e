# cython: language_level=3
"""Static gain matrix: ``out[o, n] = sum_i gains[o, i] * x[i, n]``, GIL released."""

cimport cython

import numpy as np

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, check_out, finite_array

__all__ = ["GainMatrix", "mix_into"]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _mix(const float[:, ::1] gains, const float[:, ::1] x, float[:, ::1] out) noexcept nogil:
    """out = gains @ x, skipping zero gains; ``out`` must not overlap ``x``."""
    cdef Py_ssize_t n_out = gains.shape[0]
    cdef Py_ssize_t n_in = gains.shape[1]
    cdef Py_ssize_t n = x.shape[1]
    cdef Py_ssize_t o, i, k
    cdef float g
    for o in range(n_out):
        for k in range(n):
            out[o, k] = 0.0
        for i in range(n_in):
            g = gains[o, i]
            if g == 0.0:
                continue
            for k in range(n):
                out[o, k] += g * x[i, k]


def mix_into(const float[:, ::1] gains, const float[:, ::1] x, float[:, ::1] out):
    """Mix ``x`` (n_in, n) into preallocated ``out`` (n_out, n) with ``gains`` (n_out, n_in).

    Low-level: shapes are only checked against each other; prefer :class:`GainMatrix`.
    """
    if gains.shape[1] != x.shape[0] or gains.shape[0] != out.shape[0] or x.shape[1] != out.shape[1]:
        raise ParameterError(
            f"mix_into: gains ({gains.shape[0]}, {gains.shape[1]}), x ({x.shape[0]}, {x.shape[1]}) "
            f"and out ({out.shape[0]}, {out.shape[1]}) do not fit"
        )
    with nogil:
        _mix(gains, x, out)


cdef class GainMatrix:
    """Static mixing matrix from ``num_inputs`` to ``num_outputs`` channels.

    Parameters
    ----------
    gains : array_like [shape=(num_outputs, num_inputs)]
        Linear gains, finite, converted to float32.

    Notes
    -----
    Memoryless, so any chunking gives bitwise the same output. Allocates nothing per call
    in ``process_into``; the GIL is released for the block.
    """

    cdef float[:, ::1] _gains

    def __init__(self, gains):
        g = finite_array(gains, "gains", np.float32, 2, "(num_outputs, num_inputs)")
        if min(g.shape) < 1:
            raise ParameterError(f"gains must have at least one row and column, got {g.shape}")
        self._gains = g

    def set_gains(self, gains) -> None:
        """Replace the gains (same shape)."""
        g = finite_array(gains, "gains", np.float32, 2, "(num_outputs, num_inputs)")
        if g.shape != (self._gains.shape[0], self._gains.shape[1]):
            raise ParameterError(
                f"gains must keep shape ({self._gains.shape[0]}, {self._gains.shape[1]}), "
                f"got {g.shape}"
            )
        self._gains = g

    def process_into(self, x, out) -> None:
        """Write ``gains @ x`` into ``out`` (num_outputs, n); ``out`` must not overlap ``x``."""
        check_audio(x, "x", self._gains.shape[1])
        check_out(out, "out", self._gains.shape[0], x.shape[1])
        if np.may_share_memory(x, out):
            raise ParameterError("out overlaps x; GainMatrix needs a separate output array")
        if x.shape[1] == 0:
            return
        cdef const float[:, ::1] xv = x
        cdef float[:, ::1] ov = out
        with nogil:
            _mix(self._gains, xv, ov)

    def process(self, x):
        """Return ``gains @ x`` as a new float32 (num_outputs, n) array."""
        check_audio(x, "x", self._gains.shape[1])
        out = np.empty((self._gains.shape[0], x.shape[1]), dtype=np.float32)
        self.process_into(x, out)
        return out

    def reset(self) -> None:
        """Nothing to clear (memoryless); present for a uniform kernel interface."""

    @property
    def gains(self):
        """The gain matrix (a copy), float32 (num_outputs, num_inputs)."""
        return np.array(self._gains)

    @property
    def num_inputs(self) -> int:
        """Number of input channels."""
        return self._gains.shape[1]

    @property
    def num_outputs(self) -> int:
        """Number of output channels."""
        return self._gains.shape[0]
