"""Enclosure presets: TOML files describing an enclosure, its listener and its design.

:mod:`.loader` finds, reads and validates them (:func:`load`, :func:`list`, :class:`Preset`; the
file format is documented there), :mod:`.schema` holds the table of keys, types and ranges, and
:mod:`.build` turns checked tables into acoustics and design objects. The built-in files are
installed as ``soundstage.preset_files``.

May import: the root helpers, ``acoustics`` and ``design``.
"""

from .loader import HEAD_NAMES, SCHEMA_VERSION, Preset, list, list_presets, load, load_dict, loads

__all__ = ["Preset", "SCHEMA_VERSION", "HEAD_NAMES", "list", "load", "load_dict", "loads"]
