"""soundstage.monitor: the listening simulation and the spatial analysis.

* :class:`Auralizer` — driver feeds → the two ear signals of a listener (free field or a
  shoebox room, any head model), a streaming processor;
* :class:`StereoReference` — the ±30° loudspeaker pair the image is judged against;
  :func:`unprocessed` — the enclosure with every stage bypassed;
* :func:`analyze` → :class:`Analysis` — cancellation, image azimuth, listening zone, centre beam,
  depth, colouration and driver effort of a preset, with JSON, Markdown and figures;
* the metrics themselves live in :mod:`soundstage.monitor.metrics`.
"""

from __future__ import annotations

from .analysis import Analysis, analyze
from .auralizer import Auralizer, binaural_impulse_responses
from .reference import StereoReference, stereo_pair, unprocessed

__all__ = [
    "Auralizer",
    "binaural_impulse_responses",
    "StereoReference",
    "stereo_pair",
    "unprocessed",
    "analyze",
    "Analysis",
]
