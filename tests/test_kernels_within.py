"""``within``, the processor layer's per-block clip guard, against the numpy expression."""

import numpy as np
import pytest

from soundstage._kernels._checks import within


@pytest.mark.parametrize("where", [None, (0, 3), (1, 4999), (1, 2500)])
def test_matches_numpy_on_blocks_and_column_slices(where):
    buffer = np.random.default_rng(0).uniform(-0.9, 0.9, (2, 6000)).astype(np.float32)
    if where is not None:
        buffer[where] = 1.5
    for block in (buffer, buffer[:, 1000:5000], buffer[:, 2500:2501], buffer[:, 7:7]):
        assert within(block, 1.0) == bool(np.all(np.abs(block) <= 1.0))


def test_nan_is_not_within_and_other_layouts_still_work():
    x = np.zeros((2, 64), np.float32)
    x[1, 10] = np.nan
    assert not within(x, 1.0) and not within(x[:, 5:20], 1.0)
    assert within(np.zeros((4, 2), np.float32).T, 1.0)  # a transposed view: the generic path
