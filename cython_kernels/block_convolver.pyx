# cython: language_level=3
"""MIMO overlap-save FFT convolution in independent blocks, for offline (one-shot) rendering.

Each output block of ``hop = N - num_taps + 1`` samples is the tail of one circular convolution
of length N (a power of two): the forward transform of the N input samples that end with the
block, times every path's filter spectrum, summed over inputs, inverse transformed (Stockham,
"High-speed convolution and correlation", AFIPS 1966, overlap-save; one partition, so K = 1 in
the terms of Wefers, "Partitioned convolution algorithms for real-time auralization", RWTH
Aachen 2015). Nothing is carried from block to block: any range of blocks can be computed on
its own, in any thread, in any order, and gives bitwise the same samples.

Where :class:`~soundstage._kernels.PartitionedConvolver` needs small partitions for its latency,
a one-shot call has the whole input at hand, so one large transform per ``hop`` samples does
the work (about ``(num_inputs + num_outputs) · N log N / hop`` per sample plus one
multiply-accumulate per path and bin) without the frequency-domain delay line.
"""

cimport cython
from libc.string cimport memcpy, memset

cimport numpy as cnp
import numpy as np

from soundstage._errors import ParameterError
from soundstage._kernels._checks import finite_array

from _dsp cimport flush_denormal_float
from _fft cimport inverse_to_work, real_fft
from _fpu cimport fpu_enter, fpu_leave
from _spectrum_mac cimport MAC_STRIP, spectrum_mac
from soundstage._kernels.convolver import fft_tables
from soundstage._kernels.spectrum_mac import aligned_zeros, strip_layout

cnp.import_array()

cdef extern from *:
    # C99 restrict: the accumulator never aliases the spectra, so the bin loops vectorise
    ctypedef float* float_ptr_r "float * __restrict__"
    ctypedef const float* const_float_ptr_r "const float * __restrict__"

__all__ = ["BlockConvolver", "default_fft_size"]

cdef enum:
    _WORK_PAD = 256  # floats between the transform's real and imaginary work arrays


def default_fft_size(Py_ssize_t num_taps):
    """The transform size N used unless one is given: the smallest power of two >= 4 ·
    num_taps (at least 256), doubled once while that stays <= 16384, so each block yields at
    least three quarters of N new samples, and seven eighths up to 16384 points.

    Measured for the studio speaker's 3×5×1920 matrix (benchmarks/kernels.py
    ``--offline-blocks-only``, depth-first FFT): 4096 costs ≈ 1.4×, 16384 ≈ 0.93–0.95× and
    32768 ≈ 1.0× what 8192 costs per sample; the transforms dominate (≈ 75 %), and their cost
    per output sample falls while ``hop / N`` grows faster than ``log N``, until the
    transform's data (N floats per channel) leave the core's L2.
    """
    n = 256
    while n < 4 * num_taps:
        n *= 2
    return 2 * n if 2 * n <= 16384 else n


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _inverse_tail_into(
    const float* y_re, const float* y_im, float_ptr_r dest, Py_ssize_t first, Py_ssize_t count,
    Py_ssize_t M, float* merged, float_ptr_r work_re, float_ptr_r work_im, const Py_ssize_t* rev,
    const float* tw_re, const float* tw_im, const float* rt_re, const float* rt_im,
) noexcept nogil:
    """dest[j] = sample ``first + j`` (j < count, first + count <= N = 2M) of the inverse DFT of
    Hermitian bins 0..M, scaled by N, flushed below 1e-30 (``flush_denormal_float``).

    The transform (``inverse_to_work``) leaves the window in its work arrays; the wanted samples
    are read straight out of them (y[2n] = Im w[n], y[2n+1] = Re w[n]), with no copy of the
    whole window."""
    cdef Py_ssize_t n, j = 0, s = first, stop = first + count
    inverse_to_work(y_re, y_im, M, merged, work_re, work_im, rev, tw_re, tw_im, rt_re, rt_im)
    if s < stop and s % 2:
        dest[0] = flush_denormal_float(work_re[s // 2])
        j = 1
        s += 1
    # s is even now: pairs of samples (Im w[n], Re w[n]) for n = s/2 … while both are wanted
    for n in range(s // 2, stop // 2):
        dest[j + 2 * (n - s // 2)] = flush_denormal_float(work_im[n])
        dest[j + 2 * (n - s // 2) + 1] = flush_denormal_float(work_re[n])
    if stop % 2 and stop - 1 >= s:
        dest[count - 1] = flush_denormal_float(work_im[stop // 2])


cdef class BlockConvolver:
    """MIMO FIR convolution by overlap-save in independent blocks (offline, GIL released).

    ``y[o] = sum_i filters[i, o] * x[i]`` (linear convolution, no latency). The caller gives the
    input padded with ``num_taps - 1`` samples of history in front (zeros at the start of a
    signal) and zeros behind (see :meth:`padded_length`); block ``b`` then writes output samples
    ``[b·hop, (b + 1)·hop)`` from input samples ``[b·hop, b·hop + fft_size)`` of the padded
    array and nothing else, so block ranges may run on several threads at once.

    Parameters
    ----------
    filters : array_like [shape=(num_inputs, num_outputs, num_taps)]
        FIR taps of every path, converted to float32; finite. All-zero paths are skipped.
    fft_size : int, keyword, optional
        N, a power of two with N >= 2 · num_taps and 256 <= N <= 2**20; default
        :func:`default_fft_size`. The hop is ``N - num_taps + 1``.

    Notes
    -----
    * Same FFT as the streaming convolver (``_fft.pxd``, float32 data, float64-derived tables),
      filter spectra transformed in float64 and scaled by 1/N; agreement with
      ``scipy.signal.oaconvolve`` ≈ 1e-7 of the output's RMS.
    * Each call runs with flush-to-zero / denormals-are-zero set (restored afterwards), and
      output samples below 1e-30 are set to exactly 0, as in ``PartitionedConvolver``: a silent
      input gives exact silence and subnormal input costs what noise costs.
    * Scratch (one input window's spectra, the accumulator, the transform work arrays) is
      allocated by the first calls only: each running call holds one set, kept for the next.

    Examples
    --------
    >>> import numpy as np, scipy.signal
    >>> h = np.random.default_rng(0).standard_normal((2, 3, 100)).astype(np.float32)
    >>> x = np.random.default_rng(1).standard_normal((2, 1000)).astype(np.float32)
    >>> conv = BlockConvolver(h)
    >>> padded = np.zeros((2, conv.padded_length(1000)), np.float32)
    >>> padded[:, conv.num_taps - 1:conv.num_taps - 1 + 1000] = x
    >>> y = np.empty((3, 1000), np.float32)
    >>> conv.convolve_into(padded, y, 0, conv.num_blocks(1000))
    >>> ref = sum(scipy.signal.oaconvolve(x[i], h[i, 0])[:1000] for i in range(2))
    >>> bool(np.allclose(y[0], ref, atol=1e-4))
    True
    """

    cdef Py_ssize_t _n_in, _n_out, _n_taps, _N, _M, _B, _hop, _stride
    cdef float[::1] _h                    # filter spectra scaled 1/N, in strip_layout order
    cdef unsigned char[:, ::1] _mask      # (n_in, n_out): path is non-zero
    cdef unsigned char[::1] _live         # (n_out,): output has a non-zero path
    cdef Py_ssize_t[::1] _rows            # (1,): the MAC's ring row (one partition: row 0)
    cdef Py_ssize_t[::1] _rev
    cdef float[::1] _tw_re, _tw_im, _rt_re, _rt_im
    cdef list _scratch_sets               # idle scratch sets, one taken per running call

    def __init__(self, filters, *, fft_size=None):
        h = finite_array(filters, "filters", np.float32, 3, "(num_inputs, num_outputs, num_taps)")
        if min(h.shape) < 1:
            raise ParameterError(f"filters must have every dimension >= 1, got shape {h.shape}")
        self._n_in, self._n_out, self._n_taps = h.shape
        N = default_fft_size(self._n_taps) if fft_size is None else fft_size
        if (not isinstance(N, (int, np.integer)) or N < 256 or N > 2 ** 20 or N & (N - 1)
                or N < 2 * self._n_taps):
            raise ParameterError(
                f"fft_size must be a power of two in [256, 2**20] and >= 2 * num_taps "
                f"({2 * self._n_taps}), got {fft_size!r}")
        self._N = N
        self._M = N // 2
        self._B = self._M + 1
        self._hop = N - self._n_taps + 1
        self._rev, self._tw_re, self._tw_im, self._rt_re, self._rt_im = fft_tables(self._M)
        # Design-time transform in float64 (numpy), scaled by 1/N for the unscaled inverse.
        spectra = np.fft.rfft(np.asarray(h, dtype=np.float64), n=N, axis=-1) / N
        self._stride = (self._B + MAC_STRIP - 1) // MAC_STRIP * MAC_STRIP
        self._h = strip_layout(spectra[:, :, None, :], self._stride)
        mask = np.any(h != 0.0, axis=-1)
        self._mask = np.ascontiguousarray(mask, dtype=np.uint8)
        self._live = np.ascontiguousarray(mask.any(axis=0), dtype=np.uint8)
        self._rows = np.zeros(1, dtype=np.intp)
        self._scratch_sets = []

    @property
    def num_inputs(self) -> int:
        return self._n_in

    @property
    def num_outputs(self) -> int:
        return self._n_out

    @property
    def num_taps(self) -> int:
        return self._n_taps

    @property
    def fft_size(self) -> int:
        """N, the transform length."""
        return self._N

    @property
    def hop(self) -> int:
        """Output samples per block: ``fft_size - num_taps + 1``."""
        return self._hop

    def num_blocks(self, Py_ssize_t num_samples) -> int:
        """Blocks that cover ``num_samples`` output samples."""
        return (num_samples + self._hop - 1) // self._hop

    def padded_length(self, Py_ssize_t num_samples) -> int:
        """Length of the padded input for ``num_samples`` outputs: ``num_taps - 1`` history
        samples, the input, zeros up to the end of the last block's window."""
        return self.num_blocks(num_samples) * self._hop + self._n_taps - 1

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _blocks(self, const float* x, Py_ssize_t x_len, float* out, Py_ssize_t out_len,
                      Py_ssize_t first, Py_ssize_t stop, float* x_re, float* x_im,
                      float* acc_re, float* acc_im, float* time, float* work_re,
                      float* work_im) noexcept nogil:
        cdef Py_ssize_t b, i, o, start, count, S = self._stride, N = self._N, hop = self._hop
        for b in range(first, stop):
            start = b * hop
            count = out_len - start
            if count > hop:
                count = hop
            # Spectra of this block's input window, one row of S bins per input.
            for i in range(self._n_in):
                real_fft(x + i * x_len + start, x_re + i * S, x_im + i * S, self._M, work_re,
                         work_im, &self._rev[0], &self._tw_re[0], &self._tw_im[0],
                         &self._rt_re[0], &self._rt_im[0])
            # Y_o = sum_i X_i H_io for every output at once, register-blocked over strips of 8
            # bins (_spectrum_mac.h, one partition): the inputs summed in registers in the
            # order i = 0, 1, … and each output strip stored once; the same order in every
            # block, whatever thread computes it.
            spectrum_mac(acc_re, acc_im, x_re, x_im, &self._h[0], &self._mask[0, 0],
                         &self._rows[0], self._n_in, self._n_out, 1, self._B, S)
            for o in range(self._n_out):
                if not self._live[o]:
                    memset(out + o * out_len + start, 0, count * sizeof(float))
                    continue
                # Overlap-save: the last hop samples of the window are the linear convolution.
                _inverse_tail_into(acc_re + o * S, acc_im + o * S, out + o * out_len + start,
                                   N - hop, count, self._M, time, work_re, work_im,
                                   &self._rev[0], &self._tw_re[0], &self._tw_im[0],
                                   &self._rt_re[0], &self._rt_im[0])

    def convolve_into(self, x_padded, out, Py_ssize_t first_block, Py_ssize_t stop_block) -> None:
        """Compute blocks ``first_block`` … ``stop_block - 1`` into ``out`` (GIL released).

        Parameters
        ----------
        x_padded : numpy.ndarray [shape=(num_inputs, m), dtype=float32, C-contiguous]
            The input with ``num_taps - 1`` samples before output sample 0 (history or zeros)
            and at least up to the last block's window: ``m >= stop_block · hop + num_taps - 1``.
        out : numpy.ndarray [shape=(num_outputs, n), dtype=float32, C-contiguous]
            Receives samples ``[first_block · hop, min(stop_block · hop, n))`` of every output;
            the rest is not touched. Must not overlap ``x_padded``.
        first_block, stop_block : int
            0 <= first_block <= stop_block <= num_blocks(n).
        """
        if (not isinstance(x_padded, np.ndarray) or x_padded.dtype != np.float32 or x_padded.ndim != 2
                or not x_padded.flags.c_contiguous or x_padded.shape[0] != self._n_in):
            raise ParameterError(f"x_padded must be a C-contiguous float32 array of shape "
                                 f"({self._n_in}, m), got {getattr(x_padded, 'shape', type(x_padded))}")
        if (not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.ndim != 2
                or not out.flags.c_contiguous or not out.flags.writeable or out.shape[0] != self._n_out):
            raise ParameterError(f"out must be a writable C-contiguous float32 array of shape "
                                 f"({self._n_out}, n), got {getattr(out, 'shape', type(out))}")
        cdef Py_ssize_t n = out.shape[1], m = x_padded.shape[1]
        if not (0 <= first_block <= stop_block <= self.num_blocks(n)):
            raise ParameterError(f"blocks [{first_block}, {stop_block}) are outside [0, "
                                 f"{self.num_blocks(n)}] for {n} output samples")
        if stop_block > first_block and m < (stop_block - 1) * self._hop + self._N:
            raise ParameterError(f"x_padded has {m} samples; blocks up to {stop_block} need "
                                 f"{(stop_block - 1) * self._hop + self._N}")
        cdef const char* xb = <const char*>cnp.PyArray_DATA(x_padded)
        cdef const char* ob = <const char*>cnp.PyArray_DATA(out)
        # Both validated C-contiguous: they overlap exactly when their byte ranges do.
        if xb < ob + cnp.PyArray_NBYTES(out) and ob < xb + cnp.PyArray_NBYTES(x_padded):
            raise ParameterError("out must not overlap x_padded")
        if stop_block == first_block:
            return
        # A call takes an idle scratch set (list.pop and append are atomic under the GIL, so two
        # threads never share one) and gives it back: no allocation after the first calls.
        try:
            x_spectra, scratch, time, work = scratch_set = self._scratch_sets.pop()
        except IndexError:
            x_spectra, scratch, time, work = scratch_set = self._new_scratch()
        cdef float[:, :, ::1] xs = x_spectra, acc = scratch
        cdef float[::1] tm = time, wk = work
        cdef const float* xp = <const float*>cnp.PyArray_DATA(x_padded)
        cdef float* op = <float*>cnp.PyArray_DATA(out)
        cdef unsigned long fpu
        with nogil:
            fpu = fpu_enter()
            self._blocks(xp, m, op, n, first_block, stop_block, &xs[0, 0, 0], &xs[1, 0, 0],
                         &acc[0, 0, 0], &acc[1, 0, 0], &tm[0], &wk[0], &wk[self._M + _WORK_PAD])
            fpu_leave(fpu)
        self._scratch_sets.append(scratch_set)

    def _new_scratch(self):
        """One call's scratch: an input window's spectra, the accumulator, the transform's work.

        Cache-line aligned (the MAC's 8-bin loads never straddle two lines); the transform's
        imaginary work array starts _WORK_PAD floats after the real one ends, so the two never
        map to the same L1 sets at power-of-two strides. The spectra's padding bins past M stay
        zero: nothing writes them."""
        return (aligned_zeros((2, self._n_in, self._stride)), aligned_zeros((2, self._n_out, self._stride)),
                aligned_zeros((self._N,)), aligned_zeros((2 * self._M + _WORK_PAD,)))
