"""Run one training job in a worker: the engine's own loop (:func:`service.engine.training.train_steps`), from its checkpoint.

Each step's loss goes to the store as it is done (a cancel is seen there, so the job stops
after the step it is in); every ``job_checkpoint_steps`` steps or ``job_checkpoint_seconds``
seconds θ, the optimizer state and the RNG's position are saved. A lease renewed by a
heartbeat thread keeps other workers off the job; if this process dies the lease runs out
and another worker resumes from the checkpoint: the same batches, the same numbers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.config import Settings
from service.engine.errors import EngineError
from service.engine.training import Position, batch_sizes, epoch_loss, steps_per_epoch, train_steps
from service.errors import ServiceError, TimedOut, Unexpected, from_engine_error, to_record
from service.jobs import checkpoint
from service.jobs.datasets import Datasets
from service.jobs.store import HistoryEntry, Job, JobStore
from service.schemas.responses import dump
from service.schemas.training import train_body
from service.schemas.trainings import TrainingRequest

log = logging.getLogger("service.jobs")


@dataclass
class Heartbeat:
    """Renews a job's lease every third of ``lease`` seconds until stopped; ``lost`` is set if the lease was lost."""

    store: JobStore
    job_id: str
    worker: str
    lease: float

    def __post_init__(self) -> None:
        self.done = threading.Event()
        self.lost = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"lease-{self.job_id}", daemon=True)

    def _beat(self) -> None:
        while not self.done.wait(self.lease / 3):
            try:
                if not self.store.renew(self.job_id, self.worker, self.lease, time.time()):
                    self.lost.set()
                    return
            except Exception:  # a store that is briefly away: try again at the next beat
                log.warning("lease renewal of job %s failed", self.job_id, exc_info=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def run(store: JobStore, datasets: Datasets, job: Job, worker: str, settings: Settings, stopping: threading.Event) -> None:
    """Run (or resume) ``job``, which ``worker`` has claimed, to its end, a cancel, a lost lease or ``stopping``."""
    with Heartbeat(store, job.id, worker, settings.job_lease_seconds) as heartbeat:
        try:
            _run(store, datasets, job, worker, settings, stopping, heartbeat)
        except (ServiceError, EngineError) as exc:
            error = exc if isinstance(exc, ServiceError) else from_engine_error(exc)
            store.finish(job.id, worker, "failed", time.time(), 0.0, None, to_record(error))
        except Exception:
            log.exception("training job %s failed unexpectedly", job.id)
            store.finish(
                job.id, worker, "failed", time.time(), 0.0, None, to_record(Unexpected("the job failed unexpectedly; the error was logged"))
            )


def _run(
    store: JobStore, datasets: Datasets, job: Job, worker: str, settings: Settings, stopping: threading.Event, heartbeat: Heartbeat
) -> None:
    import orjson

    req = TrainingRequest.model_validate_json(orjson.dumps(store.spec(job.id)))
    assert req.dataset is not None
    x, t = datasets.arrays(req.dataset)
    i = req.with_data(x, t).to_engine()
    saved = store.checkpoint(job.id)
    start: Position | None = None
    layers, state, spent = i.layers, i.state, 0.0
    if saved is not None:
        ck = checkpoint.load(saved, i.layers)
        layers, state, start, spent = ck.layers, ck.state, ck.position, ck.compute_seconds
    limit = min(req.time_limit_seconds or settings.max_job_seconds, settings.max_job_seconds)
    began = time.monotonic()

    def seconds() -> float:
        return spent + time.monotonic() - began

    def within_time() -> None:
        if seconds() > limit:
            raise TimedOut(f"the job ran past its time limit of {limit:g} s of compute", [("/time_limit_seconds", f"{limit:g} s")])

    steps = train_steps(
        layers,
        i.x,
        i.t,
        i.loss,
        i.reduction,
        i.optimizer,
        state,
        epochs=i.epochs,
        batch_size=i.batch_size,
        shuffle=i.shuffle,
        seed=i.seed,
        regularization=i.regularization,
        checkpoint=within_time,
        start=start,
    )
    saved_at, saved_time = -1, time.monotonic()
    for done in steps:
        layers, state = done.layers, done.state
        stop = store.record(job.id, worker, [HistoryEntry(done.step, done.epoch + 1, float(done.loss))])
        if stop or heartbeat.lost.is_set():
            current = store.get(job.id)
            if current is not None and current.cancel_requested and not heartbeat.lost.is_set():
                store.finish(job.id, worker, "cancelled", time.time(), seconds(), None, None)
            return
        due = (
            done.step - max(saved_at, 0) >= settings.job_checkpoint_steps
            or time.monotonic() - saved_time >= settings.job_checkpoint_seconds
        )
        if (due or stopping.is_set()) and done.step != i.epochs * steps_per_epoch(i.x.shape[0], i.batch_size):
            store.save_checkpoint(job.id, worker, checkpoint.dump(done.step, layers, state, done.next, seconds()), seconds())
            saved_at, saved_time = done.step, time.monotonic()
            if stopping.is_set():  # shutting down: another worker (or this one, restarted) resumes from here at once
                store.release(worker)
                return
    store.finish(job.id, worker, "succeeded", time.time(), seconds(), dump(_result(store, job, req, i.x.shape[0], layers, state)), None)


def _result(store: JobStore, job: Job, req: TrainingRequest, N: int, layers: Any, state: Any) -> dict[str, Any]:
    """/v1/train's answer for this job: the step and epoch losses (from the history), the final network and optimizer state."""
    dtype = np.dtype(req.dtype)
    history = np.array([e.loss for e in store.history(job.id, 0, job.total)], dtype=dtype)
    per_epoch = steps_per_epoch(N, req.batch_size)
    sizes = batch_sizes(N, req.batch_size)
    losses = [history[e * per_epoch : (e + 1) * per_epoch] for e in range(req.epochs)]
    return train_body(losses, [epoch_loss(part, sizes) for part in losses], layers, state, req.network.activations())
