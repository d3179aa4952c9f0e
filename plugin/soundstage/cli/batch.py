"""``soundstage batch MANIFEST -o OUTDIR``: a catalogue through presets and parameter sets, resumably,
on a local pool or a Dask cluster."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_batch_parser", "run_batch"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def add_batch_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``batch`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "batch", help="render a manifest's inputs x presets x parameter sets (local pool or Dask)",
        description="Render every job of a TOML manifest that is not up to date; write a JSON sidecar per "
                    "output and batch-report.json; exit 1 if any job failed.")
    parser.add_argument("manifest", help="manifest file (.toml)")
    parser.add_argument("-o", "--output", help="output directory (default: the manifest's output.directory)")
    parser.add_argument("--engine", choices=["local", "threads", "serial", "dask"], default="local",
                        help="local process pool (default), threads, this process, or a Dask LocalCluster")
    parser.add_argument("--workers", type=_positive_int, help="processes, threads or Dask workers (default: all cores)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="join a running Dask cluster (implies --engine dask)")
    parser.add_argument("--monitor", choices=["drivers", "headphones"],
                        help="override the manifest: driver feeds, or the listening simulation's ear signals")
    parser.add_argument("--force", action="store_true", help="render every job, even up-to-date ones")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run_batch)
    return parser


def run_batch(args: argparse.Namespace) -> int:
    """Run ``soundstage batch`` with parsed ``args``; 0 if every job rendered or was up to date, else 1."""
    from ..batch import render_batch

    report = render_batch(args.manifest, args.output, engine=args.engine, workers=args.workers,
                          scheduler=args.scheduler, monitor=args.monitor, force=args.force, progress=not args.quiet)
    print(report.summary_table(), file=sys.stderr)
    print(f"report: {report.output_dir}/batch-report.json", file=sys.stderr)
    return 0 if report.ok else 1
