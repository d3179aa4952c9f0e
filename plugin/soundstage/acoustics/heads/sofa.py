"""A measured head: head-related transfer functions from a SOFA (AES69) file.

Method
------
*Onsets.* Each HRIR's onset ``τ`` is the first time its envelope (the HRIR upsampled ×8) reaches
−20 dB re its peak, interpolated linearly between samples.

*Reference time and gain.* :meth:`SofaHead.response` is relative to the free-field pressure at
the head centre, so the file's own propagation is divided out: the *frontal* direction (the
measured direction nearest to +x) gives the centre's arrival time ``t₀`` as the mean onset of its
two ears (for a source ahead, each ear is reached when the head centre would be), and every HRTF
is multiplied by ``exp(+j2πf t₀)``. SOFA files seldom carry an absolute level (the MIT KEMAR
file is 8 dB below ``1/r₀`` even after multiplying by ``r₀``), so by default (``calibration=
"frontal"``) the gain is set so that the frontal HRTF averages 0 dB (rms over both ears) between
200 and 500 Hz, where a head is nearly transparent. ``calibration="distance"`` multiplies by the
measurement distance ``r₀`` instead, which is right for files in pressure re a unit-strength
point source.

*Lookup.* ``interpolation="nearest"`` uses the measured direction with the smallest great-circle
distance. ``interpolation="linear"`` combines up to three measured directions with barycentric
weights (the spherical triangle of the directions' convex hull that the source direction passes
through, as in vector-base amplitude panning); when all measured directions lie on one great
circle, the two neighbours on that circle with weights linear in angle. Directions are
interpolated *after onset alignment*: the complex HRTFs with their own onsets removed are
averaged, and the weighted mean onset is put back, so two arrivals never comb-filter.

*Frequencies and distance.* HRTFs are the exact DTFT of the (Data.Delay-applied) HRIRs at the
requested frequencies, also between and below the FFT bins (so :meth:`SofaHead.response` and
:meth:`SofaHead.impulse_responses` agree everywhere); above the file's Nyquist frequency the
response is zero. Whatever a file holds at low frequency is kept: the MIT KEMAR set, for one,
falls below ~150 Hz with its measurement loudspeaker. Measured HRTFs are
far-field data: only the source's direction is used, its distance is ignored.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Literal

import numpy as np
from scipy.signal import CZT, resample_poly
from scipy.spatial import ConvexHull, QhullError

from ..._errors import ParameterError, SofaError
from ..frame import SPEED_OF_SOUND_M_S
from .base import HeadModel, validate_frequencies, validate_positions
from .sofa_file import SofaData, read_sofa

__all__ = ["SofaHead", "SofaData", "read_sofa"]

#: Onset threshold re the HRIR's peak (dB) and the upsampling factor used to find it.
ONSET_THRESHOLD_DB = -20.0
ONSET_UPSAMPLING = 8
#: Band (Hz) over which ``calibration="frontal"`` makes the frontal HRTF 0 dB.
CALIBRATION_BAND_HZ = (200.0, 500.0)
#: Samples kept before the earliest onset by :meth:`SofaHead.impulse_responses`.
ONSET_MARGIN_SAMPLES = 8


def _onsets_s(ir: np.ndarray, sample_rate: float) -> np.ndarray:
    """Onset times (s) of HRIRs ``(..., N)``: first crossing of −20 dB re peak of the ×8 envelope."""
    up = np.abs(resample_poly(ir, ONSET_UPSAMPLING, 1, axis=-1))
    threshold = up.max(axis=-1, keepdims=True) * 10 ** (ONSET_THRESHOLD_DB / 20)
    first = np.argmax(up >= threshold, axis=-1)
    before = np.take_along_axis(up, np.maximum(first - 1, 0)[..., None], axis=-1)[..., 0]
    at = np.take_along_axis(up, first[..., None], axis=-1)[..., 0]
    th = threshold[..., 0]
    frac = np.where((first > 0) & (at > before), (th - before) / np.where(at > before, at - before, 1.0), 0.0)
    return (first - 1 + frac + (first == 0)) / (ONSET_UPSAMPLING * sample_rate)


def _dtft(ir: np.ndarray, frequencies_hz: np.ndarray, sample_rate: float) -> np.ndarray:
    """Exact DTFT of ``ir`` ``(K, N)`` at ``frequencies_hz`` ``(F,)`` → ``(K, F)`` complex.

    A grid uniformly spaced from its second point on goes through the chirp z-transform
    (:class:`scipy.signal.CZT`, O((N+F) log(N+F))); any other set of frequencies is evaluated
    directly in blocks.
    """
    f = np.asarray(frequencies_hz, dtype=float)
    n = ir.shape[-1]
    if f.size >= 64:
        step = np.diff(f[1:])
        if step[0] != 0 and np.allclose(step, step[0], rtol=1e-9, atol=0):
            # uniform from the second frequency on (an rFFT grid whose DC bin was moved is common)
            czt = CZT(n, f.size - 1, w=np.exp(-2j * np.pi * step[0] / sample_rate),
                      a=np.exp(2j * np.pi * f[1] / sample_rate))
            return np.concatenate([_dtft(ir, f[:1], sample_rate), czt(ir, axis=-1)], axis=-1)
    out = np.empty((ir.shape[0], f.size), dtype=complex)
    taps = np.arange(n)
    for start in range(0, f.size, 2048):
        block = f[start:start + 2048]
        out[:, start:start + block.size] = ir @ np.exp(-2j * np.pi * np.outer(taps, block / sample_rate))
    return out


class _DirectionWeights:
    """Nearest-neighbour and barycentric lookup weights on a set of measured directions."""

    def __init__(self, directions: np.ndarray):
        self.directions = directions
        self.triangles = None
        self.circle = None
        try:
            hull = ConvexHull(directions)
            vertices = directions[hull.simplices]  # (T, 3, 3): triangle, vertex, xyz
            # inverse of the 3x3 matrix with the triangle's vertices as columns
            self.inverse = np.linalg.inv(np.transpose(vertices, (0, 2, 1)))
            self.triangles = hull.simplices
        except (QhullError, np.linalg.LinAlgError, ValueError):
            # all directions on one great circle (or too few): interpolate along that circle
            _, _, vt = np.linalg.svd(directions)
            normal = vt[-1]
            e1 = directions[np.argmax(np.abs(directions @ vt[0]))]
            e1 = e1 - np.dot(e1, normal) * normal
            e1 /= np.linalg.norm(e1)
            self.circle = (e1, np.cross(normal, e1))
            self.angles = np.arctan2(directions @ self.circle[1], directions @ self.circle[0])

    def nearest(self, queries: np.ndarray) -> np.ndarray:
        """Index of the measured direction at the smallest great-circle distance, ``(Q,)``."""
        return np.argmax(queries @ self.directions.T, axis=-1)

    def linear(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices ``(Q, 3)`` and weights ``(Q, 3)`` (summing to 1) of the interpolation."""
        if self.triangles is not None:
            lam = np.einsum("tij,qj->qti", self.inverse, queries)  # (Q, T, 3)
            best = np.argmax(lam.min(axis=-1), axis=-1)  # the triangle the ray passes through
            w = np.clip(lam[np.arange(len(queries)), best], 0.0, None)
            return self.triangles[best], w / w.sum(axis=-1, keepdims=True)
        phi = np.arctan2(queries @ self.circle[1], queries @ self.circle[0])
        order = np.argsort(self.angles)
        a = self.angles[order]
        pos = np.searchsorted(a, phi) % len(a)  # first measured angle above phi (cyclic)
        lo, hi = order[(pos - 1) % len(a)], order[pos]
        span = np.mod(self.angles[hi] - self.angles[lo], 2 * np.pi)
        t = np.where(span > 0, np.mod(phi - self.angles[lo], 2 * np.pi) / np.where(span > 0, span, 1), 0.0)
        t = np.clip(t, 0.0, 1.0)
        idx = np.stack([lo, hi, hi], axis=-1)
        return idx, np.stack([1 - t, t, np.zeros_like(t)], axis=-1)


class SofaHead(HeadModel):
    """Measured HRTFs from a SOFA file (``SimpleFreeFieldHRIR``, ``SimpleFreeFieldHRTF``, ``GeneralFIR``).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.sofa`` file (read with :func:`read_sofa`).
    interpolation : {"nearest", "linear"}
        Direction lookup: nearest measured direction, or onset-aligned barycentric interpolation
        of up to three (see the module docstring).
    speed_of_sound_m_s : float
        Speed of sound in m/s (kept for the plant; the data fix the head's acoustics).
    calibration : {"frontal", "distance"}, keyword-only
        Gain reference: the frontal HRTF is 0 dB at 200–500 Hz, or multiply by the measurement
        distance ``r₀``.

    Raises
    ------
    SofaError
        If the file cannot be read (see :func:`read_sofa`).
    ParameterError
        For an unknown ``interpolation`` or ``calibration``.
    """

    name = "SOFA"

    def __init__(self, path: str | os.PathLike, interpolation: Literal["nearest", "linear"] = "nearest",
                 speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S, *,
                 calibration: Literal["frontal", "distance"] = "frontal"):
        if interpolation not in ("nearest", "linear"):
            raise ParameterError(f"interpolation must be 'nearest' or 'linear', got {interpolation!r}")
        if calibration not in ("frontal", "distance"):
            raise ParameterError(f"calibration must be 'frontal' or 'distance', got {calibration!r}")
        if not (np.isfinite(speed_of_sound_m_s) and speed_of_sound_m_s > 0):
            raise ParameterError(f"speed_of_sound_m_s must be > 0, got {speed_of_sound_m_s!r}")
        self.data: SofaData = read_sofa(path)
        self.path = self.data.path
        self.interpolation = interpolation
        self.calibration = calibration
        self.speed_of_sound_m_s = float(speed_of_sound_m_s)
        ir, fs = self.data.impulse_responses, self.data.sample_rate
        try:
            self._weights = _DirectionWeights(self.data.directions)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise SofaError(f"{self.path}: the measured source directions cannot be interpolated ({exc})") from exc
        self.onsets_s = _onsets_s(ir, fs)  # (M, 2)
        front = self._weights.nearest(np.array([[1.0, 0.0, 0.0]]))[0]
        self.reference_time_s = float(self.onsets_s[front].mean())
        # effective radius from the largest onset ITD, Woodworth: ITD_max = (a/c)(1 + π/2)
        max_itd_s = np.ptp(self.onsets_s[:, 0] - self.onsets_s[:, 1]) / 2
        self.radius_m = float(np.clip(max_itd_s * self.speed_of_sound_m_s / (1 + np.pi / 2), 0.05, 0.15))
        if calibration == "distance":
            self.gain = float(np.median(self.data.distances_m))
        else:
            band = np.linspace(*CALIBRATION_BAND_HZ, 16)
            frontal = _dtft(ir[front], band, fs)
            self.gain = float(1.0 / np.sqrt(np.mean(np.abs(frontal) ** 2)))
        # keep HRIRs from a few samples before the earliest onset (causal, short)
        self._shift = max(0, int(np.floor(self.onsets_s.min() * fs)) - ONSET_MARGIN_SAMPLES)

    def __repr__(self) -> str:
        return f"SofaHead({str(self.path)!r}, interpolation={self.interpolation!r}, calibration={self.calibration!r})"

    def _lookup(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Direction indices ``(Q, K)`` and weights ``(Q, K)`` for positions ``(Q, 3)``."""
        queries = positions / np.linalg.norm(positions, axis=-1, keepdims=True)
        if self.interpolation == "nearest":
            return self._weights.nearest(queries)[:, None], np.ones((len(queries), 1))
        return self._weights.linear(queries)

    def _aligned_sum(self, positions: np.ndarray, frequencies_hz: np.ndarray, advance_s: float) -> np.ndarray:
        """``Σ w_i H_i(f) exp(j2πf(τ_i − τ̄))·exp(−j2πf(τ̄ − advance_s))`` per ear, ``(Q, 2, F)``."""
        fs = self.data.sample_rate
        idx, w = self._lookup(positions)  # (Q, K)
        tau = self.onsets_s[idx]  # (Q, K, 2)
        tau_mean = np.einsum("qk,qke->qe", w, tau)  # (Q, 2)
        f_eval = frequencies_hz
        unique, inverse = np.unique(idx, return_inverse=True)
        spectra = _dtft(self.data.impulse_responses[unique].reshape(-1, self.data.impulse_responses.shape[-1]),
                        f_eval, fs).reshape(len(unique), 2, -1)[inverse.reshape(idx.shape)]  # (Q, K, 2, F)
        aligned = spectra * np.exp(2j * np.pi * f_eval * tau[..., None])
        total = np.einsum("qk,qkef->qef", w, aligned)
        return self.gain * total * np.exp(-2j * np.pi * frequencies_hz * (tau_mean[..., None] - advance_s))

    def response(self, source_positions_m, frequencies_hz) -> np.ndarray:
        """Complex ear responses, shape ``(..., 2, F)``; see :meth:`HeadModel.response`.

        Zero above the file's Nyquist frequency; only the source direction is used.
        """
        f = validate_frequencies(frequencies_hz)
        p = validate_positions(source_positions_m, self.radius_m)
        flat = p.reshape(-1, 3)
        h = self._aligned_sum(flat, f, self.reference_time_s)
        h[..., f > self.data.sample_rate / 2] = 0.0
        return h.reshape(p.shape[:-1] + (2, f.size))

    def bulk_delay_s(self) -> float:
        """Delay of :meth:`impulse_responses` re the head-centre arrival (s)."""
        return self.reference_time_s - self._shift / self.data.sample_rate

    def impulse_responses(self, source_positions_m, sample_rate: float, n_taps: int) -> np.ndarray:
        """HRIRs for the given positions at ``sample_rate``, shape ``(..., 2, n_taps)``.

        The file's HRIRs (looked up or interpolated at the file's rate, scaled by the calibration
        gain) start :data:`ONSET_MARGIN_SAMPLES` before the earliest onset in the file, so the
        head-centre arrival sits at :meth:`bulk_delay_s`; they are then resampled with
        :func:`scipy.signal.resample_poly` (and scaled by the rate ratio so that the transfer
        function keeps its gain), and cut or zero-padded to ``n_taps``.
        """
        n_taps = int(n_taps)
        if n_taps < 2:
            raise ParameterError(f"n_taps must be >= 2, got {n_taps}")
        if not (np.isfinite(sample_rate) and sample_rate > 0):
            raise ParameterError(f"sample_rate must be > 0 Hz, got {sample_rate!r}")
        p = validate_positions(source_positions_m, self.radius_m)
        flat = p.reshape(-1, 3)
        fs = self.data.sample_rate
        n = self.data.impulse_responses.shape[-1]
        if self.interpolation == "nearest":
            idx = self._weights.nearest(flat / np.linalg.norm(flat, axis=-1, keepdims=True))
            hrir = self.gain * self.data.impulse_responses[idx][..., self._shift:]
        else:
            n_fft = 2 * n
            f = np.fft.rfftfreq(n_fft, 1.0 / fs)
            spectrum = self._aligned_sum(flat, f, self._shift / fs)
            spectrum[..., 0] = spectrum[..., 0].real
            spectrum[..., -1] = spectrum[..., -1].real
            hrir = np.fft.irfft(spectrum, n_fft, axis=-1)[..., : n - self._shift]
        ratio = Fraction(float(sample_rate) / fs).limit_denominator(1000)
        if abs(float(ratio) - sample_rate / fs) > 1e-9 * sample_rate / fs:
            raise ParameterError(f"sample_rate {sample_rate} Hz is not a simple ratio of the file's {fs} Hz")
        if ratio != 1:
            hrir = resample_poly(hrir, ratio.numerator, ratio.denominator, axis=-1) / float(ratio)
        out = np.zeros(hrir.shape[:-1] + (n_taps,))
        m = min(n_taps, hrir.shape[-1])
        out[..., :m] = hrir[..., :m]
        return out.reshape(p.shape[:-1] + (2, n_taps))
