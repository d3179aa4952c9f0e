"""``soundstage demo``: the built-in test mix through every preset (see :mod:`.demo_renders`)."""

from __future__ import annotations

import argparse
from .outputs import add_overwrite_flag, checked_output_directory

__all__ = ["add_demo_parser", "run_demo_command"]


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser("demo", help="render a built-in test mix through every preset")
    parser.add_argument("-o", "--output", default="demo-output", help="output directory")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the test mix")
    parser.add_argument("--sample-rate", type=float, default=48000.0, help="sample rate in Hz")
    parser.add_argument("--no-analysis", action="store_true",
                        help="leave out the spatial analysis (figures and key figures in index.html)")
    add_overwrite_flag(parser)
    parser.set_defaults(handler=run_demo_command)
    return parser


def run_demo_command(args: argparse.Namespace) -> int:
    """Run ``soundstage demo`` with parsed ``args``; returns the exit code."""
    from .._errors import ParameterError
    from .demo_renders import run_demo

    if not (args.seconds > 0 and args.seconds <= 600):
        raise ParameterError(f"--seconds must be in (0, 600], got {args.seconds:g}")
    if not (22050 <= args.sample_rate <= 192000):
        raise ParameterError(f"--sample-rate must be in [22050, 192000] Hz, got {args.sample_rate:g}")
    output = checked_output_directory(args.output, args.overwrite)
    print(run_demo(output, seconds=args.seconds, sample_rate=args.sample_rate, analysis=not args.no_analysis))
    return 0
