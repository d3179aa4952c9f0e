"""Where jobs run: in this process, in a pool of threads, or in a pool of worker processes.

Every engine is a context manager (it starts and stops its workers) with ``results(jobs)``, an
iterator over the jobs' result records in the order they finish. The Dask engine, for more than
one machine, is in :mod:`.dask_engine`.

Processes are the default: a render is a Python-orchestrated streaming loop around kernels that
release the GIL, and ``benchmarks/batch.py`` measures processes ahead of threads on two cores.
Worker processes are forked from this process when it runs no other thread (they start at once,
with soundstage imported), else they come from a fork server that imported soundstage once
(``spawn`` where there is no fork). A worker that dies (killed, out of memory, a crash in native code) breaks a
``ProcessPoolExecutor``: the jobs that had not started are resubmitted to a fresh pool, and the
ones that were running are retried one at a time in a pool of their own, so the job that kills
its worker is the one reported as failed.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .jobs import Job, failed_result, run_job

__all__ = ["ENGINES", "SerialEngine", "ThreadEngine", "ProcessEngine", "default_workers",
           "WORKER_DIED", "RETRIED"]

ENGINES = ("local", "threads", "serial", "dask")
WORKER_DIED = "the worker process died while rendering this job (killed, out of memory or crashed)"
RETRIED = "rendered again, alone, after a worker process died while it ran"


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(os.cpu_count() or 1, 1)


class SerialEngine:
    """Every job in this process, one after the other (the reference the pools are measured against)."""

    name = "serial"
    workers = 1
    dashboard_link = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def results(self, jobs: Iterable[Job]) -> Iterator[dict]:
        for job in jobs:
            yield run_job(job)


class ThreadEngine(SerialEngine):
    """A pool of ``workers`` threads in this process."""

    name = "threads"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool = None

    def __enter__(self):
        self._pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="soundstage-batch")
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def results(self, jobs: Iterable[Job]) -> Iterator[dict]:
        futures = [self._pool.submit(run_job, job) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()


def _warm(_: int = 0) -> int:
    """Run in each new worker so that the pool starts all its processes at once."""
    return os.getpid()


def _process_context(forking_is_safe: bool):
    """``fork`` while this process runs no other Python thread (a worker then starts in
    milliseconds with soundstage already imported); otherwise a fork server that imported
    soundstage once (forking a threaded process can deadlock the child); ``spawn`` elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    if forking_is_safe and "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["soundstage.batch.jobs"])
        return context
    return multiprocessing.get_context("spawn")


class ProcessEngine(SerialEngine):
    """A pool of ``workers`` processes on this machine (the default engine)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool = None

    def __enter__(self):
        self._pool = self._new_pool(self.workers, forking_is_safe=True)
        # start every worker now, before a progress bar or anything else starts a thread
        list(self._pool.map(_warm, range(self.workers)))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self, workers: int, forking_is_safe: bool = False):
        return concurrent.futures.ProcessPoolExecutor(workers, mp_context=_process_context(forking_is_safe))

    def results(self, jobs: Iterable[Job]) -> Iterator[dict]:
        pending, suspects = list(jobs), []
        while pending:
            futures = {self._pool.submit(run_job, job): job for job in pending}
            pending = []
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except BrokenProcessPool:
                    # running when a worker died (its staging directory exists): a suspect
                    (suspects if Path(job.staging).exists() else pending).append(job)
            if pending or suspects:
                self._pool.shutdown(wait=True)
                self._pool = self._new_pool(self.workers)
        for job in suspects:
            self._pool.shutdown(wait=True)
            self._pool = self._new_pool(1)
            try:
                yield {**self._pool.submit(run_job, job).result(), "note": RETRIED}
            except BrokenProcessPool:
                yield failed_result(job, WORKER_DIED)
