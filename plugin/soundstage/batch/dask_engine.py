"""The Dask engine: jobs on a ``distributed`` cluster, started here or joined at an address.

``DaskEngine(workers)`` starts a ``LocalCluster`` of ``workers`` single-threaded worker processes
(they inherit this process's environment, ``PYTHONPATH`` included, so they import the same
soundstage); ``DaskEngine(scheduler="tcp://host:port")`` joins an existing cluster whose workers
have soundstage installed and see the same input, preset and output paths (a shared file system).
Dask is an optional dependency: ``pip install "soundstage[dask]"``.

The engine keeps only as many jobs on the cluster as it has worker threads and submits the next
when one ends: renders are long, and a worker that dies takes only its running job with it. Dask retries a job whose worker died up to
``distributed.scheduler.allowed-failures`` times (Dask's configuration, default 3); after that the
job is reported as failed, and the run goes on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator

from .._errors import ParameterError
from .engines import WORKER_DIED, default_workers
from .jobs import Job, failed_result, run_job

__all__ = ["DaskEngine"]

#: Seconds to wait for a cluster to start or answer before giving up.
CONNECT_TIMEOUT_S = 60


def _import_distributed():
    try:
        import dask
        import distributed
    except ImportError as exc:
        raise ParameterError('engine "dask" needs Dask: pip install "soundstage[dask]" '
                             '(or pip install "dask[distributed]")') from exc
    return dask, distributed


class DaskEngine:
    """Jobs on a Dask ``distributed`` cluster.

    Parameters
    ----------
    workers : int, optional
        Worker processes of the ``LocalCluster`` to start (default: this machine's cores).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``) to join instead.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.scheduler = scheduler
        self.workers = workers or (None if scheduler else default_workers())
        self.cluster = None
        self.client = None
        self.dashboard_link = None

    def __enter__(self):
        _, distributed = _import_distributed()
        try:
            if self.scheduler is None:
                self.cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster, timeout=CONNECT_TIMEOUT_S)
            else:
                self.client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT_S)
                self.workers = sum(self.client.nthreads().values())
            if _has_dashboard() or self.scheduler is not None:
                self.dashboard_link = self.client.dashboard_link
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for closable in (self.client, self.cluster):
            if closable is not None:
                try:
                    closable.close(timeout=CONNECT_TIMEOUT_S)
                except Exception:  # noqa: BLE001 - shutting down; nothing left to save
                    pass
        self.client = self.cluster = None

    def results(self, jobs: Iterable[Job]) -> Iterator[dict]:
        """Submit as many jobs as the cluster has worker threads, and another whenever one ends: every
        worker holds only the job it runs (a worker that dies takes no queued job with it), and
        workers that join an adaptive cluster get work at the next refill."""
        _, distributed = _import_distributed()
        run = uuid.uuid4().hex[:8]
        waiting, futures = list(jobs)[::-1], {}
        running = distributed.as_completed()

        def refill() -> None:
            window = max(sum(self.client.nthreads().values()), 1)
            while waiting and running.count() < window:
                job = waiting.pop()
                future = self.client.submit(run_job, job, key=f"soundstage-batch-{run}-{job.index}", pure=False)
                futures[future] = job
                running.add(future)

        try:
            refill()
            while not running.is_empty():
                future = next(running)
                job = futures.pop(future)
                try:
                    result = future.result()
                except distributed.KilledWorker:
                    result = failed_result(job, WORKER_DIED)
                except Exception as exc:  # noqa: BLE001 - lost connection, cancelled: reported per job
                    result = failed_result(job, f"{type(exc).__name__}: {exc}")
                finally:
                    future.release()
                refill()
                yield result
        finally:
            self.client.cancel(list(futures))


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401 - the dashboard needs it
    except ImportError:
        return False
    return True
