"""Shared test configuration: reproducible property tests.

Two hypothesis profiles: ``ci`` is derandomized (the same examples on every run and machine, so
a red CI build is the change's fault, never the draw's) and prints the reproduction blob; ``dev``
explores randomly. ``ci`` is used when the ``CI`` environment variable is set (GitHub Actions and
most CI services set it) or ``HYPOTHESIS_PROFILE=ci`` is given; examples that ever failed are
pinned with ``@example`` next to their test, so they run under either profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
