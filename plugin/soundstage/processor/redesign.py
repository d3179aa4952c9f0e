"""Background redesigns for parameter automation: coalesced, never starved, bounded.

A host that automates a parameter sets it many times a second. Each processor owns one
:class:`DesignQueue`:

* at most one design is in flight per processor; it always runs to the end and its result is
  offered for adoption (a newer request never cancels it, so continuous automation keeps
  landing, about one design time apart);
* requests that arrive while a design is in flight are coalesced: only the newest one is kept
  and designed next, with the parameters it carried;
* at most one finished design waits to be adopted (a newer one replaces it), so 100 000 rapid
  sets hold one request and one result, not 100 000 futures.

The designs of all processors run on one small shared pool sized to the machine's cores, so
eight processors changed at once design side by side instead of one after another.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from typing import Callable

__all__ = ["DesignQueue", "DESIGN_WORKERS"]

#: Threads designing filters for all processors (the designs are numpy/scipy heavy and release
#: the GIL for much of their time).
DESIGN_WORKERS = max(2, min(8, os.cpu_count() or 2))
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=DESIGN_WORKERS, thread_name_prefix="soundstage-design")


class DesignQueue:
    """One processor's redesign requests: one in flight, the newest waiting, the newest finished.

    Parameters
    ----------
    design : callable
        ``design(*request)`` → the designed object (a FilterSet); runs on the shared pool.
    """

    def __init__(self, design: Callable) -> None:
        self._design = design
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._in_flight = False
        self._waiting: tuple | None = None
        self._ready: tuple | None = None  # (result, error) of the newest finished design
        self._generation = 0

    def request(self, *args) -> None:
        """Ask for a design with ``args``: start it now, or keep it as the newest waiting one."""
        with self._lock:
            if self._in_flight:
                self._waiting = args
            else:
                self._start(args)

    def _start(self, args: tuple) -> None:
        self._in_flight = True
        generation = self._generation
        future = _POOL.submit(self._design, *args)
        future.add_done_callback(lambda done: self._finished(done, generation))

    def _finished(self, future: concurrent.futures.Future, generation: int) -> None:
        with self._lock:
            self._in_flight = False
            if generation == self._generation:
                error = future.exception()
                self._ready = (None if error is not None else future.result(), error)
            if self._waiting is not None:
                args, self._waiting = self._waiting, None
                self._start(args)
            self._changed.notify_all()

    @property
    def has_ready(self) -> bool:
        """Whether a finished design waits (read without the lock: the audio path's fast check)."""
        return self._ready is not None

    @property
    def busy(self) -> bool:
        """A design is in flight or waiting."""
        return self._in_flight or self._waiting is not None

    def take_ready(self) -> tuple | None:
        """The newest finished design as ``(result, error)`` (one of them None), or None."""
        with self._lock:
            ready, self._ready = self._ready, None
            return ready

    def discard(self) -> None:
        """Forget every waiting request and finished design; a design in flight finishes
        unseen (its result is dropped)."""
        with self._lock:
            self._generation += 1
            self._waiting = None
            self._ready = None
            self._changed.notify_all()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until no design is in flight or waiting; False on timeout."""
        with self._lock:
            return self._changed.wait_for(lambda: not self.busy, timeout_s)
