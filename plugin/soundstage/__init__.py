"""soundstage: a ±30° stereo image from one compact loudspeaker enclosure.

The public API is listed in ``__all__``; every other module is private by name or by
being a subpackage implementation detail.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from ._errors import (
    AudioFormatError,
    DesignError,
    GeometryError,
    ParameterError,
    PresetError,
    SofaError,
    SoundstageError,
)

try:
    __version__ = _version("soundstage")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "SoundstageError",
    "ParameterError",
    "AudioFormatError",
    "PresetError",
    "GeometryError",
    "SofaError",
    "DesignError",
]
