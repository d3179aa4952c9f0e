"""The ``soundstage`` command: ``render``, ``presets``, ``demo``, ``analyze``, ``compare`` and
``batch``, one module each, dispatched by :mod:`.main`.

A thin shell over library calls: ``main(argv=None) -> int`` so tests call it directly; heavy
imports happen after argument parsing so ``--help`` is instant; diagnostics go to stderr,
machine-readable output to stdout or files; exit codes: 0 success, 1 a soundstage error
(bad input, preset or parameter), 2 usage errors (argparse).

May import: every layer (the top of the house); nothing imports it.
"""

from .main import main

__all__ = ["main"]
