"""/v1/trainings: training jobs. Submit (what /v1/train takes, on a stored dataset), read, follow, cancel, fetch the result, delete.

The job runs in a worker process (service/jobs/); these functions only read and write its store.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import numpy as np
import orjson

from service.engine.training import steps_per_epoch
from service.errors import Conflict, NotFound, NotReady, ServiceError, from_record, pointer
from service.jobs.backend import get_backend
from service.jobs.store import FINISHED, HistoryEntry, Job
from service.schemas.trainings import TrainingRequest

#: Seconds a client is told to wait before it looks at a job again (Retry-After).
RETRY_AFTER_SECONDS = 1


def submit(body: bytes, req: TrainingRequest, idempotency_key: str | None) -> tuple[dict[str, Any], bool]:
    """Queue the job (its inline x and t stored as a dataset), after checking it as /v1/train would; the job, and whether it is new."""
    backend = get_backend()
    spec = orjson.loads(body)
    if req.dataset is None:
        assert req.x is not None
        assert req.t is not None
        info, _ = backend.datasets.put(req.x, req.t)
        spec = {k: v for k, v in spec.items() if k not in ("x", "t")} | {"dataset": info.id}
        req = req.model_copy(update={"dataset": info.id})
    assert req.dataset is not None
    x, t = backend.datasets.arrays(req.dataset)
    inputs = req.with_data(x, t).to_engine()  # 422 (pointing at /dataset) for data that does not fit the network, or the limits
    total = inputs.epochs * steps_per_epoch(x.shape[0], inputs.batch_size)
    fingerprint = hashlib.sha256(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)).hexdigest()
    job = Job(
        id=uuid.uuid4().hex,
        state="queued",
        dataset=req.dataset,
        total=total,
        epochs=inputs.epochs,
        step=0,
        epoch=0,
        loss=None,
        created=time.time(),
        started=None,
        finished=None,
        problem=None,
        cancel_requested=False,
        attempts=0,
        compute_seconds=0.0,
        fingerprint=fingerprint,
        idempotency_key=idempotency_key,
    )
    stored, created = backend.store.create(job, spec)
    if not created and stored.fingerprint != fingerprint:
        detail = "this Idempotency-Key was sent before with another request; send a new key for a new job"
        raise Conflict(detail, [("", detail)])
    if created:
        backend.enqueue(stored.id)
    return job_body(stored), created


def _job(job_id: str) -> Job:
    job = get_backend().store.get(job_id)
    if job is None:
        raise NotFound(f"there is no training job {job_id[:80]!r} (finished jobs expire after job_retention_seconds)")
    return job


def job_body(job: Job) -> dict[str, Any]:
    """The job on the wire; ``problem`` is the stored domain error (the route makes it problem+json)."""
    path = f"/v1/trainings/{job.id}"
    retention = get_backend().settings.job_retention_seconds
    return {
        "id": job.id,
        "state": job.state,
        "dataset": job.dataset,
        "progress": {"step": job.step, "total": job.total, "epoch": job.epoch, "epochs": job.epochs},
        "loss": job.loss,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "expires": job.finished + retention if job.finished is not None else None,
        "attempts": job.attempts,
        "problem": from_record(job.problem) if job.problem else None,
        "links": {k: f"{path}/{k}" for k in ("events", "metrics", "result", "cancel")},
    }


def get_job(job_id: str) -> dict[str, Any]:
    """The job's state, progress, latest loss and times."""
    return job_body(_job(job_id))


def list_jobs(state: str | None, limit: int) -> dict[str, Any]:
    """The newest jobs first."""
    return {"jobs": [job_body(j) for j in get_backend().store.jobs(state, limit)]}


def cancel(job_id: str) -> dict[str, Any]:
    """Cancel: a queued job at once, a running one after the step it is in. Cancelling a finished job changes nothing."""
    _job(job_id)
    job = get_backend().store.request_cancel(job_id, time.time())
    if job is None:
        raise NotFound(f"there is no training job {job_id!r}")
    return job_body(job)


def delete(job_id: str) -> None:
    """Delete a job that is not running (409 for a running one: cancel it first)."""
    job = _job(job_id)
    if job.state not in FINISHED and job.state != "queued":
        raise Conflict("the job is running; cancel it first (POST …/cancel), then delete it")
    get_backend().store.delete(job_id)


def result(job_id: str) -> bytes:
    """/v1/train's answer for the job (losses, epoch losses, network, optimizer state), as JSON bytes; 409 before it succeeded."""
    job = _job(job_id)
    if job.state in ("queued", "running"):
        raise NotReady(
            f"the job is {job.state} (step {job.step} of {job.total}); ask again when its state is succeeded", [], 0, RETRY_AFTER_SECONDS
        )
    if job.state != "succeeded":
        raise Conflict(f"the job {job.state}; it has no result" + (f": {job.problem['detail']}" if job.problem else ""))
    data = get_backend().store.result(job_id)
    if data is None:
        raise NotFound(f"the result of job {job_id!r} is gone")
    return data


def metrics(job_id: str, max_points: int) -> dict[str, Any]:
    """The loss history, at most ``max_points`` points: each the mean loss of a stretch of consecutive steps, at its last step."""
    job = _job(job_id)
    entries = get_backend().store.history(job_id, 0, job.total)
    steps = np.array([e.step for e in entries], dtype=np.int64)
    losses = np.array([e.loss for e in entries], dtype=np.float64)
    if len(entries) > max_points:
        edges = np.linspace(0, len(entries), max_points + 1).astype(np.int64)
        losses = np.add.reduceat(losses, edges[:-1]) / np.diff(edges)
        steps = steps[edges[1:] - 1]
    return {"steps": steps.tolist(), "loss": losses.tolist(), "total_points": len(entries)}


#: History entries read at a time by an events stream.
EVENTS_PAGE = 1000


def events_after(job_id: str, after: int) -> tuple[list[HistoryEntry], Job]:
    """The steps after ``after`` recorded so far, and the job (the stream ends once it finished and all are sent)."""
    job = _job(job_id)
    return get_backend().store.history(job_id, after, EVENTS_PAGE), job


def problem_of(body: dict[str, Any]) -> ServiceError | None:
    """The domain error a job body carries (a failed job's)."""
    problem = body.get("problem")
    return problem if isinstance(problem, ServiceError) else None


__all__ = [
    "RETRY_AFTER_SECONDS",
    "cancel",
    "delete",
    "events_after",
    "get_job",
    "list_jobs",
    "metrics",
    "pointer",
    "problem_of",
    "result",
    "submit",
]
