"""Probes and metrics: answer without touching the engine."""

from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.responses import Response

from service import metrics

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """A probe's answer."""

    status: Literal["ok", "draining", "unavailable"] = Field(
        description="ok: serving; draining: not ready (starting, or stopping after SIGTERM); "
        "unavailable: not ready while the job backend (`backend`) cannot be reached"
    )
    backend: str | SkipJsonSchema[None] = Field(None, description="the job backend that cannot be reached; absent unless `unavailable`")


_JSON = "application/json"
OK = b'{"status":"ok"}'


def _health(body: bytes, status: int = 200) -> Response:
    """A probe's answer (built by hand: a probe must not wait for anything)."""
    return Response(body, status_code=status, media_type=_JSON)


_HEALTH = {"schema": {"$ref": "#/components/schemas/Health"}}
_OK: dict[int | str, dict[str, Any]] = {200: {"description": "Ok", "content": {_JSON: {**_HEALTH, "example": {"status": "ok"}}}}}
_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready: starting, draining after SIGTERM, or the job backend cannot be reached",
        "content": {_JSON: {**_HEALTH, "example": {"status": "draining"}}},
    }
}
_METRICS_EXAMPLE = 'gradient_http_requests_total{method="POST",route="/v1/backward",status="200"} 3.0'


@router.get("/livez", operation_id="livez", summary="Liveness", response_model=Health, responses=_OK)
async def livez() -> Response:
    """The process is up and its event loop answers. Stays 200 until the process exits."""
    return _health(OK)


@router.get("/readyz", operation_id="readyz", summary="Readiness", response_model=Health, responses={**_OK, **_NOT_READY})
async def readyz(request: Request) -> Response:
    """200 while this process should get new requests; 503 from SIGTERM on (while in-flight requests finish), and while the job
    backend (Redis) cannot be reached."""
    lifecycle = request.app.state.lifecycle
    if not lifecycle.ready:
        return _health(b'{"status":"draining"}', 503)
    if lifecycle.away:
        return _health(orjson.dumps({"status": "unavailable", "backend": lifecycle.away}), 503)
    return _health(OK)


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The Prometheus text exposition format (version 0.0.4)",
            "content": {"text/plain": {"schema": {"type": "string"}, "example": _METRICS_EXAMPLE}},
        }
    },
)
async def get_metrics() -> Response:
    """Requests by route and status, latency, compute time, body sizes, parameters per request and rejections by limit.

    With several worker processes the numbers are summed over all of them (see README, Operations).
    """
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
