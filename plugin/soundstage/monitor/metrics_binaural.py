"""Binaural metrics of ear signals: channel separation, interaural level and time differences,
early interaural cross-correlation and colouration.

Ear signals are arrays ``(2, n)``: row 0 the left ear, row 1 the right ear (the ear order of
:class:`soundstage.acoustics.heads.base.HeadModel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal

from .._errors import ParameterError
from .metrics_bands import band_energies, third_octave_bands, validate_sample_rate, validate_signals

__all__ = [
    "ChannelSeparation",
    "InterauralDifferences",
    "Colouration",
    "channel_separation_db",
    "interaural_differences",
    "interaural_time_difference_s",
    "iacc_early",
    "colouration_db",
    "ITD_CUTOFF_HZ",
]

#: Upper frequency of the band in which the ITD is measured (Hz): below it the phase of the ear
#: signals carries the interaural delay unambiguously (the duplex theory's low-frequency cue).
ITD_CUTOFF_HZ = 1500.0
# Smallest energy taken into a logarithm, relative to the largest energy compared (−300 dB).
_TINY = 1e-30


def _default_centres(sample_rate: float, centres_hz):
    if centres_hz is not None:
        return np.asarray(centres_hz, dtype=float)
    return third_octave_bands(100.0, min(16000.0, sample_rate / 2 / 1.13))


def _ratio_db(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    scale = max(float(np.max(numerator)), float(np.max(denominator)), np.finfo(float).tiny)
    return 10.0 * np.log10(np.maximum(numerator, _TINY * scale) / np.maximum(denominator, _TINY * scale))


@dataclass(frozen=True)
class ChannelSeparation:
    """Channel separation χ per band (dB); see :func:`channel_separation_db`."""

    #: Band centres (Hz), shape ``(n_bands,)``.
    centres_hz: np.ndarray
    #: Left-only input: left-ear / right-ear energy (dB), shape ``(n_bands,)``.
    left_db: np.ndarray
    #: Right-only input: right-ear / left-ear energy (dB), shape ``(n_bands,)``.
    right_db: np.ndarray
    #: Arithmetic mean of ``left_db`` and ``right_db`` (dB), shape ``(n_bands,)``.
    mean_db: np.ndarray


def channel_separation_db(
    ears_left_input, ears_right_input, sample_rate: float, centres_hz=None
) -> ChannelSeparation:
    """Channel separation χ (ipsilateral / contralateral ear energy) per one-third-octave band.

    For the ear signals of a left-only input, χ_L = 10·log10(E_left ear / E_right ear); for the
    ear signals of a right-only input, χ_R = 10·log10(E_right ear / E_left ear). A ±30° stereo
    pair gives the head's natural separation; crosstalk cancellation raises it.

    Parameters
    ----------
    ears_left_input, ears_right_input : array_like [shape=(2, n)]
        Ear signals (left, right ear) for a left-only and a right-only input (impulse responses
        or responses to a broadband signal).
    sample_rate : float
        Sample rate in Hz.
    centres_hz : array_like [shape=(n_bands,)], optional
        Band centres in Hz; default one-third-octave bands 100 Hz–16 kHz (below Nyquist).

    Returns
    -------
    ChannelSeparation
        χ_L, χ_R and their arithmetic mean in dB per band.
    """
    fs = validate_sample_rate(sample_rate)
    left_in = validate_signals(ears_left_input, "ears_left_input", leading_shape=(2,))
    right_in = validate_signals(ears_right_input, "ears_right_input", leading_shape=(2,))
    centres = _default_centres(fs, centres_hz)
    e_l = band_energies(left_in, fs, centres)
    e_r = band_energies(right_in, fs, centres)
    chi_left = _ratio_db(e_l[0], e_l[1])
    chi_right = _ratio_db(e_r[1], e_r[0])
    return ChannelSeparation(centres, chi_left, chi_right, 0.5 * (chi_left + chi_right))


@dataclass(frozen=True)
class InterauralDifferences:
    """Interaural level and time differences; see :func:`interaural_differences`."""

    #: Band centres (Hz), shape ``(n_bands,)``.
    centres_hz: np.ndarray
    #: ILD = 10·log10(E_left / E_right) per band (dB), positive for a source on the left.
    ild_db: np.ndarray
    #: Broadband ITD (s), positive when the left ear leads (a source on the left).
    itd_s: float


def interaural_time_difference_s(
    ears, sample_rate: float, *, cutoff_hz: float = ITD_CUTOFF_HZ, max_itd_ms: float = 1.0
) -> float:
    """Broadband interaural time difference of ear signals, by cross-correlation below ``cutoff_hz``.

    Both ears are low-passed by the same 4th-order Butterworth response (applied as its squared
    magnitude to the cross-spectrum, i.e. zero phase); the lag of the maximum of the
    cross-correlation ``Σ_t l[t]·r[t + τ]`` within ``±max_itd_ms`` is refined to a fraction of a
    sample by band-limited (FFT) interpolation with 16× oversampling and a parabola through the
    three largest values.

    Parameters
    ----------
    ears : array_like [shape=(2, n)]
        Left and right ear signals.
    sample_rate : float
        Sample rate in Hz.
    cutoff_hz : float
        Low-pass cut-off in Hz (default 1500 Hz).
    max_itd_ms : float
        Largest delay searched, in ms (default 1 ms, above the ≈ 0.66 ms of a human head).

    Returns
    -------
    float
        ITD in seconds, **positive when the left ear leads** (the right-ear signal is a delayed
        copy of the left one), i.e. for a source on the listener's left.
    """
    fs = validate_sample_rate(sample_rate)
    x = validate_signals(ears, "ears", leading_shape=(2,))
    if not (0 < cutoff_hz < fs / 2):
        raise ParameterError(f"cutoff_hz must lie in (0, {fs / 2:g}) Hz, got {cutoff_hz!r}")
    if not max_itd_ms > 0:
        raise ParameterError(f"max_itd_ms must be > 0, got {max_itd_ms!r}")
    n = x.shape[-1]
    oversample = 16
    n_fft = scipy.fft.next_fast_len(2 * n, real=True)
    spectra = scipy.fft.rfft(x, n=n_fft, axis=-1)
    sos = scipy.signal.butter(4, cutoff_hz, fs=fs, output="sos")
    _, h = scipy.signal.sosfreqz(sos, worN=scipy.fft.rfftfreq(n_fft, 1.0 / fs), fs=fs)
    cross_spectrum = spectra[1] * np.conj(spectra[0]) * np.abs(h) ** 2
    # irfft at oversample × n_fft points: band-limited interpolation of the cross-correlation.
    xcorr = scipy.fft.irfft(cross_spectrum, n=n_fft * oversample)
    max_lag = min(int(np.ceil(max_itd_ms * 1e-3 * fs * oversample)), n_fft * oversample // 2 - 2)
    lags = np.arange(-max_lag, max_lag + 1)
    values = xcorr[lags]  # negative lags wrap to the end of the circular correlation
    if not np.any(values):
        raise ParameterError("ears: the low-passed ear signals are silent; no ITD can be measured")
    i = int(np.argmax(values))
    offset = 0.0
    if 0 < i < len(values) - 1:
        y0, y1, y2 = values[i - 1 : i + 2]
        denom = y0 - 2 * y1 + y2
        if denom < 0:
            offset = 0.5 * (y0 - y2) / denom
    return float((lags[i] + offset) / (fs * oversample))


def interaural_differences(
    ears, sample_rate: float, centres_hz=None, *, cutoff_hz: float = ITD_CUTOFF_HZ, max_itd_ms: float = 1.0
) -> InterauralDifferences:
    """Interaural level difference per band and broadband interaural time difference.

    Parameters
    ----------
    ears : array_like [shape=(2, n)]
        Left and right ear signals (impulse responses or responses to a broadband signal).
    sample_rate : float
        Sample rate in Hz.
    centres_hz : array_like [shape=(n_bands,)], optional
        Band centres in Hz; default one-third-octave bands 100 Hz–16 kHz (below Nyquist).
    cutoff_hz, max_itd_ms : float
        See :func:`interaural_time_difference_s`.

    Returns
    -------
    InterauralDifferences
        ``ild_db`` = 10·log10(E_left / E_right) per band (dB, positive for a source on the left)
        and ``itd_s`` (s, positive when the left ear leads, i.e. a source on the left).
    """
    fs = validate_sample_rate(sample_rate)
    x = validate_signals(ears, "ears", leading_shape=(2,))
    centres = _default_centres(fs, centres_hz)
    energies = band_energies(x, fs, centres)
    itd = interaural_time_difference_s(x, fs, cutoff_hz=cutoff_hz, max_itd_ms=max_itd_ms)
    return InterauralDifferences(centres, _ratio_db(energies[0], energies[1]), itd)


def iacc_early(ears, sample_rate: float, *, window_ms: float = 80.0, max_lag_ms: float = 1.0) -> float:
    """Early interaural cross-correlation coefficient IACC_E (ISO 3382-1, Annex A).

    The maximum over ``|τ| ≤ max_lag_ms`` of the absolute normalised interaural
    cross-correlation ``|Σ p_L(t) p_R(t+τ)| / sqrt(Σ p_L² · Σ p_R²)`` of the ear impulse responses
    over ``window_ms`` from the arrival of the direct sound. The arrival is the first sample at
    which either ear reaches 20 dB below its peak (ISO 3382-1, A.3.4); sums run over that window.

    Parameters
    ----------
    ears : array_like [shape=(2, n)]
        Left and right ear impulse responses.
    sample_rate : float
        Sample rate in Hz.
    window_ms : float
        Integration window in ms (ISO 3382-1 "early": 80 ms).
    max_lag_ms : float
        Largest interaural lag in ms (ISO 3382-1: 1 ms).

    Returns
    -------
    float
        IACC_E, dimensionless in [0, 1]: 1 for identical or purely delayed ears, ≈ 0 for
        independent ones.
    """
    fs = validate_sample_rate(sample_rate)
    x = validate_signals(ears, "ears", leading_shape=(2,))
    if not window_ms > 0 or not max_lag_ms >= 0:
        raise ParameterError(f"window_ms must be > 0 and max_lag_ms >= 0, got {window_ms!r}, {max_lag_ms!r}")
    peaks = np.max(np.abs(x), axis=-1)
    if np.any(peaks == 0):
        raise ParameterError("ears: an ear impulse response is all zeros; IACC is undefined")
    onset = min(int(np.argmax(np.abs(x[ear]) >= 0.1 * peaks[ear])) for ear in range(2))
    window = x[:, onset : onset + max(2, int(round(window_ms * 1e-3 * fs)))]
    left, right = window
    # scipy.signal.correlate(right, left)[k] = Σ_t right[t + lag_k] · left[t].
    xcorr = scipy.signal.correlate(right, left, mode="full")
    lags = scipy.signal.correlation_lags(right.size, left.size, mode="full")
    max_lag = int(np.floor(max_lag_ms * 1e-3 * fs + 1e-9))
    within = np.abs(lags) <= max_lag
    norm = np.sqrt(np.sum(left**2) * np.sum(right**2))
    if norm == 0:
        raise ParameterError("ears: an ear is silent within the early window; IACC is undefined")
    return float(np.max(np.abs(xcorr[within])) / norm)


@dataclass(frozen=True)
class Colouration:
    """Colouration of an ipsilateral ear response re a reference; see :func:`colouration_db`."""

    #: Band centres (Hz), shape ``(n_bands,)``.
    centres_hz: np.ndarray
    #: 10·log10(E / E_reference) per band (dB), shape ``(n_bands,)``.
    deviation_db: np.ndarray
    #: Mean of ``deviation_db`` over the bands with centres in [200 Hz, 8 kHz] (dB): a level offset.
    mean_db: float
    #: Root-mean-square of ``deviation_db`` over the bands with centres in [200 Hz, 8 kHz] (dB).
    rms_db: float


def colouration_db(
    ipsi_response, reference_ipsi_response, sample_rate: float, centres_hz=None, *,
    rms_range_hz: tuple[float, float] = (200.0, 8000.0),
) -> Colouration:
    """Colouration: per-band level of an ipsilateral ear response re a reference response.

    Parameters
    ----------
    ipsi_response : array_like [shape=(n,)]
        Impulse response at the ipsilateral ear of the system under test (e.g. the left ear for a
        left-only input through the processed enclosure).
    reference_ipsi_response : array_like [shape=(m,)]
        The reference impulse response at the same ear (e.g. a ±30° loudspeaker's left-ear HRIR).
    sample_rate : float
        Sample rate in Hz.
    centres_hz : array_like [shape=(n_bands,)], optional
        Band centres in Hz; default one-third-octave bands 100 Hz–16 kHz (below Nyquist).
    rms_range_hz : (float, float)
        Bands whose centres lie in this range (Hz, inclusive) enter ``mean_db`` and ``rms_db``.

    Returns
    -------
    Colouration
        ``deviation_db`` = 10·log10(E / E_ref) per band (dB; 0 for no colouration), its mean and
        its rms over ``rms_range_hz``. The rms includes any broadband level offset (``mean_db``);
        ``sqrt(rms_db² − mean_db²)`` is the spectral-shape part alone.
    """
    fs = validate_sample_rate(sample_rate)
    test = validate_signals(ipsi_response, "ipsi_response")
    ref = validate_signals(reference_ipsi_response, "reference_ipsi_response")
    if test.ndim != 1 or ref.ndim != 1:
        raise ParameterError(
            f"ipsi_response and reference_ipsi_response must be 1-D, got shapes {test.shape} and {ref.shape}"
        )
    centres = _default_centres(fs, centres_hz)
    n = max(test.size, ref.size)
    # The same FFT length for both, so the two spectra are sampled at the same bins.
    e_test = band_energies(np.pad(test, (0, n - test.size)), fs, centres)
    e_ref = band_energies(np.pad(ref, (0, n - ref.size)), fs, centres)
    deviation = _ratio_db(e_test, e_ref)
    low, high = rms_range_hz
    inside = (centres >= low) & (centres <= high)
    if not np.any(inside):
        raise ParameterError(f"rms_range_hz {rms_range_hz!r} contains none of the band centres {centres!r}")
    return Colouration(
        centres,
        deviation,
        float(np.mean(deviation[inside])),
        float(np.sqrt(np.mean(deviation[inside] ** 2))),
    )
