"""The measured MIT KEMAR head the tests use: the copy installed with soundstage (package data),
so no test depends on a file outside the project."""

from __future__ import annotations

from pathlib import Path

from soundstage.acoustics.heads import builtin_kemar_path

KEMAR_FILE = "MIT_KEMAR_normal_pinna.sofa"


def kemar_path() -> Path:
    """The built-in KEMAR SOFA file (``soundstage/acoustics/heads/data``)."""
    path = builtin_kemar_path()
    assert path.is_file(), f"the built-in KEMAR SOFA file is missing from the package: {path}"
    return path
