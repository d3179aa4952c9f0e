"""A small cache of the acoustic plant across designs, so a redesign recomputes only what changed.

The driver→ear plant (head responses, driver directivity, propagation) depends on the enclosure,
the listener, the head and the design frequency grid — not on width, target curve, centre gain,
beam or gains — and is about half the cost of a design. :func:`cached` keeps the last
:data:`MAX_ENTRIES` plants keyed on exactly those inputs and hands out copies, so a cached plant
is bitwise the freshly computed one and no caller can alter the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

__all__ = ["MAX_ENTRIES", "cached", "clear"]

#: Plants kept (least recently used dropped first); a studio plant at 48 kHz is ~0.1 MB.
MAX_ENTRIES = 16

_entries: OrderedDict[Hashable, np.ndarray] = OrderedDict()
_lock = threading.Lock()


def cached(key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()`` for ``key``, computed once while it stays among the recent entries; a copy."""
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key].copy()
    value = np.asarray(compute())
    with _lock:
        _entries[key] = value.copy()
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every cached plant."""
    with _lock:
        _entries.clear()
