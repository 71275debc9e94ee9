"""Run a route's work off the event loop and answer with its JSON bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from service.schemas.responses import dump

M = TypeVar("M", bound=BaseModel)

#: Bodies up to this size are computed on the event loop: their whole work (the
#: primer's example, ~200 bytes, takes ~0.1 ms; the worst body this small, 26
#: one-neuron layers, ~0.5 ms) costs little more than handing it to a worker
#: thread and back (~0.05 ms). Everything larger goes to a thread.
INLINE_MAX_BODY_BYTES = 512


async def compute(body: bytes, model: type[M], work: Callable[[M], dict[str, Any]]) -> Response:
    """Validate ``body`` as ``model``, run ``work`` on it and serialize, all in a worker thread.

    Parsing, the engine and serialization are CPU-bound; for any but the tiniest
    body none of it runs on the event loop, so health checks and small requests
    stay fast while this runs.
    """

    def run() -> bytes:
        return dump(work(model.model_validate_json(body)))

    content = run() if len(body) <= INLINE_MAX_BODY_BYTES else await run_in_threadpool(run)
    return Response(content, media_type="application/json")
