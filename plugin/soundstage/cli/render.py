"""``soundstage render IN -o OUT``: an audio file into driver feeds (or headphones), streamed."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_render_parser", "parse_param", "run_render"]


def parse_param(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` → (name, value) with numbers, booleans, None and bypass sets converted."""
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


def add_render_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``render`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser("render", help="render an audio file into driver feeds (or headphones)")
    parser.add_argument("input", help="input audio file (stereo or mono)")
    parser.add_argument("-p", "--preset", default="studio-speaker", help="preset name or .toml path")
    parser.add_argument("-o", "--output", required=True, help="output file (WAV/FLAC/AIFF)")
    parser.add_argument("--param", action="append", default=[], type=parse_param, metavar="NAME=VALUE",
                        help="processor parameter, e.g. width_deg=20 or bypass=ctc,beam (repeatable)")
    parser.add_argument("--monitor", choices=["drivers", "headphones"], default="drivers",
                        help="'headphones': the listening simulation's ear signals instead of driver feeds")
    parser.add_argument("--buffer-size", type=int, default=8192, help="samples per processing step")
    parser.add_argument("-y", "--yes", action="store_true", help="overwrite the output file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run_render)
    return parser


def run_render(args: argparse.Namespace) -> int:
    """Run ``soundstage render`` with parsed ``args``; returns the exit code."""
    from ..batch import render_file  # the code path every batch job runs too

    processor, _ = render_file(args.input, args.output, args.preset, dict(args.param), monitor=args.monitor,
                               buffer_size=args.buffer_size, overwrite=args.yes, progress=not args.quiet)
    names = ", ".join(processor.driver_names)
    print(f"wrote {args.output}: {processor.num_output_channels} channels ({names})", file=sys.stderr)
    return 0
