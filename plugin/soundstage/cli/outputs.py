"""The output rule every sub-command follows: nothing existing is replaced without
``-y/--overwrite``, and a bad ``-o`` is refused before any work starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._errors import ParameterError

__all__ = ["add_overwrite_flag", "checked_output_file", "checked_output_directory"]


def add_overwrite_flag(parser: argparse.ArgumentParser) -> None:
    """``-y/--overwrite`` (``--yes`` kept as an alias) on ``parser``, stored as ``overwrite``."""
    parser.add_argument("-y", "--overwrite", "--yes", dest="overwrite", action="store_true",
                        help="replace existing output")


def checked_output_file(path: str | Path, overwrite: bool, *, suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` as a file that may be written: its folder exists, it is not a folder, it does not
    exist unless ``overwrite``, and its extension is one of ``suffixes`` (when given)."""
    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ParameterError(f"-o {path}: expected a file ending in {' or '.join(suffixes)}")
    if path.is_dir():
        raise ParameterError(f"-o {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise ParameterError(f"-o {path}: the directory {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise ParameterError(f"-o {path} exists; add -y/--overwrite to replace it")
    return path


def checked_output_directory(path: str | Path, overwrite: bool) -> Path:
    """``path`` as a directory that may be written into: not a file, and empty or absent unless
    ``overwrite``; its parent must exist (one level is created, not a whole tree)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"-o {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise ParameterError(f"-o {path} exists and is not empty; add -y/--overwrite to replace its files")
    if not path.parent.is_dir():
        raise ParameterError(f"-o {path}: the directory {path.parent} does not exist")
    return path
