"""/v1/train-step and /v1/train: one optimizer step, and a training run over a small dataset (whole, or as a stream of epochs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from service.engine.arrays import Array, Checkpoint, no_checkpoint
from service.engine.training import Epoch
from service.engine.training import train as engine_train
from service.engine.training import train_step as engine_train_step
from service.schemas.requests import TrainStepRequest
from service.schemas.responses import encoded, train_step_body
from service.schemas.training import TrainRequest, epoch_event, train_body


def train_step(req: TrainStepRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """θ ← optimizer(θ, ∂(E + P)/∂θ, state): the new network and state, and the gradients at the old θ."""
    i = req.to_engine()
    step = engine_train_step(i.layers, i.x, i.t, i.loss, i.reduction, i.optimizer, i.state, checkpoint, regularization=i.regularization)
    return encoded(train_step_body(step, req.network.activations(), i.batched, req.include), req.response_encoding)


def train_events(req: TrainRequest, checkpoint: Checkpoint = no_checkpoint) -> Iterator[dict[str, Any]]:
    """An event per epoch as it ends (each computed when the next event is asked for), then the result event."""
    run = req.to_engine().run
    losses: list[Array] = []
    last: Epoch | None = None
    for last in engine_train(run, checkpoint):
        losses.append(last.losses)
        yield epoch_event(last, run.schedule.epochs)
    assert last is not None  # epochs ≥ 1
    yield {"event": "result", **train_body(run, np.concatenate(losses), last.layers, last.state, req.network.activations())}


def train(req: TrainRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """The whole result at once: the last of :func:`train_events`, without its event tag."""
    *_, result = train_events(req, checkpoint)
    del result["event"]
    return result
