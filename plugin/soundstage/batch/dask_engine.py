"""The Dask engine: jobs on a ``distributed`` cluster, started here or joined at an address.

``DaskEngine(workers)`` starts a ``LocalCluster`` of ``workers`` single-threaded worker processes
(they inherit this process's environment, ``PYTHONPATH`` included, so they import the same
soundstage); ``DaskEngine(scheduler="tcp://host:port")`` joins an existing cluster whose workers
have soundstage installed and see the same input, preset and output paths (a shared file system).
Dask is an optional dependency: ``pip install "soundstage[dask]"``.

The cluster this engine starts hands each worker one job at a time
(``distributed.scheduler.worker-saturation = 1``): renders are long, and a worker that dies takes
only its running job with it. Dask retries a job whose worker died up to
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
        dask, distributed = _import_distributed()
        try:
            if self.scheduler is None:
                with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                    self.cluster = distributed.LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0" if _has_dashboard() else None, silence_logs=logging.ERROR)
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
        _, distributed = _import_distributed()
        run = uuid.uuid4().hex[:8]
        futures = {}
        for job in jobs:
            future = self.client.submit(run_job, job, key=f"soundstage-batch-{run}-{job.index}", pure=False)
            futures[future] = job
        try:
            for future in distributed.as_completed(list(futures)):
                job = futures[future]
                try:
                    yield future.result()
                except distributed.KilledWorker:
                    yield failed_result(job, WORKER_DIED)
                except Exception as exc:  # noqa: BLE001 - lost connection, cancelled: reported per job
                    yield failed_result(job, f"{type(exc).__name__}: {exc}")
                finally:
                    future.release()
        finally:
            self.client.cancel([f for f in futures if not f.done()])


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401 - the dashboard needs it
    except ImportError:
        return False
    return True
