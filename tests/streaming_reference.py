"""The streaming engine's render of a whole input, the reference for one-shot calls.

``proc(x, sample_rate)`` (a one-shot call) of a long input runs the offline engine, equal to the
streaming engine to float32 round-off; any split of a stream is bitwise one ``reset=False``
call of the whole input followed by ``flush()``, which this returns.
"""

import numpy as np

#: Largest difference between the offline and the streaming engine, relative to the larger of
#: full scale and the output's peak (measured ≤ 3e-7 over every built-in preset; float32 eps is
#: 1.2e-7 and the two sum the same products in a different order).
OFFLINE_TOLERANCE = 1e-6


def streaming_render(proc, x, sample_rate, buffer_size=8192):
    """One ``reset=False`` call of all of ``x`` then ``flush()``: time-aligned, as long as ``x``."""
    proc.reset()
    head = proc(x, sample_rate, buffer_size=buffer_size, reset=False)
    return np.concatenate([head, proc.flush()], axis=-1)


def assert_offline_matches_streaming(offline, streamed):
    """Same shape and alignment, samples within :data:`OFFLINE_TOLERANCE` of full scale (or
    of the peak when it is larger)."""
    assert offline.shape == streamed.shape
    scale = max(1.0, float(np.max(np.abs(streamed), initial=0.0)))
    worst = float(np.max(np.abs(offline - streamed), initial=0.0))
    assert worst <= OFFLINE_TOLERANCE * scale, f"offline differs from streaming by {worst:.3g} (scale {scale:.3g})"
