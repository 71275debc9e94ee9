"""The training routes: /v1/train-step (one optimizer step), /v1/train (many, as JSON) and /v1/train/stream (as NDJSON)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from service.api.examples import answer, rounded
from service.api.json_route import post_json
from service.api.media import NDJSON
from service.api.problems import ERROR_RESPONSES
from service.engine.arrays import no_checkpoint
from service.handlers import training
from service.schemas.examples import TRAIN_STEP_EXAMPLES
from service.schemas.requests import TrainStepRequest
from service.schemas.responses import TrainStepResponse, dump
from service.schemas.training import TRAIN_EXAMPLE, TrainRequest, TrainResponse

router = APIRouter(prefix="/v1", tags=["training"], responses=ERROR_RESPONSES)


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


post_json(
    router,
    "/train-step",
    TrainStepRequest,
    training.train_step,
    operation_id="train_step",
    summary="One optimizer step on W and b",
    description="""One optimizer step: the gradients at the current θ, then θ ← optimizer(θ, ∂E/∂θ, state).

    The service keeps no state: send the returned `network` and `optimizer_state` back with the next step.
    """,
    examples=TRAIN_STEP_EXAMPLES,
    response_model=TrainStepResponse,
)

post_json(
    router,
    "/train",
    TrainRequest,
    training.train,
    events=training.train_events,
    operation_id="train",
    summary="Many optimizer steps over a small dataset",
    description="Train: `epochs` passes over (x, t) in batches of `batch_size`, shuffled by `seed`; the same steps as "
    "/v1/train-step calls.\n\nReturns the loss of every step and epoch, the final network and optimizer state.\n"
    "To get a line per epoch as it ends, call `/v1/train/stream` (or send `Accept: application/x-ndjson` here).",
    response_model=TrainResponse,
)

post_json(
    router,
    "/train/stream",
    TrainRequest,
    None,
    events=training.train_events,
    operation_id="train_stream",
    summary="Many optimizer steps over a small dataset, streamed: a line per epoch, then the result",
    description=_STREAM_DESCRIPTION,
    examples={"two_epochs": {"summary": "The train example over 2 epochs", "value": STREAM_EXAMPLE}},
    answers={
        200: {
            "description": f"`{NDJSON}`: a `TrainEvent` per line, the last one the result (or an error)",
            "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/TrainEvent"}}},
        }
    },
    response_class=Response,
)
