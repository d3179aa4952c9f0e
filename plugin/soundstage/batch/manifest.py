"""The batch manifest: which inputs, through which presets and parameter sets, written where.

A manifest is a TOML file; relative paths resolve against the manifest's directory::

    inputs = ["masters/*.flac", "singles/intro.wav", "live/"]   # files, globs, directories
    presets = ["studio-speaker", "presets/kitchen.toml"]        # built-in names or preset files
    monitor = "drivers"             # or "headphones": the listening simulation's ear signals
    buffer_size = 8192              # samples per processing step (as ``soundstage render``)

    [output]
    directory = "renders"           # ``-o`` on the command line overrides it
    format = "wav"                  # "wav" (32-bit float), "flac" (24-bit) or "aiff"
    bit_depth = 32                  # optional, else the format's default
    gain = "auto"                   # optional: "auto" or dB, as ``soundstage render --gain``
    pattern = "{preset}/{params}/{stem}.{ext}"

    [params.wide]                   # one table per parameter set (none: the presets as they are)
    width_deg = 30
    [params.narrow]
    width_deg = 20
    bypass = ["beam"]

The job list is the product inputs × presets × parameter sets. ``pattern`` may use ``{stem}``
(the input's name without extension), ``{relpath}`` (its path below the directory or glob it was
found by, without extension), ``{preset}``, ``{params}`` and ``{ext}``; two jobs that would
write the same file are an error. A directory contributes every audio file below it.
"""

from __future__ import annotations

import glob
import os
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from .._errors import SoundstageError
from .render import MONITORS, check_gain

__all__ = ["ManifestError", "Manifest", "InputFile", "AUDIO_EXTENSIONS", "load_manifest", "manifest_from_dict"]

#: Extensions a directory input contributes (what pedalboard.io reads).
AUDIO_EXTENSIONS = (".wav", ".flac", ".aif", ".aiff", ".mp3", ".ogg")
#: Output formats and their extensions.
FORMATS = {"wav": "wav", "flac": "flac", "aiff": "aiff"}
DEFAULT_PATTERN = "{preset}/{params}/{stem}.{ext}"
PLACEHOLDERS = {"stem", "relpath", "preset", "params", "ext"}
_TOP_KEYS = {"inputs", "presets", "monitor", "buffer_size", "output", "params"}
_OUTPUT_KEYS = {"directory", "format", "bit_depth", "gain", "pattern"}


class ManifestError(SoundstageError, ValueError):
    """A batch manifest is invalid (names the file and key)."""


@dataclass(frozen=True)
class InputFile:
    """One input: its absolute ``path`` and ``relpath`` (below its directory or glob, no extension)."""

    path: Path
    relpath: str


@dataclass(frozen=True)
class Manifest:
    """A checked manifest (see the module docstring for the file format).

    Attributes
    ----------
    source : str
        The manifest file (or ``"<dict>"``).
    inputs : tuple of InputFile
        Every input file, expanded and de-duplicated, in a stable order.
    presets : tuple of str
        Built-in names, or absolute paths of preset files.
    parameter_sets : dict of str to dict
        Name → processor parameters; ``{"default": {}}`` when the manifest has none.
    monitor : str
        ``"drivers"`` or ``"headphones"``.
    output_dir : Path or None
        Where outputs go (``None``: must be given by the caller).
    format, pattern : str
        Output format (``"wav"``, ``"flac"``, ``"aiff"``) and naming pattern.
    bit_depth : int or None
    gain : None, "auto" or float
        Output gain as ``soundstage render --gain`` (None: auto for integer formats, 0 dB for float).
    buffer_size : int
    """

    source: str
    inputs: tuple[InputFile, ...]
    presets: tuple[str, ...]
    parameter_sets: dict[str, dict] = field(default_factory=dict)
    monitor: str = "drivers"
    output_dir: Path | None = None
    format: str = "wav"
    pattern: str = DEFAULT_PATTERN
    bit_depth: int | None = None
    gain: float | str | None = None
    buffer_size: int = 8192


def load_manifest(path: str | os.PathLike) -> Manifest:
    """Read and check a manifest file.

    Raises
    ------
    ManifestError
        Unreadable file, TOML syntax, unknown keys, wrong types, inputs that match nothing, a bad
        pattern; the message names the file and the key.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: TOML syntax error: {exc}") from exc
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc.strerror or exc}") from exc
    return manifest_from_dict(data, base_dir=path.resolve().parent, source=str(path))


def manifest_from_dict(data: Mapping, *, base_dir: str | os.PathLike = ".", source: str = "<dict>") -> Manifest:
    """Check a manifest given as a dict in the TOML layout; paths resolve against ``base_dir``."""
    base = Path(base_dir).resolve()

    def error(key: str, message: str) -> ManifestError:
        return ManifestError(f"{source}: {key}: {message}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise error(unknown[0], f"unknown key; expected one of {sorted(_TOP_KEYS)}")
    inputs = _inputs(_strings(data.get("inputs"), "inputs", error), base, error)
    presets = tuple(_preset_reference(ref, base) for ref in _strings(data.get("presets"), "presets", error))
    if len(set(presets)) != len(presets):
        raise error("presets", "a preset is listed twice")
    monitor = data.get("monitor", "drivers")
    if monitor not in MONITORS:
        raise error("monitor", f"expected one of {list(MONITORS)}, got {monitor!r}")
    buffer_size = data.get("buffer_size", 8192)
    if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
        raise error("buffer_size", f"expected a positive integer, got {buffer_size!r}")
    output = data.get("output", {})
    if not isinstance(output, Mapping):
        raise error("output", "expected a table")
    unknown = sorted(set(output) - _OUTPUT_KEYS)
    if unknown:
        raise error(f"output.{unknown[0]}", f"unknown key; expected one of {sorted(_OUTPUT_KEYS)}")
    fmt = output.get("format", "wav")
    if fmt not in FORMATS:
        raise error("output.format", f"expected one of {list(FORMATS)}, got {fmt!r}")
    bit_depth = output.get("bit_depth")
    if bit_depth is not None and bit_depth not in (16, 24, 32):
        raise error("output.bit_depth", f"expected 16, 24 or 32, got {bit_depth!r}")
    gain = output.get("gain")
    try:
        gain = check_gain(gain)
    except SoundstageError:
        raise error("output.gain", f"expected \"auto\" or a number of dB, got {gain!r}") from None
    pattern = output.get("pattern", DEFAULT_PATTERN)
    _check_pattern(pattern, error)
    directory = output.get("directory")
    if directory is not None and not isinstance(directory, str):
        raise error("output.directory", f"expected a path string, got {directory!r}")
    return Manifest(
        source=source, inputs=inputs, presets=presets, parameter_sets=_parameter_sets(data.get("params"), error),
        monitor=monitor, output_dir=None if directory is None else base / directory, format=fmt, pattern=pattern,
        bit_depth=bit_depth, gain=gain, buffer_size=buffer_size,
    )


def _strings(value, key: str, error) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise error(key, f"expected a non-empty list of strings, got {value!r}")
    return value


def _inputs(entries: list[str], base: Path, error) -> tuple[InputFile, ...]:
    found: dict[Path, InputFile] = {}
    for index, entry in enumerate(entries):
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else base / path
        if glob.has_magic(entry):
            root = Path(*[part for part in path.parts[:next(i for i, p in enumerate(path.parts) if glob.has_magic(p))]])
            matches = [Path(m) for m in sorted(glob.glob(str(path), recursive=True)) if Path(m).is_file()]
        elif path.is_dir():
            root = path
            matches = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
                             and not p.name.startswith("."))
        elif path.is_file():
            root, matches = path.parent, [path]
        else:
            raise error(f"inputs[{index}]", f"{str(path)!r} is not a file, directory or glob that exists")
        if not matches:
            raise error(f"inputs[{index}]", f"{entry!r} matches no audio file")
        for match in matches:
            match = match.resolve()
            relpath = Path(os.path.relpath(match, root.resolve())).with_suffix("").as_posix()
            found.setdefault(match, InputFile(match, relpath))
    return tuple(found.values())


def _preset_reference(reference: str, base: Path) -> str:
    looks_like_path = reference.endswith(".toml") or "/" in reference or "\\" in reference
    if not looks_like_path:
        return reference
    path = Path(reference).expanduser()
    return str(path if path.is_absolute() else base / path)


def _check_pattern(pattern, error) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise error("output.pattern", f"expected a string, got {pattern!r}")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise error("output.pattern", f"{pattern!r}: {exc}") from exc
    if names - PLACEHOLDERS:
        raise error("output.pattern", f"unknown placeholder(s) {sorted(names - PLACEHOLDERS)}; "
                                      f"allowed: {sorted(PLACEHOLDERS)}")
    if pattern.startswith("/") or ".." in Path(pattern).parts:
        raise error("output.pattern", f"{pattern!r} must stay inside the output directory")


def _parameter_sets(table, error) -> dict[str, dict]:
    if table is None:
        return {"default": {}}
    if not isinstance(table, Mapping) or not table:
        raise error("params", "expected tables [params.NAME] of processor parameters")
    sets = {}
    for name, values in table.items():
        if not isinstance(values, Mapping):
            raise error(f"params.{name}", "expected a table of NAME = VALUE")
        sets[name] = {key: _parameter_value(key, value, f"params.{name}.{key}", error) for key, value in values.items()}
    return sets


def _parameter_value(name: str, value, key: str, error):
    """TOML values as ``soundstage render --param`` gives them: numbers as float, bypass as a set."""
    if name == "bypass":
        if isinstance(value, str):
            value = [s.strip() for s in value.split(",") if s.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise error(key, f"expected a list of stage names, got {value!r}")
        return frozenset(value)
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    raise error(key, f"expected a number, boolean or string, got {value!r}")
