"""What a job store keeps, and what every backend's store does (embedded: SQLite; redis: Redis).

A job is its request (``spec``, with ``"dataset"`` in place of x and t), its state and
progress, its loss history (one entry per step, keyed by the step, so a step run twice
after a resume is still one entry), its last checkpoint and, once it succeeded, its result.
A worker holds a job by a *lease* that it renews; a job whose lease ran out (its worker
died) is claimed again and resumed from its checkpoint.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class Job:
    """A training job's record. ``step`` is the last step done (of ``total``), ``epoch`` its 1-based epoch."""

    id: str
    state: State
    dataset: str
    total: int
    epochs: int
    step: int
    epoch: int
    loss: float | None
    created: float
    started: float | None
    finished: float | None
    problem: dict[str, Any] | None
    cancel_requested: bool
    attempts: int
    compute_seconds: float
    fingerprint: str
    idempotency_key: str | None

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HistoryEntry:
    """The loss of one step (at θ before it) and its 1-based epoch."""

    step: int
    epoch: int
    loss: float


class JobStore(ABC):
    """A backend's store of jobs. ``worker`` arguments name the lease holder: a write from a worker that lost its lease is refused."""

    @abstractmethod
    def create(self, job: Job, spec: dict[str, Any]) -> tuple[Job, bool]:
        """Store a new queued job, or return the job already made with the same idempotency key (and False)."""

    @abstractmethod
    def get(self, job_id: str) -> Job | None: ...

    @abstractmethod
    def jobs(self, state: str | None, limit: int) -> list[Job]:
        """The newest ``limit`` jobs (in ``state`` only, if given)."""

    @abstractmethod
    def spec(self, job_id: str) -> dict[str, Any]: ...

    @abstractmethod
    def delete(self, job_id: str) -> None:
        """Remove a job and all it holds."""

    @abstractmethod
    def request_cancel(self, job_id: str, now: float) -> Job | None:
        """Cancel a queued job at once; ask a running one to stop (its worker stops after the step it is in). Idempotent."""

    @abstractmethod
    def claim(self, worker: str, lease: float, now: float, job_id: str | None = None) -> Job | None:
        """Take a queued job, or one whose lease ran out (``job_id``: that one only), marking it running under ``worker``."""

    @abstractmethod
    def renew(self, job_id: str, worker: str, lease: float, now: float) -> bool:
        """Extend ``worker``'s lease; False if it no longer holds the job."""

    @abstractmethod
    def record(self, job_id: str, worker: str, entries: list[HistoryEntry]) -> bool:
        """Add steps to the history and the progress; True if a cancel was asked for (or the lease is lost): stop."""

    @abstractmethod
    def save_checkpoint(self, job_id: str, worker: str, data: bytes, compute_seconds: float) -> None: ...

    @abstractmethod
    def checkpoint(self, job_id: str) -> bytes | None: ...

    @abstractmethod
    def history(self, job_id: str, after: int, limit: int) -> list[HistoryEntry]:
        """Entries with step > ``after``, in step order, at most ``limit``."""

    @abstractmethod
    def finish(
        self,
        job_id: str,
        worker: str,
        state: State,
        now: float,
        compute_seconds: float,
        result: bytes | None,
        problem: dict[str, Any] | None,
    ) -> None: ...

    @abstractmethod
    def result(self, job_id: str) -> bytes | None: ...

    @abstractmethod
    def release(self, worker: str) -> None:
        """End the leases of a worker known to be gone (its jobs are claimed again at once)."""

    @abstractmethod
    def expire(self, before: float) -> int:
        """Delete the jobs that finished before ``before``; how many."""

    @abstractmethod
    def uses_dataset(self, dataset: str) -> bool:
        """Whether a queued or running job trains on this dataset."""

    @abstractmethod
    def queue_depth(self) -> int:
        """Jobs waiting for a worker."""
