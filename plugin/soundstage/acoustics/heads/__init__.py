"""Head models behind one interface (:class:`~.base.HeadModel`).

``make_head`` turns a preset's ``head`` value into a model: ``None``/``"sphere"`` (rigid sphere,
Duda & Martens), ``"brown-duda"`` (Brown & Duda's structural model), ``"free-field"`` (two points
in air), ``"kemar"`` (the built-in measured head: MIT KEMAR, normal pinna), a path to a SOFA file
(measured HRIRs), or a :class:`HeadModel` instance.

The built-in KEMAR HRIRs (``data/MIT_KEMAR_normal_pinna.sofa``) are by W. G. Gardner and
K. D. Martin, "HRTF measurements of a KEMAR dummy-head microphone", MIT Media Lab Perceptual
Computing Technical Report 280, 1994; Copyright 1994 MIT Media Laboratory, "provided free with no
restrictions on use, provided the authors are cited" (``data/LICENSE.MIT_KEMAR``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..._errors import ParameterError
from ..frame import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from .base import FreeFieldEars, HeadModel
from .brown_duda import BrownDudaHead
from .itd import kuhn_low_frequency_itd_s, woodworth_itd_s
from .sofa import SofaData, SofaHead, read_sofa
from .sofa_file import SUPPORTED_CONVENTIONS
from .sphere import RigidSphereHead

__all__ = [
    "HeadModel",
    "FreeFieldEars",
    "RigidSphereHead",
    "BrownDudaHead",
    "SofaHead",
    "SofaData",
    "read_sofa",
    "make_head",
    "HEAD_NAMES",
    "SUPPORTED_CONVENTIONS",
    "builtin_kemar_path",
    "woodworth_itd_s",
    "kuhn_low_frequency_itd_s",
]

#: Names ``make_head`` understands (besides a SOFA path, and a head model object from Python).
HEAD_NAMES = ("sphere", "brown-duda", "free-field", "kemar")
#: The built-in measured head's file (package data).
KEMAR_FILE = "MIT_KEMAR_normal_pinna.sofa"


def builtin_kemar_path() -> Path:
    """Path of the built-in MIT KEMAR (normal pinna) SOFA file installed with soundstage."""
    return Path(str(files(__package__).joinpath("data", KEMAR_FILE)))


def make_head(spec=None, *, radius_m: float = HEAD_RADIUS_M,
              speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> HeadModel:
    """Build a head model from a name, a SOFA path or an existing model.

    Parameters
    ----------
    spec : None, str, os.PathLike or HeadModel
        ``None`` or ``"sphere"`` → :class:`RigidSphereHead`; ``"brown-duda"`` →
        :class:`BrownDudaHead`; ``"free-field"`` → :class:`FreeFieldEars`; ``"kemar"`` → the
        built-in measured KEMAR (:func:`builtin_kemar_path`); a path to an existing ``.sofa`` file
        → :class:`SofaHead` with interpolated lookup; a :class:`HeadModel` → itself.
    radius_m : float, keyword-only
        Head radius in metres for the parametric models.
    speed_of_sound_m_s : float, keyword-only
        Speed of sound in m/s.

    Returns
    -------
    HeadModel

    Raises
    ------
    ParameterError
        For any other value (names ``head`` and the allowed values).
    """
    if isinstance(spec, HeadModel):
        return spec
    if spec is None:
        spec = "sphere"
    if isinstance(spec, str) and spec.strip().lower() in HEAD_NAMES:
        name = spec.strip().lower()
        if name == "sphere":
            return RigidSphereHead(radius_m=radius_m, speed_of_sound_m_s=speed_of_sound_m_s)
        if name == "brown-duda":
            return BrownDudaHead(radius_m=radius_m, speed_of_sound_m_s=speed_of_sound_m_s)
        if name == "kemar":
            return _kemar(speed_of_sound_m_s)
        return FreeFieldEars(radius_m=radius_m, speed_of_sound_m_s=speed_of_sound_m_s)
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        if path.suffix.lower() == ".sofa" and path.is_file():
            # Interpolated, not nearest: a compact enclosure's drivers are a few degrees apart,
            # finer than a measured grid, and the plant needs their small time differences.
            return SofaHead(path, interpolation="linear", speed_of_sound_m_s=speed_of_sound_m_s)
    raise ParameterError(_head_spec_message(spec))


def _head_spec_message(spec) -> str:
    """What a head can be, in the words of a preset file or a ``--head`` flag (a built-in name or
    a SOFA file), and what was wrong with ``spec``."""
    allowed = (f"head must be one of {', '.join(repr(n) for n in HEAD_NAMES)} or the path of a "
               "measured head's .sofa file (an HRIR set)")
    if isinstance(spec, (str, Path)) and Path(spec).suffix.lower() == ".sofa":
        return f"{allowed}; the file {str(spec)!r} does not exist"
    return f"{allowed}; got {spec!r}"


_KEMAR_CACHE: dict[float, SofaHead] = {}


def _kemar(speed_of_sound_m_s: float) -> SofaHead:
    """The built-in KEMAR with interpolated lookup (read once per process; heads are immutable)."""
    if speed_of_sound_m_s not in _KEMAR_CACHE:
        _KEMAR_CACHE[speed_of_sound_m_s] = SofaHead(builtin_kemar_path(), interpolation="linear",
                                                    speed_of_sound_m_s=speed_of_sound_m_s)
    return _KEMAR_CACHE[speed_of_sound_m_s]
