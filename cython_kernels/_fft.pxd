# cython: language_level=3
"""soundstage's own real FFT, inline C-level code usable inside ``nogil`` blocks.

A decimation-in-time complex FFT on split (real, imaginary) float32 arrays — the first two
stages as one twiddle-free radix-4 pass, the others two at a time (radix-4 passes over four
contiguous runs, which the compiler vectorises) but for one radix-2 stage where their number
is odd; the stages that stay within 1024 or 2048 points run depth-first, block by block in L1
(the lone radix-2 stage among them), and the bit-reversal permutation and the first pass are
gathered per block (``complex_fft_gather``) — with the
length-N real transform computed as a length-M = N/2 complex one (the "half-length trick":
Sorensen, Jones, Heideman & Burrus, "Real-valued fast Fourier transform algorithms",
IEEE TASSP 35(6), 1987). Twiddles and the bit-reversal permutation are
precomputed in float64 by ``fft_tables`` in ``convolver.pyx`` and stored as float32.

Table layout for a complex size M (a power of two, M >= 4):
    rev[n]            bit reversal of n over log2(M) bits, n < M
    tw_re/tw_im[h+j]  exp(-2πi j / (2h)) for each stage half-size h = 4, 8, …, M/2, j < h
    rt_re/rt_im[k]    exp(-2πi k / N), N = 2M, k <= M (real-transform post-/pre-processing)
"""

cimport cython

cdef extern from *:
    # C99 restrict: lets the compiler vectorise butterflies that update arrays in place
    ctypedef float* float_ptr_r "float * __restrict__"
    ctypedef const float* const_float_ptr_r "const float * __restrict__"


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _butterflies(
    float_ptr_r ar, float_ptr_r ai, float_ptr_r br, float_ptr_r bi,
    const_float_ptr_r wr, const_float_ptr_r wi, Py_ssize_t h,
) noexcept nogil:
    """h radix-2 DIT butterflies: (a, b) <- (a + w b, a - w b); the four runs never overlap."""
    cdef Py_ssize_t j
    cdef float xr, xi, yr, yi
    for j in range(h):
        xr = br[j] * wr[j] - bi[j] * wi[j]
        xi = br[j] * wi[j] + bi[j] * wr[j]
        yr = ar[j]
        yi = ai[j]
        ar[j] = yr + xr
        ai[j] = yi + xi
        br[j] = yr - xr
        bi[j] = yi - xi


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _butterflies_radix4(
    float_ptr_r ar, float_ptr_r ai, float_ptr_r br, float_ptr_r bi,
    float_ptr_r cr, float_ptr_r ci, float_ptr_r dr, float_ptr_r di,
    const_float_ptr_r w1r, const_float_ptr_r w1i, const_float_ptr_r w2r, const_float_ptr_r w2i,
    Py_ssize_t h,
) noexcept nogil:
    """Two radix-2 DIT stages (half-sizes h and 2h) in one pass over four runs of h points.

    Stage h pairs (a, b) and (c, d) with twiddle w1 = exp(-2πi j / 2h); stage 2h pairs (a', c')
    with w2 = exp(-2πi j / 4h) and (b', d') with exp(-2πi (j + h) / 4h) = -i·w2. The data are
    loaded and stored once instead of twice."""
    cdef Py_ssize_t j
    cdef float xr, xi, yr, yi, a1r, a1i, b1r, b1i, c1r, c1i, d1r, d1i, ur, ui, vr, vi
    for j in range(h):
        # stage h
        xr = br[j] * w1r[j] - bi[j] * w1i[j]
        xi = br[j] * w1i[j] + bi[j] * w1r[j]
        a1r = ar[j] + xr
        a1i = ai[j] + xi
        b1r = ar[j] - xr
        b1i = ai[j] - xi
        yr = dr[j] * w1r[j] - di[j] * w1i[j]
        yi = dr[j] * w1i[j] + di[j] * w1r[j]
        c1r = cr[j] + yr
        c1i = ci[j] + yi
        d1r = cr[j] - yr
        d1i = ci[j] - yi
        # stage 2h
        ur = c1r * w2r[j] - c1i * w2i[j]
        ui = c1r * w2i[j] + c1i * w2r[j]
        vr = d1r * w2r[j] - d1i * w2i[j]
        vi = d1r * w2i[j] + d1i * w2r[j]
        ar[j] = a1r + ur
        ai[j] = a1i + ui
        cr[j] = a1r - ur
        ci[j] = a1i - ui
        # (-i)·v = vi - i·vr
        br[j] = b1r + vi
        bi[j] = b1i - vr
        dr[j] = b1r - vi
        di[j] = b1i + vr


# Complex points per depth-first block at most (16 KiB of split float32 data): the stages whose
# butterflies stay inside such a block run block by block while it sits in L1.
cdef enum:
    _DEPTH_FIRST_POINTS = 2048
    _DEPTH_FIRST_GROUPS = 512  # its first radix-4 pass's groups of four points


cdef inline Py_ssize_t _depth_first_block(Py_ssize_t M) noexcept nogil:
    """B, the depth-first block size for an M-point transform: M itself up to 2048 points;
    beyond, 1024 or 2048, whichever leaves an even number of stages (half-sizes B … M/2) to run
    breadth-first, so that they pair into radix-4 passes and no lone radix-2 pass streams the
    whole transform through L2 once more (a lone stage runs inside the blocks instead)."""
    cdef Py_ssize_t stages = 0, m = M
    if M <= _DEPTH_FIRST_POINTS:
        return M
    while m > 1:
        m //= 2
        stages += 1
    return 1024 if stages % 2 == 0 else 2048


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline Py_ssize_t _block_stages(float* re, float* im, Py_ssize_t block,
                                     const float* tw_re, const float* tw_im) noexcept nogil:
    """The stages of half-sizes 4 … block/2 inside one block whose first two stages are done: a
    radix-2 pass at half-size 4 if their number is odd, then radix-4 passes; returns ``block``
    (the first half-size left)."""
    cdef Py_ssize_t g, h = 4, stages = 0, m = block
    while m > 4:
        m //= 2
        stages += 1
    if stages % 2:
        g = 0
        while g < block:
            _butterflies(re + g, im + g, re + g + 4, im + g + 4, tw_re + 4, tw_im + 4, 4)
            g += 8
        h = 8
    return _radix4_stages(re, im, block, h, block, tw_re, tw_im)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _radix4_twiddle_free(
    float x0r, float x0i, float x1r, float x1i, float x2r, float x2i, float x3r, float x3i,
    float* re, float* im,
) noexcept nogil:
    """Stages h = 1 and h = 2 of one group of four points (twiddles 1 and -i, no multiplies)
    on the values x0 … x3 of positions 0 … 3, stored at re[0 … 3], im[0 … 3]."""
    cdef float t0r = x0r + x1r, t0i = x0i + x1i, t1r = x0r - x1r, t1i = x0i - x1i
    cdef float t2r = x2r + x3r, t2i = x2i + x3i, t3r = x2r - x3r, t3i = x2i - x3i
    re[0] = t0r + t2r
    im[0] = t0i + t2i
    re[2] = t0r - t2r
    im[2] = t0i - t2i
    # (-i)·t3 = t3i - i·t3r
    re[1] = t1r + t3i
    im[1] = t1i - t3r
    re[3] = t1r - t3i
    im[3] = t1i + t3r


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline Py_ssize_t _radix4_stages(
    float* re, float* im, Py_ssize_t M, Py_ssize_t h, Py_ssize_t stop,
    const float* tw_re, const float* tw_im,
) noexcept nogil:
    """The radix-4 passes of half-sizes h, 4h, … while their span 4h <= ``stop`` (over all M
    points); returns the first half-size not done."""
    cdef Py_ssize_t g
    while 4 * h <= stop:
        g = 0
        while g < M:
            _butterflies_radix4(re + g, im + g, re + g + h, im + g + h,
                                re + g + 2 * h, im + g + 2 * h, re + g + 3 * h, im + g + 3 * h,
                                tw_re + h, tw_im + h, tw_re + 2 * h, tw_im + 2 * h, h)
            g += 4 * h
        h *= 4
    return h


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _late_stages(
    float* re, float* im, Py_ssize_t M, Py_ssize_t h, const float* tw_re, const float* tw_im
) noexcept nogil:
    """The stages from half-size h on, breadth-first: radix-4 passes two stages at a time,
    then a last radix-2 stage when their number is odd; one contiguous run per group."""
    cdef Py_ssize_t g
    h = _radix4_stages(re, im, M, h, M, tw_re, tw_im)
    if h < M:
        g = 0
        while g < M:
            _butterflies(re + g, im + g, re + g + h, im + g + h, tw_re + h, tw_im + h, h)
            g += 2 * h


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void complex_fft_gather(
    const float* src_re, const float* src_im, Py_ssize_t step, float* re, float* im,
    Py_ssize_t M, const Py_ssize_t* rev, const float* tw_re, const float* tw_im,
) noexcept nogil:
    """Forward DFT (sign -1, unscaled) of z[n] = src_re[n·step] + i src_im[n·step], n < M, into
    ``re``/``im`` in natural order: decimation in time, with the bit-reversal permutation and
    the first radix-4 pass fused in.

    Depth-first block q of B = ``_depth_first_block(M)`` points holds, in bit-reversed
    order, the inputs n = r + Q·m (Q = M / B, m < B, r = rev[q] / B); position p of the block
    holds m = rev_B(p) (the bit reversal over log2 B bits, an involution). For m0 < B/4, the
    first-pass group of four positions starting at rev_B(m0) holds m0, m0 + B/2, m0 + B/4 and
    m0 + 3B/4 (the two low bits of the position reversed into the top two of m): the group's
    four inputs are read from four sequential runs of the source (m0 = 0, 1, …) and its
    twiddle-free radix-4 butterfly is stored there at once, so the first pass's own loads and
    stores are gone and the permutation's scattered writes become one per group. The same
    butterflies on the same values as a separate permutation followed by every stage in
    the plain order (each butterfly computes the same expression whatever the grouping)."""
    cdef Py_ssize_t q, j, g, n, h = 4, p
    cdef Py_ssize_t block = _depth_first_block(M)
    cdef Py_ssize_t Q = M // block
    cdef Py_ssize_t jump = Q * step  # source distance between consecutive m
    cdef Py_ssize_t half = (block // 2) * jump, quarter = (block // 4) * jump
    cdef int group_position[_DEPTH_FIRST_GROUPS]  # rev_B(m0), read once instead of once per block
    for j in range(block // 4):
        group_position[j] = <int>rev[j * Q]
    for q in range(Q):
        g = q * block
        p = (rev[q] // block) * step
        for j in range(block // 4):  # j = m0
            n = g + group_position[j]
            _radix4_twiddle_free(src_re[p], src_im[p], src_re[p + half], src_im[p + half],
                                 src_re[p + quarter], src_im[p + quarter],
                                 src_re[p + half + quarter], src_im[p + half + quarter], re + n, im + n)
            p += jump
        h = _block_stages(re + g, im + g, block, tw_re, tw_im)
    _late_stages(re, im, M, h, tw_re, tw_im)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void real_fft(
    const float* x, float* out_re, float* out_im, Py_ssize_t M,
    float* work_re, float* work_im, const Py_ssize_t* rev,
    const float* tw_re, const float* tw_im, const float* rt_re, const float* rt_im,
) noexcept nogil:
    """Forward DFT of real ``x`` (length N = 2M) into bins 0..M of ``out_re``/``out_im``.

    z[n] = x[2n] + i x[2n+1] is transformed by the M-point complex FFT; with E, O the DFTs of the
    even and odd samples, E[k] = (Z[k] + Z*[M-k]) / 2, O[k] = (Z[k] - Z*[M-k]) / 2i and
    X[k] = E[k] + W^k O[k], W = exp(-2πi/N).
    """
    complex_fft_gather(x, x + 1, 2, work_re, work_im, M, rev, tw_re, tw_im)
    out_re[0] = work_re[0] + work_im[0]
    out_im[0] = 0.0
    out_re[M] = work_re[0] - work_im[0]
    out_im[M] = 0.0
    _split_spectrum(work_re, work_im, out_re, out_im, rt_re, rt_im, M)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _split_spectrum(
    const_float_ptr_r zr, const_float_ptr_r zi, float_ptr_r out_re, float_ptr_r out_im,
    const_float_ptr_r c, const_float_ptr_r s, Py_ssize_t M,
) noexcept nogil:
    """X[k] = E[k] + W^k O[k] for 0 < k < M (see ``real_fft``); non-aliasing, so vectorised."""
    cdef Py_ssize_t k
    cdef float er, ei, o_r, oi
    for k in range(1, M):
        er = 0.5 * (zr[k] + zr[M - k])
        ei = 0.5 * (zi[k] - zi[M - k])
        o_r = 0.5 * (zi[k] + zi[M - k])
        oi = 0.5 * (zr[M - k] - zr[k])
        out_re[k] = er + c[k] * o_r - s[k] * oi
        out_im[k] = ei + c[k] * oi + s[k] * o_r


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _merge_spectrum(
    const_float_ptr_r yr, const_float_ptr_r yi, float_ptr_r z_swapped_re, float_ptr_r z_swapped_im,
    const_float_ptr_r c, const_float_ptr_r s, Py_ssize_t M,
) noexcept nogil:
    """Z[k] = E[k] + i O[k] for 0 <= k < M (see ``inverse_to_work``), natural order, stored
    swapped (Im Z in the first array, Re Z in the second) for the inverse-by-forward trick."""
    cdef Py_ssize_t k
    cdef float er, ei, dr, di
    for k in range(M):
        er = yr[k] + yr[M - k]
        ei = yi[k] - yi[M - k]
        dr = yr[k] - yr[M - k]
        di = yi[k] + yi[M - k]
        # O = D · conj(W^k): Re O = dr c + di s, Im O = di c - dr s
        z_swapped_re[k] = ei + (dr * c[k] + di * s[k])
        z_swapped_im[k] = er - (di * c[k] - dr * s[k])


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void inverse_to_work(
    const float* y_re, const float* y_im, Py_ssize_t M, float* merged, float* work_re, float* work_im,
    const Py_ssize_t* rev, const float* tw_re, const float* tw_im, const float* rt_re, const float* rt_im,
) noexcept nogil:
    """The inverse DFT of the Hermitian bins 0..M, scaled by N = 2M, left in the work arrays:
    sample y[2n] = ``work_im[n]``, y[2n+1] = ``work_re[n]``.

    Undoes ``real_fft``: E[k] = Y[k] + Y*[M-k], O[k] = (Y[k] - Y*[M-k]) W^-k (both 2× the
    true values), Z[k] = E[k] + i O[k] (into ``merged``, 2M floats, stored swapped); the
    unscaled inverse complex FFT of Z is the forward one with real and imaginary parts swapped
    (IDFT(z) = swap(DFT(swap(z)))), its bit reversal gathered from ``merged`` block by block
    (``complex_fft_gather``). Overall gain N: fold 1/N into the filter spectra."""
    _merge_spectrum(y_re, y_im, merged, merged + M, rt_re, rt_im, M)
    complex_fft_gather(merged, merged + M, 1, work_re, work_im, M, rev, tw_re, tw_im)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void real_ifft_tail(
    const float* y_re, const float* y_im, float* out, Py_ssize_t M, float* merged,
    float* work_re, float* work_im, const Py_ssize_t* rev,
    const float* tw_re, const float* tw_im, const float* rt_re, const float* rt_im,
) noexcept nogil:
    """Samples M..2M-1 of the inverse DFT of the Hermitian bins 0..M, scaled by N = 2M
    (``inverse_to_work``; overlap-save keeps those)."""
    cdef Py_ssize_t n
    inverse_to_work(y_re, y_im, M, merged, work_re, work_im, rev, tw_re, tw_im, rt_re, rt_im)
    for n in range(M // 2, M):
        out[2 * n - M] = work_im[n]
        out[2 * n + 1 - M] = work_re[n]
