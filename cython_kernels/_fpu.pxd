# cython: language_level=3
"""Flush-to-zero / denormals-are-zero for the duration of a kernel call (see ``_fpu.h``).

Usage inside a ``nogil`` block::

    state = fpu_enter()
    ... float32 arithmetic that may produce subnormals ...
    fpu_leave(state)
"""

cdef extern from "_fpu.h" nogil:
    unsigned long fpu_enter "soundstage_fpu_enter" ()
    void fpu_leave "soundstage_fpu_leave" (unsigned long old)
    unsigned long fpu_state "soundstage_fpu_state" ()
    unsigned long FPU_FLUSH_BITS "SOUNDSTAGE_FPU_FLUSH_BITS"
    int FPU_SUPPORTED "SOUNDSTAGE_FPU_SUPPORTED"
