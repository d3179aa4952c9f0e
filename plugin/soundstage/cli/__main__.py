"""``python -m soundstage.cli``: the ``soundstage`` command."""

import sys

from .main import main

sys.exit(main())
