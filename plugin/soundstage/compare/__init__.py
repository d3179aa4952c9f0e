"""A/B reports: presets rendered for headphones (:mod:`.render`), loudness-matched
(:mod:`.loudness`), measured (:mod:`.spatial`), tabulated (:mod:`.table`) and written as one
self-contained HTML page (:mod:`.html`, :mod:`.page`) by :func:`compare` / :func:`compare_file`
(:mod:`.report`). Renders stream into temporary files (:mod:`.stream`) and are measured as they
stream (:mod:`soundstage.monitor.loudness_meter`), so memory does not grow with the input; the page embeds an excerpt chosen
from the input (:mod:`.excerpt`).

May import: every layer below the tools (``monitor`` and down); not ``testing`` or ``cli``.
"""

from .report import DEFAULT_MAX_SECONDS, TABLE_COLUMNS, Comparison, compare, compare_file

__all__ = ["compare", "compare_file", "Comparison", "TABLE_COLUMNS", "DEFAULT_MAX_SECONDS"]
