"""/v1/train on the wire: many steps over a small dataset in one call, and its result and stream events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, RootModel

from service.engine.arrays import Array
from service.engine.network import Layer
from service.engine.optimizers import OptimizerState
from service.engine.training import Epoch, Run, Schedule
from service.errors import pointer
from service.limits import check_train_steps
from service.schemas.examples import TRAIN_STEP_EXAMPLE
from service.schemas.network import Network
from service.schemas.optimizer import OptimizerState as WireState
from service.schemas.optimizer import state_to_wire
from service.schemas.problem import Problem
from service.schemas.requests import StepRequest, TrainStepInputs, extended
from service.schemas.responses import network_body

TRAIN_EXAMPLE: dict[str, Any] = {
    **TRAIN_STEP_EXAMPLE,
    "x": [[1.0, 2.0], [0.5, -1.0], [-1.5, 0.25], [2.0, 1.0]],
    "t": [[1.0, 1.15], [0.2, -0.3], [-0.5, 0.1], [1.2, 1.6]],
    "epochs": 20,
    "batch_size": 2,
    "shuffle": True,
    "seed": 0,
}


@dataclass(frozen=True)
class TrainInputs(TrainStepInputs):
    """A train step's inputs over a dataset, and how to go over it; :attr:`run` is the engine's training run."""

    schedule: Schedule

    @property
    def run(self) -> Run:
        return Run(self.layers, self.x, self.t, self.loss, self.reduction, self.optimizer, self.state, self.regularization, self.schedule)


class TrainRequest(StepRequest):
    """What train-step takes, with a dataset (x, t: one row per point) and how to go over it."""

    model_config = ConfigDict(json_schema_extra={"examples": [TRAIN_EXAMPLE]})

    epochs: int = Field(
        1, ge=1, description="passes over the data; epochs × batches per epoch is at most `max_train_steps` (GET /v1/limits)"
    )
    batch_size: int | None = Field(
        None, ge=1, description="points per step; the last batch of an epoch may be smaller. Absent or null: all points in one step"
    )
    shuffle: bool = Field(
        True,
        description="reorder the points every epoch: rng = numpy.random.default_rng(seed) once, then rng.permutation(N) per epoch "
        "(the same order on every machine); false keeps rows 0 … N−1",
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the shuffle")

    def to_engine(self) -> TrainInputs:
        """The train-step inputs with the data (x, t: one row per point) and the schedule, within ``max_train_steps``."""
        i = self._step_inputs()
        schedule = Schedule(self.epochs, self.batch_size, self.shuffle, self.seed)
        self._check_steps(schedule.steps(i.x.shape[0]))
        return TrainInputs(**extended(i), schedule=schedule)

    def _check_steps(self, steps: int) -> None:
        """422 over the steps one request may take (``max_train_steps``; a job's limit is ``max_job_steps``)."""
        check_train_steps(steps, pointer("epochs"))


class TrainResponse(BaseModel):
    """The losses along the way, and the network and optimizer state at the end."""

    losses: list[float] = Field(description="per step: the loss (E + P) of its batch at the θ before the step")
    epoch_losses: list[float] = Field(
        description="per epoch: the mean of its step losses weighted by batch size (what Keras's fit reports)"
    )
    network: Network = Field(description="the network after the last step")
    optimizer_state: WireState = Field(description="send this back as `optimizer_state` to continue training")


class EpochEvent(BaseModel):
    """A line of the NDJSON stream, sent as each epoch ends."""

    event: Literal["epoch"] = Field(description="the kind of line: an epoch ended")
    epoch: int = Field(description="1-based number of the epoch that ended")
    epochs: int = Field(description="epochs requested")
    loss: float = Field(description="the epoch's loss, as in `epoch_losses`")
    losses: list[float] = Field(description="its step losses")


class ResultEvent(TrainResponse):
    """The last line of the NDJSON stream: the whole result."""

    event: Literal["result"] = Field(description="the kind of line: the result, the last line")


class ErrorEvent(Problem):
    """The last line of the NDJSON stream if a later epoch failed (e.g. overflowed); the earlier lines stand."""

    event: Literal["error"] = Field(description="the kind of line: an error, the last line")


class TrainEvent(RootModel[Annotated[EpochEvent | ResultEvent | ErrorEvent, Field(discriminator="event")]]):
    """One line of the `application/x-ndjson` answer: an object per epoch, then the result (or an error)."""


def train_body(run: Run, losses: Array, layers: Sequence[Layer], state: OptimizerState, activations: Sequence[Any]) -> dict[str, Any]:
    """The train response of ``run``: its step losses (all ``run.total`` of them), each epoch's loss, the final layers and state."""
    N = run.x.shape[0]
    return {
        "losses": losses,
        "epoch_losses": np.array([run.schedule.epoch_loss(part, N) for part in run.schedule.by_epoch(losses, N)], dtype=losses.dtype),
        "network": network_body(layers, activations),
        "optimizer_state": state_to_wire(state, layers),
    }


def epoch_event(epoch: Epoch, epochs: int) -> dict[str, Any]:
    """The stream's line for an epoch that ended."""
    return {"event": "epoch", "epoch": epoch.index + 1, "epochs": epochs, "loss": epoch.loss, "losses": epoch.losses}
