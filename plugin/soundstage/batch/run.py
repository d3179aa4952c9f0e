"""``render_batch``: plan a manifest's jobs, run the pending ones on an engine, report."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .engines import ENGINES, ProcessEngine, SerialEngine, ThreadEngine
from .manifest import Manifest, ManifestError, load_manifest
from .plan import plan_jobs, stage
from .report import BatchReport
from .._errors import ParameterError

__all__ = ["render_batch", "make_engine"]


def render_batch(
    manifest: Manifest | str | os.PathLike,
    output_dir: str | os.PathLike | None = None,
    *,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    monitor: str | None = None,
    force: bool = False,
    progress: bool = True,
    write_report: bool = True,
) -> BatchReport:
    """Render every job of a manifest that is not up to date, on one machine or a Dask cluster.

    Parameters
    ----------
    manifest : Manifest, str or os.PathLike
        A manifest file (see :mod:`soundstage.batch.manifest`) or a loaded one.
    output_dir : str or os.PathLike, optional
        Where outputs, sidecars and ``batch-report.json`` go; default the manifest's
        ``output.directory``.
    engine : {"local", "threads", "serial", "dask"}
        A pool of processes on this machine (default), of threads, this process alone, or Dask
        (a ``LocalCluster`` unless ``scheduler`` is given).
    workers : int, optional
        Processes / threads / Dask workers (default: this machine's cores).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) to run on; implies Dask.
    monitor : {"drivers", "headphones"}, optional
        Overrides the manifest's monitor.
    force : bool
        Render every job, even those whose sidecar says they are up to date.
    progress : bool
        A tqdm bar over the jobs (with × real time) on stderr.
    write_report : bool
        Write ``batch-report.json`` into the output directory.

    Notes
    -----
    The process pool and Dask start worker processes that may import the calling script again
    (``spawn``/fork server): call ``render_batch`` from under ``if __name__ == "__main__":`` in a
    script, as with any ``multiprocessing`` code.

    Returns
    -------
    BatchReport
        Every job's result; :attr:`BatchReport.ok` is false if any job failed. A failed job never
        stops the others and never leaves a partial file under its output name.
    """
    start = time.perf_counter()
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest)
    if output_dir is None:
        if manifest.output_dir is None:
            raise ManifestError(f"{manifest.source}: output.directory: no output directory in the manifest; "
                                "give one (-o OUTDIR)")
        output_dir = manifest.output_dir
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_jobs(manifest, output_dir, monitor=monitor, force=force)
    chosen = make_engine(engine, workers, scheduler)
    report = BatchReport(manifest=manifest.source, output_dir=str(output_dir), engine=chosen.name,
                         workers=chosen.workers)
    results = plan.skipped + plan.failed
    if plan.pending:
        staging_root = tempfile.mkdtemp(prefix=".soundstage-batch-", dir=output_dir)
        try:
            with chosen:
                report.workers, report.dashboard_link = chosen.workers, chosen.dashboard_link
                if chosen.name == "dask" and progress:
                    print(f"Dask dashboard: {chosen.dashboard_link or 'needs bokeh (pip install bokeh)'}",
                          file=sys.stderr)
                # one preset and parameter set after another: a worker reuses the filters it designed
                ordered = sorted(plan.pending, key=lambda job: (job.preset, job.parameter_set, job.index))
                results += _run(chosen, stage(ordered, staging_root), progress, start)
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)
    report.results = sorted(results, key=lambda r: r["index"])
    report.wall_s = time.perf_counter() - start
    if write_report:
        report.write()
    return report


def _run(engine, jobs, progress: bool, start: float) -> list[dict]:
    from tqdm import tqdm

    done, audio_s = [], 0.0
    with tqdm(total=len(jobs), desc="soundstage batch", unit="job", disable=not progress) as bar:
        for result in engine.results(jobs):
            done.append(result)
            audio_s += result.get("audio_s", 0.0)
            failed = sum(r["status"] == "failed" for r in done)
            bar.set_postfix_str(f"{audio_s / max(time.perf_counter() - start, 1e-9):.1f}x real time"
                                + (f", {failed} failed" if failed else ""))
            bar.update(1)
    return done


def make_engine(engine: str = "local", workers: int | None = None, scheduler: str | None = None):
    """The engine called ``engine`` (``"dask"`` when a ``scheduler`` address is given)."""
    if scheduler is not None or engine == "dask":
        from .dask_engine import DaskEngine

        return DaskEngine(workers, scheduler)
    if engine == "local":
        return ProcessEngine(workers)
    if engine == "threads":
        return ThreadEngine(workers)
    if engine == "serial":
        return SerialEngine()
    raise ParameterError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
