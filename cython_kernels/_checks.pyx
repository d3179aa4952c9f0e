# cython: language_level=3
"""Argument validation shared by the kernel classes (Python level, called before ``nogil``).

One policy for every kernel:

* :class:`~soundstage.AudioFormatError` (a ``TypeError``) for audio of the wrong kind: not a
  ``numpy.ndarray``, not ``float32``, not 2-D, not C-contiguous. Kernels take float32
  ``(channels, samples)`` C-contiguous arrays only; the layer above converts.
* :class:`~soundstage.ParameterError` (a ``ValueError``) for wrong values or shapes: a channel
  count or length that does not fit, a read-only output, NaN/Inf in coefficients.

Every message names the argument, what was received and what is expected.
"""

cimport cython
cimport numpy as cnp
from libc.math cimport fabs, fabsf, nextafterf, INFINITY
from libc.float cimport FLT_MAX

import numpy as np

from soundstage._errors import AudioFormatError, ParameterError

cnp.import_array()


cdef inline bint _is_float32_block(x) noexcept:
    """x is a 2-D C-contiguous float32 ndarray (C-API reads: no dtype or flags objects are
    built, which costs ~0.3 µs per check, a lot for a 128-sample block)."""
    return (cnp.PyArray_Check(x) and cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT32
            and cnp.PyArray_NDIM(<cnp.ndarray>x) == 2 and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x))


def check_audio(x, str name, Py_ssize_t num_channels, bint writable=False):
    """Validate a float32 ``(num_channels, n)`` C-contiguous array and return it unchanged."""
    if (_is_float32_block(x) and cnp.PyArray_DIM(<cnp.ndarray>x, 0) == num_channels
            and (not writable or cnp.PyArray_ISWRITEABLE(<cnp.ndarray>x))):
        return x  # the usual call
    if not isinstance(x, np.ndarray):
        raise AudioFormatError(
            f"{name} must be a numpy.ndarray of float32 with shape (channels, samples), "
            f"got {type(x).__name__}"
        )
    if x.dtype != np.float32:
        raise AudioFormatError(
            f"{name} must have dtype float32, got {x.dtype}; convert with "
            f"{name}.astype(numpy.float32) (kernels take float32 only)"
        )
    if x.ndim != 2:
        raise AudioFormatError(
            f"{name} must be 2-D (channels, samples), got {x.ndim}-D with shape {x.shape}"
        )
    if not x.flags.c_contiguous:
        raise AudioFormatError(
            f"{name} must be C-contiguous (channels, samples); pass numpy.ascontiguousarray({name})"
        )
    if x.shape[0] != num_channels:
        raise ParameterError(
            f"{name} must have {num_channels} channels (rows), got shape {x.shape}"
        )
    if writable and not x.flags.writeable:
        raise ParameterError(f"{name} is read-only; the kernel writes into it, pass a writable array")
    return x


def check_out(out, str name, Py_ssize_t num_channels, Py_ssize_t num_samples, x=None):
    """Validate a writable float32 ``(num_channels, num_samples)`` output buffer.

    If ``x`` is given, ``out`` must either be ``x`` itself (same memory, same shape: in place)
    or not overlap it at all.
    """
    check_audio(out, name, num_channels, writable=True)
    if cnp.PyArray_DIM(<cnp.ndarray>out, 1) != num_samples:
        raise ParameterError(
            f"{name} must have {num_samples} samples to match the input, got shape {out.shape}"
        )
    if x is not None and _may_overlap(x, out):
        same = (
            x.shape == out.shape
            and x.__array_interface__["data"][0] == out.__array_interface__["data"][0]
        )
        if not same:
            raise ParameterError(
                f"{name} partially overlaps the input; pass the input itself or a separate array"
            )
    return out


cdef bint _may_overlap(x, out) except -1:
    """numpy.may_share_memory for C-contiguous ``out`` and ``x`` (their byte ranges intersect),
    without its ~1 µs per call; other arrays go to numpy."""
    if not (cnp.PyArray_Check(x) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x)):
        return np.may_share_memory(x, out)
    cdef char* xp = <char*>cnp.PyArray_DATA(x)
    cdef char* op = <char*>cnp.PyArray_DATA(out)
    return xp < op + cnp.PyArray_NBYTES(out) and op < xp + cnp.PyArray_NBYTES(x)


def finite_array(values, str name, dtype, Py_ssize_t ndim=-1, str shape_hint=""):
    """Return ``values`` as a C-contiguous copy of ``dtype``, rejecting NaN/Inf and bad ndim."""
    try:
        arr = np.array(values, dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be an array of real numbers {shape_hint}: {exc}") from None
    if ndim >= 0 and arr.ndim != ndim:
        raise ParameterError(
            f"{name} must be {ndim}-D {shape_hint}, got {arr.ndim}-D with shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or Inf; every value must be finite")
    return arr


@cython.boundscheck(False)
@cython.wraparound(False)
cdef bint _within(const float* x, Py_ssize_t count, double limit) noexcept nogil:
    """|x[j]| <= limit for every j < count (False for NaN); branch-free runs of 256 samples,
    so the comparison loop vectorises. Compared in float32 against the largest float32 not
    above ``limit`` (the same answer for float32 samples: 8 lanes instead of 4 doubles)."""
    cdef Py_ssize_t start, j, stop
    cdef int bad = 0
    cdef float bound
    if not limit >= 0.0:  # a negative or NaN limit: no sample is within it
        return count == 0
    if limit >= FLT_MAX:  # (no float32 overflow in the conversion)
        bound = INFINITY if limit == INFINITY else FLT_MAX
    else:
        bound = <float>limit
        if bound > limit:
            bound = nextafterf(bound, 0.0)
    for start in range(0, count, 256):
        stop = start + 256 if start + 256 < count else count
        for j in range(start, stop):
            bad |= not (fabsf(x[j]) <= bound)
        if bad:
            return False
    return True


def within(x, double limit):
    """True when every sample of the float32 2-D ``x`` (C-contiguous, or rows each contiguous
    and any distance apart: a column slice) has ``|v| <= limit`` (False for NaN): the per-block
    guard of the processor layer, about 20x cheaper than the numpy expression
    (``numpy.abs(x) <= limit`` then ``all``) for a short block."""
    cdef const char* xp
    cdef Py_ssize_t count, row, rows, row_bytes
    cdef bint ok = True
    if _is_float32_block(x):
        xp = <const char*>cnp.PyArray_DATA(<cnp.ndarray>x)
        count = cnp.PyArray_SIZE(<cnp.ndarray>x)
        with nogil:
            ok = _within(<const float*>xp, count, limit)
        return ok
    if (cnp.PyArray_Check(x) and cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT32
            and cnp.PyArray_NDIM(<cnp.ndarray>x) == 2 and cnp.PyArray_STRIDE(<cnp.ndarray>x, 1) == sizeof(float)):
        xp = <const char*>cnp.PyArray_DATA(<cnp.ndarray>x)
        rows, count = cnp.PyArray_DIM(<cnp.ndarray>x, 0), cnp.PyArray_DIM(<cnp.ndarray>x, 1)
        row_bytes = cnp.PyArray_STRIDE(<cnp.ndarray>x, 0)
        with nogil:
            for row in range(rows):
                if count > 0 and not _within(<const float*>(xp + row * row_bytes), count, limit):
                    ok = False
                    break
        return ok
    return _within_view(x, limit)  # another buffer, or the buffer protocol's error


@cython.boundscheck(False)
@cython.wraparound(False)
def _within_view(const float[:, :] x, double limit):
    """``within`` through a typed memoryview (any 2-D float32 buffer, any strides)."""
    cdef Py_ssize_t c, t
    cdef bint ok = True
    with nogil:
        for c in range(x.shape[0]):
            for t in range(x.shape[1]):
                if not fabs(x[c, t]) <= limit:
                    ok = False
                    break
            if not ok:
                break
    return ok
