"""``Board``: soundstage processors and native pedalboard plugins in one chain.

pedalboard cannot host Python code (``notes/pedalboard.md``), so a :class:`Board` does the
reverse: it runs consecutive native plugins as one native ``pedalboard.Pedalboard`` segment and
passes the audio between segments and soundstage processors itself, with pedalboard's calling
convention (:class:`~soundstage.processor.base.StreamingProcessor`), its list API, latency
compensation and a stream that can be fed in any chunk sizes.

Examples
--------
>>> import numpy as np, pedalboard
>>> board = Board([pedalboard.HighpassFilter(80), pedalboard.Compressor(threshold_db=-18)])
>>> x = np.random.default_rng(0).standard_normal((2, 48000)).astype(np.float32) * 0.1
>>> y = board(x, 48000)                                  # one-shot, aligned, same length
>>> reference = pedalboard.Pedalboard([pedalboard.HighpassFilter(80),
...                                    pedalboard.Compressor(threshold_db=-18)])(x, 48000)
>>> bool(np.array_equal(y, reference))
True
>>> parts = [board(x[:, i:i + 1000], 48000, reset=False) for i in range(0, 48000, 1000)]
>>> bool(np.array_equal(np.concatenate(parts + [board.flush()], axis=1), y))
True
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator
from typing import Any, overload

import numpy as np
import pedalboard

from .._errors import ParameterError, ParameterTypeError
from .segments import ONE_SHOT_ONLY, ParallelStage, Pipeline, ProcessorStage, is_native, native_leaves
from .file_stream import stream_processor_file
from .tree import BoardItemError, check_item, check_unique, compile_items, short, structure, walk
from ..processor.base import StreamingProcessor

__all__ = ["Board", "BoardMix", "BoardItemError"]

class _OfflineOneShot(StreamingProcessor):
    """One-shot calls run every stage on the whole padded signal (``offline``)."""

    _pipeline: Any
    _built_structure: Any = None
    _structure_alive: list[object] = []

    def _remember_structure(self) -> None:
        alive: list[object] = []
        self._built_structure = structure(self, alive)
        self._structure_alive = alive

    def _structure_changed(self) -> bool:
        return self._built_structure != structure(self, [])

    def _ensure_prepared(self, sample_rate: float, num_channels: int, max_block_size: int) -> None:
        if self._structure_changed():
            self._prepared_for = None
        super()._ensure_prepared(sample_rate, num_channels, max_block_size)

    def _offline_raw(self, signal: np.ndarray, max_block_size: int) -> np.ndarray:
        return self._pipeline.offline(signal, max_block_size)

    def _one_shot(self, block: np.ndarray, sample_rate: float, buffer_size: int) -> np.ndarray:
        self._stream = None
        self._ensure_prepared(sample_rate, block.shape[0], buffer_size)
        latency = self.latency_samples
        padded = np.concatenate([block, np.zeros((block.shape[0], latency), np.float32)], axis=1)
        return self._offline_raw(padded, buffer_size)[:, latency:]

    def _before_processing(self, sample_rate: float, num_channels: int, reset: bool) -> None:
        if self._stream is not None:
            if not self._structure_changed():
                return  # a running stream of an unchanged Board was checked when it started
            self._stream = None  # an item changed: the running stream ends
        if reset:
            return
        for obj, where in walk(self, "the Board"):
            leaves = native_leaves(obj) if is_native(obj) else ()
            for leaf in leaves:
                if isinstance(leaf, ONE_SHOT_ONLY):
                    raise ParameterError(
                        f"{where} ({short(leaf)}) cannot stream with reset=False: pedalboard's "
                        f"{type(leaf).__name__} returns wrong audio when streamed (upstream "
                        "issues #415, #267). Process the whole signal with reset=True."
                    )

    @property
    def latency_samples(self) -> int:
        """Latency (samples) of the stream, valid after the first call; one-shot output is
        aligned regardless."""
        return self._latency

    def process_block(self, block: np.ndarray) -> np.ndarray:
        """Raw stream: exactly ``n`` samples out, delayed by ``latency_samples``."""
        return self._pipeline.process_block(block)

    def _reset_state(self) -> None:
        if self._pipeline is not None:
            self._pipeline.restart()


class Board(_OfflineOneShot):
    """A chain of native pedalboard plugins and soundstage processors.

    Parameters
    ----------
    items : iterable, optional
        Native pedalboard plugins (including ``Pedalboard``, ``Chain``, ``Mix`` and loaded
        VST3/AU plugins), soundstage processors (:class:`~soundstage.processor.base.Processor`),
        nested Boards, :class:`BoardMix` or ``None`` (passes audio through). Each instance may
        appear only once anywhere in the Board.

    Notes
    -----
    Called like a pedalboard plugin: ``board(x, sample_rate, buffer_size=8192, reset=True)``.
    One-shot output is aligned with the input and as long as it. With ``reset=False`` the Board
    streams: the first calls hold back ``latency_samples`` samples, which :meth:`flush`
    returns; any split into chunks gives the one-shot result bit for bit (one exception
    measured: a Convolution fed by a Resample in the same segment agrees to about 1e-8, because
    the one-shot run ends on a partial block). A native ``Mix`` with a Resample branch depends
    on earlier calls in pedalboard itself and is not reproducible. Streaming latency includes up to
    ``buffer_size - 1`` samples for each segment that must be re-blocked (Resample,
    MP3Compressor, Convolution, VST3/AU plugins and unknown plugins). A segment's latency is
    measured by streaming zeros through the user's plugin instances when the Board is prepared
    (the first call, or a new sample rate, channel count or buffer size), and the plugins are
    reset afterwards. Changing the Board's items (or a nested Board's) ends a running stream.
    A native-only Board's one-shot call runs one ``pedalboard.Pedalboard`` of the same items.
    """

    def __init__(self, items: Iterable[object] | None = None) -> None:
        super().__init__()
        new = list(items) if items is not None else []
        for i, item in enumerate(new):
            check_item(item, f"item {i}")
        check_unique(new)
        self._items: list[object] = new
        self._pipeline: Pipeline | None = None
        self._latency = 0

    # ----------------------------------------------------------------- processor protocol
    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        """Compile the items into stages, validate channel counts, measure latency.

        Raises
        ------
        ParameterError
            Naming the item (index and repr) that cannot take the channels it is given, or
            an instance that appears twice.
        """
        check_unique(self._items)
        pipeline = compile_items(self._items, "item")
        pipeline.prepare(sample_rate, num_input_channels, max_block_size)
        self._pipeline = pipeline
        self._latency = pipeline.latency_samples
        self._remember_structure()

    def output_channels(self, num_input_channels: int) -> int:
        """Number of output channels for ``num_input_channels`` input channels."""
        return compile_items(self._items, "item").output_channels(num_input_channels)

    def _one_shot(self, block: np.ndarray, sample_rate: float, buffer_size: int) -> np.ndarray:
        if all(item is None or is_native(item) for item in self._items):
            # Exactly pedalboard.Pedalboard's one-shot: no latency measurement first (it
            # would run the instances with other block sizes and change what they compute).
            self._stream = None
            check_unique(self._items)
            native = pedalboard.Pedalboard(list(self._items))
            self._prepared_for = None  # a stream prepares (and measures latency) afresh
            n, channels = block.shape[1], block.shape[0]
            if n == 0:
                return block.copy()
            padded = block
            if 1 < channels and n <= channels:  # keep pedalboard's layout guess unambiguous
                padded = np.concatenate([block, np.zeros((channels, channels + 1 - n), np.float32)], axis=1)
            return native(padded, sample_rate, buffer_size=buffer_size, reset=True)[:, :n]
        return super()._one_shot(block, sample_rate, buffer_size)

    # ----------------------------------------------------------------- copies and pickling
    def __reduce__(self):
        """Pickle as the list of items. soundstage processors pickle as preset content plus
        parameters; native pedalboard plugins cannot be pickled (pedalboard #96)."""
        for i, item in enumerate(self._items):
            if is_native(item):
                raise ParameterTypeError(
                    f"Board item {i} ({type(item).__name__}) is a native pedalboard plugin, which pedalboard "
                    "cannot pickle; ship presets and parameters to other processes instead")
        return (type(self), (list(self._items),))

    def __copy__(self):
        """A new Board holding the same item instances (like ``list.copy``)."""
        return type(self)(list(self._items))

    def __deepcopy__(self, memo):
        """A new Board of independent copies of the items (native plugins cannot be copied)."""
        rebuild, (items,) = self.__reduce__()
        return rebuild([copy.deepcopy(item, memo) for item in items])

    # ----------------------------------------------------------------- list API
    def _changed(self) -> None:
        self._stream = None
        self._prepared_for = None
        self._built_structure = None

    def _replace_items(self, new: list[object]) -> None:
        for i, item in enumerate(new):
            check_item(item, f"item {i}")
        check_unique(new)
        with self._lock:
            self._items = new
            self._changed()

    def _child_items(self) -> list[tuple[str, object]]:
        return [(f"item {i}", item) for i, item in enumerate(self._items)]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[object]:
        return iter(list(self._items))

    def __contains__(self, item: object) -> bool:
        return any(existing is item for existing in self._items)

    @overload
    def __getitem__(self, index: int) -> object: ...
    @overload
    def __getitem__(self, index: slice) -> "Board": ...
    def __getitem__(self, index):
        """An item, or for a slice a new Board holding the same instances."""
        if isinstance(index, slice):
            return Board(self._items[index])
        return self._items[index]

    def __setitem__(self, index, value) -> None:
        new = list(self._items)
        if isinstance(index, slice):
            new[index] = list(value)
        else:
            new[index] = value
        self._replace_items(new)

    def __delitem__(self, index) -> None:
        new = list(self._items)
        del new[index]
        self._replace_items(new)

    def append(self, item: object) -> None:
        """Add ``item`` at the end."""
        self._replace_items(self._items + [item])

    def extend(self, items: Iterable[object]) -> None:
        """Add every item of ``items`` at the end."""
        self._replace_items(self._items + list(items))

    def insert(self, index: int, item: object) -> None:
        """Insert ``item`` before ``index``; like ``pedalboard.Pedalboard``, an index past the
        end raises IndexError."""
        if not -len(self._items) <= index <= len(self._items):
            raise IndexError(f"insert index {index} out of range for a Board of {len(self._items)} items")
        new = list(self._items)
        new.insert(index, item)
        self._replace_items(new)

    def remove(self, item: object) -> None:
        """Remove ``item`` (compared by identity)."""
        for i, existing in enumerate(self._items):
            if existing is item:
                del self[i]
                return
        raise ValueError(f"{short(item)} is not in the Board")

    def __repr__(self) -> str:
        inner = ", ".join(repr(item) for item in self._items)
        n = len(self._items)
        return f"<soundstage.Board with {n} item{'s' if n != 1 else ''}: [{inner}]>"

    # ----------------------------------------------------------------- conversions and files
    def to_pedalboard(self) -> pedalboard.Pedalboard:
        """A ``pedalboard.Pedalboard`` of the same instances (every item must be native).

        Raises
        ------
        ParameterError
            Naming the first item that is not a native plugin.
        """
        for i, item in enumerate(self._items):
            if item is not None and not is_native(item):
                raise ParameterError(
                    f"item {i} ({short(item)}) is not a native pedalboard plugin, so this "
                    "Board cannot become a pedalboard.Pedalboard; pedalboard cannot run Python "
                    "processors."
                )
        return pedalboard.Pedalboard(list(self._items))

    def process_file(
        self,
        in_path: str | os.PathLike,
        out_path: str | os.PathLike,
        *,
        buffer_size: int = 8192,
        overwrite: bool = False,
        progress: bool = True,
    ) -> None:
        """Stream an audio file through the Board into another file (constant memory).

        See :func:`soundstage.stream_file`.
        """
        stream_processor_file(
            self, in_path, out_path, buffer_size=buffer_size, overwrite=overwrite, progress=progress
        )


class BoardMix(_OfflineOneShot):
    """Parallel branches, summed after aligning their latencies.

    Parameters
    ----------
    branches : iterable
        Each branch is a :class:`Board`, a list of items (made into a Board) or a single
        item. Every branch must give the same number of output channels.
    """

    def __init__(self, branches: Iterable[object]) -> None:
        super().__init__()
        boards: list[Board] = []
        for i, branch in enumerate(branches):
            if isinstance(branch, Board):
                boards.append(branch)
            elif isinstance(branch, (list, tuple)):
                boards.append(Board(branch))
            else:
                check_item(branch, f"branch {i}")
                boards.append(Board([branch]))
        check_unique(boards, "branch")
        self.branches: tuple[Board, ...] = tuple(boards)
        self._pipeline: Pipeline | None = None
        self._latency = 0

    def _stage(self) -> ParallelStage:
        return ParallelStage(
            [ProcessorStage(b, f"branch {i}") for i, b in enumerate(self.branches)],
            [f"branch {i}" for i in range(len(self.branches))],
        )

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        """Prepare every branch and the delays that align them."""
        check_unique(self.branches, "branch")
        pipeline = Pipeline([self._stage()])
        pipeline.prepare(sample_rate, num_input_channels, max_block_size)
        self._pipeline = pipeline
        self._latency = pipeline.latency_samples
        self._remember_structure()

    def output_channels(self, num_input_channels: int) -> int:
        """Output channels shared by all branches."""
        return self._stage().output_channels(num_input_channels)

    def _child_items(self) -> list[tuple[str, object]]:
        return [(f"branch {i}", branch) for i, branch in enumerate(self.branches)]

    def __len__(self) -> int:
        return len(self.branches)

    def __iter__(self) -> Iterator[Board]:
        return iter(self.branches)

    def __getitem__(self, index: int) -> Board:
        return self.branches[index]

    def __repr__(self) -> str:
        return f"<soundstage.BoardMix with {len(self.branches)} branches: {list(self.branches)!r}>"
