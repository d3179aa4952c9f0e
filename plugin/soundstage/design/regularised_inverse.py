"""A regularised least-squares inverse per frequency, factored once for any targets and any λ.

Crosstalk cancellation and null-steering solve, per frequency, the same weighted problem for
several target vectors (the ears' cancellation targets, the virtualizer's) and several
regularisations (raised where a driver would exceed its gain cap):

    min_w  Σ_k v_k |A_k w − t_k|² + λ ||w||²  .

With ``B = V^{1/2} A`` and its thin SVD ``B = U Σ Wᴴ`` the solution is

    w(t, λ) = W diag(σ / (σ² + λ)) Uᴴ V^{1/2} t ,

the ridge (Tikhonov) solution; for fewer rows than drivers it equals the minimum-norm form
``Aᴴ (A Aᴴ + λ V⁻¹)⁻¹ t``. :class:`RegularisedInverse` keeps ``U``, ``σ`` and ``W`` (a few
hundred kB for a studio enclosure), so a new target — a new width — or a new λ costs a few
products instead of a factorisation. The plant it inverts does not change with width, target
curve or gains, so the designer caches it (:mod:`.stage_cache`).

References
----------
O. Kirkeby, P. A. Nelson, H. Hamada, F. Orduna-Bustamante, "Fast deconvolution of
multichannel systems using regularization", IEEE TSAP 6(2), 1998.
P. C. Hansen, "Rank-Deficient and Discrete Ill-Posed Problems", SIAM, 1998 (ch. 5, Tikhonov
regularisation through the SVD).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RegularisedInverse"]


class RegularisedInverse:
    """The weighted ridge inverse of ``rows`` per frequency, from one batched SVD.

    Parameters
    ----------
    rows : np.ndarray [shape=(K, N, F), complex]
        Constraint rows A: responses of N drivers at K points, per frequency.
    row_weights : np.ndarray [shape=(K,) or (K, F)]
        Weights v_k of the rows (> 0), for all frequencies or per frequency.

    Notes
    -----
    λ is given relative to a scale per frequency: the mean diagonal of ``AᴴVA`` when K ≥ N,
    of ``AAᴴ`` when K < N (a tiny value gives the exact / minimum-norm solution where one
    exists). Instances are read-only after construction.
    """

    def __init__(self, rows: np.ndarray, row_weights: np.ndarray) -> None:
        a = np.moveaxis(np.asarray(rows, dtype=complex), -1, 0)  # (F, K, N)
        v = np.asarray(row_weights, dtype=float)
        v = v.T if v.ndim == 2 else np.broadcast_to(v[None, :], a.shape[:2])  # (F, K)
        k, n = a.shape[1], a.shape[2]
        root = np.sqrt(v)[:, :, None]
        u, sigma, wh = np.linalg.svd(root * a, full_matrices=False)  # (F,K,r), (F,r), (F,r,N)
        if k >= n:
            scale = np.sum(sigma**2, axis=1) / n  # trace(AᴴVA) / N
        else:
            scale = np.sum(np.abs(a) ** 2, axis=(1, 2)) / k  # trace(AAᴴ) / K
        # Uᴴ V^{1/2} as one (F, r, K) projection of the targets, W as (F, N, r).
        self._project = np.ascontiguousarray(np.conj(np.swapaxes(u, 1, 2)) * np.sqrt(v)[:, None, :])
        self._sigma = sigma
        self._w = np.ascontiguousarray(np.conj(np.swapaxes(wh, 1, 2)))
        self._scale = scale
        for array in (self._project, self._sigma, self._w, self._scale):
            array.flags.writeable = False

    @property
    def nbytes(self) -> int:
        return self._project.nbytes + self._sigma.nbytes + self._w.nbytes + self._scale.nbytes

    def project(self, targets: np.ndarray) -> np.ndarray:
        """Coordinates ``Uᴴ V^{1/2} t`` of targets ``(K, F)`` in the rows' singular basis, (F, r)."""
        return np.einsum("frk,kf->fr", self._project, np.asarray(targets, dtype=complex))

    def apply(self, coordinates: np.ndarray, relative_regularization: float = 1e-8,
              columns: np.ndarray | None = None) -> np.ndarray:
        """The solution ``(N, F)`` (or ``(N, len(columns))``) for projected targets and a λ.

        Parameters
        ----------
        coordinates : np.ndarray [shape=(F, r)]
            From :meth:`project`.
        relative_regularization : float
            λ relative to the per-frequency scale.
        columns : np.ndarray of int, optional
            Only these frequencies.
        """
        sigma, w, scale, c = self._sigma, self._w, self._scale, coordinates
        if columns is not None:
            sigma, w, scale, c = sigma[columns], w[columns], scale[columns], c[columns]
        denominator = sigma**2 + (relative_regularization * scale)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = np.where(denominator > 0, sigma / denominator, 0.0)
        return np.einsum("fnr,fr->nf", w, gain * c)

    def solve(self, targets: np.ndarray, relative_regularization: float = 1e-8) -> np.ndarray:
        """``w`` (N, F) minimising ``Σ_k v_k |A_k w − t_k|² + λ ||w||²`` for targets ``(K, F)``."""
        return self.apply(self.project(targets), relative_regularization)
