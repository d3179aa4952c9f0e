"""Judge an obtained render against its golden under a :class:`~.tolerances.Tolerance`.

:func:`format_mismatch` catches what no tolerance can excuse (sample rate, channel count,
length); :func:`compare` measures every comparison the tolerance switches on and returns the
failures, each saying by how much and where (time window, channel, band centre).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import metrics
from .tolerances import Tolerance

__all__ = ["Failure", "Comparison", "format_mismatch", "compare", "channel_label"]


@dataclass(frozen=True)
class Failure:
    """One comparison outside its tolerance.

    Attributes
    ----------
    metric : str
        The :class:`Tolerance` field that failed (``"residual_rms_dbfs"``, ``"band_db"``, …).
    value, limit : float
        The measured figure and the limit, in ``unit``.
    unit : str
        Unit of ``value`` and ``limit``.
    detail : str
        What was measured and where.
    """

    metric: str
    value: float
    limit: float
    unit: str
    detail: str

    @property
    def excess(self) -> float:
        """How far past the limit the value lies, in ``unit`` (> 0; ∞ for bit-exactness)."""
        return float(self.value - self.limit)

    def describe(self) -> str:
        """One line: metric, value, limit, excess and where."""
        if self.metric == "bit_exact":
            return f"bit_exact: {self.detail}"
        excess_unit = "dB" if self.unit == "dBFS" else self.unit
        return (
            f"{self.metric}: {self.value:.3f} {self.unit} exceeds the limit {self.limit:.3f} "
            f"{self.unit} by {self.excess:.3f} {excess_unit}; {self.detail}"
        )


@dataclass
class Comparison:
    """Outcome of :func:`compare`.

    Attributes
    ----------
    failures : list[Failure]
        Comparisons outside their tolerance (empty: the check passes).
    measured : dict
        Figures measured for every active comparison (JSON-ready), e.g.
        ``{"residual_rms_dbfs": -93.1, "band_db_max": 0.002, ...}``.
    """

    failures: list[Failure] = field(default_factory=list)
    measured: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True if no comparison failed."""
        return not self.failures


def format_mismatch(
    obtained_shape: tuple[int, int], obtained_rate: int, golden_shape: tuple[int, int], golden_rate: int
) -> str | None:
    """Describe a sample-rate, channel or length mismatch; ``None`` if the formats agree."""
    problems = []
    if obtained_rate != golden_rate:
        problems.append(f"sample rate {obtained_rate} Hz, golden has {golden_rate} Hz")
    if obtained_shape[0] != golden_shape[0]:
        problems.append(f"{obtained_shape[0]} channels, golden has {golden_shape[0]}")
    if obtained_shape[1] != golden_shape[1]:
        problems.append(
            f"{obtained_shape[1]} samples ({obtained_shape[1] / obtained_rate:.4f} s), golden has "
            f"{golden_shape[1]} ({golden_shape[1] / golden_rate:.4f} s)"
        )
    return "; ".join(problems) if problems else None


def compare(
    obtained: np.ndarray, golden: np.ndarray, sample_rate: int, tolerance: Tolerance,
    channel_names: tuple[str, ...] | None = None,
) -> Comparison:
    """Compare two renders of equal format under ``tolerance``.

    Parameters
    ----------
    obtained, golden : np.ndarray [shape=(channels, n), dtype=float32]
        The new render and the stored golden, same shape.
    sample_rate : int
        Sample rate of both, in Hz.
    tolerance : Tolerance
        The comparisons to make and their limits.
    channel_names : tuple of str, optional
        A name per channel (driver or ear) for the messages: "channel 2 (mid_left)".

    Returns
    -------
    Comparison
    """
    result = Comparison()
    names = channel_names if channel_names is not None and len(channel_names) == obtained.shape[0] else None
    if tolerance.bit_exact:
        _bit_exact(obtained, golden, sample_rate, result, names)
    residual = obtained.astype(np.float64) - golden.astype(np.float64)
    if tolerance.residual_rms_dbfs is not None:
        _residual_rms(residual, sample_rate, tolerance.residual_rms_dbfs, result)
    if tolerance.residual_peak_dbfs is not None:
        _residual_peak(residual, sample_rate, tolerance.residual_peak_dbfs, result, names)
    if tolerance.band_db is not None:
        _bands(obtained, golden, sample_rate, tolerance, result, names)
    if tolerance.loudness_lu is not None:
        _loudness(obtained, golden, sample_rate, tolerance.loudness_lu, result, names)
    if tolerance.azimuth_deg is not None or tolerance.separation_db is not None:
        _spatial(obtained, golden, sample_rate, tolerance, result)
    return result


def _bit_exact(obtained, golden, sample_rate, result: Comparison, names=None) -> None:
    differ = obtained.view(np.uint32) != golden.view(np.uint32)
    count = int(np.count_nonzero(differ))
    result.measured["differing_samples"] = count
    if count:
        channel, index = np.unravel_index(np.argmax(differ, axis=None), differ.shape)
        biggest = float(np.max(np.abs(obtained.astype(np.float64) - golden.astype(np.float64))))
        result.failures.append(
            Failure(
                "bit_exact", float(count), 0.0, "samples",
                f"{count} of {differ.size} samples differ; the first at sample {index} "
                f"({index / sample_rate:.6f} s) in {channel_label(channel, names)}; largest |difference| "
                f"{biggest:.3g} ({float(metrics.amplitude_to_dbfs(biggest)):.1f} dBFS)",
            )
        )


def _residual_rms(residual, sample_rate, limit, result: Comparison) -> None:
    value = float(metrics.power_to_dbfs(np.mean(residual**2)))
    result.measured["residual_rms_dbfs"] = value
    if value > limit:
        worst = metrics.worst_window(residual, sample_rate)
        result.failures.append(
            Failure(
                "residual_rms_dbfs", value, limit, "dBFS",
                f"RMS of obtained − golden over all channels; worst 100 ms window "
                f"{worst.describe()}",
            )
        )


def _residual_peak(residual, sample_rate, limit, result: Comparison, names=None) -> None:
    channel, index = np.unravel_index(np.argmax(np.abs(residual)), residual.shape)
    value = float(metrics.amplitude_to_dbfs(residual[channel, index]))
    result.measured["residual_peak_dbfs"] = value
    if value > limit:
        result.failures.append(
            Failure(
                "residual_peak_dbfs", value, limit, "dBFS",
                f"largest |obtained − golden| at sample {index} ({index / sample_rate:.4f} s) "
                f"in {channel_label(channel, names)}",
            )
        )


def _bands(obtained, golden, sample_rate, tolerance: Tolerance, result: Comparison, names=None) -> None:
    centres_hz, obtained_db = metrics.band_levels_dbfs(obtained, sample_rate)
    _, golden_db = metrics.band_levels_dbfs(golden, sample_rate)
    difference = obtained_db - golden_db
    if tolerance.band_floor_dbfs is not None:
        audible = np.maximum(obtained_db, golden_db) >= tolerance.band_floor_dbfs
        difference = np.where(audible, difference, 0.0)
    if difference.size == 0:
        result.measured["band_db_max"] = 0.0
        return
    channel, band = np.unravel_index(np.argmax(np.abs(difference)), difference.shape)
    value = float(abs(difference[channel, band]))
    result.measured["band_db_max"] = value
    if value > tolerance.band_db:
        result.failures.append(
            Failure(
                "band_db", value, tolerance.band_db, "dB",
                f"1/3-octave band centred at {_format_hz(centres_hz[band])} Hz of {channel_label(channel, names)}: obtained "
                f"{obtained_db[channel, band]:.2f} dBFS, golden {golden_db[channel, band]:.2f} "
                f"dBFS ({difference[channel, band]:+.3f} dB)",
            )
        )


def channel_label(channel: int, names: tuple[str, ...] | None = None) -> str:
    """``"channel 2 (mid_left)"`` with names, ``"channel 2"`` without."""
    channel = int(channel)
    return f"channel {channel} ({names[channel]})" if names else f"channel {channel}"


def _format_hz(frequency_hz: float) -> str:
    return f"{frequency_hz:.0f}" if frequency_hz >= 100 else f"{frequency_hz:.1f}"


def _loudness(obtained, golden, sample_rate, limit, result: Comparison, names=None) -> None:
    obtained_lufs = metrics.integrated_loudness_lufs(obtained, sample_rate)
    golden_lufs = metrics.integrated_loudness_lufs(golden, sample_rate)
    if obtained_lufs is None or golden_lufs is None:
        result.measured["loudness_lu"] = None  # shorter than one 400 ms gating block
        return
    difference = obtained_lufs - golden_lufs
    channel = int(np.argmax(np.abs(difference)))
    value = float(abs(difference[channel]))
    result.measured["loudness_lu"] = value
    if value > limit:
        result.failures.append(
            Failure(
                "loudness_lu", value, limit, "LU",
                f"integrated loudness (BS.1770) of {channel_label(channel, names)}: obtained "
                f"{obtained_lufs[channel]:.2f} LUFS, golden {golden_lufs[channel]:.2f} LUFS",
            )
        )


def _spatial(obtained, golden, sample_rate, tolerance: Tolerance, result: Comparison) -> None:
    from .spatial import spatial_track

    if obtained.shape[0] != 2:
        for metric in ("azimuth_deg", "separation_db"):
            if getattr(tolerance, metric) is not None:
                result.failures.append(
                    Failure(
                        metric, float("inf"), getattr(tolerance, metric), "",
                        f"spatial metrics need a binaural (2, n) render; got "
                        f"{obtained.shape[0]} channels",
                    )
                )
        return
    new, old = spatial_track(obtained, sample_rate), spatial_track(golden, sample_rate)
    result.measured["spatial_metrics"] = new.source
    for metric, unit in (("azimuth_deg", "°"), ("separation_db", "dB")):
        limit = getattr(tolerance, metric)
        if limit is None:
            continue
        difference = getattr(new, metric) - getattr(old, metric)
        defined = np.isfinite(difference)
        if not np.any(defined):
            result.measured[f"{metric}_max"] = None
            continue
        index = int(np.argmax(np.where(defined, np.abs(difference), -1.0)))
        value = float(abs(difference[index]))
        result.measured[f"{metric}_max"] = value
        if value > limit:
            start = new.starts_s[index]
            result.failures.append(
                Failure(
                    metric, value, limit, unit,
                    f"window {start:.3f}–{start + new.window_s:.3f} s: obtained "
                    f"{getattr(new, metric)[index]:+.2f}{unit}, golden "
                    f"{getattr(old, metric)[index]:+.2f}{unit} ({new.source})",
                )
            )
