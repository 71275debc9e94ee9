"""A training job's progress as a stream: Server-Sent Events (``id:`` = step, so ``Last-Event-ID`` resumes) or NDJSON.

The steps come from the job's store, read a page at a time off the event loop; the stream
waits for new steps while the job runs and ends with an ``end`` event carrying the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from service.api.media import NDJSON, accepts
from service.api.problems import problem_body
from service.handlers import jobs
from service.jobs.records import FINISHED

SSE = "text/event-stream"
#: Seconds between looks at the store for new steps; at the end of a page it looks again at once.
POLL_SECONDS = 0.1


def wire_job(body: dict[str, Any]) -> dict[str, Any]:
    """A job body with its stored error as a problem+json document."""
    problem = jobs.problem_of(body)
    return {**body, "problem": problem_body(problem) if problem else None}


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"


def _ndjson(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    return orjson.dumps({"event": event, **data}) + b"\n"


async def _events(tenant: str, job_id: str, after: int, line: Callable[[str, dict[str, Any], int | None], bytes]) -> AsyncIterator[bytes]:
    while True:
        entries, job = await run_in_threadpool(jobs.events_after, tenant, job_id, after)
        for e in entries:
            yield line("step", {"step": e.step, "epoch": e.epoch, "loss": e.loss}, e.step)
        if entries:
            after = entries[-1].step
        if job.state in FINISHED and len(entries) < jobs.EVENTS_PAGE:
            rest, job = await run_in_threadpool(jobs.events_after, tenant, job_id, after)
            if not rest:
                yield line("end", wire_job(jobs.job_body(job)), None)
                return
            continue
        if len(entries) < jobs.EVENTS_PAGE:
            await asyncio.sleep(POLL_SECONDS)


async def stream_events(tenant: str, job_id: str, after: int, accept: str | None) -> StreamingResponse:
    """The stream for this Accept header: NDJSON if asked for, else SSE; 404 at once for an unknown job."""
    await run_in_threadpool(jobs.get_job, tenant, job_id)
    ndjson = accepts(accept, NDJSON)
    media, line = (NDJSON, _ndjson) if ndjson else (SSE, _sse)
    return StreamingResponse(
        _events(tenant, job_id, after, line), media_type=media, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
