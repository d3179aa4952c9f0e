# cython: language_level=3
"""MIMO uniformly partitioned FFT convolution (UPOLS) with a frequency-domain delay line.

Each of ``num_outputs`` outputs is the sum over ``num_inputs`` inputs of the input convolved with
the FIR of that path. The filters are cut into K = ceil(num_taps / P) partitions of P taps, each
zero-padded to N = 2P and transformed once; every P input samples, the last 2P input samples of
each input are transformed into a frequency-domain delay line (FDL) of the K most recent input
spectra, and each output spectrum is Y = sum_i sum_k X_i[now - k] H_io[k], inverse transformed,
keeping the last P samples (overlap-save). References: Wefers, "Partitioned convolution
algorithms for real-time auralization", PhD thesis, RWTH Aachen, 2015 (UPOLS); Stockham,
"High-speed convolution and correlation", AFIPS 1966 (overlap-save).

Input is buffered to whole partitions, so the partition size is independent of the caller's
block size and the latency is exactly P samples: ``output[n] = y[n - P]`` for the true
convolution ``y`` (zeros for n < P).
"""

cimport cython
from libc.math cimport cos, M_PI
from libc.string cimport memcpy, memset

cimport numpy as cnp
import numpy as np

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, check_out, finite_array

from _fft cimport complex_fft_gather, real_fft, real_ifft_tail
from _fpu cimport FPU_FLUSH_BITS, FPU_SUPPORTED, fpu_enter, fpu_leave, fpu_state

from _spectrum_mac cimport MAC_STRIP, spectrum_mac
from soundstage._kernels.spectrum_mac import aligned_zeros, strip_layout

cnp.import_array()


cdef inline void _flush_block(float* block, Py_ssize_t n) noexcept nogil:
    """Zero samples below 1e-30 (FFT round-off of a silent stretch would otherwise leave
    subnormal float32 output, slow downstream and not exact silence)."""
    cdef Py_ssize_t j
    for j in range(n):
        if -1e-30 < block[j] < 1e-30:
            block[j] = 0.0

__all__ = ["PartitionedConvolver", "flush_to_zero_state", "fft_seconds"]


def flush_to_zero_state():
    """(supported, flushing_now) for the calling thread: whether the kernels can set
    flush-to-zero / denormals-are-zero on this CPU, and whether they are set now (they are
    only set inside a kernel call; outside one this is False)."""
    return bool(FPU_SUPPORTED), bool(FPU_SUPPORTED and (fpu_state() & FPU_FLUSH_BITS) == FPU_FLUSH_BITS)


def fft_tables(Py_ssize_t size):
    """Bit reversal and twiddle tables for ``_fft.pxd`` at complex size ``size`` (power of 2)."""
    bits = int(size).bit_length() - 1
    n = np.arange(size)
    rev = np.zeros(size, dtype=np.intp)
    for b in range(bits):
        rev |= ((n >> b) & 1) << (bits - 1 - b)
    tw = np.ones(size, dtype=np.complex128)
    h = 4
    while h < size:
        tw[h : 2 * h] = np.exp(-2j * np.pi * np.arange(h) / (2 * h))
        h *= 2
    rt = np.exp(-2j * np.pi * np.arange(size + 1) / (2 * size))
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
    return rev, f32(tw.real), f32(tw.imag), f32(rt.real), f32(rt.imag)


cdef class _FFTPlan:
    """Tables and scratch for the real FFT of length N = 2M (used for tests and the convolver)."""

    cdef Py_ssize_t M
    cdef Py_ssize_t[::1] rev
    cdef float[::1] tw_re, tw_im, rt_re, rt_im, work_re, work_im, merged

    def __init__(self, Py_ssize_t size):
        self.M = size // 2
        self.rev, self.tw_re, self.tw_im, self.rt_re, self.rt_im = fft_tables(self.M)
        self.work_re = np.zeros(self.M, dtype=np.float32)
        self.work_im = np.zeros(self.M, dtype=np.float32)
        self.merged = np.zeros(2 * self.M, dtype=np.float32)  # the inverse's merged spectrum

    cdef inline void forward(self, const float* x, float* out_re, float* out_im) noexcept nogil:
        real_fft(x, out_re, out_im, self.M, &self.work_re[0], &self.work_im[0], &self.rev[0],
                 &self.tw_re[0], &self.tw_im[0], &self.rt_re[0], &self.rt_im[0])

    cdef inline void inverse_tail(self, const float* y_re, const float* y_im, float* out) noexcept nogil:
        real_ifft_tail(y_re, y_im, out, self.M, &self.merged[0], &self.work_re[0], &self.work_im[0], &self.rev[0],
                       &self.tw_re[0], &self.tw_im[0], &self.rt_re[0], &self.rt_im[0])

    def rfft(self, const float[::1] x):
        """numpy.fft.rfft equivalent of float32 ``x`` (length N), as complex128 (for tests)."""
        out_re = np.zeros(self.M + 1, dtype=np.float32)
        out_im = np.zeros(self.M + 1, dtype=np.float32)
        cdef float[::1] r = out_re, i = out_im
        with nogil:
            self.forward(&x[0], &r[0], &i[0])
        return out_re + 1j * out_im.astype(np.float64)

    def irfft_tail(self, spectrum):
        """``N * numpy.fft.irfft(spectrum)[M:]`` in float32 (for tests)."""
        cdef float[::1] r = np.ascontiguousarray(spectrum.real, dtype=np.float32)
        cdef float[::1] i = np.ascontiguousarray(spectrum.imag, dtype=np.float32)
        out = np.zeros(self.M, dtype=np.float32)
        cdef float[::1] o = out
        with nogil:
            self.inverse_tail(&r[0], &i[0], &o[0])
        return out


def complex_dft(z):
    """``numpy.fft.fft(z)`` of a complex vector whose length M is a power of two >= 4, by the
    own complex FFT (``_fft.complex_fft_gather``: bit-reversal gathered per depth-first block),
    in float32; complex128 out (for tests)."""
    z = np.asarray(z)
    cdef Py_ssize_t M = z.shape[0] if z.ndim == 1 else 0
    if M < 4 or M & (M - 1):
        raise ParameterError(f"z must be 1-D with a power-of-two length >= 4, got shape {z.shape}")
    cdef float[::1] src_re = np.ascontiguousarray(z.real, dtype=np.float32)
    cdef float[::1] src_im = np.ascontiguousarray(z.imag, dtype=np.float32)
    rev, tw_re, tw_im, _, _ = fft_tables(M)
    cdef Py_ssize_t[::1] rv = rev
    cdef float[::1] twr = tw_re, twi = tw_im
    out_re = np.empty(M, dtype=np.float32)
    out_im = np.empty(M, dtype=np.float32)
    cdef float[::1] o_re = out_re, o_im = out_im
    with nogil:
        complex_fft_gather(&src_re[0], &src_im[0], 1, &o_re[0], &o_im[0], M, &rv[0], &twr[0], &twi[0])
    return out_re + 1j * out_im.astype(np.float64)


def fft_seconds(Py_ssize_t size, Py_ssize_t repeats=2000):
    """(forward, inverse) seconds per real transform of length ``size`` (a power of two >= 8)
    of the convolver's own FFT, timed over ``repeats`` transforms without the GIL: the
    benchmark's figure to set against ``scipy.fft`` (benchmarks/kernels.py)."""
    import time

    if size < 8 or size & (size - 1):
        raise ParameterError(f"size must be a power of two >= 8, got {size}")
    plan = _FFTPlan(size)
    x = np.random.default_rng(0).standard_normal(size).astype(np.float32)
    spectrum_re = np.zeros(size // 2 + 1, dtype=np.float32)
    spectrum_im = np.zeros(size // 2 + 1, dtype=np.float32)
    out = np.zeros(size // 2, dtype=np.float32)
    cdef float[::1] xv = x, sr = spectrum_re, si = spectrum_im, ov = out
    cdef Py_ssize_t r
    start = time.perf_counter()
    with nogil:
        for r in range(repeats):
            plan.forward(&xv[0], &sr[0], &si[0])
    forward = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    with nogil:
        for r in range(repeats):
            plan.inverse_tail(&sr[0], &si[0], &ov[0])
    return forward, (time.perf_counter() - start) / repeats


cdef class PartitionedConvolver:
    """Streaming MIMO FIR convolution by uniformly partitioned FFT convolution (UPOLS).

    ``y[o] = sum_i filters[i, o] * x[i]`` (linear convolution), delivered with a latency of
    exactly ``partition_size`` samples, for blocks of any length.

    Parameters
    ----------
    filters : array_like [shape=(num_inputs, num_outputs, num_taps)]
        FIR taps of every input→output path, converted to float32; finite. All-zero paths are
        skipped (a mask is kept).
    partition_size : int, keyword, default 256
        P, a power of two in [16, 65536]. The latency (P samples) and the compute cost per sample
        depend on it, the result does not. Larger P costs less per sample up to about
        ``num_taps`` (see benchmarks/kernels.py).

    Notes
    -----
    * Output sample n equals the convolution at n - P: ``process`` returns zeros for the first
      P samples, and chunking the input in any way gives bitwise the same output as one call.
    * The FFT is soundstage's own (``_fft.pxd``), float32 data with float64-derived twiddles;
      agreement with ``scipy.signal.oaconvolve`` is ≈ 1e-7 relative RMS. At the transform sizes
      of a partition (2P ≤ 4096) it is 1.3–1.5× faster than ``scipy.fft`` (pocketfft) per
      transform, at par at 16384 (``fft_seconds``, benchmarks/kernels.py).
    * The spectrum products are register-blocked (``_spectrum_mac.h``): for each strip of 8
      bins, up to 4 outputs are accumulated in registers over every (input, partition) term and
      stored once, with the filter spectra stored in the order they are read. Each bin is still
      summed over inputs, then partitions, in that order, so the result does not depend on the
      blocking (``spectrum_mac.spectrum_mac_seconds`` checks it against the one-path loop). For
      the studio's 3×5×1920 matrix at P = 256 that is ≈ 0.13 ns per complex multiply-accumulate,
      2× the one-path loop; products and transforms then take about equal time.
    * ``set_filters`` crossfades the outputs of the old and new filter sets (raised cosine).
    * Each call runs with flush-to-zero / denormals-are-zero set (MXCSR on x86-64, FPCR on
      AArch64) and restores the caller's floating-point state afterwards: subnormal input or
      intermediate values cost no more than normal ones, and results that would be subnormal
      (below 1.2e-38) are zero. Outputs below 1e-30 are set to exactly 0.
    * Buffers (input frames, FDL, two filter-spectrum sets, two output blocks, FFT scratch) are
      allocated at construction; ``process_into`` allocates nothing and runs without the GIL.

    Examples
    --------
    >>> import numpy as np, scipy.signal
    >>> h = np.random.default_rng(0).standard_normal((2, 3, 100)).astype(np.float32)
    >>> conv = PartitionedConvolver(h, partition_size=64)
    >>> x = np.random.default_rng(1).standard_normal((2, 1000)).astype(np.float32)
    >>> y = conv.process(x)
    >>> ref = sum(scipy.signal.oaconvolve(x[i], h[i, 0]) for i in range(2))[:1000 - 64]
    >>> bool(np.allclose(y[0, 64:], ref, atol=1e-4))
    True
    """

    cdef Py_ssize_t _n_in, _n_out, _n_taps, _P, _K, _B, _stride
    cdef _FFTPlan _plan
    cdef float[:, ::1] _inbuf             # (n_in, 2P): previous P samples, then the filling P
    cdef float[:, :, ::1] _fdl_re         # (n_in, K, stride) input spectra (B bins), ring buffer
    cdef float[:, :, ::1] _fdl_im
    cdef float[:, ::1] _h                 # (2, ...): two filter sets, scaled 1/N, strip_layout
    cdef unsigned char[:, :, ::1] _mask   # (2, n_in, n_out): path is non-zero
    cdef float[:, ::1] _out_new           # (n_out, P): pending output block, current filters
    cdef float[:, ::1] _out_old           # (n_out, P): the same block, previous filters (fading)
    cdef float[:, ::1] _acc_re, _acc_im   # (n_out, stride): output spectra
    cdef Py_ssize_t[::1] _rows            # (K): FDL row of the input spectrum k partitions ago
    cdef Py_ssize_t _pos, _head, _cur
    cdef bint _fading
    cdef Py_ssize_t _fade_pos, _fade_len

    def __init__(self, filters, *, Py_ssize_t partition_size=256):
        h = finite_array(filters, "filters", np.float32, 3, "(num_inputs, num_outputs, num_taps)")
        if min(h.shape) < 1:
            raise ParameterError(f"filters must have every dimension >= 1, got shape {h.shape}")
        P = partition_size
        if P < 16 or P > 65536 or (P & (P - 1)) != 0:
            raise ParameterError(
                f"partition_size must be a power of two in [16, 65536], got {partition_size}"
            )
        self._n_in, self._n_out, self._n_taps = h.shape
        self._P = P
        self._K = (self._n_taps + P - 1) // P
        self._B = P + 1
        # Rows padded to whole strips of the register-blocked multiply-accumulate.
        self._stride = (self._B + MAC_STRIP - 1) // MAC_STRIP * MAC_STRIP
        self._plan = _FFTPlan(2 * P)
        self._inbuf = np.zeros((self._n_in, 2 * P), dtype=np.float32)
        self._fdl_re = aligned_zeros((self._n_in, self._K, self._stride))
        self._fdl_im = aligned_zeros((self._n_in, self._K, self._stride))
        self._h = aligned_zeros((2, self._n_in * self._n_out * self._K * 2 * self._stride))
        self._mask = np.zeros((2, self._n_in, self._n_out), dtype=np.uint8)
        self._out_new = np.zeros((self._n_out, P), dtype=np.float32)
        self._out_old = np.zeros((self._n_out, P), dtype=np.float32)
        self._acc_re = aligned_zeros((self._n_out, self._stride))
        self._acc_im = aligned_zeros((self._n_out, self._stride))
        self._rows = np.zeros(self._K, dtype=np.intp)
        self._cur = 0
        self._store_filters(h, 0)
        self.reset()

    cdef _store_filters(self, h, Py_ssize_t slot):
        """Transform the partitions of ``h`` (float32, validated) into filter set ``slot``."""
        P, K, N = self._P, self._K, 2 * self._P
        padded = np.zeros((self._n_in, self._n_out, K * P), dtype=np.float64)
        padded[:, :, : self._n_taps] = h
        # Design-time transform in float64 (numpy), scaled by 1/N for the unscaled inverse.
        spectra = np.fft.rfft(padded.reshape(self._n_in, self._n_out, K, P), n=N, axis=-1) / N
        np.asarray(self._h)[slot] = strip_layout(spectra, self._stride)
        np.asarray(self._mask)[slot] = np.any(h != 0.0, axis=-1)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _output_block(self, Py_ssize_t slot, float[:, ::1] dest) noexcept nogil:
        """dest[o] = last P samples of IFFT(sum_i sum_k X_i[head - k] H_io[k]) for every o."""
        cdef Py_ssize_t o, i, k, idx
        cdef bint any_path
        for k in range(self._K):
            idx = self._head - k
            if idx < 0:
                idx = idx + self._K
            self._rows[k] = idx
        # All outputs' spectra at once, register-blocked over strips of bins (_spectrum_mac.h);
        # the sum runs over i, then k, for each bin, as in a one-path-at-a-time loop.
        spectrum_mac(&self._acc_re[0, 0], &self._acc_im[0, 0], &self._fdl_re[0, 0, 0],
                     &self._fdl_im[0, 0, 0], &self._h[slot, 0], &self._mask[slot, 0, 0],
                     &self._rows[0], self._n_in, self._n_out, self._K, self._B, self._stride)
        for o in range(self._n_out):
            any_path = False
            for i in range(self._n_in):
                if self._mask[slot, i, o]:
                    any_path = True
            if any_path:
                self._plan.inverse_tail(&self._acc_re[o, 0], &self._acc_im[o, 0], &dest[o, 0])
                _flush_block(&dest[o, 0], self._P)
            else:
                memset(&dest[o, 0], 0, self._P * sizeof(float))

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _next_partition(self) noexcept nogil:
        """Push the completed input partition into the FDL and compute the next output block."""
        cdef Py_ssize_t i, P = self._P
        self._head += 1
        if self._head == self._K:
            self._head = 0
        for i in range(self._n_in):
            self._plan.forward(&self._inbuf[i, 0], &self._fdl_re[i, self._head, 0],
                               &self._fdl_im[i, self._head, 0])
            memcpy(&self._inbuf[i, 0], &self._inbuf[i, P], P * sizeof(float))
        self._output_block(self._cur, self._out_new)
        if self._fading:
            self._output_block(1 - self._cur, self._out_old)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _run(self, const float* x, float* out, Py_ssize_t n) noexcept nogil:
        """Stream ``n`` samples of C-contiguous (num_inputs, n) ``x`` into (num_outputs, n)
        ``out`` (raw pointers: a typed memoryview costs ~1 µs per call, much of a short block)."""
        cdef Py_ssize_t t = 0, m, i, o, q, step
        cdef Py_ssize_t P = self._P
        cdef double w, inv
        while t < n:
            m = P - self._pos
            if n - t < m:
                m = n - t
            # Inputs first, so ``out`` may be ``x`` itself.
            for i in range(self._n_in):
                memcpy(&self._inbuf[i, P + self._pos], x + i * n + t, m * sizeof(float))
            for o in range(self._n_out):
                memcpy(out + o * n + t, &self._out_new[o, self._pos], m * sizeof(float))
            if self._fading:
                # Raised-cosine ramp w = (1 - cos(pi (j + 1) / (L + 1))) / 2 for the j-th
                # output sample after set_filters, j < L: exactly L samples are mixtures, then
                # the new set alone. Its slope is continuous at both ends, so a crossfade of a
                # tone leaves no broadband residue (a linear ramp's corners do).
                step = self._fade_len - self._fade_pos
                if step > m:
                    step = m
                inv = 1.0 / (self._fade_len + 1)
                for o in range(self._n_out):
                    for q in range(step):
                        w = 0.5 - 0.5 * cos(M_PI * (self._fade_pos + q + 1) * inv)
                        out[o * n + t + q] = <float>(
                            (1.0 - w) * self._out_old[o, self._pos + q]
                            + w * self._out_new[o, self._pos + q]
                        )
                self._fade_pos += step
                if self._fade_pos >= self._fade_len:
                    self._fading = False
            self._pos += m
            t += m
            if self._pos == P:
                self._pos = 0
                self._next_partition()

    def process_into(self, x, out) -> None:
        """Convolve ``x`` and write the outputs into ``out`` (the allocation-free hot path).

        Parameters
        ----------
        x : numpy.ndarray [shape=(num_inputs, n), dtype=float32]
            C-contiguous input block, any ``n >= 0`` (may be read-only).
        out : numpy.ndarray [shape=(num_outputs, n), dtype=float32]
            C-contiguous, writable; receives ``y[:, t - latency_samples]``. May be ``x`` itself
            when the channel counts match, otherwise must not overlap it.
        """
        check_audio(x, "x", self._n_in)
        check_out(out, "out", self._n_out, x.shape[1], x)
        if x.shape[1] == 0:
            return
        # Validated above: float32, C-contiguous, the right shapes.
        cdef const float* xp = <const float*>cnp.PyArray_DATA(x)
        cdef float* op = <float*>cnp.PyArray_DATA(out)
        cdef Py_ssize_t n = x.shape[1]
        cdef unsigned long fpu
        with nogil:
            # FTZ/DAZ for this call only: subnormal products in the FFTs and the
            # multiply-accumulate (a decaying tail, a very quiet input) cost ~100x otherwise.
            fpu = fpu_enter()
            self._run(xp, op, n)
            fpu_leave(fpu)

    def process(self, x):
        """Convolve ``x`` (num_inputs, n) and return a new float32 (num_outputs, n) array."""
        check_audio(x, "x", self._n_in)
        out = np.empty((self._n_out, x.shape[1]), dtype=np.float32)
        self.process_into(x, out)
        return out

    def set_filters(self, filters, Py_ssize_t crossfade_samples=0) -> None:
        """Switch to new filters between blocks, crossfading the outputs (raised cosine).

        The j-th output sample after the call (j = 0, 1, …) is
        ``(1 - w_j) * y_old + w_j * y_new`` with
        ``w_j = (1 - cos(pi * (j + 1) / (crossfade_samples + 1))) / 2``
        for ``j < crossfade_samples`` and ``y_new`` afterwards, where ``y_old``/``y_new`` are the
        outputs of the old/new filters on the same input (both with the same latency). With
        0 the new filters apply from the next output sample. A crossfade still running when this
        is called is completed at once (its old filters are dropped) before the new one starts.

        Parameters
        ----------
        filters : array_like [shape=(num_inputs, num_outputs, num_taps)]
            Same shape as the constructor's; finite.
        crossfade_samples : int
            Length L >= 0 of the crossfade in output samples.
        """
        h = finite_array(filters, "filters", np.float32, 3, "(num_inputs, num_outputs, num_taps)")
        if h.shape != (self._n_in, self._n_out, self._n_taps):
            raise ParameterError(
                f"filters must keep shape ({self._n_in}, {self._n_out}, {self._n_taps}), got "
                f"{h.shape}; build a new PartitionedConvolver for another layout"
            )
        if crossfade_samples < 0:
            raise ParameterError(f"crossfade_samples must be >= 0, got {crossfade_samples}")
        new = 1 - self._cur
        self._store_filters(h, new)
        cdef unsigned long fpu
        with nogil:
            fpu = fpu_enter()
            self._fading = False
            if crossfade_samples > 0:
                memcpy(&self._out_old[0, 0], &self._out_new[0, 0],
                       self._n_out * self._P * sizeof(float))
                self._fading = True
                self._fade_pos = 0
                self._fade_len = crossfade_samples
            self._cur = new
            # Recompute the pending block with the new filters from the FDL, so that they
            # apply from the very next output sample.
            self._output_block(self._cur, self._out_new)
            fpu_leave(fpu)

    def reset(self) -> None:
        """Clear the input history and any pending crossfade (the filters are kept)."""
        np.asarray(self._inbuf)[...] = 0.0
        np.asarray(self._fdl_re)[...] = 0.0
        np.asarray(self._fdl_im)[...] = 0.0
        np.asarray(self._out_new)[...] = 0.0
        np.asarray(self._out_old)[...] = 0.0
        self._pos = 0
        self._head = 0
        self._fading = False
        self._fade_pos = 0
        self._fade_len = 0

    @property
    def num_inputs(self) -> int:
        """Number of input channels."""
        return self._n_in

    @property
    def num_outputs(self) -> int:
        """Number of output channels."""
        return self._n_out

    @property
    def num_taps(self) -> int:
        """FIR length of every path."""
        return self._n_taps

    @property
    def partition_size(self) -> int:
        """Partition size P in samples."""
        return self._P

    @property
    def latency_samples(self) -> int:
        """Delay of the output relative to the true convolution: P samples."""
        return self._P
