"""The reference a virtual stereo image is judged against, and the unprocessed baseline.

:class:`StereoReference` plays a stereo input over a ±``width_deg`` pair of monopole loudspeakers
at ``distance_m`` in the same room and to the same head as the system under test — the image
soundstage tries to recreate (ITU-R BS.775 at 30°). :func:`unprocessed` is the enclosure with
every processing stage bypassed — what the product sounds like without soundstage.
"""

from __future__ import annotations

import numpy as np

from .._errors import ParameterError
from ..acoustics.geometry import Driver, Enclosure, Listener
from .auralizer import Auralizer

__all__ = ["StereoReference", "stereo_pair", "unprocessed"]

#: The built-in preset whose enclosure is the ±30° pair at 2 m.
REFERENCE_PRESET = "stereo-pair"


def stereo_pair(distance_m: float = 2.0, width_deg: float = 30.0) -> tuple[Enclosure, Listener]:
    """A ±``width_deg`` pair of loudspeakers ``distance_m`` from the listener's head centre.

    For 2 m and 30° this is the built-in ``"stereo-pair"`` preset's enclosure and listener. In
    general the drivers are monopoles at ``(0, ±d·sin θ, 0)`` from an enclosure centre
    ``d·cos θ`` ahead, aimed at the listener, with plain feeds left → driver 0, right → driver 1.

    Parameters
    ----------
    distance_m : float
        Loudspeaker–head distance (m), 0.3 … 20.
    width_deg : float
        Azimuth of each loudspeaker (degrees), 1 … 90 (90 would put them beside the ears).

    Returns
    -------
    (Enclosure, Listener)
    """
    if not (np.isfinite(distance_m) and 0.3 <= distance_m <= 20.0):
        raise ParameterError(f"distance_m must be in [0.3, 20] m, got {distance_m!r}")
    if not (np.isfinite(width_deg) and 1.0 <= width_deg < 90.0):
        raise ParameterError(f"width_deg must be in [1, 90) degrees, got {width_deg!r}")
    if distance_m == 2.0 and width_deg == 30.0:
        from .. import presets

        preset = presets.load(REFERENCE_PRESET)
        return preset.enclosure, preset.listener
    theta = np.deg2rad(width_deg)
    ahead, side = distance_m * np.cos(theta), distance_m * np.sin(theta)
    drivers = tuple(
        Driver(name, (0.0, sign * side, 0.0), (-ahead, -sign * side, 0.0), 0.05, "monopole", (0.0, float("inf")),
               feed)
        for name, sign, feed in (("left", 1.0, (1.0, 0.0)), ("right", -1.0, (0.0, 1.0)))
    )
    enclosure = Enclosure(f"stereo-pair-{width_deg:g}deg-{distance_m:g}m", drivers, body="none",
                          description=f"±{width_deg:g}° loudspeaker pair at {distance_m:g} m")
    return enclosure, Listener(distance_m=float(ahead))


class StereoReference(Auralizer):
    """A stereo input heard over a ±``width_deg`` loudspeaker pair: 2 channels in, 2 ears out.

    Parameters
    ----------
    room : None, str or Room
        As for :class:`Auralizer` (``None``: free field).
    head : None, str, os.PathLike or HeadModel
        As for :class:`Auralizer` (default the rigid sphere).
    distance_m : float
        Loudspeaker–head distance (m).
    width_deg : float
        Azimuth of each loudspeaker (degrees).
    max_order, partition_size
        As for :class:`Auralizer`.

    Examples
    --------
    >>> import numpy as np
    >>> ref = StereoReference()
    >>> ref(np.zeros((2, 480), dtype=np.float32), 48000).shape
    (2, 480)
    """

    def __init__(self, room=None, head=None, distance_m: float = 2.0, width_deg: float = 30.0, *,
                 max_order: int = 10, partition_size: int = 512) -> None:
        enclosure, listener = stereo_pair(distance_m, width_deg)
        super().__init__(enclosure, listener=listener, room=room, head=head, max_order=max_order,
                         partition_size=partition_size)
        self.distance_m = float(distance_m)
        self.width_deg = float(width_deg)

    def __repr__(self) -> str:
        room = "anechoic" if self.room is None else self.room.name
        return f"<soundstage.monitor.StereoReference width_deg=±{self.width_deg:g} distance_m={self.distance_m:g} room={room!r}>"


def unprocessed(preset, **parameters):
    """The enclosure of ``preset`` with every stage bypassed: the plain mix, the baseline.

    Parameters
    ----------
    preset : str, os.PathLike, Preset or Enclosure
        As for :class:`~soundstage.processor.SpatialProcessor`.
    **parameters
        Passed on to the processor (wrap it in :class:`BinauralProcessor` to hear it).

    Returns
    -------
    SpatialProcessor
        With ``bypass`` = every stage of :data:`soundstage.design.STAGES`.
    """
    from ..design import STAGES
    from ..processor.spatial import SpatialProcessor

    if "bypass" in parameters:
        raise ParameterError("unprocessed() bypasses every stage; do not pass bypass=")
    return SpatialProcessor(preset, bypass=frozenset(STAGES), **parameters)
