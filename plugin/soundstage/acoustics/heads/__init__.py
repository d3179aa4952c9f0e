"""Head models behind one interface (:class:`~.base.HeadModel`).

``make_head`` turns a preset's ``head`` value into a model: ``None``/``"sphere"`` (rigid sphere,
Duda & Martens), ``"brown-duda"`` (Brown & Duda's structural model), ``"free-field"`` (two points
in air), a path to a SOFA file (measured HRIRs), or a :class:`HeadModel` instance.
"""

from __future__ import annotations

from pathlib import Path

from ..._errors import ParameterError
from ..frame import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from .base import FreeFieldEars, HeadModel
from .brown_duda import BrownDudaHead
from .itd import kuhn_low_frequency_itd_s, woodworth_itd_s
from .sofa import SofaData, SofaHead, read_sofa
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
    "woodworth_itd_s",
    "kuhn_low_frequency_itd_s",
]

#: Names ``make_head`` understands (besides a SOFA path or a HeadModel instance).
HEAD_NAMES = ("sphere", "brown-duda", "free-field")


def make_head(spec=None, *, radius_m: float = HEAD_RADIUS_M,
              speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> HeadModel:
    """Build a head model from a name, a SOFA path or an existing model.

    Parameters
    ----------
    spec : None, str, os.PathLike or HeadModel
        ``None`` or ``"sphere"`` → :class:`RigidSphereHead`; ``"brown-duda"`` →
        :class:`BrownDudaHead`; ``"free-field"`` → :class:`FreeFieldEars`; a path to an existing
        ``.sofa`` file → :class:`SofaHead` with interpolated lookup; a :class:`HeadModel` → itself.
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
        return FreeFieldEars(radius_m=radius_m, speed_of_sound_m_s=speed_of_sound_m_s)
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        if path.suffix.lower() == ".sofa" and path.is_file():
            # Interpolated, not nearest: a compact enclosure's drivers are a few degrees apart,
            # finer than a measured grid, and the plant needs their small time differences.
            return SofaHead(path, interpolation="linear", speed_of_sound_m_s=speed_of_sound_m_s)
    raise ParameterError(
        f"head must be one of {', '.join(repr(n) for n in HEAD_NAMES)}, None, a path to an existing "
        f".sofa file or a HeadModel instance; got {spec!r}"
    )
