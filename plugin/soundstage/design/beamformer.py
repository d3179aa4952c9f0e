"""The centre beamformer: a midrange beam at the listener with nulls at the side walls.

In the beam band the centre's driver weights ``w`` solve, per frequency, a weighted
minimum-effort problem with the constraints

    a(0°) · w = a(0°) · p_c          (on-axis response of the plain centre feed: RTF form)
    a(φ_k) · w = 0                   (nulls, default φ = ±90°)

where ``a(φ)`` holds the drivers' far-field responses (crossovers included) in the direction
``φ`` seen from the enclosure, and ``p_c`` is the plain centre feed. A white-noise-gain
constraint caps the effort ``||X w||² / ||X p_c||²``: where the exact solution exceeds it, the
weights are blended toward the plain feed (which keeps the on-axis response exact) just enough
to meet it, so an array that cannot form the nulls degrades gracefully to the plain feed. Outside the band (with a raised-cosine transition of ``transition_octaves`` in
log-frequency) the centre is the plain feed.

References
----------
B. D. Van Veen and K. M. Buckley, "Beamforming: a versatile approach to spatial filtering",
IEEE ASSP Magazine 5(2), 1988.
X. Luo, "Spherical-harmonic beamformer design ...", EURASIP JASMP 2021:41.
"""

from __future__ import annotations

import numpy as np

from .crosstalk import _feasible_rho_interval, weighted_least_norm

__all__ = ["band_window", "design_centre_beam", "beam_solution", "blend_beam"]


def band_window(frequencies_hz, band_hz, transition_octaves: float = 1 / 3) -> np.ndarray:
    """1 inside ``band_hz``, 0 outside, raised-cosine transitions centred on the edges (log-f)."""
    f = np.maximum(np.asarray(frequencies_hz, dtype=float), 1e-3)
    logf = np.log2(f)
    lo, hi = np.log2(band_hz[0]), np.log2(band_hz[1])
    half = transition_octaves / 2

    def ramp(x):
        return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))

    up = ramp((logf - (lo - half)) / transition_octaves) if transition_octaves > 0 else (logf >= lo).astype(float)
    down = ramp(((hi + half) - logf) / transition_octaves) if transition_octaves > 0 else (logf <= hi).astype(float)
    return up * down


def design_centre_beam(
    far_field: np.ndarray,
    null_far_field: np.ndarray,
    crossover: np.ndarray,
    plain_centre: np.ndarray,
    frequencies_hz: np.ndarray,
    band_hz: tuple[float, float],
    max_effort_db: float,
    *,
    enabled: bool = True,
    transition_octaves: float = 1 / 3,
    lobe_far_field: np.ndarray | None = None,
    lobe_gain_db: float | tuple[float, ...] = -3.0,
    lobe_weight: float = 0.7,
    max_gain_db: float | None = None,
) -> np.ndarray:
    """Centre driver filters (crossovers included), shape ``(n_drivers, F)``.

    Parameters
    ----------
    far_field : np.ndarray [shape=(N, F)]
        Far-field response of each driver toward the listener (0°).
    null_far_field : np.ndarray [shape=(n_nulls, N, F)]
        Far-field responses toward the null directions.
    crossover : np.ndarray [shape=(N, F)]
    plain_centre : np.ndarray [shape=(N,) or (N, F)]
        Plain centre feed beyond each driver's crossover (left + right plain paths per driver).
    frequencies_hz : np.ndarray [shape=(F,)]
    band_hz : (float, float)
    max_effort_db : float
        White-noise effort cap re the plain feed, dB.
    enabled : bool
        False: the plain feed everywhere.
    max_gain_db : float, optional
        Cap on each driver's centre filter (G_max), met by the same blend toward the plain feed.
    lobe_far_field : np.ndarray [shape=(n_lobe, N, F)], optional
        Far-field responses at the main-lobe edges (default ±45°), pulled softly toward
        ``lobe_gain_db`` (one value, or one per row) re on-axis with weight ``lobe_weight`` (the nulls and the on-axis
        constraint stay stronger).
    """
    exact = beam_solution(far_field, null_far_field, crossover, plain_centre, frequencies_hz, band_hz,
                          enabled=enabled, transition_octaves=transition_octaves, lobe_far_field=lobe_far_field,
                          lobe_gain_db=lobe_gain_db, lobe_weight=lobe_weight)
    return blend_beam(exact, crossover, plain_centre, frequencies_hz, band_hz, max_effort_db,
                      transition_octaves=transition_octaves, max_gain_db=max_gain_db)


def beam_solution(far_field, null_far_field, crossover, plain_centre, frequencies_hz, band_hz, *,
                  enabled: bool = True, transition_octaves: float = 1 / 3, lobe_far_field=None,
                  lobe_gain_db=-3.0, lobe_weight: float = 0.7) -> np.ndarray | None:
    """The unconstrained beam weights (N, F_band) on the band's frequencies (window > 0), before
    the effort and gain caps; None where the beam is off. Arguments as in
    :func:`design_centre_beam`; it does not depend on the caps, so a designer can keep it."""
    if not enabled or null_far_field.shape[0] == 0:
        return None
    plain = _per_frequency(plain_centre, frequencies_hz)
    lobe_gain = np.atleast_1d(10 ** (np.asarray(lobe_gain_db, dtype=float) / 20))[:, None]
    active = band_window(frequencies_hz, band_hz, transition_octaves) > 0
    eff_axis = (far_field * crossover)[:, active]
    eff_nulls = (null_far_field * crossover[None])[:, :, active]
    rows = np.concatenate([eff_axis[None], eff_nulls], axis=0)
    on_axis = np.einsum("nf,nf->f", eff_axis, plain[:, active])
    targets = np.concatenate([on_axis[None], np.zeros((eff_nulls.shape[0], on_axis.size))], axis=0)
    row_weights = np.ones(rows.shape[0])
    row_weights[0] = 1e4  # the on-axis constraint is hard; nulls give way when rows outnumber drivers
    exact = weighted_least_norm(rows, targets, row_weights)
    if lobe_far_field is not None and lobe_far_field.shape[0] > 0:
        # Soft magnitude constraints on the main lobe edge (|response| = lobe_gain · |on-axis|),
        # solved by iterating on the phase of the current response (phase retrieval).
        eff_lobe = (lobe_far_field * crossover[None])[:, :, active]
        lobe_rows = np.concatenate([rows, eff_lobe], axis=0)
        lobe_weights = np.concatenate([row_weights, np.full(eff_lobe.shape[0], lobe_weight)])
        for _ in range(6):
            current = np.einsum("knf,nf->kf", eff_lobe, exact)
            phase = np.exp(1j * np.angle(current))
            lobe_targets = lobe_gain * np.abs(on_axis)[None, :] * phase
            exact = weighted_least_norm(lobe_rows, np.concatenate([targets, lobe_targets], axis=0), lobe_weights)
    return exact


def blend_beam(exact: np.ndarray | None, crossover, plain_centre, frequencies_hz, band_hz, max_effort_db: float, *,
               transition_octaves: float = 1 / 3, max_gain_db: float | None = None) -> np.ndarray:
    """The centre filters (N, F), crossovers included, from :func:`beam_solution` under the
    effort cap and the gain cap (arguments as in :func:`design_centre_beam`)."""
    plain = _per_frequency(plain_centre, frequencies_hz)
    if exact is None:
        return crossover * plain
    window = band_window(frequencies_hz, band_hz, transition_octaves)
    active = window > 0
    x_active = crossover[:, active]
    plain_active = plain[:, active]
    plain_effort = np.sum(np.abs(x_active * plain_active) ** 2, axis=0)
    max_effort = plain_effort * 10 ** (max_effort_db / 10)
    # Blend toward the plain feed, w(β) = β p + (1 − β) w_x: the on-axis response stays exact for
    # every β, and the effort ||X w(β)||² is a quadratic in β: take the smallest β meeting the cap.
    a = x_active * exact
    b = x_active * (plain_active - exact)
    qa = np.sum(np.abs(b) ** 2, axis=0)
    qb = 2 * np.sum(np.real(a * b.conj()), axis=0)
    qc = np.sum(np.abs(a) ** 2, axis=0) - max_effort
    disc = np.maximum(qb**2 - 4 * qa * qc, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        smallest = np.where(qa > 1e-30, (-qb - np.sqrt(disc)) / (2 * qa), 0.0)
    blend = np.where(qc <= 0, 0.0, np.clip(smallest, 0.0, 1.0))
    if max_gain_db is not None:
        # Each driver's centre filter also stays within G_max, like the side paths.
        lo, hi = _feasible_rho_interval(exact, plain_active, x_active, 10 ** (max_gain_db / 20))
        blend = np.where(lo <= hi, np.maximum(blend, lo), 1.0)
    beam = blend * plain_active + (1 - blend) * exact
    weights = plain.copy()
    weights[:, active] = window[active] * beam + (1 - window[active]) * plain_active
    return crossover * weights


def _per_frequency(plain_centre, frequencies_hz) -> np.ndarray:
    """The plain centre feed as (N, F) complex (one gain per driver is the same at every bin)."""
    plain = np.asarray(plain_centre).astype(complex)
    if plain.ndim == 1:
        plain = plain[:, None] * np.ones_like(frequencies_hz)[None, :]
    return plain
