"""POST /v1/train: many optimizer steps over a small dataset in one call, as JSON or as an NDJSON stream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.api.body import REQUEST_MODELS, json_body
from service.api.compute import compute
from service.api.problems import ERROR_RESPONSES
from service.api.stream import NDJSON, accepts_ndjson, stream
from service.handlers import training
from service.schemas.training import TrainEvent, TrainRequest, TrainResponse

router = APIRouter(prefix="/v1", tags=["training"], responses=ERROR_RESPONSES)

REQUEST_MODELS.append(TrainEvent)  # the stream's line schema joins the OpenAPI components

_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": f"`application/json`: the result. `{NDJSON}` (ask with `Accept: {NDJSON}`): one line per epoch as it ends, "
        "then the result (or, if a later epoch fails, an error line).",
        "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/TrainEvent"}}},
    }
}


@router.post(
    "/train",
    response_model=TrainResponse,
    operation_id="train",
    summary="Many optimizer steps over a small dataset (JSON, or an NDJSON stream per epoch)",
    responses=_STREAM_RESPONSE,
    openapi_extra=json_body(TrainRequest),
)
async def train(request: Request) -> Response:
    """Train: `epochs` passes over (x, t) in batches of `batch_size`, shuffled by `seed`; the same steps as /v1/train-step calls.

    Returns the loss of every step and epoch, the final network and optimizer state.
    With `Accept: application/x-ndjson` it streams a line per epoch as it ends, then the result.
    """
    if accepts_ndjson(request.headers.get("accept")):
        return await stream(request, TrainRequest, training.train_events)
    return await compute(request, TrainRequest, training.train)
