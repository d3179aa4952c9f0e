"""The ``soundstage`` command's parser and dispatcher (one module per sub-command)."""

from __future__ import annotations

import argparse
import sys

from .analyze import add_analyze_parser
from .batch import add_batch_parser
from .compare import add_compare_parser
from .demo import add_demo_parser
from .presets import add_presets_parser
from .render import add_render_parser

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``soundstage`` argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="soundstage",
        description="A ±30° stereo image from one compact loudspeaker enclosure.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_render_parser, add_presets_parser, add_demo_parser, add_analyze_parser, add_compare_parser,
                add_batch_parser):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    from .._errors import SoundstageError

    try:
        return int(args.handler(args) or 0)
    except SoundstageError as exc:
        print(f"soundstage {args.command}: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, FileExistsError, IsADirectoryError, PermissionError) as exc:
        print(f"soundstage {args.command}: {exc}", file=sys.stderr)
        return 1
