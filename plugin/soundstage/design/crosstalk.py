"""Crosstalk cancellation and null-steering to a target cancellation curve, in RTF form.

For the left input (the right one is its mirror) let ``p`` be the drivers' plain feed, ``i_p``
and ``c_p`` its responses at the ipsilateral (left) and contralateral (right) ear. The design
asks the ears for

    ipsilateral:   i_p                       (the plain feed's own ipsilateral response: RTF form)
    contralateral: R_v · i_p'                (the virtualizer's relative HRTF times the right
                                              plain feed's ipsilateral response; 0 without
                                              the virtualizer)

and solves for driver weights ``w_x`` with minimum effort: the exact inverse for two drivers,
a minimum-norm null-steering solution for more, optionally with extra contralateral rows at
points around the ear (a null *region*, for robustness to head movement). Partial cancellation

    w(ρ) = ρ · p + (1 − ρ) · w_x

leaves the ipsilateral ear unchanged and gives, with the virtualizer bypassed, a separation
χ(ρ) = χ₀ / ρ exactly (χ₀ = |i_p / c_p|, the natural separation). ρ(f) is chosen so that χ
meets the target curve χ_t(f), and raised where the driver filters would exceed G_max
(|X_d · w_d(ρ)| ≤ G_max is a quadratic inequality in ρ per driver: solved in closed form).

References
----------
O. Kirkeby, P. A. Nelson, H. Hamada, F. Orduna-Bustamante, "Fast deconvolution of
multichannel systems using regularization", IEEE TSAP 6(2), 1998.
E. Choueiri, "Optimal crosstalk cancellation for binaural audio with two loudspeakers".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CancellationDesign", "design_cancellation", "weighted_least_norm"]


@dataclass(frozen=True)
class CancellationDesign:
    """Result of :func:`design_cancellation`.

    Attributes
    ----------
    weights : np.ndarray [shape=(n_drivers, 2, F), complex]
        Driver filters (crossovers included) for the left and right side input.
    rho : np.ndarray [shape=(2, F)]
        Blend toward the plain feed per side (0 = full design, 1 = plain feed).
    natural_separation_db : np.ndarray [shape=(2, F)]
        χ₀ of the plain feed per side.
    reachable : np.ndarray [shape=(2, F), bool]
        Whether the target was met without hitting G_max.
    """

    weights: np.ndarray
    rho: np.ndarray
    natural_separation_db: np.ndarray
    reachable: np.ndarray


def weighted_least_norm(rows: np.ndarray, targets: np.ndarray, row_weights: np.ndarray,
                        relative_regularization: float = 1e-8) -> np.ndarray:
    """Solve ``min Σ_k v_k |A_k w − t_k|² + λ ||w||²`` per frequency.

    Parameters
    ----------
    rows : np.ndarray [shape=(K, N, F)]
        Constraint rows A (responses of N drivers at K points).
    targets : np.ndarray [shape=(K, F)]
    row_weights : np.ndarray [shape=(K,) or (K, F)]
        Weight of each row, for all frequencies or per frequency.
    relative_regularization : float
        λ relative to the mean diagonal of AᴴVA (a tiny value gives the exact / minimum-norm
        solution where one exists).

    Returns
    -------
    np.ndarray [shape=(N, F)]
    """
    a = np.moveaxis(rows, -1, 0)  # (F, K, N)
    t = np.moveaxis(targets, -1, 0)  # (F, K)
    v = np.asarray(row_weights, dtype=float)
    v = (v.T if v.ndim == 2 else v[None, :])[..., None]  # (F or 1, K, 1)
    n = a.shape[-1]
    if a.shape[1] >= n:
        # Over- or exactly-determined: normal equations with a tiny ridge.
        gram = np.einsum("fkn,fkm->fnm", a.conj(), v * a)
        scale = np.real(np.trace(gram, axis1=1, axis2=2)) / n
        gram = gram + (relative_regularization * scale)[:, None, None] * np.eye(n)
        rhs = np.einsum("fkn,fk->fn", a.conj(), v[..., 0] * t)
        w = np.linalg.solve(gram, rhs[..., None])[..., 0]
    else:
        # Under-determined: minimum-norm form Aᴴ (A Aᴴ + λ V⁻¹)⁻¹ t (K×K solves).
        outer = np.einsum("fkn,fjn->fkj", a, a.conj())
        scale = np.real(np.trace(outer, axis1=1, axis2=2)) / a.shape[1]
        inverse_weights = np.eye(a.shape[1])[None] / v  # diag(1/v) per frequency
        outer = outer + (relative_regularization * scale)[:, None, None] * inverse_weights
        y = np.linalg.solve(outer, t[..., None])[..., 0]
        w = np.einsum("fkn,fk->fn", a.conj(), y)
    return np.moveaxis(w, 0, -1)


def _feasible_rho_interval(exact: np.ndarray, plain: np.ndarray, crossover: np.ndarray, max_gain: float):
    """Interval [lo, hi] of ρ in [0, 1] with |X_d (ρ p_d + (1−ρ) w_d)| ≤ G for every driver d."""
    a = crossover * exact  # (N, F)
    b = crossover * (plain[:, None] - exact)
    qa = np.abs(b) ** 2
    qb = 2 * np.real(a * b.conj())
    qc = np.abs(a) ** 2 - max_gain**2
    disc = qb**2 - 4 * qa * qc
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.maximum(disc, 0.0))
        r1 = np.where(qa > 1e-30, (-qb - root) / (2 * qa), -np.inf)
        r2 = np.where(qa > 1e-30, (-qb + root) / (2 * qa), np.inf)
    # A degenerate quadratic (b ≈ 0) is feasible everywhere iff |a| ≤ G.
    flat_bad = (qa <= 1e-30) & (qc > 0)
    no_root = (qa > 1e-30) & (disc < 0)
    r1 = np.where(flat_bad | no_root, np.inf, r1)
    r2 = np.where(flat_bad | no_root, -np.inf, r2)
    lo = np.clip(np.max(r1, axis=0), 0.0, None)
    hi = np.clip(np.min(r2, axis=0), None, 1.0)
    return lo, hi


def _smooth_log_frequency(values: np.ndarray, frequencies_hz: np.ndarray, octaves: float) -> np.ndarray:
    """Moving average over ±octaves/2 in log-frequency (values per bin, last axis)."""
    if octaves <= 0:
        return values
    logf = np.log2(np.maximum(frequencies_hz, 1e-3))
    csum = np.concatenate([np.zeros(values.shape[:-1] + (1,)), np.cumsum(values, axis=-1)], axis=-1)
    lo = np.searchsorted(logf, logf - octaves / 2, side="left")
    hi = np.searchsorted(logf, logf + octaves / 2, side="right")
    return (csum[..., hi] - csum[..., lo]) / (hi - lo)


#: Scales of the yielding rows' weight tried, largest first (see :func:`_effort_limited_solve`);
#: the smallest is far below the solver's relative ridge, i.e. the design ear's minimum-effort null.
_REGION_WEIGHT_SCALES = np.logspace(0, -10, 21)
#: The rows that yield may ask this much less than a path's gain cap (dB): two side inputs in
#: anti-phase add up to twice one path's gain, which the gain cap over every input combination
#: (:mod:`.headroom`) would otherwise take back by blending toward the plain feed — and that
#: blend fills the design ear's null along with the region's.
REGION_GAIN_BUDGET_DB = 20 * np.log10(2.0)


def _effort_limited_solve(rows, targets, row_weights, crossover, max_gain, frequencies_hz, *, limit: bool,
                          yielding=None, smoothing_octaves: float = 2 / 3):
    """:func:`weighted_least_norm`, kept within ``max_gain`` per frequency (only when ``limit``:
    over-determined null regions).

    A null region over a few drivers asks for far more gain than the null at the design ear
    alone (30–40 dB against 5–14 dB for the studio speaker), and a solution that needs more gain
    than the cap allows ends up blended toward the plain feed, which fills the design ear's null
    as much as the region's. So the region gives way first: per frequency, the weight of the
    ``yielding`` rows (boolean per row; default every row after the first two, the design ear's)
    is scaled by the largest of :data:`_REGION_WEIGHT_SCALES` (found by bisection) whose solution stays
    :data:`REGION_GAIN_BUDGET_DB` below ``max_gain``; that scale is smoothed over
    log-frequency (a weight that jumps between bins makes long filters) and the problem solved
    once more. The design ear keeps its null on whatever head its plant describes and the region
    is as wide as the cap allows. Only where the result still exceeds ``max_gain`` is the
    regularisation raised.
    """
    row_weights = np.asarray(row_weights, dtype=float)
    solution = weighted_least_norm(rows, targets, row_weights)
    if not limit:
        return solution
    if yielding is None:
        yielding = np.arange(rows.shape[0]) >= 2
    yielding = np.asarray(yielding, dtype=bool)
    budget = max_gain * 10 ** (-REGION_GAIN_BUDGET_DB / 20)
    n_freq = rows.shape[-1]

    def within_budget(scale_index):
        weights = np.repeat(row_weights[:, None], n_freq, axis=1)
        weights[yielding] *= _REGION_WEIGHT_SCALES[scale_index][None, :]
        trial = weighted_least_norm(rows, targets, weights)
        return np.max(np.abs(crossover * trial), axis=0) <= budget

    # Per frequency, bisect for the largest scale within the budget (the gain falls as the
    # region's weight does); the smallest scale stands where none is.
    lo = np.zeros(n_freq, dtype=int)  # scale index known to exceed the budget (or index 0)
    hi = np.full(n_freq, _REGION_WEIGHT_SCALES.size - 1)
    first = np.max(np.abs(crossover * solution), axis=0) <= budget
    hi[first] = 0
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        ok = within_budget(mid)
        hi = np.where(ok & (hi - lo > 1), mid, hi)
        lo = np.where(~ok & (hi - lo > 1), mid, lo)
    chosen = _REGION_WEIGHT_SCALES[hi]
    log_scale = _smooth_log_frequency(np.log10(chosen), frequencies_hz, smoothing_octaves)
    weights = np.repeat(row_weights[:, None], n_freq, axis=1)
    weights[yielding] *= 10 ** log_scale[None, :]
    solution = weighted_least_norm(rows, targets, weights)
    done = np.max(np.abs(crossover * solution), axis=0) <= max_gain
    for relative_reg in np.logspace(-6, 2, 17):
        if np.all(done):
            break
        trial = weighted_least_norm(rows, targets, weights, relative_regularization=relative_reg)
        take = ~done & (np.max(np.abs(crossover * trial), axis=0) <= max_gain)
        solution[:, take] = trial[:, take]
        done |= take
    return solution


def design_cancellation(
    plant: np.ndarray,
    plain: np.ndarray,
    crossover: np.ndarray,
    target_db: np.ndarray,
    max_gain_db: float,
    frequencies_hz: np.ndarray,
    *,
    virtual_relative: np.ndarray | None = None,
    region_plants: tuple[np.ndarray, ...] = (),
    region_weight=0.5,
    region_yields=True,
    cancel: bool = True,
    smoothing_octaves: float = 1 / 6,
) -> CancellationDesign:
    """Design the side-channel driver filters (virtualizer and/or crosstalk cancellation).

    Parameters
    ----------
    plant : np.ndarray [shape=(2, N, F)]
        Driver→ear responses at the design listener (ears: left, right).
    plain : np.ndarray [shape=(N, 2)]
        Plain feed from the left and right inputs.
    crossover : np.ndarray [shape=(N, F)]
        Each driver's crossover response (applied to every filter).
    target_db : np.ndarray [shape=(F,)]
        Target cancellation χ_t in dB.
    max_gain_db : float
        G_max: cap on |driver filter| in dB.
    frequencies_hz : np.ndarray [shape=(F,)]
    virtual_relative : np.ndarray [shape=(F,)] or None
        R_v of the virtualizer; None bypasses the virtualizer (ears asked for no crosstalk).
    region_plants : tuple of np.ndarray [shape=(2, N, F)]
        Plants at listener positions around the design one; their contralateral rows widen the null.
    region_weight : float or sequence of float
        Weight of each region row relative to the design ear rows (one for all, or one per plant).
    region_yields : bool or sequence of bool
        Whether each region row gives way to the gain cap before the design ear's null does (one
        for all, or one per plant; see :func:`_effort_limited_solve`). Rows that do not yield
        join the design ear's (e.g. other heads' contralateral ears at the design position).
    cancel : bool
        False bypasses cancellation: the virtualizer feeds the plain mix (w = p_s + R_v p_o).
    smoothing_octaves : float
        Smoothing of ρ(f) over log-frequency before the gain cap is enforced.
    """
    n_drivers, n_freq = plant.shape[1], plant.shape[2]
    effective = plant * crossover[None, :, :]
    max_gain = 10 ** (max_gain_db / 20)
    weights = np.empty((n_drivers, 2, n_freq), dtype=complex)
    rho_all = np.ones((2, n_freq))
    natural_db = np.empty((2, n_freq))
    reachable = np.zeros((2, n_freq), dtype=bool)
    target_ratio = 10 ** (np.asarray(target_db, dtype=float) / 20)

    for side in (0, 1):
        ipsi, contra, other = side, 1 - side, 1 - side
        p = plain[:, side].astype(complex)
        i_p = np.einsum("nf,n->f", effective[ipsi], p)
        c_p = np.einsum("nf,n->f", effective[contra], p)
        chi0 = np.abs(i_p) / np.maximum(np.abs(c_p), 1e-30)
        natural_db[side] = 20 * np.log10(np.maximum(chi0, 1e-30))
        i_other = np.einsum("nf,n->f", effective[contra], plain[:, other])
        contra_target = np.zeros(n_freq, dtype=complex) if virtual_relative is None else virtual_relative * i_other

        if not cancel:
            mix = p[:, None] + (0 if virtual_relative is None else virtual_relative[None, :] * plain[:, other][:, None])
            weights[:, side, :] = crossover * mix
            rho_all[side] = 1.0
            continue

        rows = [effective[ipsi], effective[contra]]
        cancel_targets = [i_p, np.zeros(n_freq, dtype=complex)]
        virtual_targets = [i_p, contra_target]
        row_weights = [1.0, 1.0]
        region_weights = np.broadcast_to(np.asarray(region_weight, dtype=float), (len(region_plants),))
        for region, weight in zip(region_plants, region_weights):
            eff_region = region * crossover[None, :, :]
            rows.append(eff_region[contra])
            region_other = np.einsum("nf,n->f", eff_region[contra], plain[:, other])
            cancel_targets.append(np.zeros(n_freq, dtype=complex))
            virtual_targets.append(virtual_relative * region_other if virtual_relative is not None
                                   else np.zeros(n_freq, dtype=complex))
            row_weights.append(weight)
        rows = np.stack(rows)
        row_weights = np.asarray(row_weights)
        yielding = np.concatenate([[False, False], np.broadcast_to(np.asarray(region_yields, dtype=bool),
                                                                    (len(region_plants),))])
        if region_plants:
            row_weights[0] = 10.0  # keep the ipsilateral ear uncoloured when rows compete
        cancel_exact = _effort_limited_solve(rows, np.stack(cancel_targets), row_weights, crossover,
                                             max_gain, frequencies_hz, limit=bool(region_plants), yielding=yielding)
        if virtual_relative is None:
            used_exact = cancel_exact
        else:
            used_exact = _effort_limited_solve(rows, np.stack(virtual_targets), row_weights, crossover,
                                               max_gain, frequencies_hz, limit=bool(region_plants), yielding=yielding)

        # χ(ρ) of the cancellation-only design on a log grid of ρ; the largest ρ meeting χ_t.
        rho_grid = np.concatenate([[0.0], np.logspace(-4, 0, 161)])
        i_x = np.einsum("nf,nf->f", effective[ipsi], cancel_exact)
        c_x = np.einsum("nf,nf->f", effective[contra], cancel_exact)
        i_rho = rho_grid[:, None] * i_p + (1 - rho_grid[:, None]) * i_x
        c_rho = rho_grid[:, None] * c_p + (1 - rho_grid[:, None]) * c_x
        chi_rho = np.abs(i_rho) / np.maximum(np.abs(c_rho), 1e-30)
        meets = chi_rho >= target_ratio[None, :]
        last_meeting = np.where(meets.any(axis=0), rho_grid.size - 1 - np.argmax(meets[::-1], axis=0), -1)
        rho_target = np.where(last_meeting >= 0, rho_grid[np.maximum(last_meeting, 0)], rho_grid[np.argmax(chi_rho, axis=0)])
        rho_target = np.clip(_smooth_log_frequency(rho_target, frequencies_hz, smoothing_octaves), 0.0, 1.0)
        lo, hi = _feasible_rho_interval(used_exact, p, crossover, max_gain)
        feasible = lo <= hi
        rho = np.where(feasible, np.clip(rho_target, lo, np.maximum(hi, lo)), 1.0)
        reachable[side] = feasible & (last_meeting >= 0) & (rho_target >= lo - 1e-9)
        rho_all[side] = rho
        weights[:, side, :] = crossover * (rho[None, :] * p[:, None] + (1 - rho[None, :]) * used_exact)

    return CancellationDesign(weights=weights, rho=rho_all, natural_separation_db=natural_db, reachable=reachable)
