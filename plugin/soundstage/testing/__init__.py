"""soundstage.testing: audio regression tests for soundstage renders.

The pytest plugin (:mod:`soundstage.testing.plugin`, loaded automatically once soundstage is
installed) provides the ``audio_regression`` fixture; this package provides what a test needs
around it::

    from soundstage.testing import Tolerance, render_for_regression

    def test_studio_speaker(audio_regression):
        feeds = render_for_regression("studio-speaker", "pink-noise-sweep", seconds=1.0)
        audio_regression.check(feeds, 48000, preset="studio-speaker")

Names are loaded on first use (PEP 562), so importing the package — which pytest does in every
run through the plugin — stays cheap.

May import: every layer up to ``monitor`` (lazily, so the plugin stays light); not ``compare``
or ``cli``.
"""

from __future__ import annotations

import importlib

__all__ = [
    "AudioRegression",
    "Comparison",
    "Failure",
    "GoldenWriteError",
    "SIGNAL_NAMES",
    "Tolerance",
    "render_for_regression",
    "signals",
]

_EXPORTS = {
    "AudioRegression": ".regression",
    "Comparison": ".comparison",
    "Failure": ".comparison",
    "GoldenWriteError": ".goldens",
    "SIGNAL_NAMES": ".signals",
    "Tolerance": ".tolerances",
    "render_for_regression": ".render",
}


def __getattr__(name: str):
    if name == "signals":
        return importlib.import_module(".signals", __name__)
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
