"""Where jobs run: in this process, in a pool of threads, or in a pool of worker processes.

Every engine is a context manager (it starts and stops its workers) with ``results(jobs)``, an
iterator over the jobs' result records in the order they finish. The Dask engine, for more than
one machine, is in :mod:`.dask_engine`.

Processes are the default: a render is a Python-orchestrated streaming loop around kernels that
release the GIL, and ``benchmarks/batch.py`` measures processes ahead of threads on two cores.
Worker processes are forked from this process when it runs no other thread (they start at once,
with soundstage imported), else they come from a fork server that imported soundstage once
(``spawn`` where there is no fork). A worker that dies (killed, out of memory, a crash in native code) breaks a
pipe to it: its job is retried alone in a fresh process, so the job that kills its worker is the
one reported as failed; the other workers go on.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Iterator

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


def _group(job: Job) -> tuple:
    """Jobs that share a design: a worker that rendered one has the filters for the others cached."""
    return job.preset, job.parameter_set, job.monitor


def _input_bytes(job: Job) -> int:
    try:
        return os.path.getsize(job.input)
    except OSError:
        return 0


def _serve(connection) -> None:
    """A worker process: render each job it is sent, send back its result; ``None`` ends it."""
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        connection.send(run_job(job))


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="soundstage-batch-worker")
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.designed: set = set()

    def submit(self, job: Job) -> None:
        self.job = job
        self.designed.add(_group(job))
        self.connection.send(job)

    def result(self) -> dict:
        """The running job's result; ``EOFError`` if the process died while rendering it."""
        try:
            return self.connection.recv()
        finally:
            self.job = None

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class ProcessEngine(SerialEngine):
    """A pool of ``workers`` processes on this machine (the default engine).

    The engine decides which worker renders which job: a design takes as long as several renders,
    and a worker keeps the filters it designed (``soundstage.design`` caches them per process), so
    a free worker takes the next job of a preset and parameter set it has rendered before, else of
    one no worker has designed yet, else — where that group has at least two jobs left — one of
    another worker's groups. The largest inputs go first. A worker that dies takes only its own
    job with it.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: list[_Worker] = []

    def __enter__(self):
        # every worker starts now, before a progress bar or anything else starts a thread
        context = _process_context(forking_is_safe=True)
        self._pool = [_Worker(context) for _ in range(self.workers)]
        return self

    def __exit__(self, *exc) -> None:
        for worker in self._pool:
            worker.stop()

    def _next_job(self, worker: _Worker, pending: list[Job]) -> Job | None:
        anyone = set().union(*(w.designed for w in self._pool))
        left: dict = {}
        for job in pending:
            left[_group(job)] = left.get(_group(job), 0) + 1
        for wanted in (lambda g: g in worker.designed, lambda g: g not in anyone, lambda g: left[g] >= 2):
            for i, job in enumerate(pending):
                if wanted(_group(job)):
                    return pending.pop(i)
        return None

    def _feed(self, pending: list[Job], *, any_job: bool = False) -> None:
        for worker in self._pool:
            if worker.job is None and pending:
                job = pending.pop(0) if any_job else self._next_job(worker, pending)
                if job is not None:
                    worker.submit(job)

    def results(self, jobs: Iterable[Job]) -> Iterator[dict]:
        from multiprocessing.connection import wait

        pending = sorted(jobs, key=_input_bytes, reverse=True)  # stable: the plan's order among equals
        suspects: list[Job] = []
        self._feed(pending)
        while pending or any(w.job is not None for w in self._pool):
            busy = [w for w in self._pool if w.job is not None]
            if not busy:  # what is left belongs to groups no idle worker was let to take
                self._feed(pending, any_job=True)
                continue
            ready = wait([w.connection for w in busy])
            for worker in busy:
                if worker.connection not in ready:
                    continue
                job = worker.job
                try:
                    yield worker.result()
                except (EOFError, OSError):  # the worker died while rendering this job
                    suspects.append(job)
                    index = self._pool.index(worker)
                    worker.stop()
                    self._pool[index] = _Worker(_process_context(forking_is_safe=False))
            self._feed(pending)
        for job in suspects:  # alone, so that a job that kills its worker again is the one reported
            worker = _Worker(_process_context(forking_is_safe=False))
            try:
                worker.submit(job)
                yield {**worker.result(), "note": RETRIED}
            except (EOFError, OSError):
                yield failed_result(job, WORKER_DIED)
            finally:
                worker.stop()
