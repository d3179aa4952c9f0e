"""``soundstage render IN -o OUT``: an audio file into driver feeds (or headphones), streamed."""

from __future__ import annotations

import argparse
import sys

from .outputs import add_overwrite_flag, checked_output_file

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
    parser.add_argument("--track", default=None, metavar="TRACK.csv",
                        help="listener track (CSV rows: time_s, x_m, y_m, z_m, yaw_deg re the design position): "
                             "the filters follow the listener; with --monitor headphones the simulated "
                             "listener moves along it too")
    parser.add_argument("--gain", type=_gain, default=None, metavar="auto|DB",
                        help="gain of the output: 'auto' = the largest keeping every driver's true peak "
                             "<= -1 dBTP (from the input's peak and the filters' worst-case gain); default "
                             "auto for integer outputs (FLAC, 16/24-bit WAV/AIFF), 0 dB for float WAV; "
                             "headphone renders default to the input's loudness (BS.1770)")
    parser.add_argument("--bit-depth", type=int, choices=[16, 24, 32], default=None,
                        help="output bit depth; 32 = float (WAV/AIFF only). Default: float WAV/AIFF, 24-bit FLAC")
    parser.add_argument("--buffer-size", type=int, default=8192, help="samples per processing step")
    parser.add_argument("--threads", type=int, choices=[1, 2], default=None,
                        help="threads rendering the driver feeds (the output is bitwise the same); default 2 "
                             "where at least two cores are available to this process, else 1")
    add_overwrite_flag(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run_render)
    return parser


def _gain(text: str):
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--gain takes 'auto' or a number of dB, got {text!r}") from None


def run_render(args: argparse.Namespace) -> int:
    """Run ``soundstage render`` with parsed ``args``; returns the exit code. Ends with one line
    on stderr: each output channel's peak (dBFS) and the gain applied. The render itself is
    :func:`soundstage.batch.render_file`, the code path of every batch job."""
    from pathlib import Path

    from .._errors import ParameterError
    from ..batch.levels import peak_line
    from ..batch.render import render_file
    from ..processor.render_stream import default_num_threads

    if not Path(args.input).is_file():
        raise ParameterError(f"input file {args.input} does not exist or is not a file")
    checked_output_file(args.output, args.overwrite)
    if args.bit_depth == 32 and Path(args.output).suffix.lower() == ".flac":
        raise ParameterError(f"--bit-depth 32 (float) is not available for FLAC ({args.output}); use 16 or 24")
    result = render_file(args.input, args.output, args.preset, dict(args.param), monitor=args.monitor,
                         gain=args.gain, bit_depth=args.bit_depth, buffer_size=args.buffer_size,
                         overwrite=args.overwrite, progress=not args.quiet, track=args.track,
                         num_threads=args.threads if args.threads is not None else default_num_threads())
    names = result.channel_names
    print(f"wrote {args.output}: {len(names)} channels ({', '.join(names)})", file=sys.stderr)
    print(peak_line(names, result.peaks_dbfs, result.gain_db, result.gain_rule), file=sys.stderr)
    return 0
