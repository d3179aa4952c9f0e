"""``soundstage demo``: the built-in test mix through every preset (see :mod:`.demo_renders`)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_demo_parser", "run_demo_command"]


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser("demo", help="render a built-in test mix through every preset")
    parser.add_argument("-o", "--output", default="demo-output", help="output directory")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the test mix")
    parser.add_argument("--sample-rate", type=float, default=48000.0, help="sample rate in Hz")
    parser.set_defaults(handler=run_demo_command)
    return parser


def run_demo_command(args: argparse.Namespace) -> int:
    """Run ``soundstage demo`` with parsed ``args``; returns the exit code."""
    from .demo_renders import run_demo

    print(run_demo(Path(args.output), seconds=args.seconds, sample_rate=args.sample_rate))
    return 0
