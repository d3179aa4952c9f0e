"""``soundstage compare``: an A/B report of presets on one audio file.

    soundstage compare song.wav -p compact-speaker -p soundbar --room living-room -o report.html

Writes one self-contained HTML page (``-o *.html``) or a directory with the page, the renders
and the metrics (any other ``-o``). Heavy imports wait until the arguments are parsed.
"""

from __future__ import annotations

import argparse
import sys

from .outputs import add_overwrite_flag, checked_output_directory, checked_output_file

__all__ = ["add_compare_parser", "run_compare"]


def _preset_parameter(text: str) -> tuple[str, str, object]:
    """``PRESET:NAME=VALUE`` → (preset, name, value) with numbers and booleans converted."""
    preset, sep, assignment = text.partition(":")
    name, eq, value = assignment.partition("=")
    if not (sep and eq and preset and name):
        raise argparse.ArgumentTypeError(f"--param takes PRESET:NAME=VALUE (e.g. soundbar:width_deg=20), got {text!r}")
    name = name.strip().replace("-", "_")
    lowered = value.strip().lower()
    if lowered in ("true", "on", "yes", "false", "off", "no"):
        return preset, name, lowered in ("true", "on", "yes")
    if name == "bypass":
        return preset, name, frozenset(s for s in value.split(",") if s)
    try:
        return preset, name, float(value)
    except ValueError:
        return preset, name, value


def add_compare_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``compare`` sub-command to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    parser = subparsers.add_parser(
        "compare", help="loudness-matched A/B report of presets (HTML)",
        description="Render one audio file through several presets, match their headphone renders' loudness "
                    "(ITU-R BS.1770, ±0.1 LU, sample peaks <= -1 dBFS) and write an HTML report with "
                    "synchronised players, metrics and figures.")
    parser.add_argument("input", help="input audio file (stereo or mono; WAV, FLAC, MP3 ...)")
    parser.add_argument("-p", "--preset", action="append", default=[], dest="presets", metavar="PRESET",
                        help="preset name or .toml path (repeat: -p A -p B ...)")
    parser.add_argument("-o", "--output", required=True,
                        help="report: a .html file, or a directory for the page, renders and metrics")
    parser.add_argument("--reference", default="stereo-pair",
                        help="reference preset ('stereo-pair': a real ±30° pair); 'none' for no reference")
    parser.add_argument("--room", default=None, help="room of the listening simulation (e.g. living-room); "
                                                     "default free field")
    parser.add_argument("--head", default=None, help="head: sphere, brown-duda or a .sofa file; default the "
                                                     "monitor's")
    parser.add_argument("--param", action="append", default=[], type=_preset_parameter,
                        metavar="PRESET:NAME=VALUE", help="processor parameter for one preset (repeatable)")
    parser.add_argument("--unprocessed", choices=["first", "all", "none"], default="first",
                        help="which presets' enclosures also play the plain mix (default: the first)")
    parser.add_argument("--blind", action="store_true", help="hide preset names (A, B, C ...) and add an ABX test")
    parser.add_argument("--seed", type=int, default=None, help="seed of the blind order (default random)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="length of the excerpt embedded in the page (s; 0 = the whole input). Default: the "
                             "whole input up to 30 s, else 20-30 s (about 150 s over all players) taken from the "
                             "most active part of the input (loudness and side level)")
    parser.add_argument("--excerpt-start", type=float, default=None, metavar="SECONDS",
                        help="start of the embedded excerpt (s); default the most active window")
    parser.add_argument("--audio-format", choices=["wav", "flac"], default="flac",
                        help="embedded audio: 16-bit FLAC (lossless, about a third of WAV's size) or 16-bit WAV")
    parser.add_argument("--ceiling-dbfs", type=float, default=-1.0, help="sample-peak ceiling of the matching")
    parser.add_argument("--no-spatial", action="store_true", help="skip the spatial analysis columns")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_overwrite_flag(parser)
    parser.set_defaults(handler=run_compare)
    return parser


def run_compare(args: argparse.Namespace) -> int:
    """Run ``soundstage compare`` with parsed ``args``; returns the exit code.

    Soundstage errors are reported as one line on stderr (exit code 1).
    """
    from pathlib import Path

    from .._errors import ParameterError, SoundstageError

    try:
        output = Path(args.output)
        if output.suffix:
            output = checked_output_file(output, args.overwrite, suffixes=(".html", ".htm"))
        else:
            output = checked_output_directory(output, args.overwrite)
        from ..compare import compare_file

        parameters: dict = {}
        for preset, name, value in args.param:
            if preset not in args.presets:
                raise ParameterError(f"--param {preset}:{name}: {preset!r} is not one of the presets {args.presets}")
            parameters.setdefault(preset, {})[name] = value
        reference = None if str(args.reference).lower() == "none" else args.reference
        max_seconds = "auto" if args.max_seconds is None else (args.max_seconds if args.max_seconds > 0 else None)
        if args.max_seconds is not None and args.max_seconds < 0:
            raise ParameterError(f"--max-seconds must be >= 0 (0 = the whole input), got {args.max_seconds:g}")
        # the renders stream into temporary files (memory does not grow with the input); they are
        # removed when the report is written, also on an error or a signal
        with compare_file(args.input, args.presets, reference=reference, room=args.room, head=args.head,
                          parameters=parameters, progress=not args.quiet, unprocessed=args.unprocessed,
                          ceiling_dbfs=args.ceiling_dbfs, analyzer=None if args.no_spatial else "default",
                          keep_driver_feeds=not output.suffix) as result:
            options = {"blind": args.blind, "seed": args.seed, "audio_format": args.audio_format,
                       "max_seconds": max_seconds, "excerpt_start_s": args.excerpt_start}
            if output.suffix:
                result.to_html(output, **options)
            else:
                result.to_dir(output, **options)
            excerpt = result.excerpt(max_seconds, args.excerpt_start)
    except SoundstageError as exc:
        print(f"soundstage compare: {exc}", file=sys.stderr)
        return 1
    match = result.match
    guard = (f"; peak guard lowered all by {-match.guard_db:.2f} dB" if match.guard_engaged else "")
    print(f"wrote {output}: {len(result.renders)} versions matched to {match.matched_lufs:.1f} LUFS "
          f"(spread {match.spread_lu:.3f} LU{guard})", file=sys.stderr)
    rate = result.sample_rate
    if excerpt.frames < result.frames:
        print(f"excerpt: {excerpt.start / rate:.1f}-{excerpt.stop / rate:.1f} s of {result.frames / rate:.1f} s "
              f"({excerpt.how})", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
