"""The exceptions soundstage raises for mistakes a user can make.

Every error a user can cause derives from :class:`SoundstageError`, and also from the builtin
exception that fits (``ValueError`` for bad values, ``TypeError`` for bad types), so that
``except ValueError`` keeps working. Messages name the file, key or argument and what was
expected.
"""

from __future__ import annotations

__all__ = [
    "SoundstageError",
    "ParameterError",
    "ParameterTypeError",
    "AudioFormatError",
    "PresetError",
    "GeometryError",
    "SofaError",
    "DesignError",
    "SofaWarning",
]


class SoundstageError(Exception):
    """Base class of every error soundstage raises for a user's mistake."""


class ParameterError(SoundstageError, ValueError):
    """An argument or parameter has a value outside what is allowed."""


class ParameterTypeError(ParameterError, TypeError):
    """An argument or parameter of the wrong type (a string where a number is expected)."""


class AudioFormatError(SoundstageError, TypeError):
    """Audio of the wrong type (dtype, dimensions) for a processor or kernel."""


class PresetError(SoundstageError, ValueError):
    """A preset file or preset dictionary is invalid (names file and key path)."""


class GeometryError(SoundstageError, ValueError):
    """An impossible acoustic geometry (a listener inside the enclosure, a driver in the head)."""


class SofaError(SoundstageError, ValueError):
    """A SOFA (AES69) file is unreadable, truncated or misses a required variable."""


class DesignError(SoundstageError, ValueError):
    """A filter design request that cannot be met (and has no graceful fallback)."""


class SofaWarning(UserWarning):
    """A SOFA file loads but something in it contradicts the conventions (e.g. its receiver
    positions put receiver 0, the left ear by convention, on the right)."""
