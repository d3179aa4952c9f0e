"""Reference implementations in plain scipy: the oracles of the compiled kernels.

They restate, over a whole signal and in float64, what the streaming kernels do block by block,
so tests compare against them and benchmarks time the kernels against them.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

__all__ = ["upmix_reference", "filterset_reference"]


def upmix_reference(stereo: np.ndarray, band_edges_hz, sample_rate: float, time_constant_ms: float = 40.0,
                    strength: float = 1.0, gain_hop_samples: int = 16) -> np.ndarray:
    """The adaptive centre extraction (:class:`soundstage._kernels.upmix.CentreExtractor`).

    M = (L+R)/2, S = (L−R)/2 are split into complementary bands (2nd-order Butterworth low-passes
    in cascade, each band subtracted from the rest); per band, one-pole averages of time
    constant ``time_constant_ms`` read at every ``gain_hop_samples``-th sample (the grid point
    after samples K−1, 2K−1, …), and there γ = E[M S] / (E[S²] + 10⁻⁴E[M²]) (projection) and
    the coherent share w = clip((P_lr − κ√(P_ll P_rr)) / ((1 − κ) P_res), 0, 1), κ = 0.25, with
    P_lr = P_mm − P_ss, P_ll/rr = P_mm + P_ss ± 2P_ms, P_res = P_mm − γ P_ms. In hop h the
    coefficients (w, −wγ) of M_b and S_b move linearly from grid point h−2 to grid point h−1
    (zero before the first), reached at the hop's last sample;
    Ĉ = strength·Σ w (M_b − γ S_b); L' = L − Ĉ, R' = R − Ĉ (Avendano & Jot, JAES 52(7/8), 2004;
    Faller, JAES 54(11), 2006).

    Returns
    -------
    np.ndarray [shape=(3, n), float64]
        L', R', Ĉ.
    """
    x = np.asarray(stereo, dtype=np.float64)
    n = x.shape[1]
    m, s = 0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1])
    alpha = 1 - np.exp(-1 / (time_constant_ms * 1e-3 * sample_rate))
    hop = int(gain_hop_samples)

    def smooth(v):  # P += alpha (v - P)
        return signal.lfilter([alpha], [1, -(1 - alpha)], v)

    rest_m, rest_s, projection = m, s, 0.0
    bands = []
    for edge in band_edges_hz:
        sos = signal.butter(2, edge, fs=sample_rate, output="sos")
        band_m, band_s = signal.sosfilt(sos, rest_m), signal.sosfilt(sos, rest_s)
        bands.append((band_m, band_s))
        rest_m, rest_s = rest_m - band_m, rest_s - band_s
    bands.append((rest_m, rest_s))
    kappa = 0.25
    grid = np.arange(hop - 1, n, hop)  # the samples that complete a hop
    hops, position = np.arange(n) // hop, (np.arange(n) % hop + 1) / hop

    def per_sample(at_grid):  # grid values → coefficient per sample (two hops behind, interpolated)
        held = np.concatenate([[0.0, 0.0], at_grid])
        start, end = held[hops], held[hops + 1]
        return start + position * (end - start)

    for band_m, band_s in bands:
        p_ms, p_ss, p_mm = (smooth(v)[grid] for v in (band_m * band_s, band_s * band_s, band_m * band_m))
        gamma = p_ms / (p_ss + 1e-4 * p_mm + 1e-12)
        p_lr = p_mm - p_ss
        floor = kappa * np.sqrt(np.maximum((p_mm + p_ss + 2 * p_ms) * (p_mm + p_ss - 2 * p_ms), 0.0))
        p_res = np.maximum(p_mm - gamma * p_ms, 0.0)
        w = np.clip((p_lr - floor) / ((1 - kappa) * p_res + 1e-30), 0.0, 1.0)
        projection = projection + per_sample(w) * band_m + per_sample(-w * gamma) * band_s
    c = strength * projection
    return np.stack([x[0] - c, x[1] - c, c])


def filterset_reference(filterset, stereo: np.ndarray) -> np.ndarray:
    """A :class:`~soundstage.design.FilterSet` applied with scipy over the whole signal: the
    upmix reference, then ``scipy.signal.oaconvolve`` per FIR path. Output ``(n_drivers, n)``,
    delayed by the filter set's modelling delay (not by any convolver partition)."""
    upmixed = upmix_reference(stereo, filterset.upmix_band_edges_hz, filterset.sample_rate,
                              filterset.upmix_time_constant_ms, filterset.centre_extraction)
    fir = filterset.fir.astype(np.float64)
    out = np.zeros((fir.shape[1], upmixed.shape[1] + fir.shape[2] - 1))
    for i in range(3):
        out += signal.oaconvolve(upmixed[i][None, :], fir[i], axes=-1)
    return out[:, : upmixed.shape[1]]
