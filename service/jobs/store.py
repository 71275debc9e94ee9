"""What every job store does (embedded: :mod:`~service.jobs.sqlite_store`; redis: :mod:`~service.jobs.redis_store`).

A store keeps the records of :mod:`service.jobs.records` (the files a job or dataset holds live under the
data dir: :mod:`service.jobs.files`). Reads and writes for a client name its tenant, and a record of
another tenant is answered as if it did not exist; a worker's calls name the job alone (the tenant
travels with the job). ``worker`` arguments name the lease holder: a write from a worker that lost its
lease is refused. Quotas are checked where the state lives, in the same transaction as the write, so
replicas agree. A store that cannot reach its backend raises :class:`service.errors.BackendUnavailable`.

One contract suite (tests/jobs/test_store_contract.py) runs against every store.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from service.jobs.records import DatasetRecord, HistoryEntry, Job, Page, Quotas, State, Usage

#: What removing a dataset did: removed, not there (or another tenant's), or refused while a job uses it.
Removal = Literal["removed", "missing", "in_use"]


class Store(Protocol):
    """A backend's store of datasets and jobs (see the module docstring)."""

    #: The backend's name, for errors and logs ("sqlite", "redis").
    name: str

    def ping(self) -> None:
        """Raise :class:`~service.errors.BackendUnavailable` unless the backend answers now."""

    def usage(self, tenant: str) -> Usage:
        """What the tenant keeps now."""

    # Datasets ---------------------------------------------------------------------------------------------------
    def add_dataset(self, record: DatasetRecord, quotas: Quotas) -> tuple[DatasetRecord, bool]:
        """Keep the record (its files are in place); the tenant's existing one with the same id, and False, if there is one.

        :class:`~service.errors.QuotaExceeded` over ``max_datasets`` or ``max_dataset_bytes``.
        """

    def dataset(self, tenant: str, dataset_id: str) -> DatasetRecord | None: ...

    def remove_dataset(self, tenant: str, dataset_id: str) -> Removal:
        """Forget the dataset, unless a queued or running job of its tenant trains on it."""

    # Jobs, for clients ------------------------------------------------------------------------------------------
    def create(self, job: Job, quotas: Quotas) -> tuple[Job, bool]:
        """Keep a new queued job, or return the tenant's job made with the same idempotency key (and False).

        :class:`~service.errors.QuotaExceeded` over ``max_active_jobs`` or ``max_jobs``;
        :class:`~service.errors.NotFound` if the tenant has no such dataset (checked in the same transaction).
        """

    def get(self, job_id: str, tenant: str | None = None) -> Job | None:
        """The job (of ``tenant`` only, when given; a worker passes None)."""

    def page(self, tenant: str, state: State | None, limit: int, cursor: str | None) -> Page:
        """The tenant's jobs (in ``state`` only, if given), newest first, ``limit`` of them after ``cursor``."""

    def delete(self, job_id: str, tenant: str | None = None) -> None:
        """Remove a job's record and history (its files: :meth:`service.jobs.files.JobFiles.delete`)."""

    def request_cancel(self, tenant: str, job_id: str, now: float) -> Job | None:
        """Cancel a queued job at once; ask a running one to stop (its worker stops after the step it is in). Idempotent."""

    def history(self, job_id: str, after: int, limit: int) -> list[HistoryEntry]:
        """Entries with step > ``after``, in step order, at most ``limit``."""

    # Jobs, for workers ------------------------------------------------------------------------------------------
    def claim(self, worker: str, lease: float, now: float, job_id: str | None = None) -> Job | None:
        """Take a queued job, or one whose lease ran out (``job_id``: that one only), marking it running under ``worker``."""

    def renew(self, job_id: str, worker: str, lease: float, now: float) -> bool:
        """Extend ``worker``'s lease; False if it no longer holds the job."""

    def record(self, job_id: str, worker: str, entries: list[HistoryEntry]) -> bool:
        """Add steps to the history; progress moves to the last of them, never back. True: stop (cancel asked, lease lost)."""

    def set_waiting(self, job_id: str, worker: str, waiting: str | None) -> None:
        """Say why the running job is paused (None: it is not)."""

    def finish(self, job_id: str, worker: str, state: State, now: float, compute_seconds: float, problem: dict[str, Any] | None) -> bool:
        """End the job (its result file is in place when it succeeded); False if ``worker`` no longer held it."""

    def release(self, worker: str) -> None:
        """End the leases of a worker known to be gone (its jobs are claimed again at once)."""

    def stale(self, now: float) -> list[str]:
        """Running jobs whose lease ran out (their worker died)."""

    def expired(self, before: float, limit: int) -> list[Job]:
        """Up to ``limit`` jobs that finished before ``before`` (the worker deletes them and their files)."""

    def queue_depth(self) -> int:
        """Jobs waiting for a worker, of every tenant."""
