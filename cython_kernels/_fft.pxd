# cython: language_level=3
"""soundstage's own real FFT, inline C-level code usable inside ``nogil`` blocks.

A radix-2 decimation-in-time complex FFT on split (real, imaginary) float32 arrays, with the
length-N real transform computed as a length-M = N/2 complex one (the "half-length trick":
Oppenheim & Schafer, Discrete-Time Signal Processing, 3rd ed., §9.3 problem 9.54 and
Sorensen et al., IEEE TASSP 35(6), 1987). Twiddles and the bit-reversal permutation are
precomputed in float64 by ``fft_tables`` in ``convolver.pyx`` and stored as float32.

Table layout for a complex size M (a power of two, M >= 4):
    rev[n]            bit reversal of n over log2(M) bits, n < M
    tw_re/tw_im[h+j]  exp(-2πi j / (2h)) for each stage half-size h = 4, 8, …, M/2, j < h
    rt_re/rt_im[k]    exp(-2πi k / N), N = 2M, k <= M (real-transform post-/pre-processing)
"""

cimport cython


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void complex_fft(
    float* re, float* im, Py_ssize_t M, const float* tw_re, const float* tw_im
) noexcept nogil:
    """In-place forward DFT (sign -1, unscaled) of bit-reversed input; natural-order output."""
    cdef Py_ssize_t g, j, h, a, b
    cdef float t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i, wr, wi, xr, xi, yr, yi
    # Stages h = 1 and h = 2 together as one radix-4 pass: twiddles 1 and -i, no multiplies.
    for g in range(0, M, 4):
        t0r = re[g] + re[g + 1]
        t0i = im[g] + im[g + 1]
        t1r = re[g] - re[g + 1]
        t1i = im[g] - im[g + 1]
        t2r = re[g + 2] + re[g + 3]
        t2i = im[g + 2] + im[g + 3]
        t3r = re[g + 2] - re[g + 3]
        t3i = im[g + 2] - im[g + 3]
        re[g] = t0r + t2r
        im[g] = t0i + t2i
        re[g + 2] = t0r - t2r
        im[g + 2] = t0i - t2i
        # (-i)·t3 = t3i - i·t3r
        re[g + 1] = t1r + t3i
        im[g + 1] = t1i - t3r
        re[g + 3] = t1r - t3i
        im[g + 3] = t1i + t3r
    # Remaining radix-2 stages; the inner loop runs over contiguous butterflies and twiddles.
    h = 4
    while h < M:
        g = 0
        while g < M:
            for j in range(h):
                a = g + j
                b = a + h
                wr = tw_re[h + j]
                wi = tw_im[h + j]
                xr = re[b] * wr - im[b] * wi
                xi = re[b] * wi + im[b] * wr
                yr = re[a]
                yi = im[a]
                re[a] = yr + xr
                im[a] = yi + xi
                re[b] = yr - xr
                im[b] = yi - xi
            g += 2 * h
        h *= 2


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
    cdef Py_ssize_t n, k
    cdef float zkr, zki, zmr, zmi, er, ei, o_r, oi, c, s
    for n in range(M):
        work_re[rev[n]] = x[2 * n]
        work_im[rev[n]] = x[2 * n + 1]
    complex_fft(work_re, work_im, M, tw_re, tw_im)
    out_re[0] = work_re[0] + work_im[0]
    out_im[0] = 0.0
    out_re[M] = work_re[0] - work_im[0]
    out_im[M] = 0.0
    for k in range(1, M):
        zkr = work_re[k]
        zki = work_im[k]
        zmr = work_re[M - k]
        zmi = work_im[M - k]
        er = 0.5 * (zkr + zmr)
        ei = 0.5 * (zki - zmi)
        o_r = 0.5 * (zki + zmi)
        oi = 0.5 * (zmr - zkr)
        c = rt_re[k]
        s = rt_im[k]
        out_re[k] = er + c * o_r - s * oi
        out_im[k] = ei + c * oi + s * o_r


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void real_ifft_tail(
    const float* y_re, const float* y_im, float* out, Py_ssize_t M,
    float* work_re, float* work_im, const Py_ssize_t* rev,
    const float* tw_re, const float* tw_im, const float* rt_re, const float* rt_im,
) noexcept nogil:
    """Inverse DFT of the Hermitian bins 0..M, scaled by N = 2M; writes only samples M..2M-1.

    Undoes ``real_fft``: E[k] = Y[k] + Y*[M-k], O[k] = (Y[k] - Y*[M-k]) W^-k (both 2× the
    true values), Z[k] = E[k] + i O[k]; the unscaled inverse complex FFT of Z is computed by the
    forward one with real and imaginary parts swapped (IDFT(z) = swap(DFT(swap(z)))), and
    y[2n] = Re z[n], y[2n+1] = Im z[n]. Overall gain N: fold 1/N into the filter spectra.
    Only the last M samples are written (overlap-save keeps those).
    """
    cdef Py_ssize_t n, k
    cdef float ykr, yki, ymr, ymi, er, ei, dr, di, o_r, oi, c, s
    for k in range(M):
        ykr = y_re[k]
        yki = y_im[k]
        ymr = y_re[M - k]
        ymi = y_im[M - k]
        er = ykr + ymr
        ei = yki - ymi
        dr = ykr - ymr
        di = yki + ymi
        c = rt_re[k]
        s = rt_im[k]
        o_r = dr * c + di * s
        oi = di * c - dr * s
        # swapped layout: the "real" work array holds Im Z, the "imaginary" one Re Z
        work_re[rev[k]] = ei + o_r
        work_im[rev[k]] = er - oi
    complex_fft(work_re, work_im, M, tw_re, tw_im)
    for n in range(M // 2, M):
        out[2 * n - M] = work_im[n]
        out[2 * n + 1 - M] = work_re[n]
