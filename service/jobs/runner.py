"""Run one training job in a worker: the engine's own loop (:func:`service.engine.training.train_steps`), from its checkpoint.

The worker is given a :data:`Prepare` that turns the job's stored request into a :class:`Prepared` run
(the wire schemas live above this package: service/handlers/jobs.py). Each step's loss goes to the
store as it is done (a cancel is seen there, so the job stops after the step it is in); every
``job_checkpoint_steps`` steps or ``job_checkpoint_seconds`` seconds θ, the optimizer state and the RNG's
position are saved. A lease renewed by a heartbeat thread keeps other workers off the job; if this
process dies the lease runs out and another worker resumes from the checkpoint: the same batches,
the same numbers. A store that is away, or a full disk, pauses the job (its record says why, when
it can) and the write is tried again with backoff; the job goes on where it stood once it can.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from service.engine.arrays import Array
from service.engine.errors import EngineError
from service.engine.network import Layer
from service.engine.optimizers import OptimizerState
from service.engine.training import Resume, Run, train_steps
from service.errors import BackendUnavailable, InsufficientStorage, ServiceError, TimedOut, Unexpected, from_engine_error, to_record
from service.jobs import checkpoint, files
from service.jobs.backend import Backend
from service.jobs.backoff import Backoff
from service.jobs.records import HistoryEntry, Job, State
from service.jobs.store import Store

log = logging.getLogger("service.jobs")

T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    """What a worker runs for a job: the engine's training run, its compute-time limit, and its answer's bytes
    (from all the step losses and the final θ and optimizer state: what /v1/train answers)."""

    run: Run
    time_limit: float
    answer: Callable[[Array, list[Layer], OptimizerState], bytes]


#: The job's stored request (its JSON bytes; its dataset's x and t given) as a run.
Prepare = Callable[[bytes, Array, Array], Prepared]


class Heartbeat:
    """Renews a job's lease every third of ``lease`` seconds until stopped; ``lost`` is set if the lease was lost."""

    def __init__(self, store: Store, job_id: str, worker: str, lease: float) -> None:
        self.store, self.job_id, self.worker, self.lease = store, job_id, worker, lease
        self.done = threading.Event()
        self.lost = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def _beat(self) -> None:
        backoff = Backoff(f"renewing the lease of job {self.job_id}")
        while not self.done.wait(self.lease / 3):
            try:
                if not self.store.renew(self.job_id, self.worker, self.lease, time.time()):
                    self.lost.set()
                    return
                backoff.recovered()
            except (BackendUnavailable, InsufficientStorage) as exc:  # away for now: the next beat tries again
                if not backoff.delay:
                    backoff.wait(exc, self.done)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


class Stopping(Exception):
    """The worker is stopping while a write waits: the job is left to its last checkpoint (another worker resumes it)."""


class Attempt:
    """One worker's attempt at one job: the store's and the files' writes, each waited for while it cannot be done."""

    def __init__(self, backend: Backend, job: Job, worker: str, stopping: threading.Event) -> None:
        self.backend, self.job, self.worker, self.stopping = backend, job, worker, stopping
        self.waited = 0.0  # seconds spent waiting: not compute time

    def patiently(self, what: str, write: Callable[[], T]) -> T:
        """``write()``, tried again with backoff while the backend is away or the disk full; :class:`Stopping` if ``stopping``
        came first."""
        backoff = Backoff(f"job {self.job.id}: {what}")
        while not self.stopping.is_set():
            try:
                result = write()
                if backoff.delay:
                    backoff.recovered()
                    self._waiting(None)
                return result
            except (BackendUnavailable, InsufficientStorage) as exc:
                self._waiting("disk full" if isinstance(exc, InsufficientStorage) else "backend")
                began = time.monotonic()
                backoff.wait(exc, self.stopping)
                self.waited += time.monotonic() - began
        raise Stopping(what)

    def _waiting(self, why: str | None) -> None:
        with contextlib.suppress(BackendUnavailable, InsufficientStorage):  # the state cannot say so now; the log does
            self.backend.store.set_waiting(self.job.id, self.worker, why)

    def finish(self, state: State, compute_seconds: float, problem: dict[str, Any] | None = None) -> None:
        self.patiently(
            "finishing", lambda: self.backend.store.finish(self.job.id, self.worker, state, time.time(), compute_seconds, problem)
        )


def run(backend: Backend, prepare: Prepare, job: Job, worker: str, stopping: threading.Event) -> None:
    """Run (or resume) ``job``, which ``worker`` has claimed, to its end, a cancel, a lost lease or ``stopping``."""
    attempt = Attempt(backend, job, worker, stopping)
    with Heartbeat(backend.store, job.id, worker, backend.settings.job_lease_seconds) as heartbeat:
        try:
            _run(attempt, prepare, heartbeat)
            return
        except Stopping as exc:
            log.info("job %s: stopping while %s; it resumes from its last checkpoint", job.id, exc)
            return
        except (BackendUnavailable, InsufficientStorage) as exc:  # before the first step: the lease runs out and it is taken again
            log.warning("job %s could not start (%s); it is taken up again when its lease runs out", job.id, exc)
            return
        except (ServiceError, EngineError) as exc:
            problem = to_record(exc if isinstance(exc, ServiceError) else from_engine_error(exc))
        except Exception:
            log.exception("training job %s failed unexpectedly", job.id)
            problem = to_record(Unexpected("the job failed unexpectedly; the error was logged"))
        with contextlib.suppress(Stopping):
            attempt.finish("failed", 0.0, problem)


def _run(attempt: Attempt, prepare: Prepare, heartbeat: Heartbeat) -> None:
    backend, job, worker, stopping = attempt.backend, attempt.job, attempt.worker, attempt.stopping
    store, paths, settings = backend.store, backend.files, backend.settings
    spec = paths.spec(job.tenant, job.id).read_bytes()
    x, t = backend.datasets.arrays(job.tenant, job.dataset)
    prepared = prepare(spec, x, t)
    run = prepared.run
    saved = _saved(paths.checkpoint(job.tenant, job.id), run)
    resume: Resume | None = saved.resume if saved else None
    spent = saved.compute_seconds if saved else 0.0
    log.info("worker %s runs job %s (attempt %d, from step %d)", worker, job.id, job.attempts, saved.step if saved else 0)
    began = time.monotonic()

    def seconds() -> float:
        return spent + time.monotonic() - began - attempt.waited

    def within_time() -> None:
        if seconds() > prepared.time_limit:
            limit = prepared.time_limit
            raise TimedOut(f"the job ran past its time limit of {limit:g} s of compute", [("/time_limit_seconds", f"{limit:g} s")])

    layers, state = (resume.layers, resume.state) if resume else (run.layers, run.state)
    saved_at, saved_time = saved.step if saved else 0, time.monotonic()
    losses_here: dict[int, float] = {}  # this attempt's step losses: the answer needs no history the store may have lost
    for done in train_steps(run, within_time, resume):
        layers, state = done.layers, done.state
        entry = HistoryEntry(done.step, done.epoch + 1, float(done.loss))
        losses_here[done.step] = entry.loss
        stop = attempt.patiently("recording a step", lambda: store.record(job.id, worker, [entry]))  # noqa: B023 (called at once)
        if stop or heartbeat.lost.is_set():
            current = store.get(job.id)
            if current is not None and current.cancel_requested and not heartbeat.lost.is_set():
                attempt.finish("cancelled", seconds())
            return
        due = done.step - saved_at >= settings.job_checkpoint_steps or time.monotonic() - saved_time >= settings.job_checkpoint_seconds
        if (due or stopping.is_set()) and done.step != run.total:
            data = checkpoint.dump(done.step, Resume(layers, state, done.next), seconds())
            attempt.patiently("saving a checkpoint", lambda: files.write(paths.checkpoint(job.tenant, job.id), data))  # noqa: B023
            saved_at, saved_time = done.step, time.monotonic()
            if stopping.is_set():  # shutting down: another worker (or this one, restarted) resumes from here at once
                store.release(worker)
                return
    history = attempt.patiently("reading the history", lambda: store.history(job.id, 0, run.total))
    body = prepared.answer(_losses(run, history, losses_here), layers, state)
    attempt.patiently("saving the result", lambda: files.write(paths.result(job.tenant, job.id), body))
    attempt.finish("succeeded", seconds())
    paths.checkpoint(job.tenant, job.id).unlink(missing_ok=True)


def _losses(run: Run, history: list[HistoryEntry], here: dict[int, float]) -> Array:
    """Every step's loss: this attempt's own, the earlier attempts' from the store's history. A step missing from both (a
    store that lost data it had acknowledged) fails the job rather than answer a wrong number."""
    by_step = {e.step: e.loss for e in history} | here
    missing = [step for step in range(1, run.total + 1) if step not in by_step]
    if missing:
        raise Unexpected(
            f"the job store lost the loss of {len(missing):,} steps (the first: {missing[0]}) after it had recorded them; run the job "
            "again (a Redis without persistence loses its data when it restarts: see the README, Operations)"
        )
    return np.array([by_step[step] for step in range(1, run.total + 1)], dtype=run.x.dtype)


def _saved(path: Path, run: Run) -> checkpoint.Saved | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return checkpoint.load(data, run.layers)
