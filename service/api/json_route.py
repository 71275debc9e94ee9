"""One way to declare a JSON route: a POST path bound to its handler, with its request model, docs and examples.

:func:`post_json` registers the endpoint (the body read, validated as the model and answered by the handler, in
:func:`service.api.compute.compute`; with ``events``, an NDJSON stream when the client asks for one, or always)
and its OpenAPI entry from the same arguments: the request body the route parses itself, the named examples and
their committed answers (:mod:`service.api.examples`). A route file is then a list of declarations.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from service.api.body import json_body
from service.api.compute import DirectRoute, Handler, compute
from service.api.examples import answer_examples
from service.api.stream import accepts_ndjson, stream
from service.engine.arrays import Checkpoint

M = TypeVar("M", bound=BaseModel)

#: A streaming handler: the validated request and the checkpoint in, the events of an NDJSON answer out.
Events = Callable[[M, Checkpoint], Iterator[dict[str, Any]]]


def post_json(
    router: APIRouter,
    path: str,
    model: type[M],
    handler: Handler[M] | None,
    *,
    operation_id: str,
    summary: str,
    description: str,
    examples: dict[str, dict[str, Any]] | None = None,
    events: Events[M] | None = None,
    answers: dict[int | str, Any] | None = None,
    **route: Any,
) -> None:
    """Declare ``POST path``: ``handler`` answers the validated ``model`` (None: ``events`` always streams).

    ``events`` also answers as NDJSON when the request's Accept asks for it. The answers shown beside ``examples``
    are the committed ones unless ``answers`` says otherwise; ``route`` passes on (``response_model``,
    ``response_class`` …) to FastAPI's declaration.
    """

    async def endpoint(request: Request) -> Response:
        if events is not None and (handler is None or accepts_ndjson(request.headers.get("accept"))):
            return await stream(request, model, events)
        assert handler is not None
        return await compute(request, model, handler)

    if answers is None and examples and handler is not None:
        answers = answer_examples(operation_id, model, handler, examples)
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        operation_id=operation_id,
        summary=summary,
        description=inspect.cleandoc(description),
        responses=answers,
        openapi_extra=json_body(model, examples),
        route_class_override=DirectRoute,
        **route,
    )
