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
    centre_feed = 1.0                   # gain from the extracted centre       (default: sum of plain_feed)

    [listener]
    distance_m = 2.5                    # enclosure centre to head centre [0.001, 100] m
    head = "sphere"                     # "sphere" | "brown-duda" | "free-field" | "kemar" | a .sofa path
    head_radius_m = 0.0875              # [0.05, 0.15] m
    lateral_offset_m = 0.0              # optional, + = to the left, [-2, 2] m
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
    robust_heads = ["default"]          # optional: design the cancellation over an ensemble of heads:
                                        # "default" (spheres 7.5-9.5 cm, Brown-Duda), "sphere:0.08",
                                        # "brown-duda:0.09", "kemar", .sofa paths (design/robust.py)
    passband_hz = [100, 16000]          # optional: where the voicing EQ makes the response flat
    voicing = true                      # the voicing EQ (needs passband_hz)
    voicing_smoothing_octaves = 0.1667  # [0, 2] octaves of smoothing before the EQ inverts the model
    voicing_heads = ["default"]         # optional: voice over model heads as well as the design head
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
import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from .._errors import GeometryError, ParameterError, PresetError
from .builtin_files import builtin_path, builtin_stamp, list_presets, unknown_reference
from .build import _build_drivers, _build_listener, _build_parameters, _canonical, _check_body, _preset_dict
from .schema import SCHEMA, SCHEMA_VERSION, Context, check_table, check_version
from ..acoustics.geometry import Enclosure, Listener
from ..acoustics.heads import HEAD_NAMES as _HEAD_NAMES
from ..design.parameters import DesignParameters

__all__ = ["Preset", "SCHEMA_VERSION", "HEAD_NAMES", "list", "load", "load_dict", "loads"]

#: Longest chain of ``extends`` followed.
MAX_EXTENDS_DEPTH = 32

#: Named head models a preset's ``listener.head`` may give (besides a path to a SOFA file).
HEAD_NAMES = _HEAD_NAMES


# ---------------------------------------------------------------------------------------------
# files, built-ins and extends
# ---------------------------------------------------------------------------------------------

def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:  # the message carries "(at line L, column C)"
        raise PresetError(f"{path}: TOML syntax error: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise PresetError(f"{path}: not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
                          "preset files are UTF-8 TOML") from exc
    except OSError as exc:
        raise PresetError(f"{path}: cannot read preset file: {exc.strerror or exc}") from exc


def _resolve_extends(reference: str, base_dir: Path, ctx: Context) -> Path:
    looks_like_path = reference.endswith(".toml") or "/" in reference or "\\" in reference
    if not looks_like_path:
        builtin = builtin_path(reference)
        if builtin is not None:
            return builtin
    path = Path(reference).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.is_file():
        return path
    raise ctx.error("extends", unknown_reference(reference))


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
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ctx.error("extends", f"the chain of extends is deeper than {MAX_EXTENDS_DEPTH} files "
                        f"(from {chain[0]}); flatten it (soundstage presets export NAME -o FILE)")
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

def _resolve_robust_head(spec: str, index: int, base_dir: Path, ctx: Context, key: str = "robust_heads") -> str:
    """An entry of ``design.robust_heads`` (or ``design.voicing_heads``): a named or parametric head
    (``"sphere:0.08"``), or a SOFA path."""
    from ..design.robust import parse_head_spec

    try:
        name = parse_head_spec(spec)[0]
    except ParameterError as exc:
        raise ctx.error(f"design.{key}[{index}]", str(exc).replace("robust_heads entry", f"{key} entry")) from exc
    if name in HEAD_NAMES or name == "default":
        return spec
    path = Path(spec).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.suffix.lower() == ".sofa" and path.is_file():
        return str(path.resolve())
    raise ctx.error(f"design.{key}[{index}]",
                    f"expected 'default', one of {', '.join(repr(n) for n in HEAD_NAMES)} (optionally "
                    f"'sphere:RADIUS_M[:EAR_DEG]' or 'brown-duda:RADIUS_M') or a path to an existing .sofa file, got {spec!r}")


def _resolve_head(head: str, base_dir: Path, ctx: Context) -> str:
    if head in HEAD_NAMES:
        return head
    path = Path(head).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.suffix.lower() == ".sofa" and path.is_file():
        from ..acoustics.heads import make_head

        try:  # read it now: a broken file is the preset's error, not the first render's
            make_head(str(path.resolve()))
        except Exception as exc:
            raise ctx.error("listener.head", f"cannot read the SOFA head {str(path)!r}: {exc}") from exc
        return str(path.resolve())
    raise ctx.error(
        "listener.head",
        f"expected one of {', '.join(repr(n) for n in HEAD_NAMES)} or a path to an existing .sofa file "
        f"(relative to the preset file), got {head!r}",
    )


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

    def to_toml(self) -> str:
        """The resolved preset as a self-contained TOML file (no ``extends``, every default
        written out); loading it gives an equal preset and bit-identical audio.

        Examples
        --------
        >>> from soundstage import presets
        >>> p = presets.load("laptop")
        >>> presets.loads(p.to_toml()).content_hash == p.content_hash
        True
        """
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def with_parameters(self, listener: Listener, parameters: DesignParameters) -> "Preset":
        """This preset with another design listener and design parameters (same enclosure)."""
        if listener == self.listener and parameters == self.parameters:
            return self
        head = parameters.head_model if isinstance(parameters.head_model, str) else self.head
        return _make_preset(self.name, self.description, self.enclosure, listener, head, parameters, self.source)


def _make_preset(name: str, description: str, enclosure: Enclosure, listener: Listener, head: str,
                 params: DesignParameters, source: str) -> Preset:
    content = _preset_dict(name, description, enclosure, listener, head, params)
    digest = hashlib.sha256(json.dumps(_canonical(content), sort_keys=True).encode("utf-8")).hexdigest()
    return Preset(name=name, schema_version=SCHEMA_VERSION, description=description, enclosure=enclosure,
                  listener=listener, head=head, parameters=params, source=source, content_hash=digest)


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
    design = dict(data.get("design", {}))
    if design.get("robust_heads"):
        design["robust_heads"] = [_resolve_robust_head(h, i, base_dir, ctx) for i, h in enumerate(design["robust_heads"])]
    if design.get("voicing_heads"):
        design["voicing_heads"] = [_resolve_robust_head(h, i, base_dir, ctx, "voicing_heads")
                                   for i, h in enumerate(design["voicing_heads"])]
    params = _build_parameters(design, head, drivers, ctx)
    return _make_preset(data["name"], data.get("description", ""), enclosure, listener, head, params, ctx.source)


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


def loads(text: str, source: str = "<string>") -> Preset:
    """Validate a preset given as TOML text (what :meth:`Preset.to_toml` writes).

    Raises
    ------
    PresetError
        A TOML syntax error or any schema violation, naming ``source`` and the key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{source}: TOML syntax error: {exc}") from exc
    return load_dict(data, source)


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
    path = None if isinstance(name_or_path, Path) else builtin_path(reference)
    if path is not None:
        return _load_builtin(path, builtin_stamp(path.parent))
    path = Path(reference).expanduser()
    if not path.is_file():
        raise PresetError(f"{reference}: {unknown_reference(reference)}")
    return _load_file(path)


@functools.lru_cache(maxsize=64)
def _load_builtin(path: Path, stamp: tuple) -> Preset:
    """A built-in preset, parsed and validated once (≈ 3 ms) while the files are unchanged; a
    Preset is immutable, so every caller may share it."""
    return _load_file(path)


def _load_file(path: Path) -> Preset:
    ctx = Context(str(path))
    data = _read_toml(path)
    if isinstance(data, dict) and "name" not in data:
        data["name"] = path.stem
    merged = _resolve(data, ctx, path.parent, [path.resolve()])
    merged.setdefault("name", path.stem)
    return _build(merged, ctx, path.parent)


# ``list`` shadows the builtin inside this module from here on; the code above uses builtins.list.
list = list_presets
