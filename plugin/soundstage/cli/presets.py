"""``soundstage presets [list | show NAME | export NAME -o FILE]``: the built-in enclosures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .render import parse_param

__all__ = ["add_presets_parser", "run_presets"]


def add_presets_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``presets`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser("presets", help="list built-in presets, show one or export it as TOML")
    parser.add_argument("action", nargs="?", choices=["list", "show", "export"], default="list")
    parser.add_argument("name", nargs="?", help="preset name or path (for 'show' and 'export')")
    parser.add_argument("-o", "--output", help="'export': the .toml file to write (default: standard output)")
    parser.add_argument("--param", action="append", default=[], type=parse_param, metavar="NAME=VALUE",
                        help="'export': set a processor parameter first, e.g. width_deg=20 (repeatable)")
    parser.add_argument("-y", "--overwrite", "--yes", dest="overwrite", action="store_true",
                        help="'export': overwrite the output file")
    parser.set_defaults(handler=run_presets)
    return parser


def _listening_distance(preset) -> str:
    """Where the listener sits: the distance to the enclosure's centre and, when its drivers are
    far apart (a ±30° pair at 2 m has its centre 1.73 m away), the distance to the drivers."""
    import numpy as np

    if preset.kind == "headphones":
        return "worn: one driver at each ear"
    centre = preset.listener.distance_m
    drivers = np.linalg.norm(preset.enclosure.positions_m() + np.array([centre, 0.0, 0.0]), axis=1)
    text = f"listener {centre:.2f} m from the enclosure's centre"
    near, far = float(np.min(drivers)), float(np.max(drivers))
    if max(abs(near - centre), abs(far - centre)) >= 0.01:
        text += f", {near:.2f} m from its drivers" if far - near < 0.01 else f", {near:.2f}–{far:.2f} m from its drivers"
    return text


def run_presets(args: argparse.Namespace) -> int:
    """Run ``soundstage presets`` with parsed ``args``; returns the exit code."""
    from .. import presets

    if args.action == "list":
        for name in presets.list():
            preset = presets.load(name)
            print(f"{name:18s} {preset.kind:12s} {preset.enclosure.num_drivers} drivers, "
                  f"{_listening_distance(preset)}")
        return 0
    if not args.name:
        print(f"soundstage presets {args.action}: give a preset name", file=sys.stderr)
        return 1
    preset = presets.load(args.name)
    if args.action == "show":  # TOML a user can copy into a preset file of their own
        print(preset.to_toml(), end="")
        return 0
    return _export(preset, args)


def _export(preset, args: argparse.Namespace) -> int:
    """Write the resolved preset (with any ``--param``) as one self-contained TOML file."""
    from .._atomic import write_text_atomic
    from ..processor import SpatialProcessor

    if args.param:
        preset = SpatialProcessor(preset, **dict(args.param)).preset
    text = preset.to_toml()
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    if path.exists() and not args.overwrite:
        print(f"soundstage presets export: {path} exists; add -y/--overwrite to replace it", file=sys.stderr)
        return 1
    write_text_atomic(path, text)
    print(f"wrote {path}")
    return 0
