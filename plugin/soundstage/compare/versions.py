"""The versions a comparison plays (the requests behind them) and the provenance of a comparison.

:func:`version_requests` turns the presets, reference, parameters and ``unprocessed`` choice of
:func:`~soundstage.compare.compare` into ``(key, label, RenderRequest)`` triples in player order,
checking each argument; :func:`provenance` records what was compared and how it was measured.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from .._errors import ParameterError
from .loudness import MATCH_TOLERANCE_LU
from .render import RenderRequest

__all__ = ["version_requests", "provenance"]


def _load_preset(reference, what: str):
    from .. import presets

    if isinstance(reference, presets.Preset):
        return reference
    if not isinstance(reference, (str, Path)):
        raise ParameterError(f"{what}: expected a preset name, path or Preset, got {type(reference).__name__}")
    return presets.load(reference)


def version_requests(presets, reference, parameters, room, head, unprocessed) -> list[tuple[str, str, RenderRequest]]:
    loaded = [_load_preset(p, "presets") for p in presets]
    names = [p.name for p in loaded]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ParameterError(f"presets: each preset may appear once, got {duplicates} more than once")
    parameters = dict(parameters or {})
    unknown = sorted(set(parameters) - {str(p) for p in presets} - set(names))
    if unknown:
        raise ParameterError(f"parameters: keys {unknown} name no preset of this comparison; presets: {names}")
    count = len(loaded) + (reference is not None)
    if count < 2:
        raise ParameterError(f"a comparison needs at least two versions (presets plus the reference), got {count}: "
                             f"presets={names}, reference={reference!r}")
    if unprocessed not in ("first", "all", "none"):
        raise ParameterError(f"unprocessed must be 'first', 'all' or 'none', got {unprocessed!r}")
    out = [("input", "input", RenderRequest("input", room=room, head=head))]
    if reference is not None:
        ref = _load_preset(reference, "reference")
        out.append(("reference", f"reference ({ref.name})", RenderRequest("reference", ref, {}, room, head)))
    for given, preset in zip(presets, loaded):
        params = dict(parameters.get(preset.name, parameters.get(str(given), {})))
        out.append((f"preset:{preset.name}", preset.name, RenderRequest("preset", preset, params, room, head)))
    for preset in {"first": loaded[:1], "all": loaded, "none": []}[unprocessed]:
        out.append((f"unprocessed:{preset.name}", f"unprocessed ({preset.name})",
                    RenderRequest("unprocessed", preset, {}, room, head)))
    return out


def provenance(requests, input_sha256: str, frames: int, sample_rate: float, input_name, room, head, match) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        loudnorm_version = version("pyloudnorm")
    except PackageNotFoundError:  # pragma: no cover
        loudnorm_version = "unknown"
    versions = []
    for key, label, request in requests:
        if request.preset is None:
            continue
        versions.append({"key": key, "label": label, "kind": request.kind, "preset": request.preset.name,
                         "content_hash": request.preset.content_hash, "source": request.preset.source,
                         "parameters": {k: sorted(v) if isinstance(v, (set, frozenset)) else v
                                        for k, v in request.parameters.items()}})
    return {
        "soundstage_version": __version__,
        "pyloudnorm_version": loudnorm_version,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "input": input_name or "<array>",
        "input_sha256": input_sha256,
        "sample_rate": sample_rate,
        "duration_s": frames / sample_rate,
        "room": getattr(room, "name", room) or "anechoic",
        "head": str(head) if head is not None else "default",
        "versions": versions,
        "loudness": {"standard": "ITU-R BS.1770-4 (pyloudnorm)", "loudness_range": "EBU Tech 3342 (pyloudnorm)",
                     "true_peak": "4x oversampled sample peak (scipy.signal.resample_poly)",
                     "matched_lufs": match.matched_lufs, "tolerance_lu": MATCH_TOLERANCE_LU,
                     "ceiling_dbfs": match.ceiling_dbfs, "guard_db": match.guard_db},
    }
