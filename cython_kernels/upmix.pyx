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

    Ĉ = strength · Σ_b (a_b M_b + c_b S_b),   a_b = w_b,  c_b = -w_b γ_b,
    L' = L - Ĉ,   R' = R - Ĉ

so L' + Ĉ = L always: the upmix is lossless when summed back. Zero latency.

The averages move slowly (40 ms), so the gains are evaluated every GAIN_HOP = 16 samples
(0.33 ms at 48 kHz) on a grid counted from the last reset, not per sample: the one-pole average
sampled every K samples is P(k+1) = β^K P(k) + Σ_j α β^(K-1-j) x_j (β = 1 - α), accumulated
sample by sample with fixed weights, and the coefficients a_b, c_b used in hop k+1 move
linearly from the gains of grid point k-1 to those of grid point k (reached at the hop's last
sample). The divisions and the square root run once per band per hop; the per-sample work is
the band split, three products and weighted sums per band, and the weighted band sum.

References: C. Avendano, J.-M. Jot, "A frequency-domain approach to multichannel upmix",
JAES 52(7/8), 2004; C. Faller, "Multiple-loudspeaker playback of stereo signals", JAES 54(11),
2006; J. Merimaa, M. Goodwin, J.-M. Jot, "Correlation-based ambience extraction from stereo
recordings", AES 123rd Convention, 2007.
"""

cimport cython
from libc.math cimport cos, exp, sqrt, M_PI
from libc.string cimport memcmp, memcpy, memset

cimport numpy as cnp
import functools

import numpy as np
import scipy.signal

from soundstage._errors import ParameterError
from soundstage._kernels._checks import check_audio, finite_array

from _fpu cimport fpu_enter, fpu_leave

cdef extern from "_upmix_simd.h" nogil:
    void band_split "soundstage_band_split" (double (*coef)[5], double (*hist)[8], const float* x, Py_ssize_t x_stride,
                                             Py_ssize_t t0, Py_ssize_t m, double* rows, Py_ssize_t num_edges,
                                             Py_ssize_t lanes, Py_ssize_t phase, Py_ssize_t hop)
    void upmix_gains "soundstage_upmix_gains" (
        Py_ssize_t lanes, double* acc_ms, double* acc_sq, double* p_ms, double* p_mm, double* p_ss,
        double* coef_start, double* coef_slope, double decay, double kappa)
    void upmix_mix "soundstage_upmix_mix" (
        const double* rows, Py_ssize_t m, Py_ssize_t lanes, double* acc_ms, double* acc_sq,
        const double* coef_start, const double* coef_slope, const double* weight, const double* position,
        Py_ssize_t phase, double* parts)
    void upmix_write "soundstage_upmix_write" (
        const double* parts, Py_ssize_t m, const float* x, Py_ssize_t x_stride, float* out, Py_ssize_t out_stride,
        Py_ssize_t t0,
        double strength, double ramp_start, double ramp_end, double ramp_length, double ramp_elapsed)

cnp.import_array()

__all__ = ["CentreExtractor", "GAIN_HOP_SAMPLES"]


cdef double COHERENCE_FLOOR = 0.25

cdef enum:
    #: Most bands the kernel holds (the constructor checks).
    MAX_BANDS = 16
    #: Samples between two evaluations of the gains (the grid counts from the last reset).
    GAIN_HOP = 16
    #: Samples band-split per pass (a multiple of GAIN_HOP).
    SPLIT_CHUNK = 128

#: Samples between two evaluations of the per-band gains.
GAIN_HOP_SAMPLES = GAIN_HOP


cdef struct UpmixState:
    # band split: per edge b0 b1 b2 a1 a2, and the direct-form-I history of M and S side by side
    # (x1[M], x1[S], x2[M], x2[S], y1[M], y1[S], y2[M], y2[S])
    double coef[MAX_BANDS][5]
    double hist[MAX_BANDS][8]
    # per lane k = 2b (M_b) and 2b + 1 (S_b): weighted sums over the hop so far of the products
    # M_b S_b (both lanes) and of the squares, and the coefficients of M_b and S_b (start of the
    # hop and slope to its end); per band: the averages at the last grid point
    double acc_ms[2 * MAX_BANDS]
    double acc_sq[2 * MAX_BANDS]
    double coef_start[2 * MAX_BANDS]
    double coef_slope[2 * MAX_BANDS]
    double p_ms[MAX_BANDS]
    double p_mm[MAX_BANDS]
    double p_ss[MAX_BANDS]
    # α β^(K-1-j) for sample j of a hop, (j + 1)/K, β^K
    double weight[GAIN_HOP]
    double position[GAIN_HOP]
    double decay
    Py_ssize_t phase  # samples of the current hop already taken


cdef struct Ramp:
    # strength at sample t of the call: start + (end - start)(1 - cos(π min((t0 + t + 1)/(length + 1), 1)))/2,
    # or the constant ``strength`` when length < 0
    double start, end, length, t0, strength


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef inline void _run(UpmixState* st, const float* x, Py_ssize_t x_stride, float* out, Py_ssize_t out_stride,
                      Py_ssize_t n, Ramp* ramp, float* gains,
                      bint record, const Py_ssize_t num_edges, const Py_ssize_t lanes) noexcept nogil:
    """The whole call: the band split SPLIT_CHUNK samples at a time (state flushed at each grid
    point), then hop by hop the mix and, at each grid point, the gains (``num_edges`` and
    ``lanes`` are constants where inlined)."""
    cdef double rows[SPLIT_CHUNK * 2 * MAX_BANDS]  # band signals, M_b S_b interleaved per sample
    cdef double parts[SPLIT_CHUNK * 4]  # per sample, the centre's four partial sums
    cdef Py_ssize_t pairs = 2 * lanes
    cdef Py_ssize_t t0 = 0, m, h, v, u, k
    cdef double tj
    while t0 < n:
        m = n - t0 if n - t0 < SPLIT_CHUNK else SPLIT_CHUNK
        band_split(st.coef, st.hist, x, x_stride, t0, m, rows, num_edges, lanes, st.phase, GAIN_HOP)
        v = 0
        while v < m:
            h = GAIN_HOP - st.phase
            if h > m - v:
                h = m - v
            upmix_mix(rows + v * pairs, h, lanes, st.acc_ms, st.acc_sq, st.coef_start, st.coef_slope,
                      st.weight, st.position, st.phase, parts + 4 * v)
            if record:
                for u in range(h):
                    tj = st.position[st.phase + u]
                    for k in range(2 * (num_edges + 1)):
                        gains[k * n + t0 + v + u] = <float>(st.coef_start[k] + tj * st.coef_slope[k])
            st.phase += h
            if st.phase == GAIN_HOP:
                upmix_gains(lanes if lanes > 4 else 4, st.acc_ms, st.acc_sq, st.p_ms, st.p_mm, st.p_ss,
                            st.coef_start, st.coef_slope, st.decay, COHERENCE_FLOOR)
                st.phase = 0
            v += h
        upmix_write(parts, m, x, x_stride, out, out_stride, t0, ramp.strength, ramp.start, ramp.end, ramp.length, ramp.t0)
        t0 += m


cdef Py_ssize_t _row_stride(a, str name, Py_ssize_t channels, bint writable) except -1:
    """Floats between consecutive rows of the float32 (channels, n) array ``a``, whose rows must
    each be contiguous (C-contiguous arrays and column slices of them); anything else gets the
    shared checks' error for a non-C-contiguous or ill-typed array."""
    if (cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT32
            and cnp.PyArray_NDIM(<cnp.ndarray>a) == 2 and cnp.PyArray_DIM(<cnp.ndarray>a, 0) == channels
            and (not writable or cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a))):
        if cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
            return cnp.PyArray_DIM(<cnp.ndarray>a, 1)
        if (cnp.PyArray_STRIDE(<cnp.ndarray>a, 1) == sizeof(float)
                and cnp.PyArray_STRIDE(<cnp.ndarray>a, 0) % sizeof(float) == 0
                and cnp.PyArray_STRIDE(<cnp.ndarray>a, 0) >= cnp.PyArray_DIM(<cnp.ndarray>a, 1) * <Py_ssize_t>sizeof(float)):
            return cnp.PyArray_STRIDE(<cnp.ndarray>a, 0) // sizeof(float)
    if writable and isinstance(a, np.ndarray) and not a.flags.writeable:
        raise ParameterError(f"{name} is read-only; the kernel writes into it, pass a writable array")
    check_audio(a, name, channels, writable)  # raises the shared error
    raise ParameterError(f"{name} must have contiguous rows, got strides {a.strides}")


cdef void _dispatch(UpmixState* st, const float* x, Py_ssize_t x_stride, float* out, Py_ssize_t out_stride,
                    Py_ssize_t n, Ramp* ramp, float* gains,
                    bint record, Py_ssize_t num_edges) noexcept nogil:
    """Specialise ``_run`` for the band counts in use (the loops unroll and vectorise)."""
    if num_edges == 3:
        _run(st, x, x_stride, out, out_stride, n, ramp, gains, record, 3, 4)
    elif num_edges == 0:
        _run(st, x, x_stride, out, out_stride, n, ramp, gains, record, 0, 2)
    elif num_edges == 1:
        _run(st, x, x_stride, out, out_stride, n, ramp, gains, record, 1, 2)
    elif num_edges == 2:
        _run(st, x, x_stride, out, out_stride, n, ramp, gains, record, 2, 4)
    elif num_edges < 8:
        _run(st, x, x_stride, out, out_stride, n, ramp, gains, record, num_edges, 8)
    else:
        _run(st, x, x_stride, out, out_stride, n, ramp, gains, record, num_edges, 16)


@functools.lru_cache(maxsize=256)
def _butter_lowpass_sos(double edge_hz, double sample_rate):
    """The 2nd-order Butterworth low-pass section at ``edge_hz`` (``scipy.signal.butter``, ≈ 0.5
    ms a call: cached, since every processor built for a preset designs the same edges)."""
    sos = scipy.signal.butter(2, edge_hz, btype="lowpass", fs=sample_rate, output="sos")[0]
    sos.setflags(write=False)
    return sos


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
    here at construction), run in direct form I. Arithmetic is float64; outputs are rounded to
    float32 at the end, so ``L' + C`` equals ``L`` to float32 rounding. The gains are evaluated
    every :data:`GAIN_HOP_SAMPLES` samples on a grid counted from the last reset and
    interpolated linearly in between, so chunking gives bitwise the same output as one call.
    Each call runs with flush-to-zero / denormals-are-zero set (restored afterwards), and the
    state is flushed from the denormal range at every grid point, so silence reaches exact zero.
    """

    cdef UpmixState _st
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
        memset(&self._st, 0, sizeof(UpmixState))
        cdef Py_ssize_t e, j
        for e, edge in enumerate(edges):
            sos = _butter_lowpass_sos(edge, sample_rate)
            for j, k in enumerate((0, 1, 2, 4, 5)):
                self._st.coef[e][j] = sos[k] / sos[3]
        cdef double beta = 1.0 - self._alpha
        for j in range(GAIN_HOP):
            self._st.weight[j] = self._alpha * beta ** (GAIN_HOP - 1 - j)
            self._st.position[j] = (j + 1.0) / GAIN_HOP
        self._st.decay = beta ** GAIN_HOP
        self._no_gains = np.zeros((1, 2, 1), np.float32)

    def process_into(self, x, out, gains=None, strength_ramp=None) -> None:
        """Upmix ``x`` (2, n) float32 L, R into ``out`` (3, n) float32 L', R', C.

        Each row of ``x`` and of ``out`` must be contiguous; the rows may lie any distance apart
        (a column slice of a C-contiguous array, such as ``stereo[:, a:b]``, is taken as it is,
        without a copy). ``out`` must be writable and must not overlap ``x``. ``gains``, if given,
        a C-contiguous float32 array (num_bands, 2, n), receives each band's coefficients
        a_b = w_b and c_b = -w_b γ_b per sample, so that C = strength · Σ_b a_b M_b + c_b S_b
        (to apply the same time-varying upmix to stems).

        ``strength_ramp = (start, end, length, elapsed)`` moves the strength along a raised
        cosine instead of holding :attr:`strength`: sample t of this call uses
        ``start + (end - start)·(1 - cos(π·min((elapsed + t + 1)/(length + 1), 1)))/2``
        (``length`` ≥ 0 samples, ``elapsed`` ≥ 0 samples of the ramp before this call;
        ``start``, ``end`` in [0, 1]). The caller advances ``elapsed`` and sets
        :attr:`strength` to ``end`` when the ramp is over.
        """
        cdef Py_ssize_t x_stride = _row_stride(x, "x", 2, False)
        cdef Py_ssize_t out_stride = _row_stride(out, "out", 3, True)
        if out.shape[1] != x.shape[1]:
            raise ParameterError(f"out must have {x.shape[1]} samples to match the input, got shape {out.shape}")
        # The byte ranges the rows span (conservative for rows that interleave with the other's)
        cdef char* xp = <char*>cnp.PyArray_DATA(x)
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        cdef Py_ssize_t x_span = (x_stride + x.shape[1]) * sizeof(float)
        cdef Py_ssize_t out_span = (2 * out_stride + x.shape[1]) * sizeof(float)
        if xp < op + out_span and op < xp + x_span:
            raise ParameterError("out overlaps x; CentreExtractor needs a separate output array")
        cdef Ramp ramp
        ramp.strength = self._strength
        ramp.start = ramp.end = ramp.t0 = 0.0
        ramp.length = -1.0
        if strength_ramp is not None:
            ramp.start, ramp.end, ramp.length, ramp.t0 = self._checked_ramp(strength_ramp)
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
        cdef unsigned long fpu
        with nogil:
            fpu = fpu_enter()
            _dispatch(&self._st, <const float*>xp, x_stride, <float*>op, out_stride, n, &ramp, gp, record,
                      self._num_edges)
            fpu_leave(fpu)

    @staticmethod
    def _checked_ramp(strength_ramp):
        try:
            start, end, length, elapsed = (float(v) for v in strength_ramp)
        except (TypeError, ValueError):
            raise ParameterError(f"strength_ramp must be (start, end, length, elapsed), got {strength_ramp!r}") from None
        if not (0.0 <= start <= 1.0 and 0.0 <= end <= 1.0 and length >= 0.0 and elapsed >= 0.0):
            raise ParameterError(f"strength_ramp needs start, end in [0, 1] and length, elapsed >= 0, "
                                 f"got {strength_ramp!r}")
        return start, end, length, elapsed

    def process(self, x):
        """Upmix ``x`` (2, n) and return a new float32 (3, n) array: L', R', C."""
        check_audio(x, "x", 2)
        out = np.empty((3, x.shape[1]), dtype=np.float32)
        self.process_into(x, out)
        return out

    def copy(self) -> "CentreExtractor":
        """A new extractor with the same parameters, strength and state: both continue bitwise
        alike on the same input."""
        cdef CentreExtractor twin = CentreExtractor.__new__(CentreExtractor)  # (validated once, here)
        memcpy(&twin._st, &self._st, sizeof(UpmixState))
        twin._num_edges, twin._edges, twin._no_gains = self._num_edges, self._edges, self._no_gains
        twin._alpha, twin._strength = self._alpha, self._strength
        twin._sample_rate, twin._time_constant_ms = self._sample_rate, self._time_constant_ms
        return twin

    def state_equals(self, CentreExtractor other not None) -> bool:
        """True if ``other`` has the same parameters and bit for bit the same state (filters,
        averages, gains, grid phase): from here on both give bitwise the same output for the same
        input. The state of two extractors that upmixed the same recent input from different
        starting points becomes equal once the start is forgotten (flushed to the same bits),
        typically within a few dozen time constants."""
        return (self._same_parameters(other) and self._strength == other._strength
                and memcmp(&self._st, &other._st, sizeof(UpmixState)) == 0)

    def take_state(self, CentreExtractor other not None) -> None:
        """Continue from ``other``'s state (an extractor of the same parameters)."""
        if not self._same_parameters(other):
            raise ParameterError("take_state needs an extractor of the same band edges, sample rate and time constant")
        memcpy(&self._st, &other._st, sizeof(UpmixState))

    cdef bint _same_parameters(self, CentreExtractor other):
        return (self._sample_rate == other._sample_rate and self._time_constant_ms == other._time_constant_ms
                and np.array_equal(self._edges, other._edges))

    def reset(self) -> None:
        """Clear the band-split state, the power estimates and the gains; the gain grid restarts."""
        memset(self._st.hist, 0, sizeof(self._st.hist))
        memset(self._st.acc_ms, 0, sizeof(self._st.acc_ms))
        memset(self._st.acc_sq, 0, sizeof(self._st.acc_sq))
        memset(self._st.coef_start, 0, sizeof(self._st.coef_start))
        memset(self._st.coef_slope, 0, sizeof(self._st.coef_slope))
        memset(self._st.p_ms, 0, sizeof(self._st.p_ms))
        memset(self._st.p_mm, 0, sizeof(self._st.p_mm))
        memset(self._st.p_ss, 0, sizeof(self._st.p_ss))
        self._st.phase = 0

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
    def time_constant_ms(self) -> float:
        """Time constant of the power averages in ms."""
        return self._time_constant_ms

    @property
    def latency_samples(self) -> int:
        """0: the output at sample n uses samples up to n."""
        return 0
