"""What every job queue does, and the embedded backend's, which is its store.

A queue hands jobs to the workers: :meth:`Queue.send` when a job is made (or must be looked at again),
and :meth:`Queue.work` in a worker process, which calls ``take(job_id)`` for each job it delivers
(``None``: any job the store has for a worker) and ``tick()`` between them for the worker's
housekeeping, until ``stopping`` is set. ``take`` claims the job in the store and runs it; it answers
the job it ran, or None when there was none to claim.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from service.jobs.records import Job

#: Claim a job (``None``: any) and run it; the job it ran, or None.
Take = Callable[[str | None], Job | None]


class Queue(Protocol):
    def send(self, job_id: str) -> None:
        """Hand the job to the workers (:class:`~service.errors.BackendUnavailable` if the queue cannot be reached)."""

    def work(self, take: Take, tick: Callable[[], None], stopping: threading.Event) -> None:
        """Deliver jobs to ``take`` until ``stopping`` is set, calling ``tick`` when idle."""


class StoreQueue:
    """The embedded backend's queue: the store itself. A new job waits in it as ``queued``; a worker polls for it (or for a
    job whose lease ran out) every :data:`POLL_SECONDS`."""

    #: Seconds an idle worker waits between looks.
    POLL_SECONDS = 0.2

    def send(self, job_id: str) -> None:
        """Nothing to do: the job is in the store, where the workers look."""

    def work(self, take: Take, tick: Callable[[], None], stopping: threading.Event) -> None:
        while not stopping.is_set():
            if take(None) is None:
                tick()
                stopping.wait(self.POLL_SECONDS)
