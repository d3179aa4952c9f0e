"""Loudness of the versions in a comparison, and the gains that match them.

Integrated loudness and loudness range are measured with pyloudnorm (ITU-R BS.1770-4 K-weighting
and gating; EBU Tech 3342 loudness range, ``pyloudnorm.Meter.loudness_range``); nothing here
re-implements a weighting filter. True peak is approximated as BS.1770-4 Annex 2 describes —
the sample peak of the signal oversampled 4× — with ``scipy.signal.resample_poly`` as the
interpolator (a Kaiser-windowed polyphase FIR rather than the Annex's 48-tap example filter, so
values can differ from a certified meter by a few hundredths of a dB).

Matching: every version gets the gain that brings its integrated loudness to a common target
(by default the reference's loudness). Loudness scales exactly with gain except where blocks
cross BS.1770's −70 LUFS absolute gate, so the gains are re-measured and corrected until every
version lies within :data:`MATCH_TOLERANCE_LU`. A peak guard then lowers *all* gains together
by the same amount if any matched version's sample peak would exceed the ceiling
(:data:`PEAK_CEILING_DBFS`), which keeps the versions matched to one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyloudnorm

from .._errors import ParameterError
from ..monitor.loudness_meter import (MIN_DURATION_S, TRUE_PEAK_OVERSAMPLING, _db, _frames,
                                      integrated_loudness_lufs, true_peak_dbtp)

__all__ = [
    "MIN_DURATION_S",
    "MATCH_TOLERANCE_LU",
    "PEAK_CEILING_DBFS",
    "TRUE_PEAK_OVERSAMPLING",
    "LoudnessStats",
    "LoudnessMatch",
    "integrated_loudness_lufs",
    "true_peak_dbtp",
    "measure_loudness",
    "match_loudness",
    "match_gains",
]

#: Largest allowed difference between a matched version's loudness and the target (LU).
MATCH_TOLERANCE_LU = 0.1
#: Highest sample peak (dBFS) a matched version may reach before the peak guard lowers all.
PEAK_CEILING_DBFS = -1.0
#: Short-term window of the loudness range (s, EBU Tech 3342); shorter signals (< 1.5 s) have none.
LRA_WINDOW_S = 3.0
# Residual (LU) the iteration aims for, well inside the tolerance.
_AIM_LU = 0.005


@dataclass(frozen=True)
class LoudnessStats:
    """Level measurements of one version.

    Attributes
    ----------
    integrated_lufs : float
        Integrated loudness (BS.1770-4, LUFS).
    loudness_range_lu : float
        Loudness range (EBU Tech 3342, LU); NaN when too quiet or shorter than 1.5 s (pyloudnorm
        pads 1.5 s of silence and needs one 3 s short-term window).
    sample_peak_dbfs : float
        Largest absolute sample (dBFS).
    true_peak_dbtp : float
        4× oversampled peak (dBTP, see :func:`true_peak_dbtp`).
    crest_factor_db : float
        Sample peak over the RMS of all channels together (dB).
    """

    integrated_lufs: float
    loudness_range_lu: float
    sample_peak_dbfs: float
    true_peak_dbtp: float
    crest_factor_db: float

    def scaled(self, gain_db: float) -> "LoudnessStats":
        """The same measurements after a gain of ``gain_db`` (loudness shifted as measured elsewhere)."""
        return LoudnessStats(self.integrated_lufs + gain_db, self.loudness_range_lu, self.sample_peak_dbfs + gain_db,
                             self.true_peak_dbtp + gain_db, self.crest_factor_db)


def measure_loudness(audio, sample_rate: float, *, name: str = "audio", loudness_range: bool = True) -> LoudnessStats:
    """Measure integrated loudness, loudness range, peaks and crest factor of ``audio``.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
        Headphone render (two ears) or any one to five channels.
    sample_rate : float
        Sample rate in Hz.
    name : str
        Name used in error messages.
    loudness_range : bool
        Whether to measure the loudness range (the slowest measurement).

    Returns
    -------
    LoudnessStats
    """
    frames = _frames(audio, sample_rate, name)
    audio = np.asarray(audio)
    meter = pyloudnorm.Meter(sample_rate)
    integrated = float(meter.integrated_loudness(frames))
    lra = float("nan")
    # pyloudnorm's Tech 3342 meter appends 1.5 s of silence and needs one 3 s short-term window
    long_enough = frames.shape[0] + int(1.5 * sample_rate) >= LRA_WINDOW_S * sample_rate
    if loudness_range and long_enough and np.isfinite(integrated):
        lra = float(pyloudnorm.Meter(sample_rate).loudness_range(frames))
    peak = float(np.max(np.abs(frames)))
    rms = float(np.sqrt(np.mean(np.square(frames))))
    crest = _db(peak) - _db(rms) if rms > 0 else float("nan")
    return LoudnessStats(integrated, lra, _db(peak), true_peak_dbtp(audio), crest)


@dataclass(frozen=True)
class LoudnessMatch:
    """Gains that bring every version to one loudness.

    Attributes
    ----------
    target_lufs : float
        Loudness every version was matched to before the peak guard (LUFS).
    gains_db : dict[str, float]
        Gain per version (dB), peak guard included.
    loudness_after_lufs : dict[str, float]
        Measured integrated loudness of each version with its gain applied (LUFS).
    peak_after_dbfs : dict[str, float]
        Sample peak of each version with its gain applied (dBFS).
    guard_db : float
        Gain (dB, <= 0) the peak guard applied to every version; 0 when it did not engage.
    ceiling_dbfs : float
        The sample-peak ceiling of the guard (dBFS).
    iterations : int
        Measurement passes used to converge.
    """

    target_lufs: float
    gains_db: dict
    loudness_after_lufs: dict
    peak_after_dbfs: dict
    guard_db: float
    ceiling_dbfs: float
    iterations: int

    @property
    def guard_engaged(self) -> bool:
        """Whether the peak guard lowered the gains."""
        return self.guard_db < 0.0

    @property
    def matched_lufs(self) -> float:
        """Common loudness of the matched versions (LUFS), after the guard."""
        return self.target_lufs + self.guard_db

    @property
    def spread_lu(self) -> float:
        """Largest minus smallest matched loudness (LU)."""
        values = list(self.loudness_after_lufs.values())
        return float(max(values) - min(values))

    def gain(self, key: str) -> float:
        """Linear gain of version ``key``."""
        return float(10.0 ** (self.gains_db[key] / 20.0))


def match_loudness(
    versions: Mapping[str, np.ndarray],
    sample_rate: float,
    *,
    target_lufs: float | None = None,
    reference: str | None = None,
    ceiling_dbfs: float = PEAK_CEILING_DBFS,
    tolerance_lu: float = MATCH_TOLERANCE_LU,
    max_iterations: int = 6,
    measured_lufs: Mapping[str, float] | None = None,
) -> LoudnessMatch:
    """Gains that match the integrated loudness of ``versions``, with a sample-peak guard.

    Parameters
    ----------
    versions : mapping of str to np.ndarray [shape=(channels, n)]
        The signals to match (e.g. headphone renders), by name.
    sample_rate : float
        Sample rate in Hz.
    target_lufs : float, optional
        Loudness to match to (LUFS). Default: the loudness of ``versions[reference]``, or the
        quietest version when ``reference`` is None.
    reference : str, optional
        Key of the version whose loudness is the default target.
    ceiling_dbfs : float
        Highest sample peak a matched version may have (dBFS, <= 0). When matching would exceed
        it, every gain is lowered by the same amount.
    tolerance_lu : float
        Allowed |loudness − target| after matching (LU, > 0).
    max_iterations : int
        Largest number of measure-and-correct passes.
    measured_lufs : mapping of str to float, optional
        Already measured loudness of the unscaled versions (saves one pass).

    Returns
    -------
    LoudnessMatch

    Raises
    ------
    ParameterError
        For fewer than one version, a silent version (no loudness to match), a reference not in
        ``versions``, or a loudness that does not converge within ``tolerance_lu``.

    Examples
    --------
    >>> import numpy as np
    >>> noise = np.random.default_rng(0).standard_normal((2, 48000)) * 0.05
    >>> m = match_loudness({"a": noise, "b": 0.5 * noise}, 48000, reference="a")
    >>> round(m.gains_db["b"], 2)
    6.02
    """
    if not versions:
        raise ParameterError("versions: expected at least one signal to match, got none")

    def loudness_at(key: str, gain_db: float) -> float:
        scale = 10.0 ** (gain_db / 20.0)
        return integrated_loudness_lufs(np.asarray(versions[key], dtype=np.float64) * scale, sample_rate, name=key)

    loudness = dict(measured_lufs or {})
    for key in versions:
        if key not in loudness:
            loudness[key] = loudness_at(key, 0.0)
    peaks = {key: _db(float(np.max(np.abs(versions[key])))) for key in versions}
    return match_gains(loudness, peaks, loudness_at, target_lufs=target_lufs, reference=reference,
                       ceiling_dbfs=ceiling_dbfs, tolerance_lu=tolerance_lu, max_iterations=max_iterations)


def match_gains(
    loudness_lufs: Mapping[str, float],
    sample_peaks_dbfs: Mapping[str, float],
    loudness_at,
    *,
    target_lufs: float | None = None,
    reference: str | None = None,
    ceiling_dbfs: float = PEAK_CEILING_DBFS,
    tolerance_lu: float = MATCH_TOLERANCE_LU,
    max_iterations: int = 6,
) -> LoudnessMatch:
    """The matching of :func:`match_loudness` from measurements: each version's loudness and sample
    peak, and ``loudness_at(key, gain_db)`` that measures a version with a gain applied (from the
    signal, or exactly from its stored gating-block energies,
    :meth:`~soundstage.monitor.loudness_meter.MeasuredLoudness.integrated_lufs_at`)."""
    if not loudness_lufs:
        raise ParameterError("versions: expected at least one signal to match, got none")
    if reference is not None and reference not in loudness_lufs:
        raise ParameterError(f"reference: {reference!r} is not one of the versions {sorted(loudness_lufs)}")
    if not ceiling_dbfs <= 0.0:
        raise ParameterError(f"ceiling_dbfs must be <= 0 dBFS, got {ceiling_dbfs!r}")
    if not tolerance_lu > 0.0:
        raise ParameterError(f"tolerance_lu must be > 0 LU, got {tolerance_lu!r}")
    loudness = dict(loudness_lufs)
    for key, value in loudness.items():
        if not np.isfinite(value):
            raise ParameterError(f"version {key!r} is silent (integrated loudness {value} LUFS); "
                                 "there is no level to match")
    if target_lufs is None:
        target_lufs = loudness[reference] if reference is not None else min(loudness.values())
    gains = {key: float(target_lufs - value) for key, value in loudness.items()}
    # Measure with the gains applied and correct the residuals (the −70 LUFS gate is the only
    # non-linearity, so this converges in one or two passes).
    after: dict[str, float] = {}
    iterations = 0
    pending = list(loudness)
    while True:
        iterations += 1
        for key in pending:
            after[key] = loudness_at(key, gains[key])
        pending = [key for key in pending if abs(after[key] - target_lufs) > _AIM_LU]
        if not pending or iterations >= max_iterations:
            break
        for key in pending:
            gains[key] += target_lufs - after[key]
    worst = max(loudness, key=lambda k: abs(after[k] - target_lufs))
    if abs(after[worst] - target_lufs) > tolerance_lu:
        raise ParameterError(f"loudness of version {worst!r} did not converge to {target_lufs:.2f} LUFS within "
                             f"{tolerance_lu} LU after {iterations} passes (last {after[worst]:.3f} LUFS)")
    peaks = {key: float(sample_peaks_dbfs[key]) + gains[key] for key in loudness}
    excess = max(peaks.values()) - ceiling_dbfs
    # float32 rounding of the scaled samples can add ~1e-7 relative: keep a 0.001 dB margin.
    guard_db = -(excess + 1e-3) if excess > -1e-3 else 0.0
    gains = {key: value + guard_db for key, value in gains.items()}
    return LoudnessMatch(
        target_lufs=float(target_lufs),
        gains_db=gains,
        loudness_after_lufs={key: after[key] + guard_db for key in loudness},
        peak_after_dbfs={key: peaks[key] + guard_db for key in loudness},
        guard_db=float(guard_db),
        ceiling_dbfs=float(ceiling_dbfs),
        iterations=iterations,
    )
