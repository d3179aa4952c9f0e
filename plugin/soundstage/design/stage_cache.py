"""A bounded cache of design stages, so a redesign recomputes only what the change touches.

A design is a chain of stages (:mod:`.designer`); each depends on a few of its inputs only:

==================  ==========================================================================
stage               depends on
==================  ==========================================================================
``crossover``       driver bands, crossover order, sample rate, grid
``plant``           enclosure, listener, head, grid (the driver → ear responses)
``ensemble``        the plants of the robust-head ensemble (enclosure, listener, heads, grid)
``point_source``    the voicing reference (enclosure, listener, head, grid)
``cancellation``    the CTC / null-steering solver: the regularised inverse of the plant
                    (plant, null region, ensemble, crossovers) — not width, target, gains
``nulls``           its cancellation-only solution and χ(ρ) (+ the gain cap with null regions)
``relative_hrtf``   the virtualizer's R_v (head, width, virtual distance, grid)
``beam``            the centre beam's solve (enclosure, crossovers, null and band settings);
                    its effort and gain caps are applied afresh in every design
==================  ==========================================================================

A width, target, centre-gain, beam or gain change therefore finds every stage but one or two
in the cache. :func:`cached` keeps entries in least-recently-used order within a budget of
:data:`MAX_BYTES` over all stages and :data:`MAX_ENTRIES_PER_STAGE` per stage. A studio-speaker
or soundbar design holds about 8–9 MB at any sample rate, most of it the CTC inverse and the
χ(ρ) of its nulls, so the cache keeps the stages of about seven listener positions or presets.
Cached values are read-only (arrays are frozen), so a cached stage is bitwise the freshly
computed one and no caller can alter it. :data:`computations` counts the computations per
stage (how tests see that a redesign hit the cache).

The stage boundaries are also where a design that nobody wants any more stops:
:func:`abandon_when` installs a check for the calling thread, and :func:`checkpoint` (called on
every lookup and between the realisation's steps) raises :class:`DesignAbandoned` once it is
true, so a superseded background redesign frees its worker within one stage.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["MAX_BYTES", "MAX_ENTRIES_PER_STAGE", "cached", "clear", "computations", "cached_bytes", "DesignAbandoned", "abandon_when",
           "checkpoint"]

#: Memory budget of the cache over all stages (bytes); least recently used entries go first.
MAX_BYTES = 64 * 2**20
#: Entries kept per stage: automation through many values (a new R_v per width) then drops its
#: own oldest entries, not the plants and inverses of other processors.
MAX_ENTRIES_PER_STAGE = 64

_entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
_per_stage: Counter = Counter()
_bytes = 0
_lock = threading.Lock()
#: Computations (cache misses) per stage name since the process started.
computations: Counter = Counter()
_thread = threading.local()


class DesignAbandoned(BaseException):
    """Raised by :func:`checkpoint` in a design whose abandon check has become true.

    A cancellation, not an error (like :class:`asyncio.CancelledError`): it derives from
    BaseException so that code which handles a design's errors (``except Exception``) lets it
    through to whoever started the design."""


@contextmanager
def abandon_when(check: Callable[[], bool]) -> Iterator[None]:
    """Within the block, designs on this thread stop at their next :func:`checkpoint` once
    ``check()`` is true (raising :class:`DesignAbandoned`)."""
    previous = getattr(_thread, "check", None)
    _thread.check = check
    try:
        yield
    finally:
        _thread.check = previous


def checkpoint() -> None:
    """Raise :class:`DesignAbandoned` if the calling thread's design has been abandoned."""
    check = getattr(_thread, "check", None)
    if check is not None and check():
        raise DesignAbandoned("the design was superseded")


def _freeze(value):
    """``value`` with its arrays read-only, and its size in bytes."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
        return value, value.nbytes
    if isinstance(value, tuple):
        frozen = [_freeze(v) for v in value]
        return tuple(v for v, _ in frozen), sum(n for _, n in frozen)
    return value, int(getattr(value, "nbytes", 0))


def cached(stage: str, key: Hashable, compute: Callable[[], object]):
    """``compute()`` for ``(stage, key)``, computed once while it stays in the cache.

    Parameters
    ----------
    stage : str
        Name of the stage (counted in :data:`computations`).
    key : hashable
        Everything the stage's result depends on.
    compute : callable
        Computes the result: an array, a tuple of arrays or an immutable object (its ``nbytes``
        attribute, if any, is its size).

    Returns
    -------
    The cached value, read-only.
    """
    global _bytes
    checkpoint()
    full_key = (stage, key)
    with _lock:
        entry = _entries.get(full_key)
        if entry is not None:
            _entries.move_to_end(full_key)
            return entry[0]
    value, size = _freeze(compute())
    with _lock:
        computations[stage] += 1
        if full_key not in _entries:
            _entries[full_key] = (value, size)
            _bytes += size
            _per_stage[stage] += 1
        if _per_stage[stage] > MAX_ENTRIES_PER_STAGE:
            _drop(next(k for k in _entries if k[0] == stage))
        while _bytes > MAX_BYTES and len(_entries) > 1:
            _drop(next(iter(_entries)))
    return value


def _drop(full_key: tuple) -> None:
    """Forget one entry (the lock is held)."""
    global _bytes
    _, size = _entries.pop(full_key)
    _bytes -= size
    _per_stage[full_key[0]] -= 1


def cached_bytes() -> int:
    """Bytes held by the cache now (≤ :data:`MAX_BYTES`, or one entry larger than it)."""
    return _bytes


def clear() -> None:
    """Forget every cached stage."""
    global _bytes
    with _lock:
        _entries.clear()
        _per_stage.clear()
        _bytes = 0
