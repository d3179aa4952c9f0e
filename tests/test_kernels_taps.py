"""TapMatrix (single-tap FIR matrix) against numpy's direct sum, streaming, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage._errors import ParameterError
from soundstage._kernels import TapMatrix


def reference(x, inputs, outputs, delays, gains, num_outputs):
    """The same sum with numpy, tap by tap in the given order (float32 accumulation)."""
    n = x.shape[1]
    out = np.zeros((num_outputs, n), np.float32)
    for i, o, d, g in zip(inputs, outputs, delays, gains):
        shifted = np.zeros(n, np.float32)
        shifted[d:] = x[i, : max(n - d, 0)]
        out[o] += np.float32(g) * shifted
    return out


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 900), min_size=1, max_size=8), st.integers(0, 2**31))
def test_matches_direct_sum_for_any_chunking(sizes, seed):
    rng = np.random.default_rng(seed)
    taps = rng.integers(1, 7)
    inputs, outputs = rng.integers(0, 3, taps), rng.integers(0, 4, taps)
    delays = rng.integers(0, 700, taps)
    gains = rng.standard_normal(taps).astype(np.float32)
    x = rng.standard_normal((3, sum(sizes))).astype(np.float32)
    expected = reference(x, inputs, outputs, delays, gains, 4)
    matrix = TapMatrix(inputs, outputs, delays, gains, num_inputs=3, num_outputs=4)
    parts, start = [], 0
    for size in sizes:
        parts.append(matrix.process(np.ascontiguousarray(x[:, start:start + size])))
        start += size
    assert np.array_equal(np.concatenate(parts, axis=1), expected)
    matrix.reset()
    assert np.array_equal(matrix.process(x), expected)


def test_unit_gain_is_an_exact_copy_and_untapped_outputs_are_silent():
    x = np.random.default_rng(1).standard_normal((2, 1000)).astype(np.float32)
    y = TapMatrix([1], [0], [37], [1.0], num_inputs=2, num_outputs=2).process(x)
    assert np.array_equal(y[0, 37:], x[1, :-37]) and np.all(y[0, :37] == 0) and np.all(y[1] == 0)


@pytest.mark.parametrize(("args", "match"), [
    (([0], [0], [0], [1.0, 2.0]), "one entry per tap"),
    (([2], [0], [0], [1.0]), "inputs must be integers in"),
    (([0], [0], [-1], [1.0]), "delays must be integers >= 0"),
    (([0], [0], [0], [np.inf]), "gains must be finite"),
])
def test_bad_construction(args, match):
    with pytest.raises(ParameterError, match=match):
        TapMatrix(*args, num_inputs=2, num_outputs=1)


def test_overlapping_output_is_rejected():
    x = np.zeros((1, 10), np.float32)
    with pytest.raises(ParameterError, match="overlaps"):
        TapMatrix([0], [0], [1], [1.0], num_inputs=1, num_outputs=1).process_into(x, x)
