# cython: language_level=3
"""C-level helpers shared by the soundstage kernels (inline only: no module of its own)."""


cdef inline double flush_denormal(double v) noexcept nogil:
    """Return ``v`` with magnitudes below ~2.4e-38 rounded to exactly zero.

    Adding and then subtracting 1e-22 rounds anything under half an ulp of 1e-22
    (2**-125 ≈ 2.4e-38, just above the smallest normal float32 2**-126) to zero, so neither the
    float64 recursive state nor the float32 audio written from it becomes subnormal when the
    input falls silent (subnormal arithmetic is ~100× slower on x86). The absolute perturbation
    is below 2.4e-38. Applied per sample, it is independent of how a stream is chunked. The
    compiler keeps ``(v + g) - g`` because setup.py does not use -ffast-math.
    """
    return (v + 1e-22) - 1e-22
