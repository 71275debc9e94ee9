"""/v1/trainings: training jobs. Submit (what /v1/train takes, on a stored dataset), read, follow, cancel, fetch the result, delete.

Every function acts for one tenant: another tenant's job is answered as one that does not exist. The job
runs in a worker process (service/jobs/); :func:`prepare` is what the worker is given to turn a job's
stored request into the engine's run and its answer, so service/jobs/ needs no wire schema.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from typing import Any

import numpy as np
import orjson

from service.config import get_settings
from service.engine.arrays import Array
from service.engine.parameters import parameters
from service.errors import BackendUnavailable, Conflict, NotFound, NotReady, ServiceError, from_record, no_such_job
from service.jobs.backend import get_backend
from service.jobs.files import check_room, write
from service.jobs.quotas import quotas
from service.jobs.records import ACTIVE, FINISHED, HistoryEntry, Job, State
from service.jobs.runner import Prepared
from service.schemas.jobs import TrainingRequest
from service.schemas.json_arrays import validate_json
from service.schemas.responses import dump
from service.schemas.training import train_body

#: Seconds a client is told to wait before it looks at a job again (Retry-After).
RETRY_AFTER_SECONDS = 1
#: History entries read at a time by an events stream.
EVENTS_PAGE = 1000


def submit(tenant: str, body: bytes, req: TrainingRequest, idempotency_key: str | None) -> tuple[dict[str, Any], bool]:
    """Queue the job (its inline x and t stored as a dataset), after checking it as /v1/train would; the job, and whether it is new."""
    backend = get_backend()
    settings = backend.settings
    spec_bytes = body  # the request as sent is the job's spec; only inline data is taken out of it (a second read)
    if req.dataset is None:
        assert req.x is not None
        assert req.t is not None
        record, _ = backend.datasets.put_arrays(tenant, req.x, req.t)
        spec = {k: v for k, v in orjson.loads(body).items() if k not in ("x", "t")} | {"dataset": record.id}
        spec_bytes = orjson.dumps(spec)
        req = req.model_copy(update={"dataset": record.id})
    assert req.dataset is not None
    x, t = backend.datasets.arrays(tenant, req.dataset)
    run = req.with_data(x, t).to_engine().run  # 422 (pointing at /dataset) for data that does not fit the network, or the limits
    checkpoint_bytes = 3 * sum(p.nbytes for p in parameters(run.layers))  # θ and up to two optimizer slots
    check_room(settings.data_dir, len(spec_bytes) + 2 * checkpoint_bytes, settings.min_free_disk_bytes)
    job = Job(
        id=uuid.uuid4().hex,
        tenant=tenant,
        state="queued",
        dataset=req.dataset,
        total=run.total,
        epochs=run.schedule.epochs,
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
        fingerprint=hashlib.sha256(spec_bytes).hexdigest(),  # a retry sends the same bytes
        idempotency_key=idempotency_key,
    )
    write(backend.files.spec(tenant, job.id), spec_bytes)  # the request is stored once, beside the job's other files
    try:
        stored, created = backend.store.create(job, quotas(settings))
    except BaseException:
        backend.files.delete(tenant, job.id)
        raise
    if not created:
        backend.files.delete(tenant, job.id)
        if stored.fingerprint != job.fingerprint:
            detail = "this Idempotency-Key was sent before with another request; send a new key for a new job"
            raise Conflict(detail, [("", detail)])
        return job_body(stored), False
    try:
        backend.queue.send(stored.id)
    except BackendUnavailable:  # kept but not queued: take it back, so that the client's retry makes it again
        with contextlib.suppress(BackendUnavailable):
            backend.store.delete(job.id, tenant)
        backend.files.delete(tenant, job.id)
        raise
    return job_body(stored), True


def prepare(spec: bytes, x: Array, t: Array) -> Prepared:
    """A job's stored request (its JSON), on its dataset's x and t, as the run the worker computes and the answer it stores."""
    settings = get_settings()
    req = validate_json(spec, TrainingRequest)
    run = req.with_data(x, t).to_engine().run
    activations = req.network.activations()
    limit = min(req.time_limit_seconds or settings.max_job_seconds, settings.max_job_seconds)
    return Prepared(run, limit, lambda losses, layers, state: dump(train_body(run, losses, layers, state, activations)))


def _job(tenant: str, job_id: str) -> Job:
    job = get_backend().store.get(job_id, tenant)
    if job is None:
        raise no_such_job()
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
        "waiting": job.waiting if job.state == "running" else None,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "expires": job.finished + retention if job.finished is not None else None,
        "attempts": job.attempts,
        "problem": from_record(job.problem) if job.problem else None,
        "links": {k: f"{path}/{k}" for k in ("events", "metrics", "result", "cancel")},
    }


def get_job(tenant: str, job_id: str) -> dict[str, Any]:
    """The job's state, progress, latest loss and times."""
    return job_body(_job(tenant, job_id))


def list_jobs(tenant: str, state: State | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """The tenant's jobs, newest first, a page at a time (``next``: the cursor of the next page)."""
    page = get_backend().store.page(tenant, state, limit, cursor)
    return {"jobs": [job_body(j) for j in page.jobs], "next": page.next}


def cancel(tenant: str, job_id: str) -> dict[str, Any]:
    """Cancel: a queued job at once, a running one after the step it is in. Cancelling a finished job changes nothing."""
    _job(tenant, job_id)
    job = get_backend().store.request_cancel(tenant, job_id, time.time())
    if job is None:
        raise no_such_job()
    return job_body(job)


def delete(tenant: str, job_id: str) -> None:
    """Delete a job that is not running (409 for a running one: cancel it first), with its history and files."""
    job = _job(tenant, job_id)
    if job.state == "running":
        raise Conflict("the job is running; cancel it first (POST …/cancel), then delete it")
    backend = get_backend()
    backend.store.delete(job_id, tenant)
    backend.files.delete(tenant, job_id)


def result(tenant: str, job_id: str) -> bytes:
    """/v1/train's answer for the job (losses, epoch losses, network, optimizer state), as JSON bytes; 409 before it succeeded."""
    job = _job(tenant, job_id)
    if job.state in ACTIVE:
        raise NotReady(
            f"the job is {job.state} (step {job.step} of {job.total}); ask again when its state is succeeded", [], 0, RETRY_AFTER_SECONDS
        )
    if job.state != "succeeded":
        raise Conflict(f"the job {job.state}; it has no result" + (f": {job.problem['detail']}" if job.problem else ""))
    try:
        return get_backend().files.result(tenant, job_id).read_bytes()
    except FileNotFoundError:
        raise NotFound("the result of this job is gone (its files were removed)") from None


def metrics(tenant: str, job_id: str, max_points: int) -> dict[str, Any]:
    """The loss history, at most ``max_points`` points: each the mean loss of a stretch of consecutive steps, at its last step."""
    job = _job(tenant, job_id)
    entries = get_backend().store.history(job_id, 0, job.total)
    steps = np.array([e.step for e in entries], dtype=np.int64)
    losses = np.array([e.loss for e in entries], dtype=np.float64)
    if len(entries) > max_points:
        edges = np.linspace(0, len(entries), max_points + 1).astype(np.int64)
        losses = np.add.reduceat(losses, edges[:-1]) / np.diff(edges)
        steps = steps[edges[1:] - 1]
    return {"steps": steps.tolist(), "loss": losses.tolist(), "total_points": len(entries)}


def events_after(tenant: str, job_id: str, after: int) -> tuple[list[HistoryEntry], Job]:
    """The steps after ``after`` recorded so far, and the job (the stream ends once it finished and all are sent)."""
    job = _job(tenant, job_id)
    return get_backend().store.history(job_id, after, EVENTS_PAGE), job


def problem_of(body: dict[str, Any]) -> ServiceError | None:
    """The domain error a job body carries (a failed job's)."""
    problem = body.get("problem")
    return problem if isinstance(problem, ServiceError) else None


__all__ = [
    "EVENTS_PAGE",
    "FINISHED",
    "RETRY_AFTER_SECONDS",
    "cancel",
    "delete",
    "events_after",
    "get_job",
    "list_jobs",
    "metrics",
    "prepare",
    "problem_of",
    "result",
    "submit",
]
