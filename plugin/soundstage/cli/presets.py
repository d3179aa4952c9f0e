"""``soundstage presets [list | show NAME]``: the built-in enclosures."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_presets_parser", "run_presets"]


def add_presets_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``presets`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser("presets", help="list built-in presets or show one")
    parser.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    parser.add_argument("name", nargs="?", help="preset name or path (for 'show')")
    parser.set_defaults(handler=run_presets)
    return parser


def run_presets(args: argparse.Namespace) -> int:
    """Run ``soundstage presets`` with parsed ``args``; returns the exit code."""
    from .. import presets

    if args.action == "list":
        for name in presets.list():
            preset = presets.load(name)
            print(f"{name:18s} {preset.enclosure.num_drivers} drivers, listener {preset.listener.distance_m:g} m")
        return 0
    if not args.name:
        print("soundstage presets show: give a preset name", file=sys.stderr)
        return 1
    preset = presets.load(args.name)
    print(json.dumps(preset.to_dict(), indent=2, default=str))
    return 0
