"""Separation and image azimuth along a listener's path, tracked vs fixed design.

For each evaluated row of a :class:`~soundstage.processor.ListenerTrack` the listening
simulation puts the head where the row says and measures

* the separation of crosstalk cancellation alone (virtualizer bypassed), mean over 1–6 kHz,
  of the design that serves there — with tracking, the grid design a
  :class:`~soundstage.SpatialProcessor` with that track plays at that row (the grid point
  nearest the head, with the stream's latency); fixed, the preset's design;
* the azimuth of a hard-left source through the whole chain (same two designs).

The evaluation is quasi-static (the design playing at the row, the head standing at the row):
the 30 ms crossfades between neighbouring designs last less than a head moves in 6 mm at
20 cm/s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..processor.listener_track import ListenerTrack
from ..processor.tracking import GridSteps, ListenerGrid, offsets_of
from .analysis_ears import system_from_filterset

__all__ = ["TrackAnalysis", "analyze_track", "SEPARATION_BAND_HZ"]

#: Band of the mean separation (Hz).
SEPARATION_BAND_HZ = (1000.0, 6000.0)


@dataclass(frozen=True)
class TrackAnalysis:
    """Figures along a path: one entry per evaluated row."""

    preset: str
    head: str
    times_s: np.ndarray
    positions_m: np.ndarray  # (n, 3)
    yaw_deg: np.ndarray
    separation_tracked_db: np.ndarray
    separation_fixed_db: np.ndarray
    azimuth_tracked_deg: np.ndarray
    azimuth_fixed_deg: np.ndarray

    def to_dict(self) -> dict:
        return {name: (value.tolist() if isinstance(value, np.ndarray) else value)
                for name, value in self.__dict__.items()}

    def table(self) -> str:
        """A plain-text table, one row per evaluated position."""
        lines = ["  t (s)   y (cm)  x (cm)  yaw   sep tracked  sep fixed  az tracked  az fixed"]
        for i in range(self.times_s.size):
            x, y, _ = self.positions_m[i] * 100
            lines.append(f"{self.times_s[i]:7.2f} {y:8.1f} {x:7.1f} {self.yaw_deg[i]:5.1f} "
                         f"{self.separation_tracked_db[i]:12.1f} {self.separation_fixed_db[i]:10.1f} "
                         f"{self.azimuth_tracked_deg[i]:11.1f} {self.azimuth_fixed_deg[i]:9.1f}")
        return "\n".join(lines)

    def figure(self, path) -> None:
        """Plot separation and image azimuth against time, tracked vs fixed, into ``path`` (PNG)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
        top.plot(self.times_s, self.separation_tracked_db, "o-", label="tracked")
        top.plot(self.times_s, self.separation_fixed_db, "s--", label="fixed design")
        top.axhline(15.0, color="grey", lw=0.8)
        top.set_ylabel("CTC separation 1–6 kHz (dB)")
        top.legend()
        bottom.plot(self.times_s, self.azimuth_tracked_deg, "o-", label="tracked")
        bottom.plot(self.times_s, self.azimuth_fixed_deg, "s--", label="fixed design")
        bottom.axhline(20.0, color="grey", lw=0.8)
        bottom.set_ylabel("hard-left image (deg)")
        bottom.set_xlabel("time (s)")
        fig.suptitle(f"{self.preset} along the track, head {self.head}")
        fig.tight_layout()
        from .._atomic import publish, temporary_beside
        from pathlib import Path

        import os

        handle, temporary = temporary_beside(Path(path), ".png")
        os.close(handle)
        fig.savefig(temporary, format="png", dpi=100)
        plt.close(fig)
        publish(temporary, path)


def _rows(track: ListenerTrack, max_points: int) -> np.ndarray:
    if track.num_rows <= max_points:
        return np.arange(track.num_rows)
    return np.unique(np.round(np.linspace(0, track.num_rows - 1, max_points)).astype(int))


def analyze_track(preset, track: ListenerTrack, *, head=None, sample_rate: float = 48000.0,
                  max_points: int = 21, steps: GridSteps = GridSteps()) -> TrackAnalysis:
    """Separation (CTC alone, 1–6 kHz) and hard-left azimuth along ``track``, tracked vs fixed.

    Parameters
    ----------
    preset : str, os.PathLike or Preset
    track : ListenerTrack
    head : None, str, os.PathLike or HeadModel, keyword-only
        The simulated listener's head (default the preset's design head; ``"kemar"`` for the
        built-in measured head). The designs are always made on the preset's design head.
    sample_rate : float, keyword-only
    max_points : int, keyword-only
        Rows evaluated (evenly spread over the track).
    steps : GridSteps, keyword-only
        The grid of the tracked designs.
    """
    from .. import presets
    from ..acoustics.heads import make_head
    from ..design import design_filterset
    from ..processor.spatial import SpatialProcessor
    from .analysis import _Evaluator, _estimator
    from .metrics_bands import third_octave_bands

    loaded = preset if isinstance(preset, presets.Preset) else presets.load(preset)
    enclosure, base, parameters = loaded.enclosure, loaded.listener, loaded.parameters
    fs = float(sample_rate)
    ctc_parameters = parameters.replace(bypass=parameters.bypass | {"virtualizer"})
    fixed = {"ctc": design_filterset(enclosure, base, ctc_parameters, fs),
             "processed": design_filterset(enclosure, base, parameters, fs)}
    # Tracked designs keep the stream's latency, as a processor does (SpatialProcessor._latency_kept).
    pinned = {name: SpatialProcessor._latency_kept(p, fixed[name])
              for name, p in (("ctc", ctc_parameters), ("processed", parameters))}
    grid = ListenerGrid(base, steps)
    head_spec = parameters.head_model if head is None else head
    head_model = make_head(head_spec, radius_m=base.head_radius_m)
    bands = third_octave_bands(100.0, min(16000.0, fs / 2 / 1.13))
    estimator = _estimator(head_spec, head_model, fs)
    in_band = (bands >= SEPARATION_BAND_HZ[0]) & (bands <= SEPARATION_BAND_HZ[1])
    rows = _rows(track, max_points)
    out = {key: np.empty(rows.size) for key in ("st", "sf", "at", "af")}
    for i, row in enumerate(rows):
        position, yaw = track.positions_m[row], float(track.yaw_deg[row])
        listener = base.moved(fore_aft_offset_m=base.fore_aft_offset_m + float(position[0]),
                              lateral_offset_m=base.lateral_offset_m + float(position[1]),
                              yaw_deg=base.yaw_deg + yaw)
        index = grid.index_of(offsets_of(listener, base))
        systems = {}
        for name in ("ctc", "processed"):
            tracked = design_filterset(enclosure, grid.listener_at(index), pinned[name], fs)
            for label, filterset in (("tracked", tracked), ("fixed", fixed[name])):
                system = system_from_filterset(filterset, f"{name}_{label}")
                # The head stands at the row: the system's listener carries the yaw, the
                # evaluator's offsets move it from the design's position.
                systems[system.name] = replace(system, listener=listener)
        ev = _Evaluator(systems, fs, None, head_spec, 10, estimator, bands)
        for label, sep_key, az_key in (("tracked", "st", "at"), ("fixed", "sf", "af")):
            separation = ev.separation(f"ctc_{label}")
            out[sep_key][i] = float(np.mean(separation.mean_db[in_band]))
            out[az_key][i] = ev.azimuth(f"processed_{label}", 1.0)
    head_name = head_spec if isinstance(head_spec, str) else type(head_spec).__name__
    return TrackAnalysis(loaded.name, str(head_name), track.times_s[rows], track.positions_m[rows],
                         track.yaw_deg[rows], out["st"], out["sf"], out["at"], out["af"])
