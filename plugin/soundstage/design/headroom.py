"""The worst-case driver gain over the input combinations the upmix produces, and a cap that holds.

A driver feed is ``y_d = w_dL·L' + w_dR·R' + w_dC·C`` with ``L' = L − C``, ``R' = R − C`` and
``C = M − γS`` (per band; :mod:`soundstage._kernels.upmix`). With L and R each at most full
scale the largest gain per frequency is the maximum over what the centre estimate can be:

* no centre (C = 0: anti-phase, uncorrelated or side-panned input, or the upmix bypassed):
  ``|w_dL| + |w_dR|``;
* the centre estimate of a side-panned mixture, γ ∈ [−1, 1]: ``y`` is linear in (L, R) and its
  1-norm convex in γ, so the ends γ = ±1 (C = R or C = L) bound it:
  ``|w_dL| + |w_dC − w_dL|`` and ``|w_dR| + |w_dC − w_dR|``, which also bound mono (``|w_dC|``).

It covers anti-phase input (L = −R: |w_dL − w_dR|), mono with the upmix bypassed
(|w_dL + w_dR|) and mono through the upmix; bounding each path alone does not (an anti-phase input
drove the studio speaker's side mids 3.9 dB past an 18 dB cap). A pass-through device
(``w_L = [1, 0]``, ``w_C = [1, 1]``) has G = 1.

:func:`cap_worst_case_gain` enforces ``G_d(f) ≤ G_max`` by blending, per frequency, the side
paths toward their plain feed (which keeps the ipsilateral ear response, RTF form) and, only
where that is not enough, the centre beam toward its plain feed (which keeps its on-axis
response); each blend is found by bisection on the largest G_d.
"""

from __future__ import annotations

import numpy as np

__all__ = ["worst_case_gain", "cap_worst_case_gain"]


def worst_case_gain(weights: np.ndarray, *, upmix: bool = True) -> np.ndarray:
    """Largest gain of each driver over all input combinations, per frequency (linear).

    Parameters
    ----------
    weights : np.ndarray [shape=(n_drivers, 3, F), complex]
        Driver weights from (left', right', centre).
    upmix : bool
        Whether the centre input carries the extracted centre (False: the upmix is bypassed and
        only L, R reach the drivers).

    Returns
    -------
    np.ndarray [shape=(n_drivers, F)]
    """
    w = np.asarray(weights)
    side = np.abs(w[:, 0]) + np.abs(w[:, 1])
    if not upmix:
        return side
    as_left = np.abs(w[:, 0]) + np.abs(w[:, 2] - w[:, 0])
    as_right = np.abs(w[:, 1]) + np.abs(w[:, 2] - w[:, 1])
    return np.maximum(side, np.maximum(as_left, as_right))


def _bisect(gain_of, cap: float, active: np.ndarray, iterations: int = 24) -> np.ndarray:
    """Smallest t in [0, 1] per frequency with ``gain_of(t) <= cap`` (1 where none is);
    ``gain_of`` maps t (F,) to the largest driver gain (F,), assumed to fall with t."""
    lo = np.zeros(active.size)
    hi = np.where(active, 1.0, 0.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        ok = gain_of(mid) <= cap
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid, lo)
    return hi


def cap_worst_case_gain(side: np.ndarray, side_plain: np.ndarray, rho: np.ndarray,
                        centre: np.ndarray, centre_plain: np.ndarray, crossover: np.ndarray,
                        max_gain_db: float, *, upmix: bool = True, voicing: np.ndarray | None = None):
    """Blend paths toward their plain feeds until every driver's worst case is within ``max_gain_db``.

    Parameters
    ----------
    side : np.ndarray [shape=(n_drivers, 2, F)]
        The designed side paths, crossovers included, per side input.
    side_plain : np.ndarray [shape=(n_drivers, 2) or (n_drivers, 2, F)]
        Plain feed of each side input beyond the crossovers.
    rho : np.ndarray [shape=(2, F)]
        The blend toward the plain feed already chosen (0 full design … 1 plain).
    centre, centre_plain : np.ndarray [shape=(n_drivers, F)]
        The designed centre path and its plain feed, crossovers included.
    crossover : np.ndarray [shape=(n_drivers, F)]
    max_gain_db : float
    upmix : bool
        See :func:`worst_case_gain`.
    voicing : np.ndarray [shape=(3, F)] or None
        Voicing gains already in ``side``; the plain side feeds blended toward get them too.

    Returns
    -------
    side_weights : np.ndarray [shape=(n_drivers, 2, F)]
        Crossovers included.
    rho : np.ndarray [shape=(2, F)]
        The blend after capping.
    centre : np.ndarray [shape=(n_drivers, F)]
    """
    cap = 10 ** (max_gain_db / 20)
    plain = np.asarray(side_plain).astype(complex)
    if plain.ndim == 2:
        plain = plain[:, :, None]

    plain_paths = crossover[:, None, :] * plain
    if voicing is not None:
        plain_paths = plain_paths * voicing[None, :2, :]

    def sides(t):
        # (1 − t)·X(ρp + (1 − ρ)e) + t·Xp = X(ρ'p + (1 − ρ')e) with ρ' = ρ + t(1 − ρ)
        return (1 - t)[None, None, :] * side + t[None, None, :] * plain_paths, rho + t[None, :] * (1 - rho)

    def gain(side_w, centre_w):
        return worst_case_gain(np.concatenate([side_w, centre_w[:, None, :]], axis=1), upmix=upmix).max(axis=0)

    def centre_at(t):
        return (1 - t)[None, :] * centre + t[None, :] * centre_plain

    # The sides give way first (the centre beam's nulls are what keeps the centre's depth), and
    # the centre only where the sides at their plain feed are not enough. Each bisection runs on
    # the frequencies over the cap only (every step is per frequency, so this changes nothing).
    n_freq = rho.shape[1]
    over = np.flatnonzero(gain(sides(np.zeros(n_freq))[0], centre) > cap)
    t = np.zeros(n_freq)
    if over.size:
        side_o, plain_o, centre_o = side[..., over], plain_paths[..., over], centre[..., over]
        t[over] = _bisect(lambda s: gain((1 - s)[None, None, :] * side_o + s[None, None, :] * plain_o, centre_o),
                          cap, np.ones(over.size, dtype=bool))
    side_w, rho = sides(t)
    still = np.flatnonzero(gain(side_w, centre) > cap)
    u = np.zeros(n_freq)
    if still.size:
        side_s, centre_s, centre_plain_s = side_w[..., still], centre[..., still], centre_plain[..., still]
        u[still] = _bisect(lambda s: gain(side_s, (1 - s)[None, :] * centre_s + s[None, :] * centre_plain_s),
                           cap, np.ones(still.size, dtype=bool))
    capped_centre = centre_at(u)
    # Where even the plain feeds exceed the cap (a voicing boost asked for more than the
    # headroom allows), every path of that frequency is scaled down: the EQ gives way.
    worst = gain(side_w, capped_centre)
    scale = np.where(worst > cap, cap / np.maximum(worst, 1e-30), 1.0)
    return side_w * scale[None, None, :], rho, capped_centre * scale[None, :]
