"""A short synthetic stereo test mix: everything the processing must place, built from numpy.

It holds a centred voice-like source (a glottal pulse train through vowel formants with a
syllable rhythm), a hard-left plucked instrument, a hard-right percussion line, a half-left pad
and a decorrelated ambience bed, so a render shows width (hard-panned parts), the phantom centre
(the voice) and depth (the ambience) at once. Deterministic: the same ``seed`` gives the same
samples.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

__all__ = ["test_mix", "constant_power_pan"]


def constant_power_pan(mono: np.ndarray, pan: float) -> np.ndarray:
    """Pan ``mono`` (n,) to stereo (2, n): pan −1 = hard right, 0 = centre, +1 = hard left
    (positive to the listener's left, like azimuth)."""
    angle = (pan + 1.0) * np.pi / 4.0  # 0 … π/2
    return np.stack([np.sin(angle) * mono, np.cos(angle) * mono])


def _voice(n: int, sample_rate: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sample_rate
    f0 = 150.0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = np.cumsum(f0) / sample_rate
    pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
    source = signal.lfilter([1.0], [1.0, -0.97], pulses)  # glottal roll-off
    out = np.zeros(n)
    for f_formant, bandwidth, gain in ((700, 110, 1.0), (1220, 120, 0.6), (2600, 160, 0.3)):
        b, a = signal.iirpeak(f_formant, f_formant / bandwidth, fs=sample_rate)
        out += gain * signal.lfilter(b, a, source)
    syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 3.0 * t)
    return out * syllables * (t % 2.0 < 1.6)


def _pluck(n: int, sample_rate: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n)
    notes = (220.0, 277.2, 329.6, 440.0)
    step = int(0.5 * sample_rate)
    for i, start in enumerate(range(0, n, step)):
        f = notes[i % len(notes)]
        length = min(step * 2, n - start)
        t = np.arange(length) / sample_rate
        tone = sum(np.sin(2 * np.pi * f * k * t) / k**1.5 for k in range(1, 8))
        out[start:start + length] += tone * np.exp(-t * 4.0)
    return out


def _hats(n: int, sample_rate: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(n)
    sos = signal.butter(4, 6000, "highpass", fs=sample_rate, output="sos")
    noise = signal.sosfilt(sos, noise)
    t = np.arange(n) / sample_rate
    envelope = np.exp(-((t % 0.25) * 40.0))
    return noise * envelope


def _pad(n: int, sample_rate: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sample_rate
    chord = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in (130.8, 164.8, 196.0, 261.6))
    return chord * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t))


def test_mix(sample_rate: float = 48000.0, seconds: float = 6.0, *, seed: int = 7) -> np.ndarray:
    """The test mix, float32 ``(2, n)`` channels-first, peak −3 dBFS.

    Parameters
    ----------
    sample_rate : float
        Sample rate in Hz.
    seconds : float
        Duration in seconds (> 0).
    seed : int
        Seed of the noise parts.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    stems = {
        "voice (centre)": (constant_power_pan(_voice(n, sample_rate, rng), 0.0), 1.0),
        "pluck (hard left)": (constant_power_pan(_pluck(n, sample_rate, rng), 1.0), 0.5),
        "hats (hard right)": (constant_power_pan(_hats(n, sample_rate, rng), -1.0), 0.35),
        "pad (half left)": (constant_power_pan(_pad(n, sample_rate, rng), 0.5), 0.15),
    }
    mix = np.zeros((2, n))
    for stem, gain in stems.values():
        mix += gain * stem / max(np.max(np.abs(stem)), 1e-12)
    ambience = rng.standard_normal((2, n))
    ambience = signal.sosfilt(signal.butter(2, [200, 4000], "bandpass", fs=sample_rate, output="sos"), ambience)
    mix += 0.05 * ambience / np.max(np.abs(ambience))
    mix *= 10 ** (-3 / 20) / np.max(np.abs(mix))
    return mix.astype(np.float32)


test_mix.__test__ = False  # a signal generator, not a test, when imported into a test module
