"""The training routes: /v1/train-step (one optimizer step), /v1/train (many, as JSON) and /v1/train/stream (as NDJSON)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from service.api.body import REQUEST_MODELS, json_body
from service.api.compute import DirectRoute, compute
from service.api.examples import answer, answer_examples, rounded
from service.api.problems import ERROR_RESPONSES
from service.api.stream import NDJSON, accepts_ndjson, stream
from service.engine.arrays import no_checkpoint
from service.handlers import training
from service.schemas.examples import TRAIN_STEP_EXAMPLES
from service.schemas.requests import TrainStepRequest
from service.schemas.responses import TrainStepResponse, dump
from service.schemas.training import TRAIN_EXAMPLE, TrainEvent, TrainRequest, TrainResponse

router = APIRouter(prefix="/v1", tags=["training"], responses=ERROR_RESPONSES, route_class=DirectRoute)

REQUEST_MODELS.append(TrainEvent)  # the stream's line schema joins the OpenAPI components

#: The stream's example: the train example over 2 epochs, its lines as the service writes them (numbers rounded).
STREAM_EXAMPLE: dict[str, Any] = {**TRAIN_EXAMPLE, "epochs": 2}


def _lines(example: dict[str, Any]) -> str:
    events = training.train_events(TrainRequest.model_validate_json(orjson.dumps(example)), no_checkpoint)
    return "".join(orjson.dumps(rounded(orjson.loads(dump(event)))).decode() + "\n" for event in events)


STREAM_LINES: str = answer("train_stream", "two_epochs", lambda: _lines(STREAM_EXAMPLE))

_STREAM_DESCRIPTION = f"""\
What `/v1/train` computes, sent as it is computed: `{NDJSON}`, one JSON object per line (a `TrainEvent`).
A line `{{"event": "epoch", …}}` as each epoch ends, then one `{{"event": "result", …}}` line: the result `/v1/train`
returns. If a later epoch fails (e.g. overflows) the last line is `{{"event": "error", …}}`, a problem document;
an error before the first line is an ordinary problem+json answer. `/v1/train` with `Accept: {NDJSON}` answers the same.

Read the body line by line (openapi-fetch: `parseAs: "stream"` or `"text"`; httpx: `iter_lines()`). The request
example over 2 epochs answers:

```
{STREAM_LINES}```
"""


@router.post(
    "/train-step",
    response_model=TrainStepResponse,
    operation_id="train_step",
    responses=answer_examples("train_step", TrainStepRequest, training.train_step, TRAIN_STEP_EXAMPLES),
    summary="One optimizer step on W and b",
    openapi_extra=json_body(TrainStepRequest, TRAIN_STEP_EXAMPLES),
)
async def train_step(request: Request) -> Response:
    """One optimizer step: the gradients at the current θ, then θ ← optimizer(θ, ∂E/∂θ, state).

    The service keeps no state: send the returned `network` and `optimizer_state` back with the next step.
    """
    return await compute(request, TrainStepRequest, training.train_step)


@router.post(
    "/train",
    response_model=TrainResponse,
    operation_id="train",
    summary="Many optimizer steps over a small dataset",
    openapi_extra=json_body(TrainRequest),
)
async def train(request: Request) -> Response:
    """Train: `epochs` passes over (x, t) in batches of `batch_size`, shuffled by `seed`; the same steps as /v1/train-step calls.

    Returns the loss of every step and epoch, the final network and optimizer state.
    To get a line per epoch as it ends, call `/v1/train/stream` (or send `Accept: application/x-ndjson` here).
    """
    if accepts_ndjson(request.headers.get("accept")):
        return await stream(request, TrainRequest, training.train_events)
    return await compute(request, TrainRequest, training.train)


@router.post(
    "/train/stream",
    operation_id="train_stream",
    summary="Many optimizer steps over a small dataset, streamed: a line per epoch, then the result",
    description=_STREAM_DESCRIPTION,
    response_class=Response,
    responses={
        200: {
            "description": f"`{NDJSON}`: a `TrainEvent` per line, the last one the result (or an error)",
            "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/TrainEvent"}}},
        }
    },
    openapi_extra=json_body(TrainRequest, {"two_epochs": {"summary": "The train example over 2 epochs", "value": STREAM_EXAMPLE}}),
)
async def train_stream(request: Request) -> Response:
    return await stream(request, TrainRequest, training.train_events)
