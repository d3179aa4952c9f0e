"""``soundstage analyze PRESET -o DIR``: figures, metrics.json, summary.md and summary.html."""

from __future__ import annotations

import argparse
import sys

from .outputs import add_overwrite_flag, checked_output_directory

__all__ = ["add_analyze_parser", "run_analyze"]


def add_analyze_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``analyze`` sub-command to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    parser = subparsers.add_parser(
        "analyze", help="spatial analysis of a preset (figures, metrics.json, summary.md/html)",
        description="Analyse a preset through the listening simulation: crosstalk cancellation per band, "
                    "image azimuth of hard-left sources and a pan sweep, the listening zone, the centre beam, "
                    "depth (DRR) in a room, colouration and driver effort; beside the unprocessed enclosure "
                    "and a ±30° loudspeaker pair.")
    parser.add_argument("preset", help="preset name (see 'soundstage presets') or .toml path")
    parser.add_argument("--room", default=None,
                        help="room of the listening simulation: anechoic (default), living-room or studio")
    parser.add_argument("--head", default=None,
                        help="listener head: sphere, brown-duda, kemar (built-in measured head) or a .sofa file "
                             "(default: the preset's design head); evaluates the preset's design on that head")
    parser.add_argument("--sample-rate", type=float, default=48000.0, help="sample rate in Hz (default 48000)")
    parser.add_argument("-o", "--output", required=True, help="output directory (created if needed)")
    parser.add_argument("--track", default=None, metavar="TRACK.csv",
                        help="instead: separation (CTC alone, 1-6 kHz) and hard-left image azimuth along a "
                             "listener track, tracked vs fixed design (track.json, track.png, track.txt)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_overwrite_flag(parser)
    parser.set_defaults(handler=run_analyze)
    return parser


def _analyze_with_progress(args: argparse.Namespace, analyze):
    """Run the analysis with a progress bar over its stages on stderr (unless ``--quiet``)."""
    from tqdm import tqdm

    from .. import presets
    from ..monitor.analysis import ANALYSIS_STAGES
    from ..monitor.auralizer import resolve_room

    preset = presets.load(args.preset)  # bad names and files fail here, before any progress is shown
    resolve_room(args.room)

    with tqdm(total=len(ANALYSIS_STAGES), desc=f"analysing {args.preset}", unit="stage",
              disable=args.quiet, bar_format="{desc}: {n}/{total}{postfix}") as bar:
        def step(stage: str) -> None:
            if bar.n or stage != ANALYSIS_STAGES[0]:
                bar.update(1)
            bar.set_postfix_str(stage)

        analysis = analyze(preset, room=args.room, head=args.head, sample_rate=args.sample_rate,
                           progress=step)
        bar.update(bar.total - bar.n)
    return analysis


def run_analyze(args: argparse.Namespace) -> int:
    """Run ``soundstage analyze`` with parsed ``args``; returns the exit code.

    Writes ``metrics.json``, ``summary.md``, ``summary.html`` and the PNG figures of
    :mod:`soundstage.monitor.figures` into ``args.output``. Soundstage errors and file-system
    errors are reported as one line on stderr (exit code 1).
    """
    from .._errors import SoundstageError

    try:
        from ..monitor.analysis import analyze
        from ..monitor.analysis_summary import summary_html

        output = checked_output_directory(args.output, args.overwrite)
        if args.track is not None:
            return _analyze_track(args, output)
        analysis = _analyze_with_progress(args, analyze)
        output.mkdir(parents=True, exist_ok=True)
        figures = analysis.figures(output)
        analysis.to_json(output / "metrics.json")
        (output / "summary.md").write_text(analysis.summary_markdown(), encoding="utf-8")
        (output / "summary.html").write_text(summary_html(analysis, [p.name for p in figures]), encoding="utf-8")
    except (SoundstageError, OSError) as exc:
        message = " ".join(str(exc).split())
        print(f"soundstage analyze: {message}", file=sys.stderr)
        return 1
    targets = analysis.metrics["targets"]
    missed = [t["what"] for t in targets.values() if t["met"] is False]
    print(f"wrote {output}: metrics.json, summary.md, summary.html and {len(figures)} figures; "
          f"{len(missed)} target(s) missed", file=sys.stderr)
    return 0


def _analyze_track(args: argparse.Namespace, output) -> int:
    """``soundstage analyze PRESET --track TRACK.csv -o DIR``: the path, tracked vs fixed."""
    import json

    from .._atomic import write_text_atomic
    from ..processor import ListenerTrack
    from ..monitor.tracking_analysis import analyze_track

    track = ListenerTrack.from_csv(args.track)
    result = analyze_track(args.preset, track, head=args.head, sample_rate=args.sample_rate)
    output.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output / "track.json", json.dumps(result.to_dict(), indent=1))
    write_text_atomic(output / "track.txt", result.table() + "\n")
    result.figure(output / "track.png")
    print(result.table())
    print(f"wrote {output}: track.json, track.txt, track.png; worst separation tracked "
          f"{result.separation_tracked_db.min():.1f} dB vs fixed {result.separation_fixed_db.min():.1f} dB",
          file=sys.stderr)
    return 0
