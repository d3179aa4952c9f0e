"""JSON sidecars: what each output was rendered from, so a re-run knows what to skip.

Every output ``song.wav`` gets ``song.wav.json`` beside it with the input file's SHA-256, the
preset's content hash (:attr:`soundstage.presets.Preset.content_hash`: the resolved enclosure,
listener and design, so editing a preset — or a preset it ``extends`` — changes it while
comments and formatting do not), the parameters, the monitor, the output format, the soundstage
version, and what the render measured (loudness, true peak, render time). A job is skipped when
its sidecar records the same inputs (:data:`MATCH_KEYS`) and the output file is still there with
the size the sidecar recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .._atomic import write_text_atomic

__all__ = ["MATCH_KEYS", "SIDECAR_SUFFIX", "file_sha256", "sidecar_path", "read_sidecar", "write_sidecar",
           "is_up_to_date", "json_parameters"]

#: The sidecar suffix appended to the output's file name.
SIDECAR_SUFFIX = ".json"
#: Keys whose recorded values must equal the job's for an output to be up to date.
MATCH_KEYS = ("soundstage_version", "input_sha256", "preset_sha256", "parameters", "monitor", "buffer_size",
              "format", "bit_depth")
_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def json_parameters(parameters: dict) -> dict:
    """Processor parameters as JSON values (a bypass set becomes a sorted list), keys sorted."""
    return {key: sorted(value) if isinstance(value, (set, frozenset)) else value
            for key, value in sorted(parameters.items())}


def sidecar_path(output: str | os.PathLike) -> Path:
    """``song.wav`` → ``song.wav.json``."""
    output = Path(output)
    return output.with_name(output.name + SIDECAR_SUFFIX)


def read_sidecar(output: str | os.PathLike) -> dict | None:
    """The sidecar of ``output`` as a dict, or ``None`` if it is missing or unreadable."""
    try:
        data = json.loads(sidecar_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_sidecar(output: str | os.PathLike, record: dict) -> Path:
    """Write ``record`` as the sidecar of ``output``, atomically; returns its path."""
    path = sidecar_path(output)
    return write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n")


def is_up_to_date(output: str | os.PathLike, expected: dict) -> bool:
    """Whether ``output`` exists and its sidecar records ``expected`` for every :data:`MATCH_KEYS`.

    ``expected`` holds the job's values under the same keys (parameters as :func:`json_parameters`
    gives them).
    """
    recorded = read_sidecar(output)
    if recorded is None or any(recorded.get(key) != expected.get(key) for key in MATCH_KEYS):
        return False
    try:
        return os.path.getsize(output) == recorded.get("output_bytes")
    except OSError:
        return False
