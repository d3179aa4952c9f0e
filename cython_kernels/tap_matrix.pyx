# cython: language_level=3
"""Sparse MIMO FIR made of single taps (gain and integer delay per path), in the time domain.

A FIR matrix whose paths are pure gains and delays — a pass-through, a ±30° pair that needs no
correction, a routing matrix — costs one multiply-add per tap and sample this way, against
two FFTs and a spectrum product per partition in :class:`PartitionedConvolver`. Outputs are
exact: ``out[o, t] = sum_k gains[k] * x[inputs[k], t - delays[k]]`` over the taps ``k`` with
``outputs[k] == o``, accumulated in float32 in the order the taps are given (a gain of 1 copies
the input bit for bit).
"""

cimport cython
from libc.string cimport memcpy, memmove, memset

import numpy as np

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, check_out

from _fpu cimport fpu_enter, fpu_leave

__all__ = ["TapMatrix"]


cdef class TapMatrix:
    """Streaming sum of delayed, scaled inputs: a FIR matrix of single taps.

    Parameters
    ----------
    inputs, outputs : array_like of int [shape=(num_taps,)]
        Input and output channel of every tap.
    delays : array_like of int [shape=(num_taps,)]
        Delay of every tap in samples, >= 0.
    gains : array_like of float [shape=(num_taps,)]
        Gain of every tap (float32, finite).
    num_inputs, num_outputs : int, keyword
        Channel counts (outputs without a tap are silent).

    Notes
    -----
    The last ``max(delays)`` input samples are kept, so chunking gives bitwise the same output
    as one call; ``process_into`` allocates nothing and runs without the GIL.

    Examples
    --------
    >>> import numpy as np
    >>> taps = TapMatrix([0, 1], [1, 0], [2, 0], [1.0, 0.5], num_inputs=2, num_outputs=2)
    >>> taps.process(np.array([[1, 2, 3, 4], [4, 4, 4, 4]], np.float32))
    array([[2., 2., 2., 2.],
           [0., 0., 1., 2.]], dtype=float32)
    """

    cdef Py_ssize_t _n_in, _n_out, _n_taps, _H
    cdef Py_ssize_t[::1] _in, _out, _delay
    cdef float[::1] _gain
    cdef float[:, ::1] _hist  # (n_in, H): the last H input samples, oldest first

    def __init__(self, inputs, outputs, delays, gains, *, Py_ssize_t num_inputs, Py_ssize_t num_outputs):
        if num_inputs < 1 or num_outputs < 1:
            raise ParameterError(f"num_inputs and num_outputs must be >= 1, got {num_inputs}, {num_outputs}")
        arrays = [np.asarray(a).reshape(-1) for a in (inputs, outputs, delays, gains)]
        if len({a.size for a in arrays}) != 1:
            raise ParameterError("inputs, outputs, delays and gains must have one entry per tap, got lengths "
                                 f"{[a.size for a in arrays]}")
        ins, outs, delays_, gains_ = arrays
        for name, values, limit in (("inputs", ins, num_inputs), ("outputs", outs, num_outputs)):
            if values.size and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0
                                or values.max() >= limit):
                raise ParameterError(f"{name} must be integers in [0, {limit}), got {values.tolist()}")
        if delays_.size and (not np.issubdtype(delays_.dtype, np.integer) or delays_.min() < 0):
            raise ParameterError(f"delays must be integers >= 0, got {delays_.tolist()}")
        gains_ = gains_.astype(np.float32)
        if not np.all(np.isfinite(gains_)):
            raise ParameterError("gains must be finite")
        self._n_in, self._n_out, self._n_taps = num_inputs, num_outputs, ins.size
        self._in = ins.astype(np.intp)
        self._out = outs.astype(np.intp)
        self._delay = delays_.astype(np.intp)
        self._gain = np.ascontiguousarray(gains_)
        self._H = max(int(delays_.max()) if delays_.size else 0, 1)
        self._hist = np.zeros((num_inputs, self._H), dtype=np.float32)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _run(self, const float[:, ::1] x, float[:, ::1] out) noexcept nogil:
        cdef Py_ssize_t n = x.shape[1], H = self._H, k, t, i, o, d, m
        cdef float g
        cdef float* dst
        cdef const float* src
        cdef const float* old
        for o in range(self._n_out):
            memset(&out[o, 0], 0, n * sizeof(float))
        for k in range(self._n_taps):
            i, o, d, g = self._in[k], self._out[k], self._delay[k], self._gain[k]
            dst = &out[o, 0]
            m = d if d < n else n
            old = &self._hist[i, H - d] if d > 0 else NULL
            for t in range(m):  # samples from before this block
                dst[t] += g * old[t]
            src = &x[i, 0]
            for t in range(m, n):
                dst[t] += g * src[t - d]
        for i in range(self._n_in):  # keep the last H input samples
            if n >= H:
                memcpy(&self._hist[i, 0], &x[i, n - H], H * sizeof(float))
            else:
                memmove(&self._hist[i, 0], &self._hist[i, n], (H - n) * sizeof(float))
                memcpy(&self._hist[i, H - n], &x[i, 0], n * sizeof(float))

    def process_into(self, x, out) -> None:
        """Write the tap sum of ``x`` (num_inputs, n) into ``out`` (num_outputs, n), float32,
        C-contiguous; ``out`` must not overlap ``x``."""
        check_audio(x, "x", self._n_in)
        check_out(out, "out", self._n_out, x.shape[1])
        if np.may_share_memory(x, out):
            raise ParameterError("out overlaps x; TapMatrix needs a separate output array")
        if x.shape[1] == 0:
            return
        cdef const float[:, ::1] xv = x
        cdef float[:, ::1] ov = out
        cdef unsigned long fpu
        with nogil:
            fpu = fpu_enter()
            self._run(xv, ov)
            fpu_leave(fpu)

    def process(self, x):
        """Return the tap sum of ``x`` (num_inputs, n) as a new float32 (num_outputs, n) array."""
        check_audio(x, "x", self._n_in)
        out = np.empty((self._n_out, x.shape[1]), dtype=np.float32)
        self.process_into(x, out)
        return out

    def reset(self) -> None:
        """Clear the input history."""
        np.asarray(self._hist)[...] = 0.0

    @property
    def num_inputs(self) -> int:
        return self._n_in

    @property
    def num_outputs(self) -> int:
        return self._n_out

    @property
    def taps(self):
        """(inputs, outputs, delays, gains) as numpy arrays (copies)."""
        return (np.asarray(self._in).copy(), np.asarray(self._out).copy(), np.asarray(self._delay).copy(),
                np.asarray(self._gain).copy())
