# cython: language_level=3
"""The register-blocked spectrum multiply-accumulate of the partitioned convolver
(``_spectrum_mac.h``; its data layout is built by ``spectrum_mac.strip_layout``)."""

cdef extern from "_spectrum_mac.h" nogil:
    const Py_ssize_t MAC_STRIP "SOUNDSTAGE_MAC_STRIP"
    const Py_ssize_t MAC_MAX_GROUP "SOUNDSTAGE_MAC_MAX_GROUP"
    void spectrum_mac "soundstage_spectrum_mac" (
        float* acc_re, float* acc_im, const float* fdl_re, const float* fdl_im, const float* h,
        const unsigned char* mask, const Py_ssize_t* rows, Py_ssize_t n_in, Py_ssize_t n_out,
        Py_ssize_t K, Py_ssize_t bins, Py_ssize_t row_stride)
