"""The job backend in use (``GRADIENT_JOBS_BACKEND``): its store, how a job is queued, and what a worker process runs.

- ``embedded``: SQLite under ``data_dir``; workers poll it for a queued job or one whose lease ran out.
- ``redis``: job state in Redis (:mod:`service.jobs.redis_store`), each job a Dramatiq message on a Redis
  broker (:mod:`service.jobs.redis_queue`); workers are Dramatiq workers. Datasets stay files under
  ``data_dir``, which replicas and workers then share (a volume).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from functools import cache

from service.config import Settings, get_settings
from service.jobs.datasets import Datasets
from service.jobs.runner import run
from service.jobs.store import JobStore

log = logging.getLogger("service.jobs")

#: Seconds an idle embedded worker waits between looks for a job.
POLL_SECONDS = 0.2


def worker_name() -> str:
    """This process as a lease holder: host and pid (the supervisor releases a dead worker's leases by it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Backend:
    settings: Settings
    store: JobStore
    datasets: Datasets

    def enqueue(self, job_id: str) -> None:
        """Hand a new job to the workers (embedded: they find it in the store)."""
        if self.settings.jobs_backend == "redis":
            from service.jobs.redis_queue import send

            send(self.settings, job_id)

    def expire(self) -> None:
        self.store.expire(time.time() - self.settings.job_retention_seconds)

    def work(self, stopping: threading.Event) -> None:
        """The worker loop of this process, until ``stopping`` is set (SIGTERM finishes the step, checkpoints, and returns)."""
        if self.settings.jobs_backend == "redis":
            from service.jobs.redis_queue import work

            work(self, stopping)
            return
        worker = worker_name()
        while not stopping.is_set():
            job = self.store.claim(worker, self.settings.job_lease_seconds, time.time())
            if job is None:
                self.expire()
                stopping.wait(POLL_SECONDS)
                continue
            log.info("worker %s runs job %s (attempt %d, from step %d)", worker, job.id, job.attempts, job.step)
            run(self.store, self.datasets, job, worker, self.settings, stopping)


def make_backend(settings: Settings) -> Backend:
    datasets = Datasets(settings.data_dir / "datasets")
    store: JobStore
    if settings.jobs_backend == "redis":
        from service.jobs.redis_store import RedisStore

        store = RedisStore(settings.redis_url)
    else:
        from service.jobs.sqlite_store import SqliteStore

        store = SqliteStore(settings.data_dir / "jobs.sqlite3")
    return Backend(settings, store, datasets)


@cache
def get_backend() -> Backend:
    """This process's backend, made on first use."""
    return make_backend(get_settings())


def main() -> None:
    """``gradient-service worker``: run training jobs until SIGTERM or SIGINT."""
    logging.basicConfig(level=get_settings().log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    get_backend().work(stopping)


if __name__ == "__main__":
    main()
