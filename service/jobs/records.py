"""What the job system keeps about a tenant's datasets and training jobs: plain records, no storage.

A job is its request (stored as a file, :mod:`service.jobs.files`), its state and progress, its
loss history (one entry per step, keyed by the step, so a step run twice after a resume is still
one entry), its last checkpoint and, once it succeeded, its result. Everything belongs to a
tenant (:mod:`service.tenants`); a worker holds a job by a *lease* that it renews, and a job
whose lease ran out (its worker died) is claimed again and resumed from its checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["queued", "running", "succeeded", "failed", "cancelled"]
STATES: tuple[State, ...] = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE: frozenset[str] = frozenset({"queued", "running"})
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class Job:
    """A training job's record. ``step`` is the last step done (of ``total``), ``epoch`` its 1-based epoch.

    ``waiting`` says why a running job is paused (``"disk full"``, ``"backend"``), or is None.
    """

    id: str
    tenant: str
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
    waiting: str | None = None

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HistoryEntry:
    """The loss of one step (at θ before it) and its 1-based epoch."""

    step: int
    epoch: int
    loss: float


@dataclass(frozen=True)
class DatasetRecord:
    """A stored dataset: its id (sha256 of dtypes, shapes and bytes, within its tenant), the shapes and dtypes of x and t,
    the bytes stored, when it was made."""

    id: str
    tenant: str
    x_shape: list[int]
    x_dtype: str
    t_shape: list[int]
    t_dtype: str
    bytes: int
    created: float

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Page:
    """Jobs newest first, and the cursor of the next page (None: this was the last)."""

    jobs: list[Job]
    next: str | None


@dataclass(frozen=True)
class Quotas:
    """What one tenant may keep: datasets and their stored bytes, jobs queued or running, jobs kept (finished included)."""

    max_datasets: int
    max_dataset_bytes: int
    max_active_jobs: int
    max_jobs: int


@dataclass(frozen=True)
class Usage:
    """What a tenant keeps now, counted where the state lives."""

    datasets: int
    dataset_bytes: int
    active_jobs: int
    jobs: int
