"""A job worker process: takes jobs from the backend's queue and runs them, until SIGTERM or SIGINT.

It never exits because the backend is away: every wait for it is a :class:`~service.jobs.backoff.Backoff`
(one log line per step), and the queue's own loop resumes once it is back. Between jobs it keeps the
data dir clean: finished jobs past ``job_retention_seconds`` go (their files too), and so do temporary
files and folders that a killed process left (on a shared data dir, every :data:`CLEAN_SECONDS`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from service.errors import BackendUnavailable, InsufficientStorage
from service.jobs.backend import Backend
from service.jobs.backoff import Backoff
from service.jobs.cleanup import sweep
from service.jobs.records import Job
from service.jobs.runner import Prepare, run

log = logging.getLogger("service.jobs")

#: Seconds between two cleanings of the data dir's temporary files by a worker.
CLEAN_SECONDS = 300.0
#: Finished jobs deleted per look (their files with them).
EXPIRE_BATCH = 100


def worker_name() -> str:
    """This process as a lease holder: host and pid (the supervisor releases a dead worker's leases by it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """This process's worker: what the queue calls to run a job, and the housekeeping between jobs."""

    def __init__(self, backend: Backend, prepare: Prepare, stopping: threading.Event) -> None:
        self.backend, self.prepare, self.stopping = backend, prepare, stopping
        self.name = worker_name()
        self._cleaned = 0.0
        self._backoff = Backoff("the job store")

    def take(self, job_id: str | None) -> Job | None:
        """Claim ``job_id`` (None: any job waiting for a worker) and run it; the job, or None if there was none to claim."""
        settings = self.backend.settings
        try:
            job = self.backend.store.claim(self.name, settings.job_lease_seconds, time.time(), job_id)
            self._backoff.recovered()
        except BackendUnavailable as exc:
            self._backoff.wait(exc, self.stopping)
            return None
        if job is not None:
            run(self.backend, self.prepare, job, self.name, self.stopping)
        return job

    def tick(self) -> None:
        """Housekeeping: expire finished jobs past their retention; now and then, remove stale temporary files."""
        settings, store = self.backend.settings, self.backend.store
        try:
            for job in store.expired(time.time() - settings.job_retention_seconds, EXPIRE_BATCH):
                store.delete(job.id)
                self.backend.files.delete(job.tenant, job.id)
            if not self.backend.exclusive and time.monotonic() - self._cleaned > CLEAN_SECONDS:  # a data dir shared by replicas
                self._cleaned = time.monotonic()
                sweep(self.backend, settings.dataset_body_timeout_seconds)
            self._backoff.recovered()
        except (BackendUnavailable, InsufficientStorage) as exc:
            self._backoff.wait(exc, self.stopping)

    def serve(self) -> None:
        """Run jobs from the queue until ``stopping``; a queue that fails because its backend is away is started again."""
        backoff = Backoff("the job queue")
        while not self.stopping.is_set():
            try:
                self.backend.queue.work(self.take, self.tick, self.stopping)
            except BackendUnavailable as exc:
                backoff.wait(exc, self.stopping)
