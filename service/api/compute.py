"""Run a route's work off the event loop, within the time limit and the concurrency bound."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from service import metrics
from service.api import deadline
from service.api.body import json_bytes
from service.config import get_settings
from service.errors import from_validation_error
from service.schemas.network import NetworkIn
from service.schemas.responses import dump

M = TypeVar("M", bound=BaseModel)

#: Bodies up to this size are computed on the event loop: their whole work (the
#: primer's example, ~200 bytes, takes ~0.1 ms; the worst body this small, 26
#: one-neuron layers, ~0.5 ms) costs little more than handing it to a worker
#: thread and back (~0.05 ms). Everything larger goes to a thread.
INLINE_MAX_BODY_BYTES = 512


async def compute(request: Request, model: type[M], work: Callable[[M], dict[str, Any]]) -> Response:
    """Read the body, validate it as ``model``, run ``work`` on it and serialize, all in a worker thread.

    Parsing, the engine and serialization are CPU-bound; for any but the tiniest
    body (``INLINE_MAX_BODY_BYTES``) none of it runs on the event loop, so health
    checks and small requests stay fast while this runs.
    The body is read, and all of this runs, holding a slot of the :mod:`~service.api.gate`; the work
    must pass :func:`service.api.deadline.checkpoint` to the engine (504 once
    ``max_compute_seconds`` have passed).
    """
    seconds = get_settings().max_compute_seconds
    async with json_bytes(request) as body:

        def run() -> bytes:
            with deadline.within(seconds):
                start = time.perf_counter()
                parsed = parse(body, model)
                deadline.checkpoint()
                answer = dump(work(parsed))
                metrics.note_compute(time.perf_counter() - start, _parameters(parsed))
                return answer

        content = run() if len(body) <= INLINE_MAX_BODY_BYTES else await run_in_threadpool(run)
    return Response(content, media_type="application/json")


def parse(body: bytes | bytearray, model: type[M]) -> M:
    """``body`` validated as ``model``; a ValidationError becomes its problem here, in the worker thread.

    (Converting 200k validation errors takes a while: not on the event loop.)
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _parameters(request: BaseModel) -> int | None:
    """How many weights and biases the request's network has (None for a request without one)."""
    network = getattr(request, "network", None)
    if not isinstance(network, NetworkIn):
        return None
    return sum(layer.weights.size + (0 if layer.bias is None else layer.bias.size) for layer in network.layers)


def answer_examples(model: type[M], work: Callable[[M], dict[str, Any]], examples: dict[str, dict[str, Any]]) -> dict[int | str, Any]:
    """The route's ``responses`` entry showing the answer to each named request example, computed once at import.

    The docs then show the real numbers (the primer's) beside each request example, and they cannot go stale.
    """
    answers = {
        name: {"summary": example["summary"], "value": orjson.loads(dump(work(model.model_validate_json(orjson.dumps(example["value"])))))}
        for name, example in examples.items()
    }
    return {200: {"content": {"application/json": {"examples": answers}}}}
