"""Background redesigns for parameter automation: coalesced, never starved, bounded, prompt.

A host that automates a parameter sets it many times a second. Each processor owns one
:class:`DesignQueue` with at most two designs in flight:

* the *oldest* always runs to its end and its result is offered for adoption, so continuous
  automation keeps landing (at least one adoption per design time);
* the *newest* is started as soon as it is asked for, beside the oldest; when a still newer
  request arrives it is abandoned (a superseded design stops at its next stage boundary,
  :func:`soundstage.design.stage_cache.checkpoint`, or never starts) and the newer one takes its
  place at once. So the last value of an automation is being designed from the moment it is
  set: it is heard one design time (plus the crossfade) after the automation stops, instead of
  waiting for a stale design to finish first;
* a result older than one already offered is dropped, and at most one finished design waits to
  be adopted, so 100 000 rapid sets hold two jobs and one result, not 100 000 futures.

The designs of all processors run on one small shared pool sized to the machine's cores
(:data:`DESIGN_WORKERS`), so processors changed at once design side by side; a pool that is
busy queues them in order.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from typing import Callable

from ..design.stage_cache import DesignAbandoned, abandon_when

__all__ = ["DesignQueue", "DESIGN_WORKERS"]

#: Threads designing filters for all processors (the designs are numpy/scipy heavy and release
#: the GIL for much of their time): one per core, at least two.
DESIGN_WORKERS = max(2, min(8, os.cpu_count() or 2))
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=DESIGN_WORKERS, thread_name_prefix="soundstage-design")


class _Job:
    """One requested design: its arguments, its order and whether it was abandoned."""

    __slots__ = ("args", "order", "generation", "abandoned", "future")

    def __init__(self, args: tuple, order: int, generation: int) -> None:
        self.args, self.order, self.generation = args, order, generation
        self.abandoned = False
        self.future: concurrent.futures.Future | None = None


class DesignQueue:
    """One processor's redesign requests: the oldest in flight runs to its end, the newest is
    designed at once and replaced when superseded, the newest result waits for adoption.

    Parameters
    ----------
    design : callable
        ``design(*request)`` → the designed object (a FilterSet); runs on the shared pool.
    """

    def __init__(self, design: Callable) -> None:
        self._design = design
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._oldest: _Job | None = None  # runs to its end
        self._newest: _Job | None = None  # abandoned when a newer request arrives
        self._ready: tuple | None = None  # (result, error) of the newest finished design
        self._order = 0  # requests so far
        self._offered = 0  # order of the newest result offered (older ones are stale)
        self._generation = 0
        #: Designs started and designs abandoned so far (for tests and benchmarks).
        self.started = 0
        self.abandoned = 0

    def request(self, *args) -> None:
        """Ask for a design with ``args``: it starts now (a superseded newest one is abandoned)."""
        with self._lock:
            self._order += 1
            job = _Job(args, self._order, self._generation)
            if self._oldest is None:
                self._oldest = job
            else:
                if self._newest is not None:
                    self._abandon(self._newest)
                self._newest = job
            self.started += 1
            job.future = _POOL.submit(self._run, job)
            job.future.add_done_callback(lambda done, job=job: self._finished(job, done))

    def _abandon(self, job: _Job) -> None:
        job.abandoned = True
        job.future.cancel()  # not started yet: it never runs
        self.abandoned += 1

    def _run(self, job: _Job):
        with abandon_when(lambda: job.abandoned):
            return self._design(*job.args)

    def _finished(self, job: _Job, future: concurrent.futures.Future) -> None:
        with self._lock:
            if job is self._oldest:
                # The newest in flight becomes the one that runs to its end.
                self._oldest, self._newest = self._newest, None
            elif job is self._newest:
                self._newest = None
            usable = (not job.abandoned and not future.cancelled() and job.generation == self._generation
                      and job.order > self._offered)
            if usable:
                error = future.exception()
                if not isinstance(error, DesignAbandoned):
                    self._ready = (None if error is not None else future.result(), error)
                    self._offered = job.order
            self._changed.notify_all()

    @property
    def has_ready(self) -> bool:
        """Whether a finished design waits (read without the lock: the audio path's fast check)."""
        return self._ready is not None

    @property
    def busy(self) -> bool:
        """A design is in flight."""
        return self._oldest is not None or self._newest is not None

    def take_ready(self) -> tuple | None:
        """The newest finished design as ``(result, error)`` (one of them None), or None."""
        with self._lock:
            ready, self._ready = self._ready, None
            return ready

    def discard(self) -> None:
        """Forget every request and finished design; designs in flight are abandoned."""
        with self._lock:
            self._generation += 1
            for job in (self._oldest, self._newest):
                if job is not None:
                    self._abandon(job)
            self._oldest = self._newest = None
            self._ready = None
            self._changed.notify_all()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until no design is in flight; False on timeout."""
        with self._lock:
            return self._changed.wait_for(lambda: not self.busy, timeout_s)
