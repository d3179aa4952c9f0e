"""Atomic file output: write a temporary file beside the target, then move it into place.

``tempfile.mkstemp`` creates files readable by their owner only; :func:`publish` gives the
finished file the permissions an ordinary ``open(path, "w")`` would (0666 minus the umask)
before the rename, so a reader never sees a half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["temporary_beside", "publish", "write_text_atomic"]


def temporary_beside(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A new temporary file in ``path``'s directory: ``(descriptor, name)`` as ``mkstemp``."""
    path = Path(path)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def publish(temporary: str | os.PathLike, path: str | os.PathLike) -> None:
    """Give ``temporary`` default permissions and move it onto ``path`` atomically."""
    os.chmod(temporary, _default_mode())
    os.replace(temporary, path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (nothing half-written under the final name)."""
    path = Path(path)
    fd, temporary = temporary_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        publish(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
