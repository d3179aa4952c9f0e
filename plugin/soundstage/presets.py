"""Enclosure presets: TOML files that describe an enclosure, its listener and its design.

A preset maps one-to-one onto :class:`~soundstage.acoustics.geometry.Enclosure`,
:class:`~soundstage.acoustics.geometry.Listener` and
:class:`~soundstage.design.parameters.DesignParameters`, in the frame of
:mod:`soundstage.acoustics.frame` (listener at the origin looking along +x, y to the listener's
left, z up; the enclosure centre at ``(distance_m, 0, 0)``; driver positions and axes relative to
the enclosure centre, in the same axes). Schema version 1::

    schema_version = 1                  # required in every file
    name = "studio-speaker"             # not inherited; defaults to the file's stem
    description = "..."                 # one paragraph for people
    kind = "loudspeakers"               # or "headphones" (exactly two drivers: left ear, right ear)
    extends = "studio-speaker"          # optional: a built-in name or a path relative to this file

    [enclosure]
    body = "cylinder"                   # "sphere" | "cylinder" | "none"
    body_radius_m = 0.0875              # > 0 unless body = "none"
    body_height_m = 0.206               # > 0 for a cylinder
    [[enclosure.drivers]]               # one table per driver, in feed order
    name = "tweeter"                    # unique
    position_m = [-0.0875, 0.0, 0.03]   # on (or in) the body, metres
    axis = [-1, 0, 0]                   # firing direction, normalised on load
    radius_m = 0.0127                   # effective radiating radius (0, 0.5] m
    directivity = "cap"                 # "monopole" | "piston" | "cap"       (default "piston")
    band_hz = [5000, inf]               # crossover band; 0 / inf = open end  (default [0, inf])
    plain_feed = [0.5, 0.5]             # gains from (L, R) in the plain mix  (default [0.5, 0.5])

    [listener]
    distance_m = 2.5                    # enclosure centre to head centre (0, 100] m
    head = "sphere"                     # "sphere" | "brown-duda" | "free-field" | a .sofa path
    head_radius_m = 0.0875              # [0.05, 0.15] m
    lateral_offset_m = 0.0              # optional, + = to the left
    fore_aft_offset_m = 0.0             # optional, + = toward the enclosure
    yaw_deg = 0.0                       # optional, + = turned left

    [design]                            # every key optional (DesignParameters defaults)
    width_deg = 30                      # virtual loudspeakers at ±width_deg, [1, 90]
    max_gain_db = 18                    # driver filter gain cap, [0, 30] dB
    filter_length_ms = 40               # [5, 500] ms
    null_region_m = 0.05                # [0, 0.3] m
    crossover_order = 4                 # Linkwitz–Riley order 2, 4 or 8
    centre_gain_db = 0                  # [-24, 12] dB
    output_gain_db = 0                  # [-40, 12] dB, gain of every driver feed
    target_cancellation_db = 15         # optional: scale the target's peak to this, [0, 40] dB
    bypass = []                         # stages replaced by the plain mix
    [design.target]                     # χ_t: rises from the lowest frequency to its peak
    frequencies_hz = [100, 300, 1000]   # strictly increasing, > 0
    cancellation_db = [0, 6, 18]        # >= 0 dB, same length
    [design.beam]
    enabled = true                      # needs >= 3 drivers playing in band_hz
    band_hz = [700, 5000]
    null_azimuths_deg = [90, -90]       # seen from the enclosure, + = listener's left
    max_effort_db = 15                  # [0, 40] dB
    [design.upmix]
    bands = 4                           # [1, 8]
    time_constant_ms = 40               # [1, 2000] ms
    centre_extraction = 1.0             # [0, 1]

``extends`` deep-merges tables: a table in the extending file overrides only the keys it names
and inherits the rest; arrays (the driver list, vectors, the target's points) are replaced as a
whole. Chains of ``extends`` are followed and cycles are reported. Every mistake raises
:class:`~soundstage.PresetError` naming the file, the key path (``enclosure.drivers[2].radius_m``)
and what was expected.
"""

from __future__ import annotations

import builtins
import difflib
import hashlib
import importlib.resources
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from ._errors import GeometryError, ParameterError, PresetError
from ._preset_schema import PARAM_PATHS, SCHEMA, SCHEMA_VERSION, Context, check_table, check_version, is_number
from .acoustics.frame import HEAD_RADIUS_M
from .acoustics.geometry import Driver, Enclosure, Listener
from .design.parameters import DesignParameters, TargetCurve

__all__ = ["Preset", "SCHEMA_VERSION", "HEAD_NAMES", "list", "load", "load_dict"]

#: Named head models a preset's ``listener.head`` may give (besides a path to a SOFA file).
HEAD_NAMES = ("sphere", "brown-duda", "free-field")
#: How far (m) a driver's centre may lie outside its body's surface (mounting, grille).
_BODY_TOLERANCE_M = 0.005


# ---------------------------------------------------------------------------------------------
# files, built-ins and extends
# ---------------------------------------------------------------------------------------------

def _builtin_dir() -> Path | None:
    """Directory of the built-in preset files (installed package data or the source tree)."""
    try:
        root = importlib.resources.files("soundstage.preset_files")
        names = [item.name for item in root.iterdir() if item.name.endswith(".toml")]
        if names:
            return Path(str(root.joinpath(names[0]))).parent
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        pass
    here = Path(__file__).resolve()
    for candidate in (here.parent / "preset_files", here.parents[2] / "presets"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    return None


def _builtin_path(name: str) -> Path | None:
    directory = _builtin_dir()
    if directory is None or "/" in name or "\\" in name:
        return None
    path = directory / f"{name}.toml"
    return path if path.is_file() else None


def list_presets() -> builtins.list[str]:
    """Names of the built-in presets, sorted.

    Returns
    -------
    list of str
        E.g. ``['compact-speaker', 'headphones', ..., 'studio-speaker']``.
    """
    directory = _builtin_dir()
    return sorted(p.stem for p in directory.glob("*.toml")) if directory else []


def _unknown_reference(reference: str) -> str:
    names = list_presets()
    close = difflib.get_close_matches(reference, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"no built-in preset or file named {reference!r}; {hint}built-in presets: {', '.join(names)}"


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:  # the message carries "(at line L, column C)"
        raise PresetError(f"{path}: TOML syntax error: {exc}") from exc
    except OSError as exc:
        raise PresetError(f"{path}: cannot read preset file: {exc.strerror or exc}") from exc


def _resolve_extends(reference: str, base_dir: Path, ctx: Context) -> Path:
    looks_like_path = reference.endswith(".toml") or "/" in reference or "\\" in reference
    if not looks_like_path:
        builtin = _builtin_path(reference)
        if builtin is not None:
            return builtin
    path = Path(reference).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.is_file():
        return path
    raise ctx.error("extends", _unknown_reference(reference))


def _deep_merge(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``: tables merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(data: Any, ctx: Context, base_dir: Path, chain: builtins.list[Path]) -> dict:
    """Check one layer's keys and types, then merge it on top of what it ``extends``."""
    if not isinstance(data, dict):
        raise ctx.error("<top level>", f"expected a table (dict), got {type(data).__name__}")
    check_version(data, ctx)
    check_table(data, SCHEMA, "", ctx, partial=True)
    reference = data.get("extends")
    if reference is None:
        return dict(data)
    parent_path = _resolve_extends(reference, base_dir, ctx)
    key = parent_path.resolve()
    if key in chain:
        cycle = " -> ".join(str(p) for p in [*chain, key])
        raise ctx.error("extends", f"extends cycle: {cycle}")
    parent = _resolve(_read_toml(parent_path), Context(str(parent_path)), parent_path.parent, [*chain, key])
    merged = _deep_merge(parent, {k: v for k, v in data.items() if k != "extends"})
    if "name" not in data:  # a name is never inherited
        merged.pop("name", None)
    return merged


# ---------------------------------------------------------------------------------------------
# building the objects
# ---------------------------------------------------------------------------------------------

def _resolve_head(head: str, base_dir: Path, ctx: Context) -> str:
    if head in HEAD_NAMES:
        return head
    path = Path(head).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.suffix.lower() == ".sofa" and path.is_file():
        return str(path.resolve())
    raise ctx.error(
        "listener.head",
        f"expected one of {', '.join(repr(n) for n in HEAD_NAMES)} or a path to an existing .sofa file "
        f"(relative to the preset file), got {head!r}",
    )


def _build_drivers(enc: dict, kind: str, ctx: Context) -> builtins.list[Driver]:
    drivers: builtins.list[Driver] = []
    seen: dict[str, int] = {}
    for i, d in enumerate(enc["drivers"]):
        where = f"enclosure.drivers[{i}]"
        if d["name"] in seen:
            raise ctx.error(f"{where}.name", f"duplicate driver name {d['name']!r} "
                            f"(also enclosure.drivers[{seen[d['name']]}]); names must be unique")
        seen[d["name"]] = i
        if not any(d["axis"]):
            raise ctx.error(f"{where}.axis", "expected a non-zero firing direction, got the zero vector")
        band = d.get("band_hz", [0.0, math.inf])
        if not band[0] < band[1]:
            raise ctx.error(f"{where}.band_hz", f"expected [low, high] with low < high, got {band!r}")
        try:
            drivers.append(Driver(
                name=d["name"], position_m=tuple(d["position_m"]), axis=tuple(d["axis"]),
                radius_m=float(d["radius_m"]), directivity=d.get("directivity", "piston"),
                band_hz=tuple(band), plain_feed=tuple(d.get("plain_feed", [0.5, 0.5])),
            ))
        except (GeometryError, ParameterError, TypeError, ValueError) as exc:
            raise ctx.error(where, str(exc)) from exc
    if kind == "headphones" and len(drivers) != 2:
        raise ctx.error("enclosure.drivers", f"headphones need exactly two drivers (left ear, right ear), "
                        f"got {len(drivers)}")
    return drivers


def _check_body(enc: dict, drivers: builtins.list[Driver], ctx: Context) -> None:
    body = enc.get("body", "none")
    radius, height = enc.get("body_radius_m", 0.0), enc.get("body_height_m", 0.0)
    if body != "none" and radius <= 0:
        raise ctx.error("enclosure.body_radius_m", f"a {body} body needs a radius > 0 m, got {radius!r}")
    if body == "cylinder" and height <= 0:
        raise ctx.error("enclosure.body_height_m", f"a cylinder body needs a height > 0 m, got {height!r}")
    for i, d in enumerate(drivers):
        x, y, z = d.position_m
        if body == "sphere":
            outside = math.sqrt(x * x + y * y + z * z) - radius
        elif body == "cylinder":
            outside = max(math.hypot(x, y) - radius, abs(z) - height / 2)
        else:
            continue
        if outside > _BODY_TOLERANCE_M:
            raise ctx.error(f"enclosure.drivers[{i}].position_m", f"lies {outside:.4f} m outside the {body} body "
                            f"(radius {radius} m); drivers sit on the body's surface")
    intervals = sorted(d.band_hz for d in drivers)
    reach = intervals[0][1]
    for low, high in intervals[1:]:
        if low > reach:
            raise ctx.error("enclosure.drivers", f"the drivers' band_hz leave {reach:g}-{low:g} Hz unplayed; "
                            "adjacent bands must share their crossover frequency")
        reach = max(reach, high)


def _build_listener(lis: dict, enclosure: Enclosure, enc: dict, ctx: Context) -> Listener:
    try:
        listener = Listener(
            distance_m=float(lis["distance_m"]), lateral_offset_m=float(lis.get("lateral_offset_m", 0.0)),
            fore_aft_offset_m=float(lis.get("fore_aft_offset_m", 0.0)), yaw_deg=float(lis.get("yaw_deg", 0.0)),
            head_radius_m=float(lis.get("head_radius_m", HEAD_RADIUS_M)),
        )
    except (GeometryError, ValueError) as exc:
        raise ctx.error("listener", str(exc)) from exc
    reach = listener.head_radius_m + enc.get("body_radius_m", 0.0)
    if enclosure.kind == "loudspeakers" and enclosure.body != "none" and listener.distance_m <= reach:
        raise ctx.error("listener.distance_m", f"the head (radius {listener.head_radius_m} m) would be inside "
                        f"the enclosure's body: expected > {reach:g} m, got {listener.distance_m!r}")
    for i, d in enumerate(enclosure.drivers):
        gap = float(((listener.enclosure_position_m + d.position_m - listener.head_position_m) ** 2).sum()) ** 0.5
        if gap <= listener.head_radius_m:
            raise ctx.error(f"enclosure.drivers[{i}].position_m", f"driver {d.name!r} is {gap:.4f} m from the head "
                            f"centre, inside the head (radius {listener.head_radius_m} m) at listener.distance_m "
                            f"= {listener.distance_m}")
    return listener


def _build_parameters(des: dict, head: str, drivers: builtins.list[Driver], ctx: Context) -> DesignParameters:
    defaults = DesignParameters()
    target = defaults.target
    if "target" in des:
        freqs, gains = des["target"]["frequencies_hz"], des["target"]["cancellation_db"]
        if len(freqs) != len(gains):
            raise ctx.error("design.target.cancellation_db", f"expected as many values as "
                            f"design.target.frequencies_hz ({len(freqs)}), got {len(gains)}")
        if any(b <= a for a, b in zip(freqs, freqs[1:])):
            raise ctx.error("design.target.frequencies_hz", f"expected strictly increasing frequencies, got {freqs!r}")
        peak = gains.index(max(gains))
        flat_zero = max(gains) == 0
        if any(b < a for a, b in zip(gains[:peak], gains[1:peak + 1])) or (gains[0] >= gains[peak] and not flat_zero):
            raise ctx.error("design.target.cancellation_db", "the target must fall toward low frequencies "
                            f"(rise monotonically from its first point up to a higher peak; only a 0 dB curve "
                            f"may be flat), got {gains!r}")
        try:
            target = TargetCurve(tuple(freqs), tuple(gains))
        except ParameterError as exc:
            raise ctx.error("design.target", str(exc)) from exc
    beam, upmix = des.get("beam", {}), des.get("upmix", {})
    kwargs = dict(
        width_deg=des.get("width_deg", defaults.width_deg), target=target,
        target_cancellation_db=des.get("target_cancellation_db"),
        max_gain_db=des.get("max_gain_db", defaults.max_gain_db),
        beam=beam.get("enabled", defaults.beam), beam_band_hz=tuple(beam.get("band_hz", defaults.beam_band_hz)),
        beam_null_azimuths_deg=tuple(beam.get("null_azimuths_deg", defaults.beam_null_azimuths_deg)),
        beam_max_effort_db=beam.get("max_effort_db", defaults.beam_max_effort_db),
        centre_gain_db=des.get("centre_gain_db", defaults.centre_gain_db),
        output_gain_db=des.get("output_gain_db", defaults.output_gain_db),
        upmix_bands=upmix.get("bands", defaults.upmix_bands),
        upmix_time_constant_ms=upmix.get("time_constant_ms", defaults.upmix_time_constant_ms),
        centre_extraction=upmix.get("centre_extraction", defaults.centre_extraction),
        null_region_m=des.get("null_region_m", defaults.null_region_m),
        filter_length_ms=des.get("filter_length_ms", defaults.filter_length_ms), head_model=head,
        crossover_order=des.get("crossover_order", defaults.crossover_order),
        bypass=frozenset(des.get("bypass", ())),
    )
    if kwargs["beam"]:
        low, high = kwargs["beam_band_hz"]
        playing = [d.name for d in drivers if d.band_hz[0] < high and d.band_hz[1] > low]
        if len(playing) < 3:
            raise ctx.error("design.beam.enabled", f"a centre beam with nulls needs at least three drivers playing "
                            f"in design.beam.band_hz {[low, high]}, got {playing}; set enabled = false")
    try:
        return DesignParameters(**kwargs)
    except ParameterError as exc:
        field_name = str(exc).split(" ", 1)[0]
        raise ctx.error(PARAM_PATHS.get(field_name, "design"), str(exc)) from exc


def _preset_dict(name: str, description: str, enclosure: Enclosure, listener: Listener, head: str,
                 params: DesignParameters) -> dict:
    """The resolved content in the TOML layout (every default written out)."""
    drivers = [{
        "name": d.name, "position_m": [*d.position_m], "axis": [*d.axis], "radius_m": d.radius_m,
        "directivity": d.directivity, "band_hz": [*d.band_hz], "plain_feed": [*d.plain_feed],
    } for d in enclosure.drivers]
    design = {
        "width_deg": params.width_deg, "max_gain_db": params.max_gain_db,
        "filter_length_ms": params.filter_length_ms, "null_region_m": params.null_region_m,
        "crossover_order": params.crossover_order, "centre_gain_db": params.centre_gain_db,
        "output_gain_db": params.output_gain_db,
        "bypass": sorted(params.bypass),
        "target": {"frequencies_hz": [*params.target.frequencies_hz],
                   "cancellation_db": [*params.target.cancellation_db]},
        "beam": {"enabled": params.beam, "band_hz": [*params.beam_band_hz],
                 "null_azimuths_deg": [*params.beam_null_azimuths_deg], "max_effort_db": params.beam_max_effort_db},
        "upmix": {"bands": params.upmix_bands, "time_constant_ms": params.upmix_time_constant_ms,
                  "centre_extraction": params.centre_extraction},
    }
    if params.target_cancellation_db is not None:
        design["target_cancellation_db"] = params.target_cancellation_db
    return {
        "schema_version": SCHEMA_VERSION, "name": name, "description": description, "kind": enclosure.kind,
        "enclosure": {"body": enclosure.body, "body_radius_m": enclosure.body_radius_m,
                      "body_height_m": enclosure.body_height_m, "drivers": drivers},
        "listener": {"distance_m": listener.distance_m, "head": head, "head_radius_m": listener.head_radius_m,
                     "lateral_offset_m": listener.lateral_offset_m,
                     "fore_aft_offset_m": listener.fore_aft_offset_m, "yaw_deg": listener.yaw_deg},
        "design": design,
    }


def _canonical(value: Any) -> Any:
    """JSON-ready copy with numbers at 12 significant digits (re-normalised axes hash alike)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (builtins.list, tuple)):
        return [_canonical(v) for v in value]
    if is_number(value):
        return format(float(value) + 0.0, ".12g")  # + 0.0 folds -0.0 into 0.0
    return value


@dataclass(frozen=True)
class Preset:
    """A validated enclosure preset.

    Attributes
    ----------
    name : str
    schema_version : int
    description : str
    enclosure : Enclosure
    listener : Listener
        Design listening position (``distance_m``, ``head_radius_m``, offsets).
    head : str
        ``"sphere"``, ``"brown-duda"``, ``"free-field"`` or an absolute path to a SOFA file.
    parameters : DesignParameters
        Its ``head_model`` equals ``head``.
    source : str
        Path of the file it was loaded from, or ``"<dict>"``.
    content_hash : str
        SHA-256 (hex) of the resolved, canonicalised content: equal for presets that describe the
        same enclosure, listener and design however they were written (defaults, ``extends``).
    """

    name: str
    schema_version: int
    description: str
    enclosure: Enclosure
    listener: Listener
    head: str
    parameters: DesignParameters
    source: str
    content_hash: str

    @property
    def kind(self) -> str:
        """``"loudspeakers"`` or ``"headphones"``."""
        return self.enclosure.kind

    def to_dict(self) -> dict:
        """The resolved preset in the TOML layout; ``load_dict(p.to_dict())`` gives it back."""
        return _preset_dict(self.name, self.description, self.enclosure, self.listener, self.head, self.parameters)


def _build(data: dict, ctx: Context, base_dir: Path) -> Preset:
    check_table(data, SCHEMA, "", ctx, partial=False)
    kind = data.get("kind", "loudspeakers")
    enc = data["enclosure"]
    drivers = _build_drivers(enc, kind, ctx)
    _check_body(enc, drivers, ctx)
    try:
        enclosure = Enclosure(
            name=data["name"], drivers=tuple(drivers), body=enc.get("body", "none"),
            body_radius_m=float(enc.get("body_radius_m", 0.0)), body_height_m=float(enc.get("body_height_m", 0.0)),
            description=data.get("description", ""), kind=kind,
        )
    except (GeometryError, ValueError) as exc:
        raise ctx.error("enclosure", str(exc)) from exc
    listener = _build_listener(data["listener"], enclosure, enc, ctx)
    head = _resolve_head(data["listener"].get("head", "sphere"), base_dir, ctx)
    params = _build_parameters(data.get("design", {}), head, drivers, ctx)
    content = _preset_dict(data["name"], data.get("description", ""), enclosure, listener, head, params)
    digest = hashlib.sha256(json.dumps(_canonical(content), sort_keys=True).encode("utf-8")).hexdigest()
    return Preset(name=data["name"], schema_version=SCHEMA_VERSION, description=data.get("description", ""),
                  enclosure=enclosure, listener=listener, head=head, parameters=params, source=ctx.source,
                  content_hash=digest)


def load_dict(data: dict, source: str = "<dict>") -> Preset:
    """Validate a preset given as a dict in the TOML layout.

    Parameters
    ----------
    data : dict
        The preset's tables (as ``tomllib`` returns them, or as :meth:`Preset.to_dict` gives).
    source : str
        Name used in error messages and as :attr:`Preset.source`. Relative ``extends`` and SOFA
        paths resolve against the current directory.

    Returns
    -------
    Preset

    Raises
    ------
    PresetError
        Naming ``source``, the key path and what was expected.
    """
    ctx = Context(source)
    merged = _resolve(data, ctx, Path.cwd(), [])
    return _build(merged, ctx, Path.cwd())


def load(name_or_path: str | Path) -> Preset:
    """Load a built-in preset by name, or a preset file by path.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A name from :func:`list` (``"studio-speaker"``) or a path to a ``.toml`` file.

    Returns
    -------
    Preset

    Raises
    ------
    PresetError
        For an unknown name or missing file (with the closest built-in name), a TOML syntax error
        (file and line), or any schema violation (file, key path and what was expected).

    Examples
    --------
    >>> from soundstage import presets
    >>> presets.load("stereo-pair").enclosure.num_drivers
    2
    """
    reference = str(name_or_path)
    path = None if isinstance(name_or_path, Path) else _builtin_path(reference)
    if path is None:
        path = Path(reference).expanduser()
        if not path.is_file():
            raise PresetError(f"{reference}: {_unknown_reference(reference)}")
    ctx = Context(str(path))
    data = _read_toml(path)
    if isinstance(data, dict) and "name" not in data:
        data["name"] = path.stem
    merged = _resolve(data, ctx, path.parent, [path.resolve()])
    merged.setdefault("name", path.stem)
    return _build(merged, ctx, path.parent)


# ``list`` shadows the builtin inside this module from here on; the code above uses builtins.list.
list = list_presets
