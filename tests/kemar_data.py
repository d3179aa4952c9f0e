"""Where the tests find the measured MIT KEMAR head (SOFA): beside the checkout, in
``shared/data/hrtf/``, or wherever ``SOUNDSTAGE_KEMAR_SOFA`` points. Never copied into the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

KEMAR_FILE = "MIT_KEMAR_normal_pinna.sofa"


def kemar_path() -> Path:
    """The KEMAR SOFA file, or ``pytest.skip`` with the reason when it is absent."""
    env = os.environ.get("SOUNDSTAGE_KEMAR_SOFA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "hrtf" / KEMAR_FILE
    if not path.is_file():
        pytest.skip(f"measured KEMAR SOFA file not available at {path} (set SOUNDSTAGE_KEMAR_SOFA)")
    return path
