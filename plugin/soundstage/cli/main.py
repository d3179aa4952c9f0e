"""The ``soundstage`` command's parser and dispatcher (one module per sub-command).

One contract for every sub-command: errors are one line on stderr naming the flag or file
(no traceback unless ``--debug``); exit code 0 success, 1 a failure (bad input, preset,
parameter or file), 2 a usage error (argparse), 130 on Ctrl-C and 128 + the signal number on
SIGTERM / SIGHUP — the signal unwinds the render like an exception, so temporary files are
removed and nothing half-written is left under a final name.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import traceback

from .analyze import add_analyze_parser
from .batch import add_batch_parser
from .compare import add_compare_parser
from .demo import add_demo_parser
from .presets import add_presets_parser
from .render import add_render_parser

__all__ = ["main", "build_parser", "Terminated"]

#: Exit status of an interrupted command (128 + SIGINT).
EXIT_INTERRUPTED = 130


class Terminated(BaseException):
    """Raised in the main thread by SIGTERM / SIGHUP so that cleanup code runs (like Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def build_parser() -> argparse.ArgumentParser:
    """The ``soundstage`` argument parser with every sub-command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="soundstage",
        description="A ±30° stereo image from one compact loudspeaker enclosure.",
    )
    parser.add_argument("--version", action="version", version=f"soundstage {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (add_render_parser, add_presets_parser, add_demo_parser, add_analyze_parser, add_compare_parser,
                add_batch_parser):
        add(sub)
    for command in sub.choices.values():  # every sub-command's help shows its defaults
        command.formatter_class = argparse.ArgumentDefaultsHelpFormatter
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the full traceback of an error")
    return parser


@contextlib.contextmanager
def _signals_raise():
    """SIGTERM and SIGHUP raise :class:`Terminated` in the main thread while the command runs."""
    def handler(signum, frame):
        raise Terminated(signum)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            try:
                previous[number] = signal.signal(number, handler)
            except ValueError:  # not the main thread: leave signals alone
                pass
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextlib.contextmanager
def _warnings_as_lines(name: str):
    """Warnings reach the user as one line each, ``soundstage CMD: warning: …``."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{name}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .._errors import SoundstageError

    name = f"soundstage {args.command}"
    try:
        with _signals_raise(), _warnings_as_lines(name):
            return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as stop:
        print(f"{name}: stopped by signal {signal.Signals(stop.signum).name}", file=sys.stderr)
        return 128 + stop.signum
    except (SoundstageError, OSError) as error:
        if args.debug:
            traceback.print_exc()
        print(f"{name}: {_one_line(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say so in one line, the traceback on request
        if args.debug:
            traceback.print_exc()
        print(f"{name}: internal error ({type(error).__name__}: {_one_line(error)}); run with --debug for "
              "the traceback and report it", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).split())
