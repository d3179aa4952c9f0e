"""Is receiver 0 of a SOFA file the left ear? Checks of the positions and of the data.

The SOFA conventions (and libmysofa) take receiver 0 as the left ear. Two things can contradict
that in a file:

* its ``ReceiverPosition`` puts receiver 0 to the right of receiver 1 (y < 0 in the listener's
  axes) — typical of files written with the older SOFA API, whose data are nonetheless left
  first;
* its data: for the most lateral measured source on the left (+y), receiver 0 should be both
  louder (broadband level) and earlier (onset) than receiver 1, and the reverse on the right.
  Data that say the opposite (both cues, both sides) mean the receivers or the source azimuths
  are mirrored.

Either case warns with :class:`~soundstage.SofaWarning` naming the file; the ears are always read
by the convention, so a file whose only fault is its receiver positions loads correctly.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..._errors import SofaWarning

__all__ = ["lateral_ear_cues", "check_ear_order"]

#: A source counts as lateral when its direction's y component exceeds this (sin 45°).
LATERAL_MIN_Y = 0.7
#: Level (dB) and onset (s) differences below which the data do not decide.
MIN_LEVEL_DB = 3.0
MIN_ONSET_S = 50e-6


def _simple_onsets_s(ir: np.ndarray, sample_rate: float) -> np.ndarray:
    """First sample reaching −20 dB re the peak, in seconds, ``(..., )``."""
    mag = np.abs(ir)
    return np.argmax(mag >= 0.1 * mag.max(axis=-1, keepdims=True), axis=-1) / sample_rate


def lateral_ear_cues(data) -> dict | None:
    """Level and onset of receiver 0 re receiver 1 for the most lateral left and right sources.

    Returns
    -------
    dict or None
        ``{"left": (level_db, onset_lead_s), "right": (...)}`` (positive values: receiver 0 louder
        / earlier), or None when the file has no source beyond 45° on either side.
    """
    y = data.directions[:, 1]
    out = {}
    for side, index in (("left", int(np.argmax(y))), ("right", int(np.argmin(y)))):
        if abs(y[index]) < LATERAL_MIN_Y:
            continue
        ir = data.impulse_responses[index]
        energy = np.sum(ir**2, axis=-1)
        level_db = 10 * np.log10(energy[0] / energy[1])
        onsets = _simple_onsets_s(ir, data.sample_rate)
        out[side] = (float(level_db), float(onsets[1] - onsets[0]))
    return out or None


def check_ear_order(data) -> None:
    """Warn (naming the file) where its receiver positions or data contradict receiver 0 = left."""
    ears = data.receiver_positions_m
    if ears is not None and ears[0, 1] < ears[1, 1]:
        warnings.warn(
            f"{data.path}: ReceiverPosition puts receiver 0 on the right (y = {ears[0, 1]:+.3g} m) although "
            "SOFA takes receiver 0 as the left ear (a common fault of files written with the older SOFA API); "
            "the positions are ignored and receiver 0 is read as the left ear",
            SofaWarning, stacklevel=3)
    cues = lateral_ear_cues(data)
    if not cues:
        return
    votes = []
    for side, (level_db, lead_s) in cues.items():
        sign = 1.0 if side == "left" else -1.0
        votes.append((sign * level_db < -MIN_LEVEL_DB) and (sign * lead_s < -MIN_ONSET_S))
    if all(votes):
        level_db, lead_s = next(iter(cues.values()))
        warnings.warn(
            f"{data.path}: the data contradict receiver 0 = left ear: for a lateral source on the "
            f"{next(iter(cues))}, receiver 0 is {abs(level_db):.1f} dB {'quieter' if level_db < 0 else 'louder'} "
            f"and {abs(lead_s) * 1e3:.2f} ms {'later' if lead_s < 0 else 'earlier'} than receiver 1; the receivers "
            "or the source azimuths of this file are mirrored (read by the convention, receiver 0 = left)",
            SofaWarning, stacklevel=3)
