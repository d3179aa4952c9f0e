"""``ListenerTrack``: where the listener's head is over time (a camera log, a game's trajectory).

A track is a table of rows ``time (s), x, y, z (m), yaw (deg)`` in the frame of
:mod:`soundstage.acoustics.frame` with the origin at the design listening position: x toward the
enclosure, y to the listener's left, z up, yaw positive to the left. Each row holds from its time
until the next row's (sample-and-hold, as a tracker's reports arrive); before the first row the
first one holds. A processor given a track applies each row at the input sample
``round(time_s × sample_rate)``, so a render with a track does not depend on how the audio is
chunked.

Examples
--------
>>> import numpy as np
>>> track = ListenerTrack.from_arrays([0.0, 1.0], y_m=[-0.2, 0.2])
>>> track.num_rows, track.position_at(0.5).tolist(), track.yaw_at(0.5)
(2, [0.0, -0.2, 0.0], 0.0)
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from .._errors import ParameterError

__all__ = ["ListenerTrack", "CSV_COLUMNS"]

#: The columns of a track CSV file, in order (a header row with these names is optional).
CSV_COLUMNS = ("time_s", "x_m", "y_m", "z_m", "yaw_deg")


class ListenerTrack:
    """Listener positions and head yaw over time.

    Parameters
    ----------
    times_s : array_like [shape=(n,)]
        Row times in seconds, ≥ 0 and strictly increasing.
    positions_m : array_like [shape=(n, 3)]
        Head centre (x, y, z) in metres re the design listening position.
    yaw_deg : array_like [shape=(n,)], optional
        Head yaw in degrees (positive to the left); default 0.
    """

    def __init__(self, times_s, positions_m, yaw_deg=None, *, source: str = "<arrays>") -> None:
        times = np.asarray(times_s, dtype=float)
        positions = np.asarray(positions_m, dtype=float)
        yaw = np.zeros(times.shape) if yaw_deg is None else np.asarray(yaw_deg, dtype=float)
        if times.ndim != 1 or times.size == 0:
            raise ParameterError(f"{source}: times_s must be a non-empty 1-D array, got shape {times.shape}")
        if positions.shape != (times.size, 3):
            raise ParameterError(f"{source}: positions_m must have shape ({times.size}, 3) (x, y, z per row), "
                                 f"got {positions.shape}")
        if yaw.shape != times.shape:
            raise ParameterError(f"{source}: yaw_deg must have shape {times.shape}, got {yaw.shape}")
        for name, values in (("times_s", times), ("positions_m", positions), ("yaw_deg", yaw)):
            bad = np.flatnonzero(~np.isfinite(values.reshape(times.size, -1)).all(axis=1))
            if bad.size:
                raise ParameterError(f"{source}: {name} of row {int(bad[0])} is not finite")
        if times[0] < 0 or np.any(np.diff(times) <= 0):
            row = 0 if times[0] < 0 else int(np.flatnonzero(np.diff(times) <= 0)[0]) + 1
            raise ParameterError(f"{source}: times_s must be >= 0 and strictly increasing; row {row} has "
                                 f"{times[row]!r} s")
        self._times, self._positions, self._yaw = times, positions, yaw
        for array in (times, positions, yaw):
            array.flags.writeable = False
        self.source = source

    @classmethod
    def from_arrays(cls, times_s, x_m=0.0, y_m=0.0, z_m=0.0, yaw_deg=0.0) -> "ListenerTrack":
        """A track from per-row arrays (scalars are broadcast to every row)."""
        times = np.asarray(times_s, dtype=float)
        columns = [np.broadcast_to(np.asarray(c, dtype=float), times.shape) for c in (x_m, y_m, z_m, yaw_deg)]
        return cls(times, np.stack(columns[:3], axis=-1), columns[3])

    @classmethod
    def from_csv(cls, path: "str | os.PathLike") -> "ListenerTrack":
        """Read a CSV file of rows ``time_s, x_m, y_m, z_m, yaw_deg`` (optional header row).

        Raises
        ------
        ParameterError
            The file is missing, or a row has the wrong number of columns or a non-number
            (naming the file and the line).
        """
        path = Path(path)
        if not path.is_file():
            raise ParameterError(f"track file {path} does not exist or is not a file")
        rows = []
        with open(path, newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                cells = [c.strip() for c in row]
                if not cells or all(not c for c in cells) or cells[0].startswith("#"):
                    continue
                if line == 1 and cells[0].lower().startswith("time"):
                    continue
                if len(cells) != len(CSV_COLUMNS):
                    raise ParameterError(f"{path}, line {line}: expected {len(CSV_COLUMNS)} columns "
                                         f"{', '.join(CSV_COLUMNS)}, got {len(cells)}")
                try:
                    rows.append([float(c) for c in cells])
                except ValueError:
                    raise ParameterError(f"{path}, line {line}: every column must be a number, got {row}") from None
        if not rows:
            raise ParameterError(f"{path}: the track has no rows ({', '.join(CSV_COLUMNS)})")
        table = np.array(rows)
        return cls(table[:, 0], table[:, 1:4], table[:, 4], source=str(path))

    def to_csv(self, path: "str | os.PathLike") -> None:
        """Write the track as CSV with a header row (what :meth:`from_csv` reads)."""
        from .._atomic import write_text_atomic

        lines = [",".join(CSV_COLUMNS)]
        lines += [",".join(repr(float(v)) for v in (t, *p, y))
                  for t, p, y in zip(self._times, self._positions, self._yaw)]
        write_text_atomic(Path(path), "\n".join(lines) + "\n")

    # ------------------------------------------------------------------ access
    @property
    def times_s(self) -> np.ndarray:
        return self._times

    @property
    def positions_m(self) -> np.ndarray:
        return self._positions

    @property
    def yaw_deg(self) -> np.ndarray:
        return self._yaw

    @property
    def num_rows(self) -> int:
        return int(self._times.size)

    @property
    def duration_s(self) -> float:
        return float(self._times[-1])

    def _row(self, time_s: float) -> int:
        return max(int(np.searchsorted(self._times, time_s, side="right")) - 1, 0)

    def position_at(self, time_s: float) -> np.ndarray:
        """The position (x, y, z) in effect at ``time_s``."""
        return self._positions[self._row(time_s)]

    def yaw_at(self, time_s: float) -> float:
        """The yaw in effect at ``time_s`` (degrees)."""
        return float(self._yaw[self._row(time_s)])

    def sample_indices(self, sample_rate: float) -> np.ndarray:
        """The input sample at which each row applies, ``round(time_s × sample_rate)``."""
        return np.round(self._times * float(sample_rate)).astype(np.int64)

    def __eq__(self, other) -> bool:
        return (isinstance(other, ListenerTrack) and np.array_equal(self._times, other._times)
                and np.array_equal(self._positions, other._positions) and np.array_equal(self._yaw, other._yaw))

    __hash__ = None

    def __repr__(self) -> str:
        return f"<soundstage.ListenerTrack {self.num_rows} rows over {self.duration_s:g} s from {self.source}>"
