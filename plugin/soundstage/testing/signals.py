"""Deterministic stereo test signals for audio regression renders.

Every signal is float32, channels-first ``(2, n)`` with ``n = round(seconds · sample_rate)``,
and depends only on its arguments (random parts are drawn from
``numpy.random.default_rng(seed)``), so a golden rendered today is reproduced bit for bit
tomorrow on the same platform. Pans use the constant-power law ``L = cos θ``, ``R = sin θ``,
θ from 0 (hard left) to π/2 (hard right).

=====================  ========================================================================
name                   content
=====================  ========================================================================
``pink-noise-sweep``   pink noise (−3 dB/octave, 20 Hz up), panned hard left → hard right
                       over the signal's duration, source peak −1 dBFS
``impulse-pan``        nine unit-area clicks (amplitude 0.5), evenly spaced in time, panned
                       hard left → hard right
``sine-sweep``         exponential sine sweep 20 Hz → min(20 kHz, 0.45 · sample_rate), equal
                       in both channels (a centred source), peak −3 dBFS
``voice-like``         a glottal-like harmonic source, f0 gliding 110 → 180 Hz with 5 Hz
                       vibrato, through /a/ formants (700, 1220, 2600 Hz), with a 4 Hz
                       syllable envelope and breath noise, centred, peak −3 dBFS
=====================  ========================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.signal

from .._errors import ParameterError

__all__ = [
    "SIGNAL_NAMES",
    "generate",
    "pink_noise_sweep",
    "impulse_pan",
    "sine_sweep",
    "voice_like",
]

_FADE_S = 0.010


def pink_noise_sweep(sample_rate: int = 48000, seconds: float = 2.0, *, seed: int = 0) -> np.ndarray:
    """Pink noise panned from hard left to hard right; ``(2, n)`` float32.

    The spectrum is shaped in the frequency domain: white Gaussian noise (``seed``) times
    ``1/sqrt(f)`` above 20 Hz, zero below, so the power per octave is constant.
    """
    n = _num_samples(sample_rate, seconds)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequencies_hz = np.fft.rfftfreq(n, 1.0 / sample_rate)
    shaping = np.zeros_like(frequencies_hz)
    audible = frequencies_hz >= 20.0
    shaping[audible] = 1.0 / np.sqrt(frequencies_hz[audible])
    mono = np.fft.irfft(spectrum * shaping, n)
    mono = _fade(_normalise_peak(mono, -1.0), sample_rate)
    return _pan(mono, np.linspace(0.0, 1.0, n))


def impulse_pan(sample_rate: int = 48000, seconds: float = 2.0, *, seed: int = 0) -> np.ndarray:
    """Nine clicks of amplitude 0.5 panned from hard left to hard right; ``(2, n)`` float32.

    Click ``k`` (0…8) sits at sample ``floor((k + 0.5) · n / 9)`` with pan position ``k / 8``.
    ``seed`` is accepted for a uniform signature and unused.
    """
    n = _num_samples(sample_rate, seconds)
    count = 9
    audio = np.zeros((2, n))
    for k in range(count):
        index = int((k + 0.5) * n / count)
        theta = 0.5 * np.pi * k / (count - 1)
        audio[:, index] += 0.5 * np.array([np.cos(theta), np.sin(theta)])
    return np.ascontiguousarray(audio, dtype=np.float32)


def sine_sweep(sample_rate: int = 48000, seconds: float = 2.0, *, seed: int = 0) -> np.ndarray:
    """Exponential sine sweep 20 Hz → min(20 kHz, 0.45 fs), centred; ``(2, n)`` float32.

    Uses :func:`scipy.signal.chirp` (``method="logarithmic"``). ``seed`` is unused.
    """
    n = _num_samples(sample_rate, seconds)
    t_s = np.arange(n) / sample_rate
    f_end_hz = min(20000.0, 0.45 * sample_rate)
    duration_s = max(t_s[-1], 1.0 / sample_rate)
    mono = scipy.signal.chirp(t_s, 20.0, duration_s, f_end_hz, method="logarithmic", phi=-90.0)
    mono = _fade(10 ** (-3.0 / 20) * mono, sample_rate)
    return np.ascontiguousarray(np.stack([mono, mono]), dtype=np.float32)


def voice_like(sample_rate: int = 48000, seconds: float = 2.0, *, seed: int = 0) -> np.ndarray:
    """A vowel-like centred source with pitch glide and syllables; ``(2, n)`` float32.

    Harmonics ``k·f0(t)`` with amplitude ``1/k`` up to 0.45 · sample_rate, shaped by three
    :func:`scipy.signal.iirpeak` formant resonators, amplitude-modulated at 4 Hz, plus breath
    noise 30 dB down (``seed``).
    """
    n = _num_samples(sample_rate, seconds)
    t_s = np.arange(n) / sample_rate
    glide = 110.0 * (180.0 / 110.0) ** (t_s / max(seconds, 1e-9))
    f0_hz = glide * (1.0 + 0.02 * np.sin(2 * np.pi * 5.0 * t_s))
    phase = 2 * np.pi * np.cumsum(f0_hz) / sample_rate
    source = np.zeros(n)
    for k in range(1, int(0.45 * sample_rate / f0_hz.max()) + 1):
        source += np.sin(k * phase) / k
    rng = np.random.default_rng(seed)
    source += 10 ** (-30.0 / 20) * np.std(source) * rng.standard_normal(n)
    voiced = np.zeros(n)
    for centre_hz, q in ((700.0, 5.0), (1220.0, 8.0), (2600.0, 10.0)):
        if centre_hz < 0.45 * sample_rate:
            b, a = scipy.signal.iirpeak(centre_hz, q, fs=sample_rate)
            voiced += scipy.signal.lfilter(b, a, source)
    envelope = 0.55 - 0.45 * np.cos(2 * np.pi * 4.0 * t_s)
    mono = _fade(_normalise_peak(voiced * envelope, -3.0), sample_rate)
    return np.ascontiguousarray(np.stack([mono, mono]), dtype=np.float32)


_GENERATORS: dict[str, Callable[..., np.ndarray]] = {
    "pink-noise-sweep": pink_noise_sweep,
    "impulse-pan": impulse_pan,
    "sine-sweep": sine_sweep,
    "voice-like": voice_like,
}

#: Names :func:`generate` accepts.
SIGNAL_NAMES: tuple[str, ...] = tuple(_GENERATORS)


def generate(
    name: str, sample_rate: int = 48000, seconds: float = 2.0, *, seed: int = 0
) -> np.ndarray:
    """One of the built-in test signals by name.

    Parameters
    ----------
    name : str
        One of :data:`SIGNAL_NAMES`: ``"pink-noise-sweep"``, ``"impulse-pan"``,
        ``"sine-sweep"``, ``"voice-like"``.
    sample_rate : int
        Sample rate in Hz (≥ 8000).
    seconds : float
        Duration in seconds (> 0, at least one sample).
    seed : int
        Seed of the random parts (pink noise, breath noise).

    Returns
    -------
    np.ndarray [shape=(2, n), dtype=float32]
        Stereo signal, channels first, ``n = round(seconds · sample_rate)``.

    Raises
    ------
    ParameterError
        Unknown ``name``, or an out-of-range ``sample_rate`` / ``seconds``.

    Examples
    --------
    >>> from soundstage.testing import signals
    >>> signals.generate("sine-sweep", 48000, 0.5).shape
    (2, 24000)
    """
    try:
        generator = _GENERATORS[name]
    except (KeyError, TypeError):
        raise ParameterError(
            f"signal must be one of {', '.join(map(repr, SIGNAL_NAMES))} or an array, got {name!r}"
        ) from None
    return generator(sample_rate, seconds, seed=seed)


def _num_samples(sample_rate, seconds) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise ParameterError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}")
    if sample_rate < 8000:
        raise ParameterError(f"sample_rate must be ≥ 8000 Hz, got {sample_rate}")
    if not np.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"seconds must be a finite duration > 0, got {seconds!r}")
    n = int(round(seconds * sample_rate))
    if n < 1:
        raise ParameterError(f"seconds={seconds!r} gives no sample at {sample_rate} Hz")
    return n


def _normalise_peak(mono: np.ndarray, peak_dbfs: float) -> np.ndarray:
    peak = np.max(np.abs(mono))
    return mono if peak == 0 else mono * (10 ** (peak_dbfs / 20) / peak)


def _fade(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of 10 ms (shorter for very short signals)."""
    length = min(int(_FADE_S * sample_rate), mono.size // 2)
    if length > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)
        mono = mono.copy()
        mono[:length] *= ramp
        mono[mono.size - length :] *= ramp[::-1]
    return mono


def _pan(mono: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Constant-power pan; ``position`` 0 is hard left, 1 hard right (per sample)."""
    theta = 0.5 * np.pi * position
    return np.ascontiguousarray(np.stack([np.cos(theta) * mono, np.sin(theta) * mono]), dtype=np.float32)
