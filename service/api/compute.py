"""Run a route's handler off the event loop, within the time limit and the concurrency bound."""

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
from service.engine.arrays import Checkpoint, no_checkpoint
from service.schemas.network import Network
from service.schemas.responses import dump
from service.schemas.validation import from_validation_error

M = TypeVar("M", bound=BaseModel)

#: A route's handler (service/handlers/): the validated request and the deadline's checkpoint in, the response body out.
Handler = Callable[[M, Checkpoint], dict[str, Any]]


async def compute(request: Request, model: type[M], handler: Handler[M]) -> Response:
    """Read the body, validate it as ``model``, run ``handler`` on it and serialize, all in a worker thread.

    Parsing, the engine and serialization are CPU-bound; for any but the tiniest
    body (``inline_max_body_bytes``: the primer's example, ~200 bytes, takes ~0.1 ms,
    about what a hand-off to a thread and back costs) none of it runs on the event loop,
    so health checks and small requests stay fast while this runs.
    The body is read, and all of this runs, holding a slot of the :mod:`~service.api.gate`; the
    handler gets :func:`service.api.deadline.checkpoint` to pass to the engine (504 once
    ``max_compute_seconds`` have passed).
    """
    settings = get_settings()
    seconds = settings.max_compute_seconds
    async with json_bytes(request) as body:

        def run() -> bytes:
            with deadline.within(seconds):
                start = time.perf_counter()
                parsed = parse(body, model)
                deadline.checkpoint()
                answer = dump(handler(parsed, deadline.checkpoint))
                metrics.note_compute(time.perf_counter() - start, _parameters(parsed))
                return answer

        content = run() if len(body) <= settings.inline_max_body_bytes else await run_in_threadpool(run)
    return Response(content, media_type="application/json")


def parse(body: bytes | bytearray, model: type[M]) -> M:
    """``body`` validated as ``model``; a ValidationError becomes its domain error here, in the worker thread.

    (Converting 200k validation errors takes a while: not on the event loop.)
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _parameters(request: BaseModel) -> int | None:
    """How many weights and biases the request's network has (None for a request without one)."""
    network = getattr(request, "network", None)
    if not isinstance(network, Network):
        return None
    return sum(layer.weights.size + (0 if layer.bias is None else layer.bias.size) for layer in network.layers)


#: Significant digits of the numbers in the documented example answers.
EXAMPLE_DIGITS = 15


def rounded(value: Any) -> Any:
    """``value`` with every float rounded to ``EXAMPLE_DIGITS`` significant digits (the same on every machine)."""
    if isinstance(value, float):
        return float(f"{value:.{EXAMPLE_DIGITS}g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def answer_examples(model: type[M], handler: Handler[M], examples: dict[str, dict[str, Any]]) -> dict[int | str, Any]:
    """The route's ``responses`` entry showing the answer to each named request example, computed once at import.

    The docs then show the real numbers (the primer's) beside each request example, and they cannot go stale.
    They are rounded to ``EXAMPLE_DIGITS`` significant digits: the last bits of a float64 matrix product
    depend on the CPU's BLAS kernel, and the committed OpenAPI document must be the same on every machine.
    """
    answers = {
        name: {
            "summary": example["summary"],
            "value": rounded(orjson.loads(dump(handler(model.model_validate_json(orjson.dumps(example["value"])), no_checkpoint)))),
        }
        for name, example in examples.items()
    }
    return {200: {"content": {"application/json": {"examples": answers}}}}
