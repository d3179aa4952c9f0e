"""Head tracking on :class:`soundstage.SpatialProcessor`: ``set_listener`` and ``track``.

Two ways to move the listener:

* live — :meth:`ListenerTracking.set_listener` from any thread (a camera, a phone, a game
  engine; 30+ updates per second are fine). It only records the position; designs come from the
  processor's :class:`~.tracking.ListenerTracker` in the background, and between audio blocks the
  ready design nearest the listener is crossfaded in. The audio call never waits.
* a :class:`~.listener_track.ListenerTrack` set as :attr:`ListenerTracking.track` — for renders.
  Each row applies at its input sample (``round(time_s × sample_rate)``), the blocks are split
  there, and the grid design for the row is made on the spot if it is missing. A render with a
  track therefore does not depend on timing or on chunking: streaming it equals the one-shot
  render, bit for bit. A row that arrives while a crossfade still runs is switched to when it ends
  (at that exact sample).
"""

from __future__ import annotations

import numpy as np

from .._errors import ParameterError, ParameterTypeError
from ..acoustics.geometry import Listener
from .listener_track import ListenerTrack
from .tracking import ListenerTracker

__all__ = ["ListenerTracking"]

#: Largest head offset from the design position set_listener accepts (m), and yaw (deg).
_MAX_OFFSET_M = 2.0
_MAX_YAW_DEG = 90.0


class _TrackRun:
    """Where a render with a track stands: the rows' samples and the next row."""

    def __init__(self, track: ListenerTrack, sample_rate: float) -> None:
        self.samples = track.sample_indices(sample_rate)
        self.samples[0] = 0  # the first row holds from the start
        self.track = track
        self.next_row = 0
        self.position = 0  # input samples processed since the stream started
        self.pending: Listener | None = None  # a row waiting for a crossfade to end


class ListenerTracking:
    """Mixin of SpatialProcessor (which provides ``_listener``, ``_filters``, ``_design``,
    ``_parameter_lock``, ``_fade_left``, ``_latency_kept``, ``_switch_to``, ``_process_untracked``)."""

    def _init_tracking(self) -> None:
        self._tracker: ListenerTracker | None = None
        self._tracked: Listener | None = None
        self._track: ListenerTrack | None = None
        self._track_run: _TrackRun | None = None

    # ------------------------------------------------------------------ public API
    def set_listener(self, position_m=(0.0, 0.0, 0.0), yaw_deg: float = 0.0) -> None:
        """Tell the processor where the listener's head is now (callable from any thread).

        Parameters
        ----------
        position_m : sequence of 3 floats
            Head centre (x, y, z) in metres re the design listening position: x toward the
            enclosure, y to the listener's left, z up (the frame of
            :mod:`soundstage.acoustics.frame`). Within ±2 m. The designs follow x and y; the
            model keeps the ears in the drivers' plane, so z is recorded but not modelled.
        yaw_deg : float
            Head turn in degrees, positive to the left, within ±90.

        Notes
        -----
        Returns at once. The filters follow through the grid of designs of
        :mod:`soundstage.processor.tracking` (lateral ±0.3 m, distance ±0.5 m, yaw ±30°; beyond
        it the edge of the grid serves until the exact design for the position lands) with
        30 ms crossfades; :meth:`wait_for_tracking` waits for the background.

        Raises
        ------
        ParameterError
            A position that is not three finite numbers within ±2 m, or a yaw beyond ±90°.
        """
        position = np.asarray(position_m, dtype=float) if not isinstance(position_m, str) else None
        if position is None or position.shape != (3,):
            raise ParameterTypeError(f"position_m must be three numbers (x, y, z) in metres, got {position_m!r}")
        if not np.all(np.isfinite(position)) or np.any(np.abs(position) > _MAX_OFFSET_M):
            raise ParameterError(f"position_m must be finite and within ±{_MAX_OFFSET_M:g} m, got {position_m!r}")
        if isinstance(yaw_deg, (bool, np.bool_)) or not isinstance(yaw_deg, (int, float, np.integer, np.floating)):
            raise ParameterTypeError(f"yaw_deg must be a number, got {yaw_deg!r}")
        if not (np.isfinite(yaw_deg) and abs(yaw_deg) <= _MAX_YAW_DEG):
            raise ParameterError(f"yaw_deg must be within ±{_MAX_YAW_DEG:g}°, got {yaw_deg!r}")
        with self._parameter_lock:
            self._check_in_front(position, "position_m")
            self._tracked = self._moved(self._listener, position, float(yaw_deg))
            self._retarget()

    @property
    def tracked_listener(self) -> Listener:
        """Where the listener is: the last :meth:`set_listener` or track row, else the design
        listener."""
        tracked = self._tracked
        return tracked if tracked is not None else self._listener

    @property
    def track(self) -> ListenerTrack | None:
        """The :class:`ListenerTrack` renders follow (None: none). Takes effect when the next
        stream or one-shot render starts."""
        return self._track

    @track.setter
    def track(self, track: ListenerTrack | None) -> None:
        if track is not None and not isinstance(track, ListenerTrack):
            raise ParameterTypeError(f"track must be a ListenerTrack or None, got {type(track).__name__}")
        with self._parameter_lock:
            if track is not None:
                for row, position in enumerate(track.positions_m):
                    self._check_in_front(position, f"track {track.source} row {row}: x_m")
            self._track = track
            self._track_run = None
            if track is None:
                self._tracked = None

    def design_track(self, sample_rate: float) -> list:
        """Design now every grid design :attr:`track` will play at ``sample_rate`` (a render
        then only looks them up); returns them (e.g. to take the worst ``headroom_db``)."""
        if self._track is None:
            return []
        first = self.design(sample_rate)
        parameters = self._latency_kept(self._design, first)
        with self._parameter_lock:
            tracker = self._tracker_for_design_listener()
        designs = {}
        for position, yaw in zip(self._track.positions_m, self._track.yaw_deg):
            filters = tracker.design_grid_point(self._moved(self._listener, position, float(yaw)), parameters,
                                                sample_rate)
            designs[id(filters)] = filters
        return [first, *designs.values()]

    def wait_for_tracking(self, timeout_s: float | None = None) -> bool:
        """Block until the design for the exact current listener position has landed (the next
        block crossfades to it); False on timeout."""
        tracker = self._tracker
        return True if tracker is None else tracker.wait(timeout_s)

    def stop_tracking(self) -> None:
        """Forget the tracked position: the background stops and the filters return (with a
        crossfade) to the design listener."""
        with self._parameter_lock:
            tracked, self._tracked = self._tracked, None
            if self._tracker is not None:
                self._tracker.discard()
            if tracked is not None and self._track is None:
                self._schedule_redesign()

    def tracking_memory_bytes(self) -> int:
        """Bytes of FIR held by the grid of designs (bounded by its memory budget)."""
        tracker = self._tracker
        return 0 if tracker is None else tracker.grid.nbytes

    # ------------------------------------------------------------------ internals
    def _check_in_front(self, position: np.ndarray, what: str) -> None:
        """The head must stay clear of the enclosure (x is toward it)."""
        listener = self._listener
        room = listener.distance_m - listener.fore_aft_offset_m - self._enclosure.body_radius_m - listener.head_radius_m
        if position[0] >= room:
            raise ParameterError(f"{what} = {position[0]:g} m puts the head into {self._enclosure.name!r} "
                                 f"({listener.distance_m:g} m away); x must stay below {room:.3f} m")

    @staticmethod
    def _moved(base: Listener, position: np.ndarray, yaw_deg: float) -> Listener:
        return base.moved(fore_aft_offset_m=base.fore_aft_offset_m + float(position[0]),
                          lateral_offset_m=base.lateral_offset_m + float(position[1]),
                          yaw_deg=base.yaw_deg + yaw_deg)

    def _tracker_for_design_listener(self) -> ListenerTracker:
        tracker = self._tracker
        if tracker is None or tracker.grid.base != self._listener:
            from ..design import design_filterset

            enclosure = self._enclosure
            tracker = ListenerTracker(lambda listener, parameters, sample_rate: design_filterset(
                enclosure, listener, parameters, sample_rate), self._listener)
            self._tracker = tracker
        return tracker

    def _retarget(self) -> bool:
        """(Parameter lock held.) Ask the tracker for designs where the listener is; False when
        not tracking live (no position set, a track in use, or no filters yet)."""
        filters = self._filters
        if self._tracked is None or self._track is not None or filters is None or self._taps is not None:
            return False
        self._tracker_for_design_listener().set_target(self._tracked, self._latency_kept(self._design, filters),
                                                       filters.sample_rate)
        return True

    def _restart_tracking(self) -> None:
        """At a reset: a track starts again from its first row; live tracking serves the
        design nearest the listener from the first sample."""
        self._track_run = None
        track = self._track
        if track is not None:  # the first row holds from the first sample
            self._tracked = self._moved(self._listener, track.positions_m[0], float(track.yaw_deg[0]))
        elif self._tracker is not None and self._tracked is not None and self._taps is None:
            served = self._tracker.serve(None)
            if served is not None and served.sample_rate == self._filters.sample_rate:
                self._switch_to(served, 0.0)
                self._fade_left = 0

    def _apply_row(self, run: _TrackRun) -> None:
        """Switch to the grid design of the pending row (made now if missing)."""
        listener = run.pending
        run.pending = None
        filters = self._filters
        parameters = self._latency_kept(self._design, filters)
        with self._parameter_lock:
            tracker = self._tracker_for_design_listener()
        new = tracker.design_grid_point(listener, parameters, filters.sample_rate)
        if run.position == 0:
            self._switch_to(new, 0.0)
        else:
            self._switch_to(new)

    def _process_tracked(self, block: np.ndarray) -> np.ndarray:
        """``process_block`` with a track: split at its rows (and at the end of a crossfade a
        row waits for), so the output does not depend on the chunking."""
        run = self._track_run
        if run is None:
            run = self._track_run = _TrackRun(self._track, self._filters.sample_rate)
        n = block.shape[1]
        parts = []
        start = 0
        while start < n:
            while run.next_row < run.samples.size and run.samples[run.next_row] <= run.position:
                row = run.next_row
                run.pending = self._moved(self._listener, run.track.positions_m[row], float(run.track.yaw_deg[row]))
                self._tracked = run.pending
                run.next_row += 1
            if run.pending is not None and self._fade_left <= 0:
                self._apply_row(run)
            stop = n
            if run.next_row < run.samples.size:
                stop = min(stop, start + int(run.samples[run.next_row] - run.position))
            if run.pending is not None:
                stop = min(stop, start + self._fade_left)
            stop = max(stop, start + 1)
            parts.append(self._process_untracked(np.ascontiguousarray(block[:, start:stop])))
            run.position += stop - start
            start = stop
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _track_cuts(self, n: int) -> list[int]:
        """Offsets within the next ``n`` input samples at which a track row applies (for a
        wrapper that must follow the listener at the same samples)."""
        if self._track is None:
            return []
        run = self._track_run
        if run is None:
            run = self._track_run = _TrackRun(self._track, self._filters.sample_rate)
        rows = run.samples[run.next_row:]
        return [int(s - run.position) for s in rows[rows < run.position + n]]

