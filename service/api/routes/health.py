"""Probes and metrics: answer without touching the engine."""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from service import metrics

router = APIRouter(tags=["operations"])


_JSON = "application/json"
_OK: dict[int | str, dict[str, Any]] = {200: {"content": {_JSON: {"example": {"status": "ok"}}}}}
_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "Not ready: starting, or draining after SIGTERM", "content": {_JSON: {"example": {"status": "draining"}}}}
}
_METRICS_EXAMPLE = 'gradient_http_requests_total{method="POST",route="/v1/backward",status="200"} 3.0'


@router.get("/livez", operation_id="livez", summary="Liveness", responses=_OK)
async def livez() -> Response:
    """The process is up and its event loop answers. Stays 200 until the process exits."""
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness",
    responses={
        **_OK,
        503: {
            "description": "Not ready: starting, or draining after SIGTERM",
            "content": {"application/json": {"example": {"status": "draining"}}},
        },
    },
)
async def readyz(request: Request) -> Response:
    """200 while this process should get new requests; 503 from SIGTERM on, while in-flight requests finish."""
    if request.app.state.lifecycle.ready:
        return Response(b'{"status":"ok"}', media_type="application/json")
    return Response(b'{"status":"draining"}', status_code=503, media_type="application/json")


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"example": 'gradient_http_requests_total{method="POST",route="/v1/backward",status="200"} 3.0'}}}
    },
)
async def get_metrics() -> Response:
    """Requests by route and status, latency, compute time, body sizes, parameters per request and rejections by limit.

    With several worker processes the numbers are summed over all of them (see README, Operations).
    """
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
