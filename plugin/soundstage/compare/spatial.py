"""Spatial metrics for the comparison table, from :func:`soundstage.monitor.analyze`.

The comparison does not compute spatial metrics itself: it asks an *analyzer* —
``analyzer(request: RenderRequest, sample_rate) -> result or None`` — for each version and reads
the columns of :data:`SPATIAL_COLUMNS` from the result: a mapping (or an object with those
attributes, or a ``summary()`` method returning such a mapping), plus optional ``figures`` (a
mapping of title → matplotlib Figure or PNG bytes). Missing or non-numeric values show as "—".

The default analyzer runs :func:`soundstage.monitor.analyze` once per preset (it analyses the
processed design, the unprocessed enclosure and the ±30° reference pair together) and maps:

=====================  ==========================================================================
column                 from ``Analysis.metrics``
=====================  ==========================================================================
mean χ                 ``chi_mean_db`` (processed: the crosstalk cancellation alone, 300 Hz–6 kHz)
hard-left image        ``hard_left_deg``
colouration            ``colouration[...]["shape_rms_db"]`` re the reference (reference: 0 dB)
centre DRR gain        ``centre_drr["gain_db"]`` (beam vs plain centre; in a room, processed only)
zone area              ``zone["area_m2"]`` (processed only)
=====================  ==========================================================================

``analyze`` designs each preset as written: a version with parameter overrides gets no spatial
metrics (its numbers would describe a different design).
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .render import RenderRequest

__all__ = ["SPATIAL_COLUMNS", "Analyzer", "default_analyzer", "analysis_row", "analysis_curves", "spatial_values",
           "spatial_curves", "analysis_figures", "figure_png"]

#: (key, heading, unit) of the spatial columns, in table order.
SPATIAL_COLUMNS = (
    ("mean_separation_db", "mean χ", "dB"),
    ("hard_left_azimuth_deg", "hard-left image", "°"),
    ("colouration_db", "colouration", "dB"),
    ("centre_drr_gain_db", "centre DRR gain", "dB"),
    ("zone_area_m2", "zone area", "m²"),
)

#: ``analyzer(request, sample_rate) -> result or None`` (None: no spatial metrics for it).
Analyzer = Callable[[RenderRequest, float], Any]


def _get(mapping, *path):
    for key in path:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return None
        mapping = mapping[key]
    return mapping


def analysis_row(analysis, system: str) -> dict:
    """The :data:`SPATIAL_COLUMNS` of one system of a :class:`soundstage.monitor.Analysis`.

    Parameters
    ----------
    analysis : soundstage.monitor.Analysis
    system : {"processed", "unprocessed", "reference"}

    Returns
    -------
    dict of str to float or None
    """
    m = analysis.metrics
    chi_key = "processed_ctc" if system == "processed" else system
    colour = 0.0 if system == "reference" else _get(m, "colouration", system, "shape_rms_db")
    return {
        "mean_separation_db": _get(m, "chi_mean_db", chi_key),
        "hard_left_azimuth_deg": _get(m, "hard_left_deg", system),
        "colouration_db": colour,
        "centre_drr_gain_db": _get(m, "centre_drr", "gain_db") if system == "processed" else None,
        "zone_area_m2": _get(m, "zone", "area_m2") if system == "processed" else None,
    }


def analysis_curves(analysis, system: str) -> dict:
    """The curves one system of an analysis contributes to the overlay figures: χ per band
    (``bands_hz``, ``chi_db``) and the image azimuth of a pan sweep (``pans``,
    ``pan_azimuth_deg``)."""
    c = analysis.curves
    chi_key = "processed_ctc" if system == "processed" else system
    return {"bands_hz": [float(v) for v in c["bands_hz"]], "chi_db": [float(v) for v in c["chi_db"][chi_key]],
            "pans": [float(v) for v in c["pans"]],
            "pan_azimuth_deg": [float(v) for v in c["pan_azimuth_deg"][system]]}


def spatial_curves(result) -> dict | None:
    """The ``curves`` an analyzer result carries (a mapping or attribute), or None."""
    curves = result.get("curves") if isinstance(result, Mapping) else getattr(result, "curves", None)
    return dict(curves) if isinstance(curves, Mapping) and "chi_db" in curves else None


def _figures_of(analysis) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        try:
            paths = analysis.figures(directory) or []
        except ImportError:  # the monitor's figure module is optional (matplotlib)
            return {}
        return {Path(p).stem.replace("_", " "): Path(p).read_bytes() for p in paths}


def default_analyzer(*, figures: bool = True) -> Analyzer | None:
    """An analyzer over :func:`soundstage.monitor.analyze` (None when it is not installed).

    Each preset is analysed once (cached by name, room, head and sample rate); the reference row
    comes from the first analysis made.
    """
    try:
        from ..monitor import analyze
    except ImportError:
        return None
    cache: dict = {}

    def analysis_of(preset, request, sample_rate):
        key = (preset.content_hash, repr(request.room), repr(request.head), sample_rate)
        if key not in cache:
            cache[key] = analyze(preset, room=request.room, head=request.head, sample_rate=sample_rate)
        return cache[key]

    def analyzer(request: RenderRequest, sample_rate: float):
        if request.kind == "input" or request.preset is None:
            return None
        if request.kind == "reference":
            # every analysis holds the same ±30° pair: reuse one, or analyse the reference preset
            analysis = next(iter(cache.values())) if cache else analysis_of(request.preset, request, sample_rate)
            return {**analysis_row(analysis, "reference"), "curves": analysis_curves(analysis, "reference")}
        if request.parameters:
            return None
        analysis = analysis_of(request.preset, request, sample_rate)
        if request.kind == "unprocessed":
            return {**analysis_row(analysis, "unprocessed"), "curves": analysis_curves(analysis, "unprocessed")}
        row = {**analysis_row(analysis, "processed"), "curves": analysis_curves(analysis, "processed")}
        if figures:
            row["figures"] = _figures_of(analysis)
        return row

    return analyzer


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def spatial_values(analysis) -> dict[str, float | None]:
    """The :data:`SPATIAL_COLUMNS` of one analysis (None where it has no number).

    Parameters
    ----------
    analysis : object, mapping or None
        An analysis result; see the module docstring for what is read.

    Returns
    -------
    dict of str to float or None
        One entry per key of :data:`SPATIAL_COLUMNS`.
    """
    if analysis is None:
        return {key: None for key, _, _ in SPATIAL_COLUMNS}
    source = analysis
    summary = getattr(analysis, "summary", None)
    if callable(summary):
        source = summary()
    if isinstance(source, Mapping):
        return {key: _number(source.get(key)) for key, _, _ in SPATIAL_COLUMNS}
    return {key: _number(getattr(source, key, None)) for key, _, _ in SPATIAL_COLUMNS}


def figure_png(figure, *, dpi: int = 96) -> bytes:
    """PNG bytes of a matplotlib Figure (closed afterwards) or of bytes already PNG."""
    if isinstance(figure, (bytes, bytearray)):
        return bytes(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # free a pyplot-managed figure; a bare Figure needs nothing
        pyplot.close(figure)
    return buffer.getvalue()


def analysis_figures(analysis) -> dict[str, bytes]:
    """PNG figures of one analysis, by title (empty when it has none)."""
    if analysis is None:
        return {}
    if isinstance(analysis, Mapping):
        figures = analysis.get("figures")
    else:
        figures = getattr(analysis, "figures", None)
        if callable(figures):
            figures = figures()
    if not isinstance(figures, Mapping):
        return {}
    return {str(title): figure_png(figure) for title, figure in figures.items()}
