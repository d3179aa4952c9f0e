"""The bridge into pedalboard: :class:`Board` chains soundstage processors and native plugins
(:mod:`.chain`, built from :mod:`.tree` into the stages of :mod:`.segments`); audio files are
streamed through any of them by :func:`stream_file` (:mod:`.files`, :mod:`.file_stream`).

May import: the root helpers and the ``processor`` layer (and everything it may import).
"""

from .chain import Board, BoardMix
from .files import FileStreamStats, stream_file
from .tree import BoardItemError, DuplicateItemError

__all__ = ["Board", "BoardMix", "BoardItemError", "DuplicateItemError", "FileStreamStats", "stream_file"]
