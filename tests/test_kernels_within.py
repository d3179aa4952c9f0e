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


def test_a_limit_between_two_float32_values_is_compared_exactly():
    """Compared in float32 against the largest float32 not above the limit: the same answer as
    the float64 comparison for every float32 sample."""
    third = np.float32(1 / 3)  # 0.33333334 > 1/3
    x = np.array([[0.1, third]], np.float32)
    assert not within(x, 1 / 3)
    assert within(x, float(third))
    assert not within(x, float(np.nextafter(third, np.float32(0))))


@pytest.mark.parametrize("limit", [np.inf, 1e300, 3.5e38, float(np.finfo(np.float32).max), 1.0, 0.0, -0.0,
                                   1e-46, -1e-46, -1e-45, -1.0, -np.inf, np.nan])
def test_every_limit_agrees_with_numpy(limit):
    """Limits outside float32's range, between two float32 values, negative (even those that
    round to -0.0 in float32) or NaN give numpy's float64 answer, on blocks and column slices."""
    values = [0.0, 1e-45, 1e-40, 0.5, float(np.finfo(np.float32).max), np.inf]
    for value in values:
        x = np.full((2, 20), value, np.float32)
        for block in (x, x[:, 3:11], x[:, 5:5]):
            assert within(block, limit) == bool(np.all(np.abs(block.astype(np.float64)) <= limit)), (value, block.shape)
