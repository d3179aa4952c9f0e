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
    ParameterTypeError,
    PresetError,
    SofaError,
    SofaWarning,
    SoundstageError,
)

try:
    __version__ = _version("soundstage")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

#: Public names loaded on first use (PEP 562), so ``import soundstage`` stays light (the pytest
#: plugin imports it in every test run).
_LAZY = {
    "SpatialProcessor": "soundstage.processor",
    "ListenerTrack": "soundstage.processor",
    "Board": "soundstage.board",
    "BoardMix": "soundstage.board",
    "StreamingProcessor": "soundstage.processor",
    "Processor": "soundstage.processor",
    "stream_file": "soundstage.board",
    "Enclosure": "soundstage.acoustics.geometry",
    "Driver": "soundstage.acoustics.geometry",
    "Listener": "soundstage.acoustics.geometry",
    "DesignParameters": "soundstage.design.parameters",
    "TargetCurve": "soundstage.design.parameters",
    "FilterSet": "soundstage.design.filterset",
    "design_filterset": "soundstage.design.designer",
    "design_report": "soundstage.design.report",
    "Auralizer": "soundstage.monitor",
    "BinauralProcessor": "soundstage.monitor",
    "StereoReference": "soundstage.monitor",
    "compare": "soundstage.compare",
    "test_mix": "soundstage.testing.mix",
}
_SUBMODULES = ("presets", "acoustics", "design", "monitor", "testing")


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"soundstage.{name}")
    raise AttributeError(f"module 'soundstage' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = [
    "__version__",
    *_LAZY,
    "presets",
    "SoundstageError",
    "ParameterError",
    "ParameterTypeError",
    "AudioFormatError",
    "PresetError",
    "GeometryError",
    "SofaError",
    "SofaWarning",
    "DesignError",
]
