# cython: language_level=3
"""Data layout and timing of the partitioned convolver's spectrum multiply-accumulate.

The kernel itself is C (``_spectrum_mac.h``, declared in ``_spectrum_mac.pxd``): for each strip
of 8 bins, groups of up to 4 outputs accumulate in registers over every (input, partition) term,
summed over inputs, then partitions, as a one-path-at-a-time loop does. This module builds the
filter-spectrum layout it reads (``strip_layout``), the cache-line aligned buffers
(``aligned_zeros``) and times it against that one-path loop (``spectrum_mac_seconds``, for
``benchmarks/kernels.py``). Reference: Wefers, "Partitioned convolution algorithms for real-time
auralization", PhD thesis, RWTH Aachen, 2015 (UPOLS, frequency-domain delay line).
"""

cimport cython
from libc.string cimport memset

import numpy as np

from _spectrum_mac cimport MAC_MAX_GROUP, MAC_STRIP, spectrum_mac

__all__ = ["aligned_zeros", "output_groups", "strip_layout", "spectrum_mac_seconds"]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _mac_one_path(
    float* acc_re, float* acc_im, const float* x_re, const float* x_im,
    const float* h_re, const float* h_im, Py_ssize_t num_bins,
) noexcept nogil:
    """acc += X · H over ``num_bins`` complex bins, in real arithmetic: the straightforward
    loop, one (input, partition) term at a time, the accumulator loaded and stored for each.
    Only ``spectrum_mac_seconds`` runs it, as the reference of the register-blocked kernel."""
    cdef Py_ssize_t b
    for b in range(num_bins):
        acc_re[b] += x_re[b] * h_re[b] - x_im[b] * h_im[b]
        acc_im[b] += x_re[b] * h_im[b] + x_im[b] * h_re[b]


def aligned_zeros(shape, Py_ssize_t alignment=64):
    """A C-contiguous float32 array of zeros whose data start on an ``alignment``-byte boundary
    (a cache line): the multiply-accumulate's 32-byte loads then never straddle two lines, which
    costs up to twice the time with numpy's default 16-byte alignment."""
    count = int(np.prod(shape))
    raw = np.zeros(count + alignment // 4, dtype=np.float32)
    offset = (-raw.ctypes.data % alignment) // 4
    return raw[offset : offset + count].reshape(shape)


def output_groups(Py_ssize_t num_outputs):
    """Sizes of the groups of consecutive outputs the multiply-accumulate accumulates together
    (``soundstage_mac_group_size`` in ``_spectrum_mac.h``): ceil(n / 4) groups, sizes as equal
    as possible (5 outputs: 3 + 2)."""
    groups = (num_outputs + MAC_MAX_GROUP - 1) // MAC_MAX_GROUP
    return [num_outputs // groups + (1 if g < num_outputs % groups else 0) for g in range(groups)]


def strip_layout(spectra, Py_ssize_t row_stride):
    """The filter spectra ``(num_inputs, num_outputs, K, bins)`` (complex) in the order the
    register-blocked multiply-accumulate reads them (``_spectrum_mac.h``): a flat, 64-byte
    aligned float32 array ``[strip][output group][input][partition][output in group][re 0..7,
    im 0..7]``, bins zero-padded to ``row_stride`` (a multiple of the strip width)."""
    n_in, n_out, K, bins = spectra.shape
    strips = row_stride // MAC_STRIP
    parts = np.zeros((n_in, n_out, K, 2, row_stride), dtype=np.float32)
    parts[:, :, :, 0, :bins] = spectra.real
    parts[:, :, :, 1, :bins] = spectra.imag
    parts = parts.reshape(n_in, n_out, K, 2, strips, MAC_STRIP)
    blocks, first = [], 0
    for size in output_groups(n_out):
        group = parts[:, first : first + size]  # (in, G, K, 2, strips, 8)
        blocks.append(group.transpose(4, 0, 2, 1, 3, 5).reshape(strips, -1))
        first += size
    flat = aligned_zeros((parts.size,))
    flat.reshape(strips, -1)[...] = np.concatenate(blocks, axis=1)
    return flat


def spectrum_mac_seconds(Py_ssize_t num_inputs, Py_ssize_t num_outputs, Py_ssize_t num_partitions,
                         Py_ssize_t partition_size, Py_ssize_t repeats=200):
    """(register-blocked, one path at a time) seconds for the multiply-accumulate of one output
    block of a dense ``num_inputs`` × ``num_outputs`` FIR matrix of ``num_partitions``
    partitions of ``partition_size`` (``partition_size + 1`` bins), on random spectra: the
    benchmark's figure for the convolver's spectrum products (benchmarks/kernels.py). The two
    give bitwise the same sums (checked)."""
    import time

    cdef Py_ssize_t n_in = num_inputs, n_out = num_outputs, K = num_partitions
    cdef Py_ssize_t bins = partition_size + 1
    cdef Py_ssize_t stride = (bins + MAC_STRIP - 1) // MAC_STRIP * MAC_STRIP
    rng = np.random.default_rng(0)
    spectra = (rng.standard_normal((n_in, n_out, K, bins))
               + 1j * rng.standard_normal((n_in, n_out, K, bins))).astype(np.complex64)
    fdl_re, fdl_im = aligned_zeros((n_in, K, stride)), aligned_zeros((n_in, K, stride))
    fdl_re[...] = rng.standard_normal(fdl_re.shape)
    fdl_im[...] = rng.standard_normal(fdl_im.shape)
    cdef float[::1] h = strip_layout(spectra, stride)
    cdef float[:, :, :, ::1] h_re = np.ascontiguousarray(spectra.real)
    cdef float[:, :, :, ::1] h_im = np.ascontiguousarray(spectra.imag)
    cdef float[:, :, ::1] x_re = fdl_re
    cdef float[:, :, ::1] x_im = fdl_im
    cdef unsigned char[:, ::1] mask = np.ones((n_in, n_out), dtype=np.uint8)
    cdef Py_ssize_t[::1] rows = np.arange(K, dtype=np.intp)[::-1].copy()
    blocked = aligned_zeros((2, n_out, stride))
    naive = np.zeros((2, n_out, stride), dtype=np.float32)
    cdef float[:, :, ::1] b = blocked, a = naive
    cdef Py_ssize_t r, o, i, k
    start = time.perf_counter()
    with nogil:
        for r in range(repeats):
            spectrum_mac(&b[0, 0, 0], &b[1, 0, 0], &x_re[0, 0, 0], &x_im[0, 0, 0], &h[0],
                         &mask[0, 0], &rows[0], n_in, n_out, K, bins, stride)
    blocked_s = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    with nogil:
        for r in range(repeats):
            for o in range(n_out):
                memset(&a[0, o, 0], 0, bins * sizeof(float))
                memset(&a[1, o, 0], 0, bins * sizeof(float))
                for i in range(n_in):
                    for k in range(K):
                        _mac_one_path(&a[0, o, 0], &a[1, o, 0], &x_re[i, rows[k], 0], &x_im[i, rows[k], 0],
                                      &h_re[i, o, k, 0], &h_im[i, o, k, 0], bins)
    naive_s = (time.perf_counter() - start) / repeats
    if not np.array_equal(blocked[:, :, :bins], naive[:, :, :bins]):
        raise AssertionError("register-blocked and one-path multiply-accumulate differ")
    return blocked_s, naive_s
