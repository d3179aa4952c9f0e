# cython: language_level=3
"""Streaming cascade of biquad sections, one cascade per channel, channels run side by side.

Transposed direct form II (the structure of ``scipy.signal.sosfilt``), float64 state and
coefficients, float32 audio processed in place. The per-sample loop runs over the channels in
the innermost position, so the compiler can put the channels in SIMD lanes.
"""

cimport cython

import numpy as np

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, finite_array

from _dsp cimport flush_denormal

__all__ = ["BiquadCascade"]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _cascade_block(
    float* x,
    Py_ssize_t num_channels,
    Py_ssize_t num_samples,
    Py_ssize_t num_sections,
    const double* coef,
    double* state,
    double* lane,
) noexcept nogil:
    """Filter ``x`` (num_channels, num_samples) in place through every section.

    ``coef`` is (num_sections, 5, num_channels): b0, b1, b2, a1, a2 with a0 = 1; ``state`` is
    (num_sections, 2, num_channels): z1, z2 of transposed direct form II; ``lane`` is scratch of
    num_channels doubles. For each section (scipy's ``sosfilt`` recursion):
        y  = b0 v + z1
        z1 = b1 v - a1 y + z2
        z2 = b2 v - a2 y
    """
    cdef Py_ssize_t C = num_channels
    cdef Py_ssize_t t, s, c
    cdef const double* cf
    cdef double* z
    cdef double v, y
    for t in range(num_samples):
        for c in range(C):
            lane[c] = x[c * num_samples + t]
        for s in range(num_sections):
            cf = coef + s * 5 * C
            z = state + s * 2 * C
            for c in range(C):
                v = lane[c]
                y = cf[c] * v + z[c]
                z[c] = flush_denormal(cf[C + c] * v - cf[3 * C + c] * y + z[C + c])
                z[C + c] = flush_denormal(cf[2 * C + c] * v - cf[4 * C + c] * y)
                lane[c] = y
        for c in range(C):
            x[c * num_samples + t] = <float>lane[c]


def _normalised_sos(sos, Py_ssize_t num_channels=-1, Py_ssize_t num_sections=-1):
    """Validate ``sos`` (num_channels, num_sections, 6) and return it with a0 = 1, float64."""
    arr = finite_array(sos, "sos", np.float64, 3, "(num_channels, num_sections, 6)")
    if arr.shape[0] < 1 or arr.shape[1] < 1 or arr.shape[2] != 6:
        raise ParameterError(
            f"sos must have shape (num_channels >= 1, num_sections >= 1, 6), got {arr.shape}"
        )
    if num_channels >= 0 and arr.shape[:2] != (num_channels, num_sections):
        raise ParameterError(
            f"sos must keep shape ({num_channels}, {num_sections}, 6), got {arr.shape}; "
            "build a new BiquadCascade to change the layout"
        )
    a0 = arr[:, :, 3]
    if np.any(a0 == 0.0):
        c, s = np.argwhere(a0 == 0.0)[0]
        raise ParameterError(f"sos[{c}, {s}, 3] (a0) is 0; every section needs a0 != 0")
    arr /= a0[:, :, None]
    a1 = arr[:, :, 4]
    a2 = arr[:, :, 5]
    # A second-order section is stable iff |a2| < 1 and |a1| < 1 + a2 (the stability triangle).
    unstable = (np.abs(a2) >= 1.0) | (np.abs(a1) >= 1.0 + a2)
    if np.any(unstable):
        c, s = np.argwhere(unstable)[0]
        raise ParameterError(
            f"sos[{c}, {s}] is not stable (a1={a1[c, s]:.6g}, a2={a2[c, s]:.6g} after "
            "normalising a0): poles must lie inside the unit circle"
        )
    return arr


cdef class BiquadCascade:
    """Cascade of second-order sections per channel, streaming, float32 in place.

    Parameters
    ----------
    sos : array_like [shape=(num_channels, num_sections, 6)]
        Second-order sections per channel in ``scipy.signal.sosfilt`` layout
        ``[b0, b1, b2, a0, a1, a2]``; each section is normalised by its a0 (which must be
        non-zero). Values must be finite and every section stable. Converted to float64.

    Notes
    -----
    Equals ``scipy.signal.sosfilt`` run per channel in float64 up to float32 rounding of the
    output (relative RMS error ≈ 1e-7). Recursive state is float64 and flushed from subnormals
    (see ``_dsp.pxd``). Processing a signal in chunks of any sizes gives bitwise the same output
    as one call: every sample is computed by the same operations whatever the chunking. No
    memory is allocated per call; the GIL is released for the whole block.

    Examples
    --------
    >>> import numpy as np, scipy.signal
    >>> sos = scipy.signal.butter(4, 0.1, output="sos")
    >>> cascade = BiquadCascade(np.stack([sos, sos]))
    >>> x = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    >>> y = x.copy(); cascade.process(y)
    >>> ref = scipy.signal.sosfilt(sos, x.astype(np.float64))
    >>> bool(np.allclose(y, ref, atol=1e-5))
    True
    """

    cdef double[:, :, ::1] _coef
    cdef double[:, :, ::1] _state
    cdef double[::1] _lane
    cdef Py_ssize_t _num_channels
    cdef Py_ssize_t _num_sections

    def __init__(self, sos):
        arr = _normalised_sos(sos)
        self._num_channels = arr.shape[0]
        self._num_sections = arr.shape[1]
        self._coef = np.empty((self._num_sections, 5, self._num_channels), dtype=np.float64)
        self._state = np.zeros((self._num_sections, 2, self._num_channels), dtype=np.float64)
        self._lane = np.zeros(self._num_channels, dtype=np.float64)
        self._store(arr)

    cdef _store(self, arr):
        # (C, S, [b0 b1 b2 a0 a1 a2]) -> (S, [b0 b1 b2 a1 a2], C): channels innermost.
        np.asarray(self._coef)[...] = arr[:, :, [0, 1, 2, 4, 5]].transpose(1, 2, 0)

    def set_sos(self, sos) -> None:
        """Replace the coefficients, keeping the filter state (same shape only).

        Parameters
        ----------
        sos : array_like [shape=(num_channels, num_sections, 6)]
            New sections, validated like the constructor's.
        """
        self._store(_normalised_sos(sos, self._num_channels, self._num_sections))

    def process(self, x) -> None:
        """Filter ``x`` in place.

        Parameters
        ----------
        x : numpy.ndarray [shape=(num_channels, n), dtype=float32]
            C-contiguous, writable audio; ``n`` may be 0. Overwritten with the output.
        """
        check_audio(x, "x", self._num_channels, writable=True)
        cdef float[:, ::1] xv = x
        cdef Py_ssize_t n = xv.shape[1]
        if n == 0:
            return
        with nogil:
            _cascade_block(
                &xv[0, 0], self._num_channels, n, self._num_sections,
                &self._coef[0, 0, 0], &self._state[0, 0, 0], &self._lane[0],
            )

    def reset(self) -> None:
        """Clear the filter state (as if the input had been silent forever)."""
        self._state[...] = 0.0

    @property
    def num_channels(self) -> int:
        """Number of channels (rows of the audio)."""
        return self._num_channels

    @property
    def num_sections(self) -> int:
        """Number of second-order sections per channel."""
        return self._num_sections
