"""From designed driver weights to the FIR matrix the processor runs: modelling delay, gain cap.

The designed weights are ideal frequency responses; an inverse of an acoustic plant has a
non-causal part, which the modelling delay makes room for. The FIR keeps ``num_taps`` samples
after that delay, so whatever rings before it is lost and the realised cancellation falls short
of the designed one (the studio speaker lost 4–7 dB around 4 kHz with 3 ms, more at 96 kHz).
:func:`realise_filters` therefore checks the realised cancellation per 1/3 octave against the
design on the design plant and, while it falls short by more than :data:`CANCELLATION_TOLERANCE_DB`,
lengthens the modelling delay (latency) step by step, up to half the filter length. With
``adapt_delay=False`` the delay is the one asked for (lowest latency).

The worst-case driver gain (:mod:`.headroom`) is checked on the realised FIR too: the cap is
tightened by the realisation's overshoot and the blend redone until the FIR holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .headroom import cap_worst_case_gain, worst_case_gain
from .stage_cache import checkpoint

__all__ = ["Realisation", "realise_fir", "cancellation_shortfall_db", "realise_filters",
           "CANCELLATION_TOLERANCE_DB"]

#: Largest shortfall of the realised cancellation re the design, per 1/3 octave, that the
#: delay adaptation accepts (dB).
CANCELLATION_TOLERANCE_DB = 0.3
#: The design keeps this far below G_max so that the realised FIR (truncated, faded) stays under it.
GAIN_MARGIN_DB = 0.25
#: Redesigns of the gain cap allowed to absorb the FIR realisation's overshoot.
_CAP_ATTEMPTS = 4
#: Modelling delay steps tried (multiples of the requested delay).
_DELAY_STEPS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


@dataclass(frozen=True)
class Realisation:
    """Result of :func:`realise_filters`."""

    fir: np.ndarray
    weights: np.ndarray
    rho: np.ndarray
    delay_samples: int
    truncation_error_db: float
    peak_gain_db: np.ndarray
    cancellation_shortfall_db: float


def realise_fir(weights: np.ndarray, frequencies_hz: np.ndarray, sample_rate: float,
                num_taps: int, delay_samples: int) -> tuple[np.ndarray, float]:
    """Weights (N, 3, F) on the design grid → FIR (3, N, num_taps) and the truncation error (dB)."""
    n_fft = 2 * (frequencies_hz.size - 1)
    f = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    spectrum = weights * np.exp(-2j * np.pi * f * delay_samples / sample_rate)[None, None, :]
    spectrum[..., -1] = spectrum[..., -1].real
    impulse = np.fft.irfft(spectrum, n=n_fft, axis=-1)
    kept = impulse[..., :num_taps].copy()
    total = np.sum(impulse**2)
    lost = total - np.sum(kept**2)
    fade = max(8, num_taps // 10)
    kept[..., num_taps - fade:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade))
    error_db = 10 * np.log10(max(lost, 1e-30) / max(total, 1e-30))
    return np.ascontiguousarray(np.transpose(kept, (1, 0, 2))), float(error_db)


def _fir_weights(fir, n_fft, sample_rate, delay_samples):
    """The FIR's response on the design grid with the modelling delay removed, (N, 3, F)."""
    f = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    spectrum = np.fft.rfft(fir.astype(float), n=n_fft, axis=-1)  # (3, N, F)
    return np.transpose(spectrum, (1, 0, 2)) * np.exp(2j * np.pi * f * delay_samples / sample_rate)


def _third_octave_separation_db(plant, weights, frequencies_hz, centres_hz):
    """χ per side input (2, bands): ear powers averaged over each 1/3 octave, then the ratio."""
    ears = np.einsum("enf,nif->eif", plant, weights[:, :2])  # (ear, side input, F)
    power = np.abs(ears) ** 2
    out = np.full((2, centres_hz.size), np.nan)
    for k, centre in enumerate(centres_hz):
        band = (frequencies_hz >= centre * 2 ** (-1 / 6)) & (frequencies_hz < centre * 2 ** (1 / 6))
        if band.any():
            p = power[..., band].mean(axis=-1)
            out[0, k] = 10 * np.log10(p[0, 0] / max(p[1, 0], 1e-30))
            out[1, k] = 10 * np.log10(p[1, 1] / max(p[0, 1], 1e-30))
    return out


def cancellation_shortfall_db(plant, designed, realised, frequencies_hz, target_db, sample_rate) -> float:
    """Largest shortfall (dB) of the realised cancellation re ``min(design, target)`` per 1/3
    octave (150 Hz … min(16 kHz, 0.4·fs)), in the bands where the design meets its target or
    reaches 6 dB."""
    top = min(16000.0, 0.4 * sample_rate)
    centres = 1000.0 * 2.0 ** (np.arange(-30, 30) / 3)
    centres = centres[(centres >= 160) & (centres * 2 ** (1 / 6) <= top)]
    chi_design = _third_octave_separation_db(plant, designed, frequencies_hz, centres)
    chi_real = _third_octave_separation_db(plant, realised, frequencies_hz, centres)
    target = np.array([np.mean(target_db[(frequencies_hz >= c * 2 ** (-1 / 6)) & (frequencies_hz < c * 2 ** (1 / 6))])
                       if np.any((frequencies_hz >= c * 2 ** (-1 / 6)) & (frequencies_hz < c * 2 ** (1 / 6))) else np.nan
                       for c in centres])
    # Bands where the design forms a real null (with the virtualizer on, its χ is the ±θ pair's
    # interaural difference, below the target but still to be realised).
    meets = chi_design >= np.minimum(target[None, :] - 0.5, 6.0)
    short = np.where(meets, np.minimum(chi_design, target[None, :]) - chi_real, 0.0)
    return float(np.nanmax(short)) if short.size else 0.0


def realise_filters(*, sides, plain, centre, centre_plain, crossover, crossover_full, plain_paths,
                    designed_mask, frequencies_hz, plant, target_db, max_gain_db, output_gain_db,
                    upmix, sample_rate, num_taps, delay_samples, max_delay_samples, adapt_delay,
                    voicing=None, revoice=None) -> Realisation:
    """Cap the worst-case gain, choose the modelling delay and realise the FIR matrix.

    ``sides`` is the :class:`~.crosstalk.CancellationDesign`; ``plant`` the design plant on the
    modelled grid ``frequencies_hz[designed_mask]``; the rest as in :func:`design_filterset`.
    ``revoice``, if given, maps the capped weights (N, 3, F') to voicing gains (3, F') that are
    applied once more after the cap (blending toward the plain feed changes the tone a little).
    """
    f_full = frequencies_hz
    f = f_full[designed_mask]
    output_gain = 10 ** (output_gain_db / 20)
    n_fft = 2 * (f_full.size - 1)

    blended: dict = {}  # margin → capped weights: the same for every modelling delay tried

    def capped_weights(margin_db):
        if margin_db not in blended:
            side_w, rho, capped_centre = cap_worst_case_gain(
                sides.weights, plain, sides.rho, centre, centre_plain, crossover, max_gain_db - margin_db,
                upmix=upmix, voicing=voicing)
            if revoice is not None:
                again = revoice(np.concatenate([side_w, capped_centre[:, None, :]], axis=1))
                side_w = side_w * again[None, :2, :]
                capped_centre = capped_centre * again[None, 2, :]
                # the re-voicing may boost past the cap again: there the EQ gives way
                worst = worst_case_gain(np.concatenate([side_w, capped_centre[:, None, :]], axis=1),
                                        upmix=upmix).max(axis=0)
                cap = 10 ** ((max_gain_db - margin_db) / 20)
                scale = np.where(worst > cap, cap / np.maximum(worst, 1e-30), 1.0)
                side_w, capped_centre = side_w * scale[None, None, :], capped_centre * scale[None, :]
            # Above the modelled band every path is its plain feed through the crossovers.
            weights = crossover_full[:, None, :] * (plain_paths if plain_paths.ndim == 3
                                                    else plain_paths[:, :, None]).astype(complex)
            weights[..., designed_mask] = np.concatenate([side_w, capped_centre[:, None, :]], axis=1)
            blended[margin_db] = (weights * output_gain, rho)
        return blended[margin_db]

    def capped(delay):
        margin_db = GAIN_MARGIN_DB
        for _ in range(_CAP_ATTEMPTS):
            checkpoint()
            weights, rho = capped_weights(margin_db)
            fir, truncation_db = realise_fir(weights, f_full, sample_rate, num_taps, delay)
            realised = _fir_weights(fir, n_fft, sample_rate, delay)
            worst = worst_case_gain(_fir_weights(fir, 2 * n_fft, sample_rate, 0) / output_gain, upmix=upmix)
            peak_db = 20 * np.log10(np.maximum(worst.max(axis=1), 1e-12))
            overshoot_db = float(np.max(peak_db)) - max_gain_db
            if overshoot_db <= 0 or margin_db > max_gain_db:
                break
            margin_db += overshoot_db + 0.05
        return fir, weights, realised, rho, truncation_db, peak_db

    steps = _DELAY_STEPS if adapt_delay else (1.0,)
    for step in steps:
        delay = min(int(round(delay_samples * step)), max_delay_samples)
        fir, weights, realised, rho, truncation_db, peak_db = capped(delay)
        shortfall = cancellation_shortfall_db(plant, weights[..., designed_mask], realised[..., designed_mask],
                                              f, target_db, sample_rate)
        if shortfall <= CANCELLATION_TOLERANCE_DB or delay >= max_delay_samples:
            break
    return Realisation(fir=fir, weights=weights, rho=rho, delay_samples=delay, truncation_error_db=truncation_db,
                       peak_gain_db=peak_db + output_gain_db, cancellation_shortfall_db=shortfall)
