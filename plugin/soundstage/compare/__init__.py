"""A/B reports: presets rendered for headphones (:mod:`.render`), loudness-matched
(:mod:`.loudness`), measured (:mod:`.spatial`), tabulated (:mod:`.table`) and written as one
self-contained HTML page (:mod:`.html`, :mod:`.page`) by :func:`compare` (:mod:`.report`).

May import: every layer below the tools (``monitor`` and down); not ``testing`` or ``cli``.
"""

from .report import DEFAULT_MAX_SECONDS, TABLE_COLUMNS, Comparison, compare

__all__ = ["compare", "Comparison", "TABLE_COLUMNS", "DEFAULT_MAX_SECONDS"]
