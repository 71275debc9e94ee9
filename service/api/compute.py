"""Run a route's work off the event loop, within the time limit and the concurrency bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.api import deadline
from service.config import get_settings
from service.errors import from_validation_error
from service.schemas.responses import dump

M = TypeVar("M", bound=BaseModel)


async def compute(body: bytes | bytearray, model: type[M], work: Callable[[M], dict[str, Any]]) -> Response:
    """Validate ``body`` as ``model``, run ``work`` on it and serialize, all in a worker thread.

    Parsing, the engine and serialization are CPU-bound; none of it runs on the
    event loop, so health checks and small requests stay fast while this runs.
    The body was read holding a slot of the :mod:`~service.api.gate`; the work
    must pass :func:`service.api.deadline.checkpoint` to the engine (504 once
    ``max_compute_seconds`` have passed).
    """
    seconds = get_settings().max_compute_seconds

    def run() -> bytes:
        with deadline.within(seconds):
            try:
                request = model.model_validate_json(body)
            except ValidationError as exc:  # converted here: 200k errors take a while, off the event loop
                raise from_validation_error(exc) from None
            deadline.checkpoint()
            return dump(work(request))

    return Response(await run_in_threadpool(run), media_type="application/json")
