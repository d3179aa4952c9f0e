# cython: language_level=3
"""Per-channel delay line with fractional delays by Lagrange interpolation.

A circular buffer per channel (length a power of two, allocated at construction for the largest
delay allowed). A delay D = d + f (integer d, fraction 0 <= f < 1) is read exactly when f = 0
and otherwise through an order-N Lagrange interpolator (N + 1 taps, maximally flat at DC)
centred on the fraction: taps at delays base … base + N with base = d - (N - 1) / 2, so the
interpolator works at D - base in [(N - 1)/2, (N + 1)/2), its most accurate range
(Laakso, Välimäki, Karjalainen & Laine, "Splitting the unit delay", IEEE Signal Processing
Magazine 13(1), 1996). When D < (N - 1)/2 (a delay shorter than the window's half
width) base is clamped to 0 and the interpolator is used off-centre, which is less accurate.

Accuracy of the centred interpolator against the ideal delay exp(-jωD), worst case over all
fractions, for frequencies up to 0.25·sample_rate (computed from the taps; the test checks it
with band-limited noise):

====== ============================ =========================
order  max |magnitude error| (dB)   max phase-delay error
====== ============================ =========================
1      3.01 (f = 0.5)               0.045 samples
3      1.07                         0.018 samples
5      0.44                         0.0078 samples
7      0.20                         0.0035 samples
====== ============================ =========================

The magnitude error is a droop (|H| <= 1), largest at f = 0.5; up to 0.1·sample_rate the
order-3 error is below 0.031 dB. Off-centre (order 3, D < 1) the error up to 0.25·sample_rate
reaches 0.68 dB and 0.12 samples of phase delay.
"""

cimport cython

import numpy as np

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, check_out, finite_array

__all__ = ["DelayLine", "lagrange_taps"]

_ORDERS = (1, 3, 5, 7)


def lagrange_taps(double delay, Py_ssize_t order):
    """Taps h[k], k = 0..order, of the Lagrange interpolator for ``delay`` samples (float64).

    ``h[k] = prod_{j != k} (delay - j) / (k - j)``; an integer ``delay`` gives a unit impulse
    exactly.
    """
    k = np.arange(order + 1)
    h = np.ones(order + 1)
    for j in range(order + 1):
        others = k != j
        h[others] *= (delay - j) / (k[others] - j)
    return h


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _delay_channel(
    const float* x, float* out, Py_ssize_t n, float* ring, Py_ssize_t mask, Py_ssize_t write,
    Py_ssize_t base, Py_ssize_t num_taps, const double* taps,
) noexcept nogil:
    """Push ``x`` into ``ring`` and read ``out`` = sum_k taps[k] ring[now - base - k].

    Each input sample is written before the output sample is read, so ``out`` may be ``x``
    and a delay of 0 passes the input through.
    """
    cdef Py_ssize_t t, k, w
    cdef double acc
    if num_taps == 1:
        for t in range(n):
            w = write + t
            ring[w & mask] = x[t]
            out[t] = ring[(w - base) & mask]
        return
    for t in range(n):
        w = write + t
        ring[w & mask] = x[t]
        acc = 0.0
        for k in range(num_taps):
            acc += taps[k] * ring[(w - base - k) & mask]
        out[t] = <float>acc


cdef class DelayLine:
    """Delay each channel by its own (fractional) number of samples.

    Parameters
    ----------
    delays_samples : array_like [shape=(num_channels,)]
        Delay of each channel in samples, finite and >= 0. Integer values are exact.
    max_delay_samples : float, optional
        Largest delay ``set_delays`` may set later; default ``max(delays_samples)``. Sets the
        buffer size, allocated once here.
    interpolation_order : {1, 3, 5, 7}, keyword, default 3
        Order of the Lagrange interpolator for fractional delays (see the module docstring
        for its accuracy).

    Notes
    -----
    Chunking the input in any way gives bitwise the same output as one call. Changing delays
    with ``set_delays`` takes effect at the next sample without interpolation between the old
    and new delay (a click if the signal is not silent).
    """

    cdef float[:, ::1] _ring
    cdef double[:, ::1] _taps
    cdef Py_ssize_t[::1] _base
    cdef Py_ssize_t[::1] _num_taps
    cdef Py_ssize_t _num_channels, _mask, _write, _order
    cdef double _max_delay
    cdef object _delays

    def __init__(self, delays_samples, max_delay_samples=None, *, interpolation_order=3):
        delays = finite_array(delays_samples, "delays_samples", np.float64, 1, "(num_channels,)")
        if delays.size < 1:
            raise ParameterError("delays_samples must name at least one channel, got none")
        if interpolation_order not in _ORDERS:
            raise ParameterError(
                f"interpolation_order must be one of {_ORDERS}, got {interpolation_order!r}"
            )
        self._order = interpolation_order
        if max_delay_samples is None:
            max_delay_samples = float(np.max(delays))
        max_delay = float(max_delay_samples)
        if not np.isfinite(max_delay) or max_delay < 0:
            raise ParameterError(f"max_delay_samples must be finite and >= 0, got {max_delay_samples}")
        self._max_delay = max_delay
        self._num_channels = delays.size
        reach = int(np.floor(max_delay)) + (self._order + 1) // 2 + 1
        length = 1 << int(reach).bit_length()
        self._mask = length - 1
        self._ring = np.zeros((self._num_channels, length), dtype=np.float32)
        self._taps = np.zeros((self._num_channels, self._order + 1), dtype=np.float64)
        self._base = np.zeros(self._num_channels, dtype=np.intp)
        self._num_taps = np.zeros(self._num_channels, dtype=np.intp)
        self.set_delays(delays)
        self.reset()

    def set_delays(self, delays_samples) -> None:
        """Change the delays (same channel count, each within ``max_delay_samples``)."""
        cdef Py_ssize_t c
        delays = finite_array(delays_samples, "delays_samples", np.float64, 1, "(num_channels,)")
        if delays.size != self._num_channels:
            raise ParameterError(
                f"delays_samples must have {self._num_channels} values, got {delays.size}"
            )
        for c, delay in enumerate(delays):
            if delay < 0 or delay > self._max_delay:
                raise ParameterError(
                    f"delays_samples[{c}] = {delay} must lie in [0, max_delay_samples = "
                    f"{self._max_delay}]"
                )
        half = (self._order - 1) // 2
        taps = np.asarray(self._taps)
        for c, delay in enumerate(delays):
            whole = int(np.floor(delay))
            taps[c] = 0.0
            if delay == whole:
                self._base[c] = whole
                self._num_taps[c] = 1
                taps[c, 0] = 1.0
            else:
                base = max(whole - half, 0)
                self._base[c] = base
                self._num_taps[c] = self._order + 1
                taps[c] = lagrange_taps(delay - base, self._order)
        self._delays = delays

    def process(self, x) -> None:
        """Delay ``x`` (num_channels, n) float32 in place."""
        check_audio(x, "x", self._num_channels, writable=True)
        self.process_into(x, x)

    def process_into(self, x, out) -> None:
        """Delay ``x`` (num_channels, n) float32 into ``out`` of the same shape (may be ``x``)."""
        check_audio(x, "x", self._num_channels)
        check_out(out, "out", self._num_channels, x.shape[1], x)
        cdef const float[:, ::1] xv = x
        cdef float[:, ::1] ov = out
        cdef Py_ssize_t n = xv.shape[1], c
        if n == 0:
            return
        with nogil:
            for c in range(self._num_channels):
                _delay_channel(&xv[c, 0], &ov[c, 0], n, &self._ring[c, 0], self._mask,
                               self._write, self._base[c], self._num_taps[c], &self._taps[c, 0])
            self._write = (self._write + n) & self._mask

    def reset(self) -> None:
        """Clear the buffered history (the delays are kept)."""
        np.asarray(self._ring)[...] = 0.0
        self._write = 0

    @property
    def num_channels(self) -> int:
        """Number of channels."""
        return self._num_channels

    @property
    def delays_samples(self):
        """Current delays in samples (a copy, float64)."""
        return self._delays.copy()

    @property
    def max_delay_samples(self) -> float:
        """Largest delay the buffer holds, in samples."""
        return self._max_delay

    @property
    def interpolation_order(self) -> int:
        """Order of the Lagrange interpolator."""
        return self._order
