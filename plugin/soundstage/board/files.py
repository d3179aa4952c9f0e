"""``stream_file``: any processor, a :class:`Board` or a native pedalboard plugin, from one
audio file into another in constant memory (see :mod:`.file_stream`)."""

from __future__ import annotations

import os

from .chain import Board
from .file_stream import FileStreamStats, stream_processor_file

__all__ = ["FileStreamStats", "stream_file"]


def stream_file(processor, in_path: str | os.PathLike, out_path: str | os.PathLike, *, buffer_size: int = 8192,
                overwrite: bool = False, progress: bool = True, bit_depth: int | None = None) -> FileStreamStats:
    """Process ``in_path`` into ``out_path`` chunk by chunk, time-aligned and the same length.

    Parameters
    ----------
    processor : StreamingProcessor, Board or native pedalboard plugin
        Anything with pedalboard's ``process(..., reset=False)`` and ``flush()``; a native
        plugin is wrapped in a :class:`soundstage.Board`. It is reset first.
    in_path, out_path, buffer_size, overwrite, progress, bit_depth
        See :func:`~soundstage.board.file_stream.stream_processor_file`.

    Returns
    -------
    FileStreamStats
    """
    if not callable(getattr(processor, "flush", None)):
        processor = Board([processor])
    return stream_processor_file(processor, in_path, out_path, buffer_size=buffer_size, overwrite=overwrite,
                                 progress=progress, bit_depth=bit_depth)
