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

What depends on the plant only — the ear responses of the plain feeds and the regularised
inverse of the constraint rows (:class:`~.regularised_inverse.RegularisedInverse`, one SVD per
side for every target and regularisation) — is a :class:`CancellationSolver`, and χ(ρ) of its
cancellation-only solution is :meth:`CancellationSolver.nulls`; the designer caches both, so a
new width (the virtualizer's targets), target curve or gain costs a few products per frequency.

References
----------
O. Kirkeby, P. A. Nelson, H. Hamada, F. Orduna-Bustamante, "Fast deconvolution of
multichannel systems using regularization", IEEE TSAP 6(2), 1998.
E. Choueiri, "Optimal crosstalk cancellation for binaural audio with two loudspeakers".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .regularised_inverse import RegularisedInverse
from .stage_cache import checkpoint

__all__ = ["CancellationDesign", "CancellationSolver", "design_cancellation", "weighted_least_norm", "RHO_GRID"]


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
    b = crossover * ((plain[:, None] if plain.ndim == 1 else plain) - exact)
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


@dataclass(frozen=True, eq=False)
class _SideSolver:
    """What one side input's design needs from the plant (see :class:`CancellationSolver`)."""

    plain: np.ndarray  # (N, F) complex: the side's plain feed p
    i_p: np.ndarray  # (F,) ipsilateral ear response of p
    c_p: np.ndarray  # (F,) contralateral ear response of p
    natural_db: np.ndarray  # (F,) χ₀
    other_at_contra: tuple  # (F,) per contralateral row: the other plain feed there (R_v target)
    inverse: RegularisedInverse | None
    rows: np.ndarray | None = None  # (K, N, F) constraint rows (kept where null regions yield)
    row_weights: np.ndarray | None = None  # (K,)
    yielding: np.ndarray | None = None  # (K,) bool: rows that give way to the gain cap first


@dataclass(frozen=True, eq=False)
class CancellationSolver:
    """The part of the side-path design that depends on the plant only, not on width, target
    curve or gains: the ear responses of the plain feeds and the regularised inverse of the
    constraint rows (ipsilateral, contralateral and null-region rows) per side.

    Build it with :meth:`build`; :func:`design_cancellation` applies it to a width (the
    virtualizer's targets), a target curve and a gain cap. It is immutable, so the designer
    caches it across redesigns (:mod:`.stage_cache`).
    """

    effective: np.ndarray  # (2, N, F) plant × crossovers
    plain: np.ndarray  # (N, 2, F)
    crossover: np.ndarray  # (N, F)
    sides: tuple
    cancel: bool
    limit: bool  # null regions: they give way to the gain cap first, then regularisation rises
    frequencies_hz: np.ndarray | None = None

    @classmethod
    def build(cls, plant: np.ndarray, plain: np.ndarray, crossover: np.ndarray, *,
              region_plants: tuple = (), region_weight=0.5, region_yields=True, cancel: bool = True,
              frequencies_hz: np.ndarray | None = None) -> "CancellationSolver":
        """See :func:`design_cancellation` for the arguments; ``region_yields`` (one for all, or
        one per region plant) says which region rows give way to the gain cap before the design
        ear's null does (:meth:`nulls`); rows that do not yield join the design ear's (e.g. other
        heads' contralateral ears at the design position). ``frequencies_hz`` is needed with
        region plants (the yielding weight is smoothed over log-frequency)."""
        if region_plants and frequencies_hz is None:
            raise ValueError("CancellationSolver.build: frequencies_hz is needed with region_plants")
        effective = plant * crossover[None, :, :]
        plain = np.asarray(plain)
        if plain.ndim == 2:  # one gain per driver and input: the same at every frequency
            plain = plain[:, :, None] * np.ones(crossover.shape[1])[None, None, :]
        region_weights = np.broadcast_to(np.asarray(region_weight, dtype=float), (len(region_plants),))
        eff_regions = [region * crossover[None, :, :] for region in region_plants]
        sides = []
        for side in (0, 1):
            ipsi, contra, other = side, 1 - side, 1 - side
            p = plain[:, side].astype(complex)
            i_p = np.einsum("nf,nf->f", effective[ipsi], p)
            c_p = np.einsum("nf,nf->f", effective[contra], p)
            chi0 = np.abs(i_p) / np.maximum(np.abs(c_p), 1e-30)
            natural_db = 20 * np.log10(np.maximum(chi0, 1e-30))
            contra_rows = [effective[contra]] + [eff[contra] for eff in eff_regions]
            other_at = tuple(np.einsum("nf,nf->f", row, plain[:, other]) for row in contra_rows)
            inverse = rows = row_weights = yielding = None
            if cancel:
                row_weights = np.array([1.0, 1.0, *region_weights])
                rows = np.stack([effective[ipsi], *contra_rows])
                if region_plants:
                    row_weights[0] = 10.0  # keep the ipsilateral ear uncoloured when rows compete
                    yielding = np.concatenate([[False, False], np.broadcast_to(
                        np.asarray(region_yields, dtype=bool), (len(region_plants),))])
                inverse = RegularisedInverse(rows, row_weights)
                if not region_plants:
                    rows = None  # the inverse is all a design without null regions needs
            sides.append(_SideSolver(p, i_p, c_p, natural_db, other_at, inverse, rows, row_weights, yielding))
        return cls(effective, plain, crossover, tuple(sides), bool(cancel), bool(region_plants),
                   None if frequencies_hz is None else np.asarray(frequencies_hz, dtype=float))

    @property
    def nbytes(self) -> int:
        total = self.effective.nbytes + self.crossover.nbytes
        for s in self.sides:
            total += s.i_p.nbytes * 4 + sum(a.nbytes for a in s.other_at_contra)
            total += 0 if s.inverse is None else s.inverse.nbytes
            total += 0 if s.rows is None else s.rows.nbytes
        return total

    def solve(self, side: int, targets: np.ndarray, max_gain: float,
              inverse: RegularisedInverse | None = None) -> np.ndarray:
        """Driver weights (N, F) for ear targets (K, F) through ``inverse`` (default: the rows'
        own weights; :meth:`nulls` gives the one whose null regions have yielded to the cap);
        with null regions the regularisation is then raised per frequency (17 steps,
        1e-6 … 1e2) until every driver filter stays within ``max_gain`` (where none does, the
        least regularised solution stays)."""
        inverse = self.sides[side].inverse if inverse is None else inverse
        coordinates = inverse.project(targets)
        solution = inverse.apply(coordinates)
        if not self.limit:
            return solution
        done = np.max(np.abs(self.crossover * solution), axis=0) <= max_gain
        for relative_reg in np.logspace(-6, 2, 17):
            todo = np.flatnonzero(~done)
            if todo.size == 0:
                break
            trial = inverse.apply(coordinates, relative_reg, todo)
            ok = np.max(np.abs(self.crossover[:, todo] * trial), axis=0) <= max_gain
            solution[:, todo[ok]] = trial[:, ok]
            done[todo[ok]] = True
        return solution

    def yielded_weights(self, side: int, targets: np.ndarray, max_gain: float) -> np.ndarray:
        """Row weights (K, F) under which the null regions give way to the gain cap first.

        A null region over a few drivers asks for far more gain than the null at the design ear
        alone (30–40 dB against 5–14 dB for the studio speaker), and a solution that needs more
        gain than the cap allows ends up blended toward the plain feed, which fills the design
        ear's null as much as the region's. So per frequency the weight of the yielding rows is
        scaled by the largest of :data:`REGION_WEIGHT_SCALES` (bisection) whose solution stays
        :data:`REGION_GAIN_BUDGET_DB` below ``max_gain``, and that scale is smoothed over
        :data:`REGION_SMOOTHING_OCTAVES` of log-frequency (a weight that jumps between bins
        makes long filters). The design ear keeps its null on whatever head its plant describes.
        """
        s = self.sides[side]
        n_freq = s.rows.shape[-1]
        budget = max_gain * 10 ** (-REGION_GAIN_BUDGET_DB / 20)

        def weights_at(scales):
            weights = np.repeat(s.row_weights[:, None], n_freq, axis=1)
            weights[s.yielding] *= scales[None, :]
            return weights

        def within_budget(weights):
            trial = weighted_least_norm(s.rows, targets, weights)
            return np.max(np.abs(self.crossover * trial), axis=0) <= budget

        lo = np.zeros(n_freq, dtype=int)  # scale index known to exceed the budget (or index 0)
        hi = np.full(n_freq, REGION_WEIGHT_SCALES.size - 1)
        hi[within_budget(weights_at(np.ones(n_freq)))] = 0
        while np.any(hi - lo > 1):
            checkpoint()
            mid = (lo + hi) // 2
            ok = within_budget(weights_at(REGION_WEIGHT_SCALES[mid]))
            hi = np.where(ok & (hi - lo > 1), mid, hi)
            lo = np.where(~ok & (hi - lo > 1), mid, lo)
        log_scale = _smooth_log_frequency(np.log10(REGION_WEIGHT_SCALES[hi]), self.frequencies_hz,
                                          REGION_SMOOTHING_OCTAVES)
        return weights_at(10**log_scale)

    def nulls(self, max_gain: float) -> tuple:
        """Per side: the cancellation-only solution (N, F), χ(ρ) of its blend with the plain
        feed on the grid :data:`RHO_GRID` (len(RHO_GRID), F) and the inverse whose null regions
        have yielded to the cap (None without null regions; :meth:`yielded_weights`).
        Independent of the target curve and the width (and of ``max_gain`` without null
        regions)."""
        out = []
        for side in (0, 1):
            s = self.sides[side]
            targets = np.zeros((1 + len(s.other_at_contra), s.i_p.size), dtype=complex)
            targets[0] = s.i_p
            yielded = None
            if self.limit:
                yielded = RegularisedInverse(s.rows, self.yielded_weights(side, targets, max_gain))
            exact = self.solve(side, targets, max_gain, yielded)
            i_x = np.einsum("nf,nf->f", self.effective[side], exact)
            c_x = np.einsum("nf,nf->f", self.effective[1 - side], exact)
            i_rho = RHO_GRID[:, None] * s.i_p + (1 - RHO_GRID[:, None]) * i_x
            c_rho = RHO_GRID[:, None] * s.c_p + (1 - RHO_GRID[:, None]) * c_x
            chi_rho = np.abs(i_rho) / np.maximum(np.abs(c_rho), 1e-30)
            out.append((exact, chi_rho, yielded))
        return tuple(out)


#: Scales of the yielding rows' weight tried, largest first (:meth:`CancellationSolver.yielded_weights`);
#: the smallest is far below the solver's relative ridge, i.e. the design ear's minimum-effort null.
REGION_WEIGHT_SCALES = np.logspace(0, -10, 21)
#: The yielding rows may ask this much less than a path's gain cap (dB): two side inputs in
#: anti-phase add up to twice one path's gain (6 dB), which the gain cap over every input
#: combination (:mod:`.headroom`) would otherwise take back by blending toward the plain feed —
#: and that blend fills the design ear's null along with the region's. 4 dB rather than the full
#: 6 dB is measured (studio speaker, CTC alone on the held-out KEMAR: sweet spot 21.0 dB and worse
#: side of ±5 cm 12.5 dB; with 6 dB 21.4 / 11.9 dB; the design sphere's ±5 cm 13.8 / 13.2 dB).
REGION_GAIN_BUDGET_DB = 4.0
#: Log-frequency smoothing of the yielding rows' weight scale (octaves).
REGION_SMOOTHING_OCTAVES = 2 / 3

#: Blends ρ toward the plain feed on which χ(ρ) is evaluated (0 and a log grid up to 1).
RHO_GRID = np.concatenate([[0.0], np.logspace(-4, 0, 161)])


def design_cancellation(
    solver: CancellationSolver,
    nulls: tuple | None,
    target_db: np.ndarray,
    max_gain_db: float,
    frequencies_hz: np.ndarray,
    *,
    virtual_relative: np.ndarray | None = None,
    smoothing_octaves: float = 1 / 6,
) -> CancellationDesign:
    """Design the side-channel driver filters (virtualizer and/or crosstalk cancellation).

    Parameters
    ----------
    solver : CancellationSolver
        From :meth:`CancellationSolver.build` with the plant [shape=(2, N, F)] (driver → ear
        responses at the design listener, ears: left, right), the plain feed [shape=(N, 2) or
        (N, 2, F): the tiled, time-aligned paths of :func:`.driver_feeds.plain_paths`] of the
        left and right inputs beyond each driver's crossover, each driver's crossover response [shape=(N, F)], optional
        ``region_plants`` (plants at listener positions around the design one: their
        contralateral rows widen the null) with ``region_weight`` (one for all, or one per
        plant, relative to the design ear rows), and ``cancel`` (False bypasses cancellation:
        the virtualizer feeds the plain mix, w = p_s + R_v p_o).
    nulls : tuple or None
        ``solver.nulls(max_gain)`` (None without cancellation).
    target_db : np.ndarray [shape=(F,)]
        Target cancellation χ_t in dB.
    max_gain_db : float
        G_max: cap on |driver filter| in dB.
    frequencies_hz : np.ndarray [shape=(F,)]
    virtual_relative : np.ndarray [shape=(F,)] or None
        R_v of the virtualizer; None bypasses the virtualizer (ears asked for no crosstalk).
    smoothing_octaves : float
        Smoothing of ρ(f) over log-frequency before the gain cap is enforced.
    """
    crossover, plain = solver.crossover, solver.plain
    n_drivers, n_freq = crossover.shape
    max_gain = 10 ** (max_gain_db / 20)
    weights = np.empty((n_drivers, 2, n_freq), dtype=complex)
    rho_all = np.ones((2, n_freq))
    natural_db = np.empty((2, n_freq))
    reachable = np.zeros((2, n_freq), dtype=bool)
    target_ratio = 10 ** (np.asarray(target_db, dtype=float) / 20)

    for side in (0, 1):
        s, other = solver.sides[side], 1 - side
        p = s.plain
        natural_db[side] = s.natural_db
        if not solver.cancel:
            mix = p + (0 if virtual_relative is None else virtual_relative[None, :] * plain[:, other])
            weights[:, side, :] = crossover * mix
            rho_all[side] = 1.0
            continue
        cancel_exact, chi_rho, yielded = nulls[side]
        if virtual_relative is None:
            used_exact = cancel_exact
        else:  # the virtualizer's targets, with the null regions yielding as for cancellation
            targets = np.stack([s.i_p, *(virtual_relative * o for o in s.other_at_contra)])
            used_exact = solver.solve(side, targets, max_gain, yielded)

        # χ(ρ) of the cancellation-only design on a log grid of ρ; the largest ρ meeting χ_t.
        meets = chi_rho >= target_ratio[None, :]
        last_meeting = np.where(meets.any(axis=0), RHO_GRID.size - 1 - np.argmax(meets[::-1], axis=0), -1)
        rho_target = np.where(last_meeting >= 0, RHO_GRID[np.maximum(last_meeting, 0)], RHO_GRID[np.argmax(chi_rho, axis=0)])
        rho_target = np.clip(_smooth_log_frequency(rho_target, frequencies_hz, smoothing_octaves), 0.0, 1.0)
        lo, hi = _feasible_rho_interval(used_exact, p, crossover, max_gain)
        feasible = lo <= hi
        rho = np.where(feasible, np.clip(rho_target, lo, np.maximum(hi, lo)), 1.0)
        reachable[side] = feasible & (last_meeting >= 0) & (rho_target >= lo - 1e-9)
        rho_all[side] = rho
        weights[:, side, :] = crossover * (rho[None, :] * p + (1 - rho[None, :]) * used_exact)

    return CancellationDesign(weights=weights, rho=rho_all, natural_separation_db=natural_db, reachable=reachable)
