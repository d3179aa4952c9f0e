"""pytest plugin of soundstage: audio regression tests against golden renders.

Loaded by pytest through the ``pytest11`` entry point in every run once soundstage is
installed, so this module imports nothing heavy at import time.
"""

from __future__ import annotations

import sys

#: Name of the ``pytest11`` entry point (setup.py) under which pytest registers this module.
ENTRY_POINT_NAME = "soundstage"


def pytest_addhooks(pluginmanager) -> None:
    """Block this module's other name so it is registered once, however it was requested.

    The module can arrive under the entry-point name (``soundstage``) and under its module
    name (``-p soundstage.testing.plugin``, ``pytest_plugins``); pluggy refuses the second
    registration of one module object. ``pytest_addhooks`` is a historic hook, called as soon
    as the module is registered, so blocking the other name here makes the later request a
    no-op instead of an error.
    """
    this = sys.modules[__name__]
    for alias in (ENTRY_POINT_NAME, __name__):
        if pluginmanager.get_plugin(alias) is None and not pluginmanager.is_blocked(alias):
            pluginmanager.set_blocked(alias)
