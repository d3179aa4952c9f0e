"""The preset schema (version 1): which keys a preset's tables hold, their types and ranges.

Checks raw TOML tables (as ``tomllib`` returns them) and raises
:class:`~soundstage.PresetError` naming the source, the key path (``enclosure.drivers[2].radius_m``)
and what was expected. The layout is documented in :mod:`soundstage.presets`, which builds the
enclosure, listener and design parameters from tables that pass these checks.
"""

from __future__ import annotations

import builtins
import difflib
import math
from dataclasses import dataclass
from typing import Any, Mapping

from .._errors import PresetError
from ..acoustics.geometry import BODY_SHAPES, DIRECTIVITY_MODELS
from ..design.parameters import PARAMETER_RANGES, STAGES

__all__ = ["SCHEMA_VERSION", "KINDS", "Key", "SCHEMA", "PARAM_PATHS", "Context", "check_table", "check_version",
           "is_number"]

#: The preset schema version soundstage reads and writes.
SCHEMA_VERSION = 1
#: Values of a preset's top-level ``kind``.
KINDS = ("loudspeakers", "headphones")


@dataclass(frozen=True)
class Key:
    """One key of the schema: its kind, whether it is required, and its allowed values."""

    kind: str  # number | int | str | bool | vector | numbers | strings | table | tables
    required: bool = False
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    size: int = 0
    choices: tuple = ()
    allow_inf: bool = False
    unit: str = ""
    empty_ok: bool = False
    table: Mapping[str, "Key"] | None = None


DRIVER = {
    "name": Key("str", required=True),
    "position_m": Key("vector", required=True, size=3, low=-5.0, high=5.0, unit="m"),
    "axis": Key("vector", required=True, size=3, low=-1e3, high=1e3),
    "radius_m": Key("number", required=True, low=0.0, low_open=True, high=0.5, unit="m"),
    "directivity": Key("str", choices=DIRECTIVITY_MODELS),
    "band_hz": Key("vector", size=2, low=0.0, allow_inf=True, unit="Hz"),
    "plain_feed": Key("vector", size=2, low=-4.0, high=4.0),
    "centre_feed": Key("number", low=-4.0, high=4.0),
}


def _ranged(kind: str, parameter: str, **options) -> "Key":
    """A key whose range is the design parameter's own (``PARAMETER_RANGES``)."""
    low, high = PARAMETER_RANGES[parameter]
    return Key(kind, low=low, high=high, **options)


SCHEMA = {
    "schema_version": Key("int", required=True),
    "name": Key("str", required=True),
    "description": Key("str", empty_ok=True),
    "kind": Key("str", choices=KINDS),
    "extends": Key("str"),
    "enclosure": Key("table", required=True, table={
        "body": Key("str", choices=BODY_SHAPES),
        "body_radius_m": Key("number", low=0.0, high=2.0, unit="m"),
        "body_height_m": Key("number", low=0.0, high=2.0, unit="m"),
        "drivers": Key("tables", required=True, table=DRIVER),
    }),
    "listener": Key("table", required=True, table={
        "distance_m": _ranged("number", "listener_distance_m", required=True, unit="m"),
        "head": Key("str"),
        "head_radius_m": Key("number", low=0.05, high=0.15, unit="m"),
        "lateral_offset_m": _ranged("number", "listener_offset_m", unit="m"),
        "fore_aft_offset_m": Key("number", low=-10.0, high=10.0, unit="m"),
        "yaw_deg": Key("number", low=-180.0, high=180.0, unit="deg"),
    }),
    "design": Key("table", table={
        "width_deg": _ranged("number", "width_deg", unit="deg"),
        "max_gain_db": _ranged("number", "max_gain_db", unit="dB"),
        "filter_length_ms": _ranged("number", "filter_length_ms", unit="ms"),  # ≥ twice the modelling delay
        "null_region_m": _ranged("number", "null_region_m", unit="m"),
        "crossover_order": Key("int", choices=(2, 4, 8)),
        "centre_gain_db": _ranged("number", "centre_gain_db", unit="dB"),
        "output_gain_db": _ranged("number", "output_gain_db", unit="dB"),
        "target_cancellation_db": _ranged("number", "target_cancellation_db", unit="dB"),
        "bypass": Key("strings", choices=STAGES),
        # ensemble of heads the cancellation is designed over (design/robust.py)
        "robust_heads": Key("strings", empty_ok=True),
        "passband_hz": Key("vector", size=2, low=0.0, low_open=True, high=1e6, unit="Hz"),
        "voicing": Key("bool"),
        # the voicing EQ's smoothing and the model heads it is designed over (design/voicing.py)
        "voicing_smoothing_octaves": _ranged("number", "voicing_smoothing_octaves", unit="octaves"),
        "voicing_heads": Key("strings", empty_ok=True),
        "target": Key("table", table={
            "frequencies_hz": Key("numbers", required=True, low=0.0, low_open=True, high=1e6, unit="Hz"),
            "cancellation_db": Key("numbers", required=True, low=0.0, high=60.0, unit="dB"),
        }),
        "beam": Key("table", table={
            "enabled": Key("bool"),
            "band_hz": Key("vector", size=2, low=0.0, low_open=True, high=1e6, unit="Hz"),
            "null_azimuths_deg": Key("numbers", low=-180.0, high=180.0, unit="deg"),
            "max_effort_db": _ranged("number", "beam_max_effort_db", unit="dB"),
        }),
        "upmix": Key("table", table={
            "bands": _ranged("int", "upmix_bands"),
            "time_constant_ms": _ranged("number", "upmix_time_constant_ms", unit="ms"),
            "centre_extraction": _ranged("number", "centre_extraction"),
        }),
    }),
}

# DesignParameters field -> preset key path, to re-raise its ParameterError with the path.
PARAM_PATHS = {
    "width_deg": "design.width_deg", "max_gain_db": "design.max_gain_db",
    "filter_length_ms": "design.filter_length_ms", "null_region_m": "design.null_region_m",
    "crossover_order": "design.crossover_order", "centre_gain_db": "design.centre_gain_db",
    "output_gain_db": "design.output_gain_db",
    "target_cancellation_db": "design.target_cancellation_db", "bypass": "design.bypass",
    "beam_band_hz": "design.beam.band_hz", "beam_max_effort_db": "design.beam.max_effort_db",
    "upmix_bands": "design.upmix.bands", "upmix_time_constant_ms": "design.upmix.time_constant_ms",
    "centre_extraction": "design.upmix.centre_extraction", "robust_heads": "design.robust_heads",
    "passband_hz": "design.passband_hz", "voicing_heads": "design.voicing_heads",
    "voicing_smoothing_octaves": "design.voicing_smoothing_octaves",
}


class Context:
    """Where the content being checked comes from, for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key_path: str, message: str) -> PresetError:
        return PresetError(f"{self.source}: {key_path}: {message}")


# ---------------------------------------------------------------------------------------------
# validation of the raw TOML tables
# ---------------------------------------------------------------------------------------------

def _expected(spec: Key) -> str:
    """A phrase saying what a key accepts, e.g. ``a number in (0, 0.5] m``."""
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.choices:
        return "one of " + ", ".join(repr(c) for c in spec.choices) + (" (an array)" if spec.kind == "strings" else "")
    low_b = "(" if spec.low_open else "["
    if math.isfinite(spec.low) and math.isfinite(spec.high):
        rng = f" in {low_b}{spec.low:g}, {spec.high:g}]{unit}"
    elif math.isfinite(spec.low):
        rng = f" {'>' if spec.low_open else '>='} {spec.low:g}{unit}" + (" (inf allowed)" if spec.allow_inf else "")
    else:
        rng = unit
    return {
        "number": "a number" + rng, "int": "an integer" + rng, "str": "a string", "bool": "true or false",
        "vector": f"an array of {spec.size} numbers" + rng, "numbers": "a non-empty array of numbers" + rng,
        "strings": "an array of strings", "table": "a table", "tables": "an array of tables ([[...]])",
    }[spec.kind]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_ok(x: Any, spec: Key) -> bool:
    if not is_number(x) or math.isnan(x):
        return False
    if math.isinf(x):
        return spec.allow_inf and x > 0
    above = x > spec.low if spec.low_open else x >= spec.low
    return above and x <= spec.high


def _check_value(value: Any, spec: Key, path: str, ctx: Context, partial: bool) -> None:
    kind = spec.kind
    ok = True
    if kind == "table":
        check_table(value, spec.table, path, ctx, partial)
        return
    if kind == "tables":
        if not isinstance(value, builtins.list) or not value or not all(isinstance(t, dict) for t in value):
            raise ctx.error(path, f"expected a non-empty {_expected(spec)}, got {value!r}")
        for i, item in enumerate(value):  # arrays replace whole on extends: every item complete
            check_table(item, spec.table, f"{path}[{i}]", ctx, partial=False)
        return
    if kind == "number":
        ok = _number_ok(value, spec)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and (
            value in spec.choices if spec.choices else spec.low <= value <= spec.high)
    elif kind == "str":
        ok = isinstance(value, str) and (spec.empty_ok or bool(value.strip())) and (not spec.choices or value in spec.choices)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("vector", "numbers"):
        ok = (isinstance(value, builtins.list) and len(value) == spec.size if kind == "vector"
              else isinstance(value, builtins.list) and len(value) > 0)
        ok = ok and all(_number_ok(x, spec) for x in value)
    elif kind == "strings":
        ok = isinstance(value, builtins.list) and all(isinstance(s, str) and (s in spec.choices or not spec.choices)
                                                       for s in value)
    if not ok:
        raise ctx.error(path, f"expected {_expected(spec)}, got {value!r}")


def check_table(data: Any, schema: Mapping[str, Key], path: str, ctx: Context, partial: bool) -> None:
    """Check keys, types and ranges of one table; ``partial`` skips required-key checks."""
    if not isinstance(data, dict):
        raise ctx.error(path or "<top level>", f"expected a table, got {data!r}")
    for key in data:
        if key not in schema:
            where = f"{path}.{key}" if path else key
            close = difflib.get_close_matches(key, builtins.list(schema), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ctx.error(where, f"unknown key; {hint}known keys: {', '.join(sorted(schema))}")
    for key, spec in schema.items():
        where = f"{path}.{key}" if path else key
        if key in data:
            _check_value(data[key], spec, where, ctx, partial)
        elif spec.required and not partial:
            raise ctx.error(where, f"missing required key; expected {_expected(spec)}")


def check_version(data: dict, ctx: Context) -> None:
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version is None:
        raise ctx.error("schema_version", f"missing required key; expected schema_version = {SCHEMA_VERSION}")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise ctx.error(
            "schema_version",
            f"unsupported schema version {version!r}; this soundstage reads schema_version = {SCHEMA_VERSION}",
        )
