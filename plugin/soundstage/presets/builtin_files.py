"""The built-in preset files: where they are (installed package data or the source tree), their
names, and a stamp of their state for the loader's cache."""

from __future__ import annotations

import difflib
import importlib.resources
from pathlib import Path

__all__ = ["builtin_dir", "builtin_path", "builtin_stamp", "list_presets", "unknown_reference"]


def builtin_dir() -> Path | None:
    """Directory of the built-in preset files (installed package data or the source tree)."""
    try:
        root = importlib.resources.files("soundstage.preset_files")
        names = [item.name for item in root.iterdir() if item.name.endswith(".toml")]
        if names:
            return Path(str(root.joinpath(names[0]))).parent
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        pass
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "preset_files", here.parents[3] / "presets"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    return None


def builtin_path(name: str) -> Path | None:
    directory = builtin_dir()
    if directory is None or "/" in name or "\\" in name:
        return None
    path = directory / f"{name}.toml"
    return path if path.is_file() else None


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted.

    Returns
    -------
    list of str
        E.g. ``['compact-speaker', 'headphones', ..., 'studio-speaker']``.
    """
    directory = builtin_dir()
    return sorted(p.stem for p in directory.glob("*.toml")) if directory else []


def unknown_reference(reference: str) -> str:
    names = list_presets()
    close = difflib.get_close_matches(reference, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"no built-in preset or file named {reference!r}; {hint}built-in presets: {', '.join(names)}"


def builtin_stamp(directory: Path) -> tuple:
    """The names, sizes and modification and status-change times of the built-in files in
    ``directory``: a cached built-in preset is reloaded when any of them changes (one may
    extend another; the status change time moves on every write or replacement, whatever time
    a copy keeps)."""
    stamps = []
    for entry in directory.glob("*.toml"):
        stat = entry.stat()
        stamps.append((entry.name, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    return tuple(sorted(stamps))
