"""Run a route's handler off the event loop, within the time limit and the concurrency bound."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service import metrics
from service.api import deadline
from service.api.body import file_bytes, json_bytes
from service.api.parsing import parse_and_free
from service.api.upload import form_file
from service.config import get_settings
from service.engine.arrays import Checkpoint
from service.schemas.files import FileAnswer, Upload
from service.schemas.network import Network
from service.schemas.responses import dump, dump_pieces, has_large_array

M = TypeVar("M", bound=BaseModel)
Q = TypeVar("Q", bound=BaseModel)
R = TypeVar("R")

#: A route's handler (service/handlers/): the validated request and the deadline's checkpoint in, the response body
#: (a JSON document, or a file) out.
Handler = Callable[[R, Checkpoint], dict[str, Any] | FileAnswer]


class DirectRoute(APIRoute):
    """A route whose endpoint takes the :class:`Request` and returns its :class:`Response` (every computing route does):
    FastAPI's dependency solving and response serialization, which such an endpoint does not use, are skipped (~20 µs
    a request). The OpenAPI document is built from the route's declaration as for any other."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


async def compute(request: Request, model: type[M], handler: Handler[M]) -> Response:
    """Read the JSON body, validate it as ``model``, run ``handler`` on it and serialize, all in a worker thread.

    Parsing, the engine and serialization are CPU-bound; for any but the tiniest
    body (``inline_max_body_bytes``: the primer's example, ~200 bytes, takes ~0.1 ms,
    about what a hand-off to a thread and back costs) none of it runs on the event loop,
    so health checks and small requests stay fast while this runs.
    The body is read, and all of this runs, holding a slot of the :mod:`~service.api.gate`; the
    handler gets :func:`service.api.deadline.checkpoint` to pass to the engine (504 once
    ``max_compute_seconds`` have passed).
    """
    async with json_bytes(request) as body:
        return await _answer(len(body), lambda: parse_and_free(body, model), handler)


async def compute_upload(request: Request, query: Q, handler: Handler[Upload[Q]]) -> Response:
    """As :func:`compute`, for a file sent as the body or as the one file field of a form; ``query`` is the validated query."""
    async with file_bytes(request) as (body, content_type):
        return await _answer(len(body), lambda: Upload(query, form_file(body, content_type)), handler)


async def _answer(size: int, read: Callable[[], R], handler: Handler[R]) -> Response:
    """``handler(read())`` within the deadline, its answer as a response: JSON bytes, or a file."""
    settings = get_settings()

    def run() -> Response:
        with deadline.within(settings.max_compute_seconds):
            start = time.perf_counter()
            parsed = read()
            deadline.checkpoint()
            answer = handler(parsed, deadline.checkpoint)
            response = _response(answer)
            metrics.note_compute(time.perf_counter() - start, _parameters(parsed))
            return response

    return run() if size <= settings.inline_max_body_bytes else await run_in_threadpool(run)


def _response(answer: dict[str, Any] | FileAnswer) -> Response:
    if isinstance(answer, FileAnswer):
        disposition = {"Content-Disposition": f'attachment; filename="{answer.filename}"'} if answer.filename else {}
        return Response(answer.content, media_type=answer.media_type, headers=disposition)
    if has_large_array(answer):
        return PiecesResponse(dump_pieces(answer))
    return Response(dump(answer), media_type="application/json")


class PiecesResponse(Response):
    """A JSON answer sent as the pieces it was written in, one ASGI message each, with its whole length declared:
    a large answer is held once, not also joined into one more copy (and not copied ~1 ms per MB)."""

    media_type = "application/json"

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        super().__init__(b"")
        self.headers["content-length"] = str(sum(len(piece) for piece in pieces))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for i, piece in enumerate(self.pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": i + 1 < len(self.pieces)})


def _parameters(request: object) -> int | None:
    """How many weights and biases the request's network has (None for a request without one)."""
    network = getattr(request, "network", None)
    if not isinstance(network, Network):
        return None
    return sum(layer.weights.size + (0 if layer.bias is None else layer.bias.size) for layer in network.layers)
