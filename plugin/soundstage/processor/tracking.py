"""Following a moving listener: a lazily designed, memory-bounded grid of designs.

A full design takes a few hundred milliseconds, a head tracker reports 30+ times a second. So a
:class:`ListenerTracker` keeps a :class:`ListenerGrid` of designs over the tracked region
(lateral ±0.3 m, distance ±0.5 m around the design listener, yaw ±30°) and serves the audio
thread from it:

* :meth:`ListenerTracker.set_target` (any thread, O(1)) records where the listener is and asks
  the background for designs; it never waits;
* in the background (one job on the shared design pool, :class:`.redesign.DesignQueue`) the
  grid point nearest the target is designed first, then the exact target position, then the
  grid neighbours along each axis (nearest first), as long as the target stays;
* between audio blocks, :meth:`ListenerTracker.serve` hands out the ready design closest to the
  target — the exact one, its grid point, or before that exists the nearest ready grid point —
  without blocking (a lock it cannot take at once means "ask again next block"); the processor
  crossfades to it (30 ms raised cosine). When the listener stops, the exact design for the
  final position lands, so the output becomes that of a processor designed there.

Every design keeps the stream's latency (the modelling delay pinned by the processor), so any
two of them crossfade. Grid steps come from the separation lost between grid points
(``python benchmarks/tracking.py``: studio speaker, CTC alone, 1–6 kHz, on the design sphere and
on KEMAR): half a step off (1 cm lateral, 5 cm distance, 2.5° yaw) costs at most 1.1 dB
(yaw, on KEMAR); twice the lateral step would cost 0.8–1.0 dB and three times 2–3 dB.
A design of the studio speaker holds 115 kB of FIR; the default budget of 32 MiB holds ≈ 290 of
the grid's 4433 points, least recently served dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..acoustics.geometry import Listener
from .redesign import DesignQueue

__all__ = ["GridSteps", "ListenerGrid", "ListenerTracker", "TRACKED_REGION", "DEFAULT_MEMORY_BUDGET_BYTES"]

#: Half-widths of the tracked region: lateral (m), distance (m), yaw (deg).
TRACKED_REGION = (0.3, 0.5, 30.0)
#: Memory the designs of one tracker may hold.
DEFAULT_MEMORY_BUDGET_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class GridSteps:
    """Spacing of the grid of designs (chosen from the measured separation loss, see above)."""

    lateral_m: float = 0.02
    distance_m: float = 0.10
    yaw_deg: float = 5.0

    def as_array(self) -> np.ndarray:
        return np.array([self.lateral_m, self.distance_m, self.yaw_deg])


def offsets_of(listener: Listener, base: Listener) -> np.ndarray:
    """(lateral m, fore/aft m, yaw deg) of ``listener`` re the design listener ``base``."""
    return np.array([listener.lateral_offset_m - base.lateral_offset_m,
                     listener.fore_aft_offset_m - base.fore_aft_offset_m, listener.yaw_deg - base.yaw_deg])


class ListenerGrid:
    """Grid points over the tracked region and the designs made for them (bounded LRU).

    Parameters
    ----------
    base : Listener
        The design listener: the centre of the grid.
    steps : GridSteps
    memory_budget_bytes : int
        Largest total size of the FIR matrices held; the least recently used go first.
    """

    def __init__(self, base: Listener, steps: GridSteps = GridSteps(),
                 memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES) -> None:
        self.base, self.steps = base, steps
        self.memory_budget_bytes = int(memory_budget_bytes)
        step = steps.as_array()
        self._half = np.floor(np.asarray(TRACKED_REGION) / step + 1e-9).astype(int)  # points each side
        self._step = step
        self._designs: OrderedDict = OrderedDict()  # (index, key) -> FilterSet
        self._nbytes = 0
        self.lock = threading.Lock()

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid points along lateral, distance and yaw."""
        return tuple(int(2 * h + 1) for h in self._half)

    @property
    def nbytes(self) -> int:
        """Bytes of FIR held now."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._designs)

    def index_of(self, offsets: np.ndarray) -> tuple[int, int, int]:
        """The grid point nearest ``offsets`` (clipped to the region)."""
        index = np.clip(np.round(np.asarray(offsets) / self._step), -self._half, self._half)
        return tuple(int(i) for i in index)

    def listener_at(self, index: tuple[int, int, int]) -> Listener:
        lateral, fore_aft, yaw = np.asarray(index) * self._step
        base = self.base
        return base.moved(lateral_offset_m=base.lateral_offset_m + float(lateral),
                          fore_aft_offset_m=base.fore_aft_offset_m + float(fore_aft), yaw_deg=base.yaw_deg + float(yaw))

    def distance(self, offsets_a: np.ndarray, offsets_b: np.ndarray) -> float:
        """Distance in grid steps (so a step of each kind weighs the same)."""
        return float(np.linalg.norm((np.asarray(offsets_a) - np.asarray(offsets_b)) / self._step))

    def neighbours(self, index: tuple[int, int, int], reach: int = 1) -> list[tuple[int, int, int]]:
        """``index`` and the grid points up to ``reach`` steps from it along each axis (where a
        head goes next), nearest first."""
        steps = [np.zeros(3, int)] + [sign * k * np.eye(3, dtype=int)[axis] for k in range(1, reach + 1)
                                      for axis in range(3) for sign in (-1, 1)]
        points = np.asarray(index) + np.array(steps)
        inside = np.all(np.abs(points) <= self._half, axis=1)
        points = points[inside]
        order = np.argsort(np.linalg.norm(points - np.asarray(index), axis=1), kind="stable")
        return [tuple(int(v) for v in p) for p in points[order]]

    def get(self, index, key):
        """The design at ``index`` for ``key`` (parameters, sample rate), or None."""
        return self._designs.get((index, key))

    def put(self, index, key, filterset) -> None:
        """Keep a design, dropping the least recently used ones beyond the budget."""
        with self.lock:
            if (index, key) in self._designs:
                return
            self._designs[(index, key)] = filterset
            self._nbytes += filterset.fir.nbytes
            while self._nbytes > self.memory_budget_bytes and len(self._designs) > 1:
                _, dropped = self._designs.popitem(last=False)
                self._nbytes -= dropped.fir.nbytes

    def touch(self, index, key) -> None:
        """Mark a design as just served (called with ``lock`` held)."""
        if (index, key) in self._designs:
            self._designs.move_to_end((index, key))

    def ready(self, key) -> list[tuple[tuple[int, int, int], object]]:
        """``(index, design)`` of every design held for ``key`` (called with ``lock`` held)."""
        return [(index, fs) for (index, k), fs in self._designs.items() if k == key]


class ListenerTracker:
    """Designs for a moving listener, served to the audio thread without waiting.

    Parameters
    ----------
    design : callable
        ``design(listener, parameters, sample_rate)`` → FilterSet (with the stream's latency).
    base : Listener
        The design listener (centre of the grid).
    steps, memory_budget_bytes
        As for :class:`ListenerGrid`.
    reach : int
        Grid neighbours designed ahead along each axis around the target, in steps (0: only
        the nearest point).
    """

    def __init__(self, design: Callable, base: Listener, *, steps: GridSteps = GridSteps(),
                 memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES, reach: int = 1) -> None:
        self._design = design
        self.grid = ListenerGrid(base, steps, memory_budget_bytes)
        self._reach = int(reach)
        self._target: tuple | None = None  # (listener, parameters, sample_rate), replaced whole
        self._exact: tuple | None = None  # (listener, key, FilterSet) of the newest exact design
        self._last: tuple | None = None  # (FilterSet, key) served last
        self._failed: set = set()  # (index, key) of grid points that cannot be designed
        self._queue = DesignQueue(self._fill)
        self._landed = threading.Condition()
        self.designs_made = 0
        self.design_seconds = 0.0

    # ------------------------------------------------------------------ any thread
    def set_target(self, listener: Listener, parameters, sample_rate: float) -> None:
        """The listener is now at ``listener``: start designing for it in the background."""
        self._target = (listener, parameters, float(sample_rate))
        self._queue.request()

    @property
    def target(self) -> Listener | None:
        target = self._target
        return None if target is None else target[0]

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the exact design for the current target has landed (the grid
        neighbours may still be on their way); False on timeout."""
        with self._landed:
            return self._landed.wait_for(self._target_designed, timeout_s)

    def _target_designed(self) -> bool:
        target, exact = self._target, self._exact
        return target is None or (exact is not None and exact[0] == target[0] and exact[1] == target[1:])

    def discard(self) -> None:
        """Stop serving: forget the target (designs already made stay in the grid); the
        background stops after the design in hand."""
        self._queue.discard()  # no job waits to start
        with self._landed:
            self._target = None
            self._landed.notify_all()

    def design_grid_point(self, listener: Listener, parameters, sample_rate: float):
        """The design of the grid point nearest ``listener``, made now if missing (blocking:
        for renders with a track, which must not depend on timing)."""
        key = (parameters, float(sample_rate))
        index = self.grid.index_of(offsets_of(listener, self.grid.base))
        found = self.grid.get(index, key)
        if found is None:
            found = self._make(self.grid.listener_at(index), parameters, sample_rate)
            self.grid.put(index, key, found)
        return found

    # ------------------------------------------------------------------ background
    def _make(self, listener, parameters, sample_rate):
        import time

        start = time.perf_counter()
        filters = self._design(listener, parameters, sample_rate)
        self.design_seconds += time.perf_counter() - start
        self.designs_made += 1
        return filters

    def _next_job(self, target):
        """What to design next for ``target``: its grid point, the exact position, then the
        neighbours nearest first; None when all are there."""
        listener, parameters, sample_rate = target
        key = (parameters, sample_rate)
        index = self.grid.index_of(offsets_of(listener, self.grid.base))
        if self.grid.get(index, key) is None and (index, key) not in self._failed:
            return index, key
        exact = self._exact
        if exact is None or exact[0] != listener or exact[1] != key:
            return None, key
        for point in self.grid.neighbours(index, self._reach)[1:]:
            if self.grid.get(point, key) is None and (point, key) not in self._failed:
                return point, key
        return None

    def _fill(self) -> None:
        """One background job: design what the newest target needs until nothing is missing."""
        while True:
            target = self._target
            if target is None:
                return
            job = self._next_job(target)
            if job is None:
                return
            index, key = job
            if index is None:
                try:
                    made = self._make(*target)
                except Exception:  # e.g. a head the model cannot place: the grid keeps serving
                    made = None
                with self._landed:
                    self._exact = (target[0], key, made)
                    self._landed.notify_all()
            else:
                try:
                    self.grid.put(index, key, self._make(self.grid.listener_at(index), *key))
                except Exception:  # a grid point beyond what the geometry allows
                    self._failed.add((index, key))

    # ------------------------------------------------------------------ audio thread
    def serve(self, current):
        """The ready design nearest the target, or None to keep what plays.

        ``current`` is None after a reset (then the nearest ready design is always returned).
        Never blocks: if the grid is being updated at this moment, returns None (ask again on
        the next block).
        """
        target = self._target
        if target is None:
            return None
        listener, parameters, sample_rate = target
        key = (parameters, sample_rate)
        base = self.grid.base
        goal = offsets_of(listener, base)
        exact = self._exact
        if exact is not None and exact[0] == listener and exact[1] == key and exact[2] is not None:
            best = exact[2]
        else:
            best = self._nearest_ready(goal, key)
            if best is None:
                return None
        last = self._last
        if current is not None and last is not None:
            if best is last[0]:
                return None
            if last[1] == key and self.grid.distance(offsets_of(last[0].listener, base), goal) <= \
                    self.grid.distance(offsets_of(best.listener, base), goal):
                return None  # what plays is at least as close (e.g. the previous exact design)
        self._last = (best, key)
        return best

    def _nearest_ready(self, goal: np.ndarray, key):
        grid = self.grid
        if not grid.lock.acquire(blocking=False):
            return None
        try:
            index = grid.index_of(goal)
            best = grid.get(index, key)
            if best is None:  # before the grid point exists, the nearest ready one serves
                ready = grid.ready(key)
                if not ready:
                    return None
                index, best = min(ready, key=lambda item: grid.distance(np.asarray(item[0]) * grid._step, goal))
            grid.touch(index, key)
            return best
        finally:
            grid.lock.release()
