"""Compiled streaming kernels (built from ``cython_kernels/*.pyx``).

Each kernel processes float32 ``(channels, samples)`` C-contiguous audio in place or into
preallocated buffers with the GIL released for the whole block, allocates nothing per call,
and keeps the state that makes processing in chunks of any size bitwise equal to one call.
Kernels take float32 only; the processor layer converts. Argument errors raise
:class:`~soundstage.AudioFormatError` (wrong dtype, dimensions, layout) or
:class:`~soundstage.ParameterError` (wrong values or shapes), naming the argument.

=====================  ===========================================================
``BiquadCascade``      second-order sections per channel, channels side by side
``PartitionedConvolver``  MIMO FIR by uniformly partitioned FFT convolution, latency P
``BlockConvolver``     MIMO FIR by overlap-save in independent blocks (offline, any thread)
``DelayLine``          per-channel integer / Lagrange-fractional delays
``GainMatrix``         static mixing matrix (``mix_into`` is its bare function)
``TapMatrix``          MIMO FIR of single taps (gains and integer delays), time domain
``CentreExtractor``    adaptive stereo → L', R', C projection upmix, latency 0
=====================  ===========================================================

May import: nothing of soundstage but the root helpers (errors).
"""

from .biquad import BiquadCascade
from .block_convolver import BlockConvolver
from .convolver import PartitionedConvolver
from .delay import DelayLine, lagrange_taps
from .mix_matrix import GainMatrix, mix_into
from .tap_matrix import TapMatrix
from .upmix import CentreExtractor

__all__ = [
    "BiquadCascade",
    "PartitionedConvolver",
    "BlockConvolver",
    "DelayLine",
    "lagrange_taps",
    "GainMatrix",
    "mix_into",
    "TapMatrix",
    "CentreExtractor",
]
