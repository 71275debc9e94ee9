"""Answer with a stream of JSON lines (NDJSON), computed off the event loop one line at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from service.api import deadline
from service.api.body import json_bytes
from service.api.media import NDJSON, accepts
from service.api.parsing import parse_and_free
from service.api.problems import problem_body
from service.config import get_settings
from service.engine.arrays import Checkpoint
from service.engine.errors import EngineError
from service.errors import ServiceError, Unexpected
from service.schemas.responses import dump

UNEXPECTED = "the server failed unexpectedly; the error was logged"

log = logging.getLogger("service.stream")

M = TypeVar("M", bound=BaseModel)


def accepts_ndjson(accept: str | None) -> bool:
    """Whether an Accept header asks for NDJSON (``application/x-ndjson``, parameters ignored)."""
    return accepts(accept, NDJSON)


def _lines(events: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """Each event as a JSON line; an error after the first line becomes a last ``{"event": "error", …problem}`` line."""
    try:
        for event in events:
            yield dump(event) + b"\n"
    except (ServiceError, EngineError) as exc:
        yield dump({"event": "error", **problem_body(exc)}) + b"\n"
    except Exception:  # the status line is sent: say so in the stream rather than cut it
        log.exception("unexpected error while streaming")
        yield dump({"event": "error", **problem_body(Unexpected(UNEXPECTED))}) + b"\n"


def _within(at: float, seconds: float, events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``events``, each computed under the stream's one deadline (each ``next`` may run in another thread)."""
    while True:
        with deadline.until(at, seconds):
            event = next(events, None)
        if event is None:
            return
        yield event


async def stream(request: Request, model: type[M], events: Callable[[M, Checkpoint], Iterator[dict[str, Any]]]) -> Response:
    """Read and validate the body as ``model`` and stream ``events(request, checkpoint)`` as NDJSON.

    Parsing and the first event run in a worker thread before the response starts,
    so a bad request (or a first epoch that fails) is an ordinary problem+json
    error; each later event is computed in a worker thread as the client reads.
    The whole stream has one time limit, ``max_compute_seconds`` (504, or an error line once streaming).
    """
    seconds = get_settings().max_compute_seconds
    at = time.monotonic() + seconds

    async with json_bytes(request) as body:

        def start() -> Iterator[dict[str, Any]]:
            with deadline.until(at, seconds):
                it = events(parse_and_free(body, model), deadline.checkpoint)
                return chain([next(it)], _within(at, seconds, it))

        started = await run_in_threadpool(start)
    return StreamingResponse(iterate_in_threadpool(_lines(started)), media_type=NDJSON)
