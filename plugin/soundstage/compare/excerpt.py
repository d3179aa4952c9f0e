"""Which part of a long input the report's players hold.

The page embeds every version, so the audio it holds is bounded: the excerpt is the whole input
up to :data:`MAX_EXCERPT_S`; beyond that its length is chosen so that all versions together hold
about :data:`EMBEDDED_BUDGET_S` seconds of audio, within [:data:`MIN_EXCERPT_S`,
:data:`MAX_EXCERPT_S`]. Its start is the most *active* window of the input, judged on the input's
100 ms hop energies (:class:`~soundstage.monitor.loudness_meter.StreamingLoudnessMeter`): the window whose
K-weighted loudness plus side-signal level (L − R)/2 is highest — loud and wide passages, where
the presets differ most, rather than a quiet intro or a mono break. A start or length the user
gives overrides the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError

__all__ = ["Excerpt", "choose_excerpt", "MIN_EXCERPT_S", "MAX_EXCERPT_S", "EMBEDDED_BUDGET_S"]

MIN_EXCERPT_S = 20.0
MAX_EXCERPT_S = 30.0
#: Seconds of stereo audio all players together should hold (≈ 1 MB/s as 16-bit FLAC of music).
EMBEDDED_BUDGET_S = 150.0
_FLOOR = 1e-12


@dataclass(frozen=True)
class Excerpt:
    """A span of the input, in samples, and how it was chosen.

    Attributes
    ----------
    start, stop : int
        First sample and one past the last.
    how : str
        ``"whole input"``, ``"most active window"``, ``"start given"`` ...
    """

    start: int
    stop: int
    how: str

    @property
    def frames(self) -> int:
        return self.stop - self.start


def _length_s(total_s: float, versions: int, max_seconds: float | None) -> float:
    if max_seconds is not None:
        return min(float(max_seconds), total_s)
    if total_s <= MAX_EXCERPT_S:
        return total_s
    return float(np.clip(EMBEDDED_BUDGET_S / max(versions, 1), MIN_EXCERPT_S, MAX_EXCERPT_S))


def activity(hop_energy: np.ndarray, side_hop_energy: np.ndarray | None, window_hops: int) -> np.ndarray:
    """Score of every window of ``window_hops`` hops (index = first hop): the window's loudness in
    dB (mean K-weighted energy) plus its side level in dB (mean side energy) — both count equally."""
    def window_db(energy):
        cumulative = np.concatenate([[0.0], np.cumsum(energy)])
        mean = (cumulative[window_hops:] - cumulative[:-window_hops]) / window_hops
        return 10.0 * np.log10(np.maximum(mean, _FLOOR))

    score = window_db(hop_energy)
    if side_hop_energy is not None:
        score = score + window_db(side_hop_energy)
    return score


def choose_excerpt(frames: int, sample_rate: float, measured=None, *, versions: int = 1,
                   max_seconds: float | None = None, start_s: float | None = None) -> Excerpt:
    """The excerpt of an input of ``frames`` samples the report embeds.

    Parameters
    ----------
    frames : int
        Length of the input (samples).
    sample_rate : float
        Hz.
    measured : MeasuredLoudness, optional
        The input's measurements (hop energies); without them the excerpt starts at 0.
    versions : int
        Number of players (sets the automatic length).
    max_seconds : float, optional
        Length override (s, > 0); None: automatic.
    start_s : float, optional
        Start override (s, >= 0); None: the most active window.
    """
    if max_seconds is not None and not max_seconds > 0:
        raise ParameterError(f"max_seconds must be > 0 s or None, got {max_seconds!r}")
    if start_s is not None and not (np.isfinite(start_s) and start_s >= 0):
        raise ParameterError(f"excerpt start must be >= 0 s, got {start_s!r}")
    total_s = frames / sample_rate
    length = min(int(round(_length_s(total_s, versions, max_seconds) * sample_rate)), frames)
    if length >= frames:
        return Excerpt(0, frames, "whole input")
    if start_s is not None:
        start = min(int(round(start_s * sample_rate)), frames - length)
        return Excerpt(start, start + length, "start given")
    if measured is None or measured.hop_energy.size == 0:
        return Excerpt(0, length, "from the start")
    hop = measured.hop_frames
    window_hops = max(int(round(length / hop)), 1)
    if window_hops >= measured.hop_energy.size:
        return Excerpt(0, length, "from the start")
    score = activity(measured.hop_energy, measured.side_hop_energy, window_hops)
    start = min(int(round(int(np.argmax(score)) * hop)), frames - length)
    return Excerpt(start, start + length, "most active window (loudness + side level)")
