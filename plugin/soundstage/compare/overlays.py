"""Figures that put every version of a comparison on shared axes: crosstalk separation χ per
one-third-octave band and the image azimuth of a pan sweep, one line per version (the ±30° pair
dashed), so differences read at a glance instead of across stacked per-preset figures."""

from __future__ import annotations

import numpy as np

from .spatial import figure_png

__all__ = ["overlay_figures"]

#: χ values above this are drawn at it (a headphone path has no crosstalk to speak of).
CHI_PLOT_CEILING_DB = 60.0


def overlay_figures(curves: dict[str, dict]) -> list[tuple[str, bytes]]:
    """``[(title, png)]`` of the overlay figures, from curves by version label (in legend order).

    Parameters
    ----------
    curves : dict of str to dict
        Per label, ``bands_hz``, ``chi_db``, ``pans`` and ``pan_azimuth_deg`` (see
        :func:`soundstage.compare.spatial.analysis_curves`). Fewer than two versions: no figures.
    """
    if len(curves) < 2:
        return []
    from matplotlib.figure import Figure

    separation = Figure(figsize=(7.5, 3.6), layout="constrained")
    axes = separation.subplots()
    for label, c in curves.items():
        style = _style(label)
        axes.semilogx(c["bands_hz"], np.minimum(c["chi_db"], CHI_PLOT_CEILING_DB), label=label, **style)
    axes.set_xlabel("one-third-octave band (Hz)")
    axes.set_ylabel("separation χ (dB)")
    axes.set_title("Crosstalk separation at the sweet spot, every version", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))

    image = Figure(figsize=(7.5, 3.6), layout="constrained")
    axes = image.subplots()
    for label, c in curves.items():
        axes.plot(c["pans"], c["pan_azimuth_deg"], marker="o", markersize=3, label=label, **_style(label))
    axes.set_xlabel("pan position (−1 hard right … +1 hard left)")
    axes.set_ylabel("image azimuth (°, + left)")
    axes.set_title("Where a panned source is heard, every version", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return [("Separation χ, all versions", figure_png(separation)),
            ("Image azimuth vs pan, all versions", figure_png(image))]


def _style(label: str) -> dict:
    if label.startswith("reference"):
        return {"color": "black", "linestyle": "--", "linewidth": 1.5}
    if label.startswith("unprocessed"):
        return {"linestyle": ":", "linewidth": 1.2}
    return {"linewidth": 1.6}
