"""GainMatrix and mix_into against numpy's matrix product."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage._errors import AudioFormatError, ParameterError
from soundstage._kernels.mix_matrix import GainMatrix, mix_into


def test_matches_numpy_matmul_and_skips_zero_gains():
    rng = np.random.default_rng(0)
    gains = rng.standard_normal((5, 3)).astype(np.float32)
    gains[2, 1] = 0.0
    x = rng.standard_normal((3, 4000)).astype(np.float32)
    y = GainMatrix(gains).process(x)
    ref = gains.astype(np.float64) @ x.astype(np.float64)
    np.testing.assert_allclose(y, ref, rtol=0, atol=8 * np.finfo(np.float32).eps * np.abs(ref).max())
    out = np.empty((5, 4000), np.float32)
    mix_into(gains, x, out)
    assert np.array_equal(out, y)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 65536), min_size=1, max_size=6), st.integers(0, 2**31))
def test_streaming_is_bitwise_one_call(sizes, seed):
    if sum(sizes) > 100_000:
        sizes = [s for s in sizes if s <= 30_000][:3] or [1]
    rng = np.random.default_rng(seed)
    matrix = GainMatrix(rng.standard_normal((2, 3)))
    x = rng.standard_normal((3, sum(sizes))).astype(np.float32)
    edges = np.cumsum([0] + sizes)
    parts = [matrix.process(np.ascontiguousarray(x[:, a:b])) for a, b in zip(edges[:-1], edges[1:])]
    assert np.array_equal(np.concatenate(parts, axis=1), matrix.process(x))


def test_set_gains():
    matrix = GainMatrix(np.eye(2))
    matrix.set_gains([[0.0, 1.0], [1.0, 0.0]])
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert np.array_equal(matrix.process(x), x[::-1])
    with pytest.raises(ParameterError, match=r"gains must keep shape \(2, 2\)"):
        matrix.set_gains(np.eye(3))
    assert (matrix.num_outputs, matrix.num_inputs) == (2, 2)


def test_bad_arguments():
    with pytest.raises(ParameterError, match=r"gains contains NaN or Inf"):
        GainMatrix([[np.nan]])
    with pytest.raises(ParameterError, match=r"gains must be 2-D"):
        GainMatrix([1.0, 2.0])
    matrix = GainMatrix(np.ones((2, 3)))
    with pytest.raises(AudioFormatError, match=r"x must have dtype float32, got float64"):
        matrix.process(np.zeros((3, 4)))
    with pytest.raises(ParameterError, match=r"x must have 3 channels"):
        matrix.process(np.zeros((2, 4), np.float32))
    with pytest.raises(AudioFormatError, match=r"x must be C-contiguous"):
        matrix.process(np.zeros((4, 3), np.float32).T)
    buf = np.zeros((3, 4), np.float32)
    with pytest.raises(ParameterError, match=r"out overlaps x"):
        matrix.process_into(buf, buf[:2])
    with pytest.raises(ParameterError, match=r"mix_into: gains \(2, 3\)"):
        mix_into(np.ones((2, 3), np.float32), np.zeros((3, 4), np.float32), np.zeros((2, 5), np.float32))
