# cython: language_level=3
"""Static gain matrix: ``out[o, n] = sum_i gains[o, i] * x[i, n]``, GIL released."""

cimport cython


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _mix(const float[:, ::1] gains, const float[:, ::1] x, float[:, ::1] out) noexcept nogil:
    cdef Py_ssize_t n_out = gains.shape[0]
    cdef Py_ssize_t n_in = gains.shape[1]
    cdef Py_ssize_t n = x.shape[1]
    cdef Py_ssize_t o, i, k
    cdef float g
    for o in range(n_out):
        for k in range(n):
            out[o, k] = 0.0
        for i in range(n_in):
            g = gains[o, i]
            if g == 0.0:
                continue
            for k in range(n):
                out[o, k] += g * x[i, k]


def mix_into(const float[:, ::1] gains, const float[:, ::1] x, float[:, ::1] out):
    """Mix ``x`` (n_in, n) into preallocated ``out`` (n_out, n) with ``gains`` (n_out, n_in).

    Shapes are validated by the caller; this function only checks them against each other.
    """
    if gains.shape[1] != x.shape[0] or gains.shape[0] != out.shape[0] or x.shape[1] != out.shape[1]:
        raise ValueError(
            f"mix_into: gains ({gains.shape[0]}, {gains.shape[1]}), x ({x.shape[0]}, {x.shape[1]}) "
            f"and out ({out.shape[0]}, {out.shape[1]}) do not fit"
        )
    with nogil:
        _mix(gains, x, out)
