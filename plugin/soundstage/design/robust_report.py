"""Per-head report of a design: channel separation on its design head, on each head of its
robust ensemble (:mod:`.robust`) and on a held-out measured head it never saw."""

from __future__ import annotations

import numpy as np

from .report import design_report
from .robust import describe, ensemble_heads, expand

__all__ = ["HELD_OUT_HEAD", "head_separation", "head_table"]

#: Held-out head of the per-head report: a measured head no default ensemble contains.
HELD_OUT_HEAD = "kemar"


def head_separation(filterset, heads=None, *, band_hz=(1000.0, 6000.0), lateral_offsets_m=(0.05,),
                    frequencies_hz=None) -> dict:
    """Mean channel separation χ (dB, the worse side input) of a design on each head of its ensemble.

    Parameters
    ----------
    filterset : FilterSet
    heads : sequence of str, optional
        Head specifications; default the design head, its ensemble (``robust_heads``) and the
        held-out :data:`HELD_OUT_HEAD` (when not already among them).
    band_hz : (float, float)
        Band over which χ is averaged (in dB over a log-spaced grid).
    lateral_offsets_m : sequence of float
        Head offsets besides the design position; the worse of ±offset is reported.

    Returns
    -------
    dict
        ``{label: {"centre_db": χ, "lateral_db": {"5cm": χ, ...}, "role": "design" | "ensemble" |
        "held-out"}}``, evaluated on the realised filters by :func:`~.report.design_report`.
    """
    parameters = filterset.parameters
    if heads is None:
        design_head = parameters.head_model
        members = [m for m in expand(parameters.robust_heads) if m != design_head]
        roles = [(design_head, "design")] + [(m, "ensemble") for m in members]
        if HELD_OUT_HEAD not in (design_head, *members):
            roles.append((HELD_OUT_HEAD, "held-out"))
    else:
        roles = [(h, "evaluated") for h in heads]
    f = np.geomspace(band_hz[0], band_hz[1], 48) if frequencies_hz is None else np.asarray(frequencies_hz, float)
    listener = filterset.listener
    out = {}
    for spec in roles:
        head_spec, role = spec
        model = ensemble_heads((head_spec,), listener.head_radius_m)[0]

        def chi(lis):
            report = design_report(filterset, frequencies_hz=f, listener=lis, head=model)
            return float(np.min(np.mean(report.separation_db, axis=-1)))

        lateral = {}
        for offset in lateral_offsets_m:
            lateral[f"{offset * 100:g}cm"] = min(chi(listener.moved(lateral_offset_m=listener.lateral_offset_m + s * offset))
                                                 for s in (-1.0, 1.0))
        out[describe((head_spec,))[0] if ":" in head_spec else str(head_spec)] = {
            "centre_db": chi(listener), "lateral_db": lateral, "role": role}
    return out



def head_table(ctc_filterset, analysed_head=None) -> dict | None:
    """:func:`head_separation` of a CTC-alone design, plus the ``analysed_head`` (a head
    specification) when it is not already listed; None for headphones."""
    if ctc_filterset.enclosure.kind == "headphones":
        return None
    table = head_separation(ctc_filterset)
    if isinstance(analysed_head, str) and analysed_head not in table:
        table.update({analysed_head: {**row, "role": "analysed"}
                      for row in head_separation(ctc_filterset, [analysed_head]).values()})
    return table
