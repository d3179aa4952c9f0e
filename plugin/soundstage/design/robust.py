"""Designs that hold on heads they never saw: crosstalk cancellation over an ensemble of heads.

A cancellation designed on one head model puts its null at that model's contralateral ear; a
real listener's head differs (size, ear position, pinna) and the null fills in. With
``robust_heads`` (``DesignParameters.robust_heads``, ``[design] robust_heads`` in a preset) the
side paths are designed *jointly* over an ensemble: the contralateral-ear rows of every head in
the ensemble — at the design position and, with a null region, at ±``null_region_m`` — join the
design head's rows of the weighted least-squares problem of :mod:`.crosstalk`, so the solution
minimises the mean squared crosstalk over the ensemble (and the null region) while the
ipsilateral ear of the design head keeps its plain response; the driver-gain cap is enforced as
before (regularisation raised per frequency, then the blend ρ toward the plain feed).

Ensemble members are head specifications: ``"sphere"`` / ``"brown-duda"`` at the listener's
head radius, ``"sphere:0.075"`` / ``"brown-duda:0.095"`` with a radius in metres, ``"kemar"``
(the built-in measured head) or a path to a SOFA file. :data:`DEFAULT_ENSEMBLE` (rigid spheres
of 7.5, 8.75 and 9.5 cm radius, spheres of 8.75 cm with the ears 10° ahead of and behind ±90°,
and Brown–Duda at 8.75 cm) holds no measured head, so that a measured
head can judge the design as one it never saw (see ``benchmarks/design.py``).
"""

from __future__ import annotations

from .._errors import ParameterError

__all__ = ["DEFAULT_ENSEMBLE", "ROBUST_ROW_WEIGHT", "parse_head_spec", "expand", "ensemble_heads", "ensemble_plants",
           "ensemble_yields", "ensemble_row_weight", "describe", "check_robust_heads"]

#: The parametric ensemble ``robust_heads = ["default"]`` stands for.
DEFAULT_ENSEMBLE = ("sphere:0.075", "sphere:0.0875", "sphere:0.095", "sphere:0.0875:80", "sphere:0.0875:100",
                    "brown-duda:0.0875")
#: Weight of each ensemble head's contralateral rows re the design head's own contralateral row,
#: divided by the number of ensemble heads (the ensemble as a whole weighs this much).
ROBUST_ROW_WEIGHT = 1.0
_PARAMETRIC = ("sphere", "brown-duda")


def parse_head_spec(spec: str) -> tuple[str, float | None, float | None]:
    """``"sphere:0.08"`` → ``("sphere", 0.08, None)``; ``"sphere:0.08:100"`` → ears at ±100°;
    ``"kemar"`` → ``("kemar", None, None)``; paths unchanged.

    Raises
    ------
    ParameterError
        A radius that is not a number in [0.05, 0.15] m, or an ear azimuth outside 60–120°.
    """
    name, sep, rest = str(spec).partition(":")
    if not sep or name.strip().lower() not in _PARAMETRIC:
        return str(spec), None, None
    radius, _, ear = rest.partition(":")
    try:
        value = float(radius)
        ear_deg = float(ear) if ear else None
    except ValueError:
        value, ear_deg = float("nan"), None
    if not (0.05 <= value <= 0.15):
        raise ParameterError(f"robust_heads entry {spec!r}: the radius after ':' must be 0.05 … 0.15 m")
    if ear_deg is not None and (name.strip().lower() != "sphere" or not 60.0 <= ear_deg <= 120.0):
        raise ParameterError(f"robust_heads entry {spec!r}: an ear azimuth (60 … 120°) is for 'sphere' only")
    return name.strip().lower(), value, ear_deg


def expand(specs) -> tuple[str, ...]:
    """The ensemble with ``"default"`` replaced by :data:`DEFAULT_ENSEMBLE`."""
    out: list[str] = []
    for spec in specs:
        out.extend(DEFAULT_ENSEMBLE if str(spec).strip().lower() == "default" else (str(spec),))
    return tuple(out)


def ensemble_heads(specs, radius_m: float, speed_of_sound_m_s: float | None = None) -> list:
    """Head models of an ensemble (see the module docstring for the specifications)."""
    from ..acoustics.frame import SPEED_OF_SOUND_M_S
    from ..acoustics.heads import make_head

    c = SPEED_OF_SOUND_M_S if speed_of_sound_m_s is None else speed_of_sound_m_s
    heads = []
    for spec in expand(specs):
        name, radius, ear_deg = parse_head_spec(spec)
        if ear_deg is not None:
            from ..acoustics.heads import RigidSphereHead

            heads.append(RigidSphereHead(radius, (ear_deg, -ear_deg), c))
            continue
        heads.append(make_head(name, radius_m=radius_m if radius is None else radius, speed_of_sound_m_s=c))
    return heads


def ensemble_plants(plant, enclosure, listener, frequencies_hz, specs, null_region_m: float) -> tuple:
    """Plants ``(2, N, F)`` of every ensemble head at the design position and at ±``null_region_m``.

    Parameters
    ----------
    plant : callable
        ``plant(enclosure, listener, frequencies_hz, head)`` → the design's normalised plant.
    """
    heads = ensemble_heads(specs, listener.head_radius_m)
    offsets = (0.0, -null_region_m, null_region_m) if null_region_m > 0 else (0.0,)
    plants = []
    for head in heads:
        for offset in offsets:
            moved = listener.moved(lateral_offset_m=listener.lateral_offset_m + offset) if offset else listener
            plants.append(plant(enclosure, moved, frequencies_hz, head))
    return tuple(plants)


def ensemble_yields(n_heads: int, null_region_m: float) -> tuple[bool, ...]:
    """Which rows of :func:`ensemble_plants` give way to the gain cap first (``region_yields`` of
    :func:`~.crosstalk.design_cancellation`): each head's rows at ±``null_region_m`` do, like the
    design head's null region; its row at the design position does not — it joins the design
    ear's null, so that the null at the listener's position is designed over the ensemble."""
    per_head = (False, True, True) if null_region_m > 0 else (False,)
    return per_head * int(n_heads)


def ensemble_row_weight(n_plants: int) -> float:
    """Weight of each ensemble row so that the ensemble together weighs :data:`ROBUST_ROW_WEIGHT`."""
    return ROBUST_ROW_WEIGHT / max(int(n_plants), 1)


def describe(specs) -> list[str]:
    """Readable names of an ensemble's members (for reports)."""
    names = []
    for spec in expand(specs):
        name, radius, ear_deg = parse_head_spec(spec)
        label = f"{name} {radius * 100:.2f} cm" if radius is not None else name
        names.append(label + (f", ears at ±{ear_deg:g}°" if ear_deg is not None else ""))
    return names


def check_robust_heads(specs) -> tuple[str, ...]:
    """``robust_heads`` as a tuple of strings, each entry's syntax checked (files are opened at design)."""
    if isinstance(specs, str):
        specs = (specs,)
    out = tuple(str(s) for s in specs)
    for spec in expand(out):
        parse_head_spec(spec)
    return out

