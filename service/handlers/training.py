"""/v1/train-step and /v1/train: one optimizer step, and many over a small dataset (whole, or as a stream of epochs)."""

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
    i = req.to_engine()
    epochs = engine_train(
        i.layers,
        i.x,
        i.t,
        i.loss,
        i.reduction,
        i.optimizer,
        i.state,
        epochs=i.epochs,
        batch_size=i.batch_size,
        shuffle=i.shuffle,
        seed=i.seed,
        regularization=i.regularization,
        checkpoint=checkpoint,
    )
    losses: list[Array] = []
    epoch_losses: list[np.floating[Any]] = []
    last: Epoch | None = None
    for last in epochs:
        losses.append(last.losses)
        epoch_losses.append(last.loss)
        yield epoch_event(last, i.epochs)
    assert last is not None  # epochs ≥ 1
    yield {"event": "result", **train_body(losses, epoch_losses, last.layers, last.state, req.network.activations())}


def train(req: TrainRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """The whole result at once: the last of :func:`train_events`, without its event tag."""
    *_, result = train_events(req, checkpoint)
    del result["event"]
    return result
