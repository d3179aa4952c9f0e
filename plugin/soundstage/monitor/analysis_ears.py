"""Ear responses of whole playback systems, for the analysis: stereo in → the two ears.

A *system* is a FIR matrix from the processor's three internal signals (left', right', centre)
to the driver feeds, followed by the listening simulation's driver→ear impulse responses
(:func:`~.auralizer.binaural_impulse_responses`). Its ear impulse responses per internal input,
``(2 ears, 3 inputs, n)``, are one FFT product; every test signal of the analysis is a mono
source ``s`` panned into the stereo input, so its ears are ``s`` convolved with one combination
of those three responses.

The upmix is modelled by its converged projection (oracles.md): ``M = (L+R)/2``, ``S = (L−R)/2``,
``γ = E[MS]/E[S²]``, ``Ĉ = e·(M − γS)`` with the FilterSet's extraction strength ``e``,
``L' = L − Ĉ``, ``R' = R − Ĉ`` — for a single panned source ``Ĉ = 0`` except at the centre,
where ``Ĉ = e·M``. This is what the adaptive upmix of the processor converges to on such a
signal; the analysis uses it so that its figures do not depend on the upmix's time constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal

from ..acoustics.geometry import Enclosure, Listener
from .auralizer import binaural_impulse_responses, room_response

__all__ = ["System", "system_from_filterset", "reference_system", "EarResponses", "ear_responses",
           "pan_gains", "pink_noise", "white_noise", "through"]


@dataclass(frozen=True)
class System:
    """A playback system: FIR matrix (left', right', centre) → drivers, and the enclosure."""

    #: ``(3, n_drivers, n_taps)`` float FIR matrix from (left', right', centre) to the driver feeds.
    fir: np.ndarray
    enclosure: Enclosure
    #: Centre-extraction strength of the upmix (0: no upmix).
    extraction: float
    #: Design listener (moved listeners are derived from it).
    listener: Listener
    name: str


def system_from_filterset(filterset, name: str) -> System:
    """The system of a :class:`~soundstage.design.FilterSet` (its FIR matrix and upmix strength)."""
    return System(np.asarray(filterset.fir, dtype=float), filterset.enclosure, float(filterset.centre_extraction),
                  filterset.listener, name)


def reference_system(enclosure: Enclosure, listener: Listener, name: str = "reference") -> System:
    """A two-driver (left, right) loudspeaker pair played directly: L → driver 0, R → driver 1.

    The centre column feeds both drivers, so any upmix would be lossless; the extraction is 0.
    """
    fir = np.zeros((3, 2, 1))
    fir[0, 0, 0] = fir[1, 1, 0] = fir[2, 0, 0] = fir[2, 1, 0] = 1.0
    return System(fir, enclosure, 0.0, listener, name)


@dataclass(frozen=True)
class EarResponses:
    """Ear impulse responses of a system at one listener position.

    ``full[ear, input]`` for the inputs (left', right', centre), ``(2, 3, n)``; ``direct`` holds
    only the direct sound of the room response (equal to ``full`` in free field).
    """

    full: np.ndarray
    direct: np.ndarray
    sample_rate: float

    def for_stereo(self, gain_left: float, gain_right: float, extraction: float, *, part: str = "full") -> np.ndarray:
        """Ear impulse responses ``(2, n)`` of a mono source fed as ``(gain_left, gain_right)``.

        The upmix projection of the module docstring is applied with strength ``extraction``.
        """
        # One source: M = m·s, S = σ·s, γ = m/σ and Ĉ = e(M − γS) = 0 unless σ = 0 (Ĉ = e·M).
        centre = extraction * 0.5 * (gain_left + gain_right) if gain_left == gain_right else 0.0
        h = self.full if part == "full" else self.direct
        return (gain_left - centre) * h[:, 0] + (gain_right - centre) * h[:, 1] + centre * h[:, 2]


def _combine(fir: np.ndarray, irs: np.ndarray) -> np.ndarray:
    """``Σ_d fir[i, d] ⊛ irs[e, d]`` → ``(2, 3, n_fir + n_ir − 1)`` by one rFFT product."""
    n = fir.shape[-1] + irs.shape[-1] - 1
    n_fft = scipy.fft.next_fast_len(n, real=True)
    spectrum = np.einsum("idf,edf->eif", scipy.fft.rfft(fir, n_fft, axis=-1), scipy.fft.rfft(irs, n_fft, axis=-1))
    return scipy.fft.irfft(spectrum, n_fft, axis=-1)[..., :n]


def ear_responses(system: System, sample_rate: float, *, room=None, head=None, lateral_offset_m: float = 0.0,
                  fore_aft_offset_m: float = 0.0, max_order: int = 10) -> EarResponses:
    """Ear impulse responses of ``system`` for a listener moved from its design position.

    Parameters
    ----------
    system : System
    sample_rate : float
        Sample rate in Hz.
    room, head, max_order
        As for :class:`~.auralizer.Auralizer`.
    lateral_offset_m, fore_aft_offset_m : float
        Head offsets from the design position (m; lateral positive to the left, fore/aft positive
        toward the enclosure).
    """
    listener = system.listener.moved(lateral_offset_m=system.listener.lateral_offset_m + lateral_offset_m,
                                     fore_aft_offset_m=system.listener.fore_aft_offset_m + fore_aft_offset_m)
    if room is None or system.enclosure.kind == "headphones":
        irs, _ = binaural_impulse_responses(system.enclosure, listener, sample_rate, room=room, head=head,
                                            max_order=max_order)
        full = _combine(system.fir, irs)
        return EarResponses(full, full, float(sample_rate))
    response = room_response(system.enclosure, listener, sample_rate, room=room, head=head, max_order=max_order)
    return EarResponses(_combine(system.fir, response.full), _combine(system.fir, response.direct),
                        float(sample_rate))


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan law: ``pan`` −1 (hard right) … 0 … +1 (hard left) → (gain_left, gain_right).

    ``gain_left = sin((pan + 1)π/4)``, ``gain_right = cos((pan + 1)π/4)``; ``g_L² + g_R² = 1``.
    """
    angle = (float(pan) + 1.0) * np.pi / 4.0
    return float(np.sin(angle)), float(np.cos(angle))


def pink_noise(num_samples: int, sample_rate: float, *, seed: int = 0, low_hz: float = 20.0) -> np.ndarray:
    """Pink (−3 dB/octave) Gaussian noise of unit RMS, ``(num_samples,)``, seeded (deterministic).

    White noise shaped by ``1/√f`` in the frequency domain, flat below ``low_hz``.
    """
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    f = np.fft.rfftfreq(num_samples, 1.0 / sample_rate)
    spectrum /= np.sqrt(np.maximum(f, low_hz))
    spectrum[0] = 0.0
    x = np.fft.irfft(spectrum, num_samples)
    return x / np.sqrt(np.mean(x**2))


def white_noise(num_samples: int, *, seed: int = 0) -> np.ndarray:
    """Gaussian white noise of unit RMS, ``(num_samples,)``, seeded (deterministic)."""
    x = np.random.default_rng(seed).standard_normal(num_samples)
    return x / np.sqrt(np.mean(x**2))


def through(signal: np.ndarray, impulse_responses: np.ndarray) -> np.ndarray:
    """``signal`` (n,) convolved with each row of ``impulse_responses`` (2, m) → (2, n + m − 1)."""
    return scipy.signal.oaconvolve(signal[None, :], impulse_responses, axes=-1)
