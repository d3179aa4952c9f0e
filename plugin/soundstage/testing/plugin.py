"""pytest plugin of soundstage: audio regression tests against golden renders.

Loaded by pytest through the ``pytest11`` entry point in every run once soundstage is
installed, so this module imports nothing heavy at import time.
"""

from __future__ import annotations
