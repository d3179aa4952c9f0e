"""soundstage.monitor: the listening simulation and the spatial analysis.

* :class:`Auralizer` — driver feeds → the two ear signals of a listener (free field or a
  shoebox room, any head model), a streaming processor; :class:`BinauralProcessor` — a
  ``SpatialProcessor`` and its auralizer as one processor (the ear signals of a preset);
* :class:`StereoReference` — the ±30° loudspeaker pair the image is judged against;
  :func:`unprocessed` — the enclosure with every stage bypassed;
* :func:`analyze` → :class:`Analysis` — cancellation, image azimuth, listening zone, centre beam,
  depth, colouration and driver effort of a preset, with JSON, Markdown and figures;
* the metrics themselves live in :mod:`soundstage.monitor.metrics`; loudness and true peak
  (BS.1770, in memory or streaming) in :mod:`soundstage.monitor.loudness_meter`, which the
  compare report and the batch renders share.

May import: the root helpers and every layer up to ``board`` (it wraps and analyses processors);
not the tools (``compare``, ``testing``, ``cli``).
"""

from __future__ import annotations

from .analysis import Analysis, analyze
from .auralizer import Auralizer, binaural_impulse_responses
from .binaural import BinauralProcessor
from .reference import StereoReference, stereo_pair, unprocessed

__all__ = [
    "Auralizer",
    "BinauralProcessor",
    "binaural_impulse_responses",
    "StereoReference",
    "stereo_pair",
    "unprocessed",
    "analyze",
    "Analysis",
]
