"""The ``soundstage`` command: render, presets, demo (and analyze / compare).

A thin shell over library calls: ``main(argv=None) -> int`` so tests call it directly; heavy
imports happen after argument parsing so ``--help`` is instant; diagnostics go to stderr,
machine-readable output to stdout or files; exit codes: 0 success, 1 a soundstage error
(bad input, preset or parameter), 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def _parse_param(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param takes NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    name = name.strip().replace("-", "_")
    if name == "bypass":
        return name, frozenset(s.strip() for s in value.split(",") if s.strip())
    lowered = value.strip().lower()
    if lowered in ("true", "on", "yes"):
        return name, True
    if lowered in ("false", "off", "no"):
        return name, False
    if lowered == "none":
        return name, None
    try:
        return name, float(value)
    except ValueError:
        return name, value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soundstage",
        description="A ±30° stereo image from one compact loudspeaker enclosure.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="render an audio file into driver feeds (or headphones)")
    render.add_argument("input", help="input audio file (stereo or mono)")
    render.add_argument("-p", "--preset", default="studio-speaker", help="preset name or .toml path")
    render.add_argument("-o", "--output", required=True, help="output file (WAV/FLAC/AIFF)")
    render.add_argument("--param", action="append", default=[], type=_parse_param, metavar="NAME=VALUE",
                        help="processor parameter, e.g. width_deg=20 or bypass=ctc,beam (repeatable)")
    render.add_argument("--monitor", choices=["drivers", "headphones"], default="drivers",
                        help="'headphones': the listening simulation's ear signals instead of driver feeds")
    render.add_argument("--buffer-size", type=int, default=8192, help="samples per processing step")
    render.add_argument("-y", "--yes", action="store_true", help="overwrite the output file")
    render.add_argument("--quiet", action="store_true", help="no progress bar")

    presets = sub.add_parser("presets", help="list built-in presets or show one")
    presets.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    presets.add_argument("name", nargs="?", help="preset name or path (for 'show')")

    demo = sub.add_parser("demo", help="render a built-in test mix through every preset")
    demo.add_argument("-o", "--output", default="demo-output", help="output directory")
    demo.add_argument("--seconds", type=float, default=6.0, help="length of the test mix")
    demo.add_argument("--sample-rate", type=float, default=48000.0, help="sample rate in Hz")

    for module, adder in (("cli_analyze", "add_analyze_parser"), ("cli_compare", "add_compare_parser")):
        try:
            add = getattr(__import__(f"soundstage.{module}", fromlist=[adder]), adder)
        except (ImportError, AttributeError):
            continue
        add(sub)
    return parser


def _render(args) -> int:
    from .fileio import stream_file
    from .processor import SpatialProcessor

    parameters = dict(args.param)
    output = "binaural" if args.monitor == "headphones" else "drivers"
    processor = SpatialProcessor(args.preset, output=output, **parameters)
    stats = stream_file(processor, args.input, args.output, buffer_size=args.buffer_size,
                        overwrite=args.yes, progress=not args.quiet)
    names = ", ".join(processor.driver_names)
    print(f"wrote {args.output}: {processor.num_output_channels} channels ({names})", file=sys.stderr)
    del stats
    return 0


def _presets(args) -> int:
    from . import presets

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


def _demo(args) -> int:
    from .demo_job import run_demo

    summary = run_demo(Path(args.output), seconds=args.seconds, sample_rate=args.sample_rate)
    print(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    from ._errors import SoundstageError

    handlers = {"render": _render, "presets": _presets, "demo": _demo}
    handler = handlers.get(args.command) or getattr(args, "handler", None)
    try:
        return int(handler(args) or 0)
    except SoundstageError as exc:
        print(f"soundstage {args.command}: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, FileExistsError, IsADirectoryError, PermissionError) as exc:
        print(f"soundstage {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
