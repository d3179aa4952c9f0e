# cython: language_level=3
"""C-level helpers shared by the soundstage kernels (inline only: no module of its own)."""

from libc.math cimport fabs, fabsf


cdef inline double flush_denormal(double v) noexcept nogil:
    """Return ``v``, or exactly 0.0 when ``|v| < 1e-30``.

    Recursive float64 state of a filter fed with silence decays geometrically into subnormal
    numbers (and writes subnormal float32 audio), whose arithmetic is ~100× slower on x86.
    Zeroing anything below 1e-30 (−600 dB re full scale) keeps state and output normal and lets
    a silent input reach exact digital silence. (Adding and subtracting a tiny constant instead
    leaves zero-input limit cycles around 1e-36 in resonant sections.) Applied per sample, the
    flush is independent of how a stream is chunked; the comparison compiles to a blend, so the
    channel loops stay vectorised.
    """
    return v if fabs(v) >= 1e-30 else 0.0


cdef inline float flush_denormal_float(float v) noexcept nogil:
    """``flush_denormal`` for float32 samples (FFT round-off of a silent stretch would otherwise
    leave subnormal-range output that is not exact silence; a select, vectorised)."""
    return v if fabsf(v) >= 1e-30 else 0.0
