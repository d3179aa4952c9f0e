"""Filter design: enclosure + listener + parameters → one immutable :class:`FilterSet` per sample rate.

Virtualizer, crosstalk cancellation / null-steering (on one head, or jointly over an ensemble
of heads: :mod:`.robust`), beamformer, crossovers and the upmix parameters, folded by
:mod:`.designer` into one FIR matrix. Never touches audio buffers.

May import: the root helpers, ``_kernels`` and ``acoustics``.
"""

from .designer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, design_filterset
from .filterset import INPUT_NAMES, FilterSet
from .parameters import STAGES, DesignParameters, TargetCurve
from .report import DesignReport, design_report
from .robust import DEFAULT_ENSEMBLE
from .robust_report import head_separation

__all__ = [
    "design_filterset",
    "design_report",
    "DesignReport",
    "head_separation",
    "DEFAULT_ENSEMBLE",
    "FilterSet",
    "INPUT_NAMES",
    "DesignParameters",
    "TargetCurve",
    "STAGES",
    "MIN_SAMPLE_RATE",
    "MAX_SAMPLE_RATE",
]
