# cython: language_level=3
"""Adaptive stereo → L/R/Centre upmix: the coherent, centre-panned part of the mid, per band.

M = (L + R)/2 and S = (L - R)/2 are split into bands by a complementary cascade (band 1 is a
low-pass of the input, each next band a low-pass of what remains, the last band the remainder,
so the bands add up to the input exactly). Per band b, from one-pole averages P_ms = E[M_b S_b],
P_ss = E[S_b²], P_mm = E[M_b²]:

1. Projection (the seed's defining property): the part of M_b correlated with S_b is what
   panned (non-centre) sources contribute, γ_b = P_ms / (P_ss + 1e-4·P_mm + 1e-12), and the
   residual M_b - γ_b S_b is the part of M_b minimally correlated with S_b. A single source
   panned anywhere but the centre leaves no residual.
2. Coherence (Avendano & Jot 2004; the common-part least-squares gain of Faller 2006): of that
   residual only the part common to L and R is a centre. With P_lr = E[L_b R_b] = P_mm - P_ss,
   P_ll, P_rr = P_mm + P_ss ± 2 P_ms, the centre's power is estimated as P_lr above a
   coherence floor κ·sqrt(P_ll P_rr) (κ = 0.25: the spread of a correlation estimate over a
   40 ms window), and the residual is weighted by the Wiener gain

       w_b = clip((P_lr - κ·sqrt(P_ll·P_rr)) / ((1 - κ)·P_res), 0, 1),
       P_res = P_mm - γ_b P_ms  (the residual's power).

   Uncorrelated hard-left/hard-right instruments (P_lr ≈ 0), decorrelated ambience and a
   transient on one side over a steady source on the other (whose product with it averages to
   zero) give w ≈ 0 and stay in L', R' with their own polarity; a centred source gives w = 1.

    Ĉ = strength · Σ_b w_b (M_b - γ_b S_b),   L' = L - Ĉ,   R' = R - Ĉ

so L' + Ĉ = L always: the upmix is lossless when summed back. Zero latency (the estimates used
at sample n include sample n).

References: C. Avendano, J.-M. Jot, "A frequency-domain approach to multichannel upmix",
JAES 52(7/8), 2004; C. Faller, "Multiple-loudspeaker playback of stereo signals", JAES 54(11),
2006; J. Merimaa, M. Goodwin, J.-M. Jot, "Correlation-based ambience extraction from stereo
recordings", AES 123rd Convention, 2007.
"""

cimport cython
from libc.math cimport exp, sqrt

cimport numpy as cnp
import numpy as np
import scipy.signal

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, check_out, finite_array

from _dsp cimport flush_denormal

cnp.import_array()

__all__ = ["CentreExtractor"]


cdef double COHERENCE_FLOOR = 0.25

#: Most bands the kernel holds in its local state (the constructor checks).
cdef enum:
    MAX_BANDS = 16
    #: Samples per stretch of ``_upmix_block`` (see there).
    TIME_BLOCK = 32


cdef inline double _positive(double v) noexcept nogil:
    """max(v, 0) (0 for NaN, like fmax), written as a select so band loops vectorise."""
    return v if v > 0.0 else 0.0


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _upmix_block(
    const float* x, float* out, Py_ssize_t n, Py_ssize_t num_edges,
    const double[:, ::1] coef, double[:, ::1] filt, double[:, ::1] power,
    double alpha, double strength, float* gains, bint record,
) noexcept nogil:
    """One block. ``coef`` (num_edges, 5): b0 b1 b2 a1 a2 of each band-edge low-pass;
    ``filt`` (num_edges, 4): TDF-II state z1, z2 for M then for S; ``power`` (num_bands, 3):
    P_ms, P_ss, P_mm. Estimates used at sample n include sample n. ``x`` (2, n) and ``out``
    (3, n) are C-contiguous float32. With ``record``, ``gains`` (num_bands, 2, n), C-contiguous,
    receives γ_b and w_b per sample.

    The state lives in local arrays for the block, which runs in stretches of TIME_BLOCK
    samples, each in three passes: (1) the recursions — the band split edge by edge, then the
    power averages of all bands (one loop the compiler vectorises across bands) — saving every
    sample's band signals and averages; (2) the gains γ_b, w_b and the centre share of every
    band and sample, free of dependences, so the divisions and square roots run vectorised at
    their throughput instead of one sample's latency chain after another; (3) per sample, the
    centre summed over the bands in order. Every value is computed by the same IEEE operations
    as sample by sample, so the output does not depend on the grouping."""
    cdef Py_ssize_t t, t0, u, tn, e, b, k
    cdef Py_ssize_t num_bands = num_edges + 1
    cdef double left, right, m, s, rm, rs, bm, bs, proj, c, g
    cdef double p_lr, p_ll, p_rr, p_res, floor_, w
    cdef double kappa = COHERENCE_FLOOR
    cdef double b0[MAX_BANDS]
    cdef double b1[MAX_BANDS]
    cdef double b2[MAX_BANDS]
    cdef double a1[MAX_BANDS]
    cdef double a2[MAX_BANDS]
    cdef double zm1[MAX_BANDS]
    cdef double zm2[MAX_BANDS]
    cdef double zs1[MAX_BANDS]
    cdef double zs2[MAX_BANDS]
    cdef double pms[MAX_BANDS]
    cdef double pss[MAX_BANDS]
    cdef double pmm[MAX_BANDS]
    cdef double band_m[MAX_BANDS]
    cdef double band_s[MAX_BANDS]
    # per sample u of a stretch and band b, at [u * num_bands + b]
    cdef double st_ms[TIME_BLOCK * MAX_BANDS]
    cdef double st_ss[TIME_BLOCK * MAX_BANDS]
    cdef double st_mm[TIME_BLOCK * MAX_BANDS]
    cdef double st_m[TIME_BLOCK * MAX_BANDS]
    cdef double st_s[TIME_BLOCK * MAX_BANDS]
    cdef double st_gamma[TIME_BLOCK * MAX_BANDS]
    cdef double st_w[TIME_BLOCK * MAX_BANDS]
    cdef double st_centre[TIME_BLOCK * MAX_BANDS]
    for e in range(num_edges):
        b0[e] = coef[e, 0]
        b1[e] = coef[e, 1]
        b2[e] = coef[e, 2]
        a1[e] = coef[e, 3]
        a2[e] = coef[e, 4]
        zm1[e] = filt[e, 0]
        zm2[e] = filt[e, 1]
        zs1[e] = filt[e, 2]
        zs2[e] = filt[e, 3]
    for b in range(num_bands):
        pms[b] = power[b, 0]
        pss[b] = power[b, 1]
        pmm[b] = power[b, 2]
    t0 = 0
    while t0 < n:
        tn = n - t0
        if tn > TIME_BLOCK:
            tn = TIME_BLOCK
        # (1) the recursions
        for u in range(tn):
            left = x[t0 + u]
            right = x[n + t0 + u]
            m = 0.5 * (left + right)
            s = 0.5 * (left - right)
            rm = m
            rs = s
            for e in range(num_edges):
                # band e = LP_e(remainder), same transposed direct form II as BiquadCascade
                bm = b0[e] * rm + zm1[e]
                zm1[e] = flush_denormal(b1[e] * rm - a1[e] * bm + zm2[e])
                zm2[e] = flush_denormal(b2[e] * rm - a2[e] * bm)
                bs = b0[e] * rs + zs1[e]
                zs1[e] = flush_denormal(b1[e] * rs - a1[e] * bs + zs2[e])
                zs2[e] = flush_denormal(b2[e] * rs - a2[e] * bs)
                rm = rm - bm
                rs = rs - bs
                band_m[e] = bm
                band_s[e] = bs
            band_m[num_edges] = rm  # the last band is the remainder
            band_s[num_edges] = rs
            k = u * num_bands
            for b in range(num_bands):
                bm = band_m[b]
                bs = band_s[b]
                pms[b] = flush_denormal(pms[b] + alpha * (bm * bs - pms[b]))
                pss[b] = flush_denormal(pss[b] + alpha * (bs * bs - pss[b]))
                pmm[b] = flush_denormal(pmm[b] + alpha * (bm * bm - pmm[b]))
                st_ms[k + b] = pms[b]
                st_ss[k + b] = pss[b]
                st_mm[k + b] = pmm[b]
                st_m[k + b] = bm
                st_s[k + b] = bs
        # (2) gains and centre shares of every band and sample
        for k in range(tn * num_bands):
            g = st_ms[k] / (st_ss[k] + 1e-4 * st_mm[k] + 1e-12)
            # coherent share of the residual bm - γ bs (Wiener gain above a coherence floor)
            p_lr = st_mm[k] - st_ss[k]
            p_ll = st_mm[k] + st_ss[k] + 2.0 * st_ms[k]
            p_rr = st_mm[k] + st_ss[k] - 2.0 * st_ms[k]
            floor_ = kappa * sqrt(_positive(p_ll * p_rr))
            p_res = _positive(st_mm[k] - g * st_ms[k])
            w = (p_lr - floor_) / ((1.0 - kappa) * p_res + 1e-30)
            w = _positive(w)
            w = w if w < 1.0 else 1.0
            st_gamma[k] = g
            st_w[k] = w
            st_centre[k] = w * (st_m[k] - g * st_s[k])
        # (3) the centre, summed over the bands in order
        for u in range(tn):
            t = t0 + u
            k = u * num_bands
            proj = 0.0
            for b in range(num_bands):
                proj = proj + st_centre[k + b]
            if record:
                for b in range(num_bands):
                    gains[2 * b * n + t] = <float>st_gamma[k + b]
                    gains[(2 * b + 1) * n + t] = <float>st_w[k + b]
            c = strength * proj
            left = x[t]
            right = x[n + t]
            out[t] = <float>(left - c)
            out[n + t] = <float>(right - c)
            out[2 * n + t] = <float>c
        t0 += tn
    for e in range(num_edges):
        filt[e, 0] = zm1[e]
        filt[e, 1] = zm2[e]
        filt[e, 2] = zs1[e]
        filt[e, 3] = zs2[e]
    for b in range(num_bands):
        power[b, 0] = pms[b]
        power[b, 1] = pss[b]
        power[b, 2] = pmm[b]


cdef class CentreExtractor:
    """Stereo (L, R) → (L', R', C) adaptive centre extraction, zero latency.

    Parameters
    ----------
    band_edges_hz : array_like [shape=(num_bands - 1,)]
        Crossover frequencies in Hz, strictly increasing, in (0, sample_rate/2). Empty: one band.
    sample_rate : float
        Sample rate in Hz, > 0.
    time_constant_ms : float, default 40
        Time constant of the one-pole power averages in ms, > 0:
        ``alpha = 1 - exp(-1 / (time_constant_ms/1000 · sample_rate))``.
    strength : float, default 1
        Scale of the centre estimate in [0, 1] (0: C = 0 and L', R' = L, R).

    Notes
    -----
    Band-edge low-passes are 2nd-order Butterworth sections (``scipy.signal.butter``, designed
    here at construction). Arithmetic is float64 per sample; outputs are rounded to float32 at
    the end, so ``L' + C`` equals ``L`` to float32 rounding. Chunking gives bitwise the same
    output as one call; the state is float64 and flushed from subnormals.
    """

    cdef double[:, ::1] _coef
    cdef double[:, ::1] _filt
    cdef double[:, ::1] _power
    cdef Py_ssize_t _num_edges
    cdef double _alpha, _strength, _sample_rate, _time_constant_ms
    cdef object _edges
    cdef object _no_gains

    def __init__(self, band_edges_hz, double sample_rate, double time_constant_ms=40.0,
                 double strength=1.0):
        if not (sample_rate > 0 and np.isfinite(sample_rate)):
            raise ParameterError(f"sample_rate must be a finite number > 0 Hz, got {sample_rate}")
        if not (time_constant_ms > 0 and np.isfinite(time_constant_ms)):
            raise ParameterError(f"time_constant_ms must be > 0, got {time_constant_ms}")
        edges = finite_array(band_edges_hz, "band_edges_hz", np.float64, 1, "(num_bands - 1,)")
        if np.any(edges <= 0) or np.any(edges >= sample_rate / 2):
            raise ParameterError(
                f"band_edges_hz must lie in (0, sample_rate/2 = {sample_rate / 2} Hz), got "
                f"{edges.tolist()}"
            )
        if np.any(np.diff(edges) <= 0):
            raise ParameterError(f"band_edges_hz must be strictly increasing, got {edges.tolist()}")
        if edges.size >= MAX_BANDS:
            raise ParameterError(f"band_edges_hz holds at most {MAX_BANDS - 1} edges, got {edges.size}")
        self._edges = edges
        self._num_edges = edges.size
        self._sample_rate = sample_rate
        self._time_constant_ms = time_constant_ms
        self._alpha = 1.0 - exp(-1.0 / (time_constant_ms * 1e-3 * sample_rate))
        self.strength = strength
        coef = np.zeros((max(self._num_edges, 1), 5))
        for e, edge in enumerate(edges):
            sos = scipy.signal.butter(2, edge, btype="lowpass", fs=sample_rate, output="sos")[0]
            coef[e] = sos[[0, 1, 2, 4, 5]] / sos[3]
        self._coef = coef
        self._filt = np.zeros((max(self._num_edges, 1), 4))
        self._power = np.zeros((self._num_edges + 1, 3))
        self._no_gains = np.zeros((1, 2, 1), np.float32)

    def process_into(self, x, out, gains=None) -> None:
        """Upmix ``x`` (2, n) float32 L, R into ``out`` (3, n) float32 L', R', C.

        ``out`` must be C-contiguous, writable and must not overlap ``x``. ``gains``, if given,
        a C-contiguous float32 array (num_bands, 2, n), receives each band's projection γ_b
        and centre gain w_b per sample (to apply the same time-varying upmix to stems).
        """
        check_audio(x, "x", 2)
        check_out(out, "out", 3, x.shape[1])
        # Both validated C-contiguous: they overlap exactly when their byte ranges do.
        cdef char* xp = <char*>cnp.PyArray_DATA(x)
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        if xp < op + cnp.PyArray_NBYTES(out) and op < xp + cnp.PyArray_NBYTES(x):
            raise ParameterError("out overlaps x; CentreExtractor needs a separate output array")
        cdef Py_ssize_t n = x.shape[1]
        if n == 0:
            return
        cdef bint record = gains is not None
        if record:
            if not (isinstance(gains, np.ndarray) and gains.dtype == np.float32 and gains.flags.c_contiguous
                    and gains.flags.writeable and gains.shape == (self._num_edges + 1, 2, x.shape[1])):
                raise ParameterError(
                    f"gains must be a writable C-contiguous float32 array of shape "
                    f"{(self._num_edges + 1, 2, x.shape[1])}, got {getattr(gains, 'shape', type(gains))}")
        else:
            gains = self._no_gains
        cdef float* gp = <float*>cnp.PyArray_DATA(gains)
        with nogil:
            _upmix_block(<const float*>xp, <float*>op, n, self._num_edges, self._coef, self._filt,
                         self._power, self._alpha, self._strength, gp, record)

    def process(self, x):
        """Upmix ``x`` (2, n) and return a new float32 (3, n) array: L', R', C."""
        check_audio(x, "x", 2)
        out = np.empty((3, x.shape[1]), dtype=np.float32)
        self.process_into(x, out)
        return out

    def reset(self) -> None:
        """Clear the band-split state and the power estimates."""
        np.asarray(self._filt)[...] = 0.0
        np.asarray(self._power)[...] = 0.0

    @property
    def strength(self) -> float:
        """Scale of the centre estimate in [0, 1]; may be changed between blocks."""
        return self._strength

    @strength.setter
    def strength(self, value) -> None:
        value = float(value)
        if not (0.0 <= value <= 1.0):
            raise ParameterError(f"strength must lie in [0, 1], got {value}")
        self._strength = value

    @property
    def num_bands(self) -> int:
        """Number of bands (len(band_edges_hz) + 1)."""
        return self._num_edges + 1

    @property
    def band_edges_hz(self):
        """Band edges in Hz (a copy)."""
        return self._edges.copy()

    @property
    def sample_rate(self) -> float:
        """Sample rate in Hz."""
        return self._sample_rate

    @property
    def latency_samples(self) -> int:
        """0: the estimate for sample n uses samples up to n."""
        return 0
