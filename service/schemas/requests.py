"""Request bodies of the computing routes, and their conversion to engine inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field

from service.engine import Layer, Loss, get_loss
from service.engine.losses import loss_names
from service.engine.network import Array
from service.engine.optimizers import Optimizer, OptimizerState, get_optimizer
from service.errors import invalid, pointer
from service.limits import check_network
from service.schemas.base import WireModel
from service.schemas.examples import BACKWARD_EXAMPLE, FORWARD_EXAMPLE, TRAIN_STEP_EXAMPLE
from service.schemas.network import Dtype, NetworkIn
from service.schemas.optimizer import OptimizerSpec, OptimizerStateIn
from service.schemas.tensor import Points

if TYPE_CHECKING:
    LossName = str
else:  # the engine's names, so the docs list them and pydantic refuses any other
    LossName = Literal[tuple(loss_names())]


@dataclass(frozen=True)
class Inputs:
    """What the engine needs for a forward pass, plus the wire form of ``x``."""

    layers: list[Layer]
    x: Array
    batched: bool


def _points(value: Array, dtype: np.dtype[Any]) -> Array:
    return np.atleast_2d(value).astype(dtype, copy=False)


class ForwardRequest(WireModel):
    """A network and its input."""

    model_config = ConfigDict(json_schema_extra={"examples": [FORWARD_EXAMPLE]})

    network: NetworkIn
    x: Points = Field(description="x = z⁽⁰⁾: one data point (M⁽¹⁾ numbers) or a batch (one row per point)")
    dtype: Dtype = Field("float64", description="float64 (exact teaching numbers) or float32 (what Keras/PyTorch compute by default)")

    def inputs(self) -> Inputs:
        """The engine's layers and x (N × M⁽¹⁾), after checking the limits and that x fits the network."""
        check_network(self.network.shapes(), self.x.shape[0] if self.x.ndim == 2 else 1)
        dtype = np.dtype(self.dtype)
        layers = self.network.to_engine(dtype)
        M = self.network.input_size
        if self.x.shape[-1] != M:
            raise invalid(
                [
                    (
                        pointer("x") + ("/0" if self.x.ndim == 2 else ""),
                        f"has {self.x.shape[-1]} inputs per point but layer 0's weights have {M} columns; it needs {M}",
                    )
                ]
            )
        return Inputs(layers, _points(self.x, dtype), self.x.ndim == 2)


class BackwardRequest(ForwardRequest):
    """A network, its input, the target and the loss to differentiate."""

    model_config = ConfigDict(json_schema_extra={"examples": [BACKWARD_EXAMPLE]})

    t: Points = Field(description="target: in the same form as x (a vector, or a matrix with one row per point)")
    loss: LossName = Field("half_sse", description="E: half_sse is the primer's ½Σ(y−t)²; mse the Keras/PyTorch mean over outputs")
    reduction: Literal["sum", "mean"] = Field("sum", description="over the batch: sum (Bishop, the primer) or mean (Keras/PyTorch)")

    def targets(self, inputs: Inputs) -> Array:
        """t as N × K⁽ᴸ⁾, after checking that it matches x and the network's output."""
        K = self.network.output_size
        if (self.t.ndim == 2) != inputs.batched:
            form = "a matrix (one row per point)" if inputs.batched else "a vector (one point)"
            raise invalid([(pointer("t"), f"x is {form}, so t must be too")])
        if self.t.shape[-1] != K:
            raise invalid(
                [
                    (
                        pointer("t") + ("/0" if inputs.batched else ""),
                        f"has {self.t.shape[-1]} targets per point but the last layer has {K} outputs; it needs {K}",
                    )
                ]
            )
        if inputs.batched and self.t.shape[0] != inputs.x.shape[0]:
            raise invalid([(pointer("t"), f"has {self.t.shape[0]} rows but x has {inputs.x.shape[0]}; one target row per input row")])
        return _points(self.t, inputs.x.dtype)

    def loss_function(self) -> Loss:
        return get_loss(self.loss)


class TrainStepRequest(BackwardRequest):
    """What backward takes, plus the optimizer and its state from the previous step."""

    model_config = ConfigDict(json_schema_extra={"examples": [TRAIN_STEP_EXAMPLE]})

    optimizer: OptimizerSpec = Field(description="the optimizer and its hyperparameters")
    optimizer_state: OptimizerStateIn | None = Field(
        None, description="the `optimizer_state` of the previous response; absent or null on the first step"
    )

    def optimizer_and_state(self, inputs: Inputs) -> tuple[Optimizer, OptimizerState]:
        """The engine's optimizer, and its state checked against the network's shapes."""
        spec = self.optimizer.model_dump(exclude={"name"})
        optimizer = get_optimizer(self.optimizer.name, **spec)
        if self.optimizer_state is None:
            return optimizer, OptimizerState()
        return optimizer, self.optimizer_state.to_engine(optimizer, inputs.layers)
