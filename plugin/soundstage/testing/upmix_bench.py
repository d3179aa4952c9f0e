"""A stem bench for the upmix: synthetic stems, mixed, and each stem's share of C, L′ and R′.

The upmix is adaptive, so a stem's share cannot be had by upmixing the stem alone: the upmix
runs on the mixture, records its time-varying per-band coefficients (w_b of M_b and −w_b γ_b of
S_b: centre gain and projection), and the same coefficients are applied to each stem through the
same complementary band split.
The stems' centres add up to the mixture's centre exactly (the upmix is linear once its gains
are fixed), which the bench checks.

Stems (all synthetic, seeded): a centred voice-like source (a harmonic series on a 140 Hz
fundamental with vibrato, formant resonances and syllable envelopes), two equal-level
instruments hard left and hard right with overlapping spectra, a source panned 70/30, stereo
reverb tails (decaying noise, independent per channel) and hard-left drum hits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

__all__ = ["STEM_NAMES", "make_stems", "StemShare", "attribute_stems", "CASES"]

STEM_NAMES = ("voice", "guitar_left", "keys_right", "pan_70_30", "reverb", "drums_left", "bass_right")

#: Mixtures the bench measures: name → stems in it.
CASES = {
    "centred voice": ("voice",),
    "hard-panned pair": ("guitar_left", "keys_right"),
    "70/30 pan": ("pan_70_30",),
    "ambience": ("reverb",),
    "voice + ambience": ("voice", "reverb"),
    "drum over steady": ("drums_left", "bass_right"),
    "full mix": ("voice", "guitar_left", "keys_right", "pan_70_30", "reverb"),
}

#: Start times (s) of the drum hits.
DRUM_HITS_S = (0.75, 1.5, 2.25, 3.0)


def _bandpassed_noise(rng, n, sample_rate, low, high):
    sos = scipy.signal.butter(2, [low, high], "bandpass", fs=sample_rate, output="sos")
    return scipy.signal.sosfilt(sos, rng.standard_normal(n))


def _voice(rng, n, sample_rate):
    t = np.arange(n) / sample_rate
    f0 = 140.0 * (1 + 0.02 * np.sin(2 * np.pi * 5.0 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    source = sum(np.sin(k * phase) / k for k in range(1, 40) if k * 140 < 0.45 * sample_rate)
    out = np.zeros(n)
    for formant, q in ((700.0, 5.0), (1200.0, 8.0), (2600.0, 10.0)):
        b, a = scipy.signal.iirpeak(formant, q, fs=sample_rate)
        out += scipy.signal.lfilter(b, a, source)
    syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 3.0 * t)
    return out * syllables


def make_stems(sample_rate: float = 48000.0, seconds: float = 4.0, seed: int = 0) -> dict:
    """Stems as (2, n) float64 arrays, each scaled to the same rms per channel it occupies."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    zero = np.zeros(n)

    def unit(x):
        return x / np.sqrt(np.mean(x**2))

    t = np.arange(n) / sample_rate
    voice = unit(_voice(rng, n, sample_rate))
    guitar = unit(_bandpassed_noise(rng, n, sample_rate, 150, 6000) * (1 + 0.5 * np.sin(2 * np.pi * 1.3 * t)))
    keys = unit(_bandpassed_noise(rng, n, sample_rate, 150, 6000) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t)))
    pan = unit(_bandpassed_noise(rng, n, sample_rate, 200, 5000))
    decay = np.exp(-6.9 * (t % 1.0) / 1.2)  # a tail every second, T60 = 1.2 s
    reverb = np.stack([unit(_bandpassed_noise(rng, n, sample_rate, 200, 8000) * decay) for _ in range(2)])
    drums = np.zeros(n)
    for start in DRUM_HITS_S:
        i = int(start * sample_rate)
        length = min(int(0.08 * sample_rate), n - i)
        drums[i:i + length] += rng.standard_normal(length) * np.exp(-np.arange(length) / (0.012 * sample_rate))
    drums = 3 * unit(scipy.signal.sosfilt(scipy.signal.butter(2, [60, 8000], "bandpass", fs=sample_rate,
                                                                 output="sos"), drums))
    bass = unit(_bandpassed_noise(rng, n, sample_rate, 60, 2000))
    scale = 0.1
    return {
        "voice": scale * np.stack([voice, voice]),
        "guitar_left": scale * np.stack([guitar, zero]),
        "keys_right": scale * np.stack([zero, keys]),
        "pan_70_30": scale * np.stack([0.7 * pan, 0.3 * pan]) / np.sqrt(0.58),
        "reverb": scale * reverb,
        "drums_left": scale * np.stack([drums, zero]),
        "bass_right": scale * np.stack([zero, bass]),
    }


@dataclass(frozen=True)
class StemShare:
    """One stem's share of the upmix outputs: energies of C, L′, R′ in dB re the stem's own
    energy (both channels), the stem's corr(L, R) and its corr(L′, R′); its centre signal."""

    centre_db: float
    left_db: float
    right_db: float
    corr_in: float
    corr_out: float
    centre_signal: np.ndarray


def _band_split(x, coef):
    """Complementary cascade of :class:`~soundstage._kernels.upmix.CentreExtractor`, (bands, n)."""
    bands, rest = [], x.copy()
    for b0, b1, b2, a1, a2 in coef:
        band = scipy.signal.lfilter([b0, b1, b2], [1.0, a1, a2], rest)
        bands.append(band)
        rest = rest - band
    bands.append(rest)
    return np.stack(bands)


def _db(num, den):
    return float(10 * np.log10(max(num, 1e-30) / max(den, 1e-30)))


def _corr(a, b):
    return float(np.sum(a * b) / np.sqrt(max(np.sum(a * a) * np.sum(b * b), 1e-30)))


def attribute_stems(stems: dict, band_edges_hz=(250.0, 1000.0, 4000.0), sample_rate: float = 48000.0,
                    time_constant_ms: float = 40.0, strength: float = 1.0):
    """Upmix the sum of ``stems`` and attribute C, L′, R′ to each stem.

    Returns ``(shares, mixture_out)``: a dict stem → :class:`StemShare` and the upmix output of
    the mixture (3, n) float32.
    """
    from .._kernels.upmix import CentreExtractor

    mix = sum(stems.values()).astype(np.float32)
    upmix = CentreExtractor(np.asarray(band_edges_hz, float), sample_rate, time_constant_ms, strength)
    out = np.empty((3, mix.shape[1]), np.float32)
    gains = np.empty((upmix.num_bands, 2, mix.shape[1]), np.float32)
    upmix.process_into(np.ascontiguousarray(mix), out, gains)
    coef = []
    for edge in band_edges_hz:
        sos = scipy.signal.butter(2, edge, btype="lowpass", fs=sample_rate, output="sos")[0]
        coef.append(sos[[0, 1, 2, 4, 5]] / sos[3])
    shares = {}
    for name, stem in stems.items():
        x = stem.astype(np.float32).astype(float)
        m_bands = _band_split(0.5 * (x[0] + x[1]), coef)
        s_bands = _band_split(0.5 * (x[0] - x[1]), coef)
        centre = strength * np.sum(gains[:, 0] * m_bands + gains[:, 1] * s_bands, axis=0)
        left, right = x[0] - centre, x[1] - centre
        energy = np.sum(x**2)
        shares[name] = StemShare(
            centre_db=_db(np.sum(centre**2), energy),
            left_db=_db(np.sum(left**2), energy), right_db=_db(np.sum(right**2), energy),
            corr_in=_corr(x[0], x[1]), corr_out=_corr(left, right), centre_signal=centre)
    return shares, out
