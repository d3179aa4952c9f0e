"""The plant cache: a redesign that reuses the plant gives bitwise the from-scratch design."""

import numpy as np
import pytest

from soundstage.design import designer, plant_cache
from soundstage.processor import SpatialProcessor


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar"])
def test_a_width_change_with_the_cached_plant_equals_a_fresh_design(name):
    proc = SpatialProcessor(name)
    proc.design(48000.0)  # fills the plant cache
    proc.width_deg = 23.7
    reused = proc.design(48000.0).fir
    designer._design_cached.cache_clear()
    plant_cache.clear()
    fresh = proc.design(48000.0).fir
    np.testing.assert_array_equal(reused, fresh)


def test_cache_hands_out_copies_and_drops_the_oldest():
    plant_cache.clear()
    calls = []
    first = plant_cache.cached("a", lambda: calls.append(1) or np.ones(3))
    first[:] = 5.0
    np.testing.assert_array_equal(plant_cache.cached("a", lambda: calls.append(1) or np.zeros(3)), np.ones(3))
    assert len(calls) == 1
    for k in range(plant_cache.MAX_ENTRIES):
        plant_cache.cached(k, lambda: np.zeros(1))
    plant_cache.cached("a", lambda: calls.append(1) or np.ones(3))
    assert len(calls) == 2
