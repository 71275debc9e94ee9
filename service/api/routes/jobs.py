"""/v1/trainings: training jobs that outgrow one request (handlers: service/handlers/jobs.py), each the tenant's own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.api import deadline
from service.api.body import json_body, json_bytes
from service.api.events import SSE, stream_events, wire_job
from service.api.gate import gate
from service.api.media import NDJSON
from service.api.parsing import parse
from service.api.problems import RESOURCE_ERROR_RESPONSES
from service.api.tenant import Tenant
from service.config import get_settings
from service.handlers import jobs
from service.jobs.records import State
from service.schemas.jobs import Metrics, StepEvent, TrainingJob, TrainingList, TrainingRequest
from service.schemas.responses import dump
from service.schemas.training import TrainResponse

#: The largest step a stream may start after: more than any job has (a larger number does not fit the stores' integers).
MAX_STEP = 2**53

router = APIRouter(prefix="/v1", tags=["training jobs"], responses=RESOURCE_ERROR_RESPONSES)


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dump(body), status_code=status, media_type="application/json", headers=headers)


#: One Server-Sent Event of the stream, as a client parses it: its type, its step (``id``) and its JSON data.
_SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "An event: `step` (id: the step; data: {step, epoch, loss}) or `end` (data: the job)",
    "properties": {
        "event": {"type": "string", "enum": ["step", "end"]},
        "id": {"type": "string", "description": "the step, for Last-Event-ID"},
        "data": {"type": "string", "description": "the event's JSON"},
    },
}


@router.post(
    "/trainings",
    status_code=202,
    response_model=TrainingJob,
    operation_id="start_training",
    summary="Start a training job: what /v1/train takes, on a stored dataset",
    openapi_extra=json_body(TrainingRequest),
)
async def start_training(
    request: Request, tenant: Tenant, idempotency_key: Annotated[str | None, Header(max_length=200)] = None
) -> Response:
    """Queue a job that computes exactly what /v1/train computes for the same request (same seed, batches and numbers), in a worker.

    `dataset` (from POST /v1/datasets) replaces x and t (inline x and t are stored as a dataset). Answers 202 with `Location`
    and `Retry-After`; the same `Idempotency-Key` again returns the same job. Limits: `max_job_steps`, `max_job_seconds`.
    """
    async with json_bytes(request) as body:

        def submit() -> tuple[dict[str, Any], bool]:
            with deadline.within(get_settings().max_compute_seconds):
                return jobs.submit(tenant, bytes(body), parse(body, TrainingRequest), idempotency_key)

        job, _ = await run_in_threadpool(submit)
    headers = {"Location": f"/v1/trainings/{job['id']}", "Retry-After": str(jobs.RETRY_AFTER_SECONDS)}
    return _json(wire_job(job), 202, headers)


@router.get("/trainings", response_model=TrainingList, operation_id="list_trainings", summary="The tenant's training jobs, newest first")
async def list_trainings(
    tenant: Tenant,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="the `next` of the previous page")] = None,
) -> Response:
    """The tenant's newest `limit` jobs (in `state` only, if given), after `cursor`; `next` is the cursor of the next page."""
    async with gate(0).slot():  # a list is read off the event loop, under the gate, like any computation
        body = await run_in_threadpool(jobs.list_jobs, tenant, state, limit, cursor)
    return _json({"jobs": [wire_job(j) for j in body["jobs"]], "next": body["next"]})


@router.get("/trainings/{job_id}", response_model=TrainingJob, operation_id="get_training", summary="A training job's state and progress")
async def get_training(tenant: Tenant, job_id: str) -> Response:
    """State (queued, running, succeeded, failed, cancelled), progress, latest loss, times; the problem document if it failed."""
    job = await run_in_threadpool(jobs.get_job, tenant, job_id)
    running = job["state"] in ("queued", "running")
    return _json(wire_job(job), headers={"Retry-After": str(jobs.RETRY_AFTER_SECONDS)} if running else None)


@router.get(
    "/trainings/{job_id}/events",
    operation_id="training_events",
    summary="A training job's steps as they happen (SSE, or NDJSON)",
    response_class=Response,
    responses={200: {"content": {SSE: {"schema": _SSE_EVENT}, NDJSON: {"schema": StepEvent.model_json_schema()}}}},
)
async def training_events(
    request: Request,
    tenant: Tenant,
    job_id: str,
    after: Annotated[int, Query(ge=0, le=MAX_STEP, description="start after this step (as Last-Event-ID)")] = 0,
) -> Response:
    """An event per step (`id:` = step, data `{step, epoch, loss}`), then an `end` event with the job; `Last-Event-ID` resumes.

    `Accept: application/x-ndjson` gives the same events as JSON lines.
    """
    last = request.headers.get("last-event-id", "")
    resume = int(last) if last.isdigit() and len(last) < 19 else after  # a Last-Event-ID this service did not send: ignored
    return await stream_events(tenant, job_id, min(resume, MAX_STEP), request.headers.get("accept"))


@router.get("/trainings/{job_id}/metrics", response_model=Metrics, operation_id="training_metrics", summary="A training job's loss history")
async def training_metrics(tenant: Tenant, job_id: str, max_points: Annotated[int, Query(ge=1, le=100_000)] = 1000) -> Response:
    """The loss of every step, downsampled to at most `max_points` (each point the mean over its stretch of steps)."""
    return _json(await run_in_threadpool(jobs.metrics, tenant, job_id, max_points))


@router.get("/trainings/{job_id}/result", response_model=TrainResponse, operation_id="training_result", summary="A training job's result")
async def training_result(tenant: Tenant, job_id: str) -> Response:
    """What /v1/train answers: step and epoch losses, the final network and optimizer state (409 with Retry-After until it succeeded)."""
    return Response(await run_in_threadpool(jobs.result, tenant, job_id), media_type="application/json")


@router.post("/trainings/{job_id}/cancel", response_model=TrainingJob, operation_id="cancel_training", summary="Cancel a training job")
async def cancel_training(tenant: Tenant, job_id: str) -> Response:
    """A queued job is cancelled at once, a running one after the step it is in. Idempotent."""
    return _json(wire_job(await run_in_threadpool(jobs.cancel, tenant, job_id)))


@router.delete("/trainings/{job_id}", status_code=204, operation_id="delete_training", summary="Delete a training job")
async def delete_training(tenant: Tenant, job_id: str) -> Response:
    """Delete a job and its history and result (409 while it runs: cancel it first)."""
    await run_in_threadpool(jobs.delete, tenant, job_id)
    return Response(status_code=204)
