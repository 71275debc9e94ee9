"""Request bodies of the computing routes, and their conversion to engine inputs.

Each request's ``to_engine()`` checks what the parse alone cannot (shapes that must fit
each other, the limits) and returns everything the engine needs, built once, as a
frozen dataclass: the handler (service/handlers/) then runs the engine on it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from pydantic import ConfigDict, Field

from service.engine import Layer, Loss
from service.engine.arrays import Array
from service.engine.optimizers import Optimizer
from service.engine.optimizers import OptimizerState as EngineState
from service.engine.regularization import NONE, Regularization
from service.errors import invalid, pointer
from service.limits import check_extras, check_network
from service.schemas.base import WireModel
from service.schemas.examples import BACKWARD_EXAMPLE, FORWARD_EXAMPLE, TRAIN_STEP_EXAMPLE
from service.schemas.loss import LossSpec, to_engine_loss
from service.schemas.names import BackwardQuantity, Dtype, ForwardQuantity, Reduction, ResponseEncoding, StepReduction
from service.schemas.network import Network
from service.schemas.optimizer import OptimizerSpec, OptimizerState
from service.schemas.regularization import RegularizationIn
from service.schemas.tensor import Points

_ENCODING_DOC = "json: arrays as JSON arrays; base64: every array of the response as a binary tensor {dtype, shape, b64}"
_INCLUDE_DOC = "the per-layer quantities to send back (all by default); list only those you read"


@dataclass(frozen=True)
class ForwardInputs:
    """What the engine needs for a forward pass (x: N × M⁽¹⁾), plus the wire form of ``x`` (``batched``: a matrix)."""

    layers: list[Layer]
    x: Array
    batched: bool


@dataclass(frozen=True)
class LossInputs(ForwardInputs):
    """A forward pass, its targets (t: N × K⁽ᴸ⁾, or N × 1 class indices), the loss E and its reduction over the batch."""

    t: Array
    loss: Loss
    reduction: str


@dataclass(frozen=True)
class BackwardInputs(LossInputs):
    """The gradients, and which opt-in extras to compute."""

    per_example_gradients: bool
    input_jacobian: bool


@dataclass(frozen=True)
class TrainStepInputs(LossInputs):
    """The gradients, the optimizer (clipping included), its state and the weight penalty."""

    optimizer: Optimizer
    state: EngineState
    regularization: Regularization


def extended(base: LossInputs) -> dict[str, Any]:
    """The fields of ``base``, to build a subclass's inputs from them."""
    return {f.name: getattr(base, f.name) for f in fields(base)}


def _points(value: Array, dtype: np.dtype[Any]) -> Array:
    return np.atleast_2d(value).astype(dtype, copy=False)


class ForwardRequest(WireModel):
    """A network and its input."""

    model_config = ConfigDict(json_schema_extra={"examples": [FORWARD_EXAMPLE]})

    network: Network = Field(description="the network: its layers, the first layer (whose weights have M⁽¹⁾ columns) first")
    x: Points = Field(description="x = z⁽⁰⁾: one data point (M⁽¹⁾ numbers) or a batch (one row per point)")
    dtype: Dtype = Field("float64", description="float64 (exact teaching numbers) or float32 (what Keras/PyTorch compute by default)")
    response_encoding: ResponseEncoding = Field("json", description=_ENCODING_DOC)
    include: list[ForwardQuantity] = Field(["a", "z"], description=_INCLUDE_DOC)

    def to_engine(self) -> ForwardInputs:
        """The engine's layers and x (N × M⁽¹⁾), after checking the limits and that x fits the network."""
        check_network(self.network.shapes(), self._batch_rows())
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
        return ForwardInputs(layers, _points(self.x, dtype), self.x.ndim == 2)

    def _batch_rows(self) -> int:
        """The rows of x one pass computes at once (a training job's: its batch; checked against max_batch_rows)."""
        return self.x.shape[0] if self.x.ndim == 2 else 1


class LossRequest(ForwardRequest):
    """A network, its input, the target and the loss to differentiate."""

    model_config = ConfigDict(json_schema_extra={"examples": [BACKWARD_EXAMPLE]})

    t: Points = Field(
        description="target: in the same form as x (a vector, or a matrix with one row per point); for "
        "sparse_categorical_cross_entropy, one class index per point (a vector of N indices for a batch, [c] for one point)"
    )
    loss: LossSpec = Field(
        "half_sse",
        description="E: a name, or an object with `name` and parameters (GET /v1/losses); "
        "half_sse is the primer's ½Σ(y−t)², mse the Keras/PyTorch mean over outputs",
    )
    reduction: Reduction = Field(
        "sum",
        description="over the batch: sum (Bishop, the primer), mean (Keras/PyTorch) or none "
        "(`loss` is then the per-point list Eₙ and the gradients are those of Σₙ Eₙ)",
    )
    include: list[BackwardQuantity] = Field(["a", "z", "delta", "grad_weights", "grad_bias"], description=_INCLUDE_DOC)  # type: ignore[assignment]

    def to_engine(self) -> LossInputs:
        """The forward pass's inputs, t (checked against x and the network) and the engine's loss."""
        inputs = super().to_engine()
        loss = to_engine_loss(self.loss)
        return LossInputs(inputs.layers, inputs.x, inputs.batched, self._targets(inputs, loss), loss, self.reduction)

    def _targets(self, inputs: ForwardInputs, loss: Loss) -> Array:
        """t as N × K⁽ᴸ⁾ (N × 1 class indices for a class-index loss), checked against x and the network."""
        if loss.target == "class_index":
            return self._class_indices(inputs)
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

    def _class_indices(self, inputs: ForwardInputs) -> Array:
        """t as N × 1: one integer-valued class index in 0 … K−1 per point."""
        N, K = inputs.x.shape[0], self.network.output_size
        if self.t.ndim != 1 or self.t.shape[0] != N:
            raise invalid([(pointer("t"), f"needs one class index per point: a vector of {N} numbers (found shape {list(self.t.shape)})")])
        detail = f"must be a class index: an integer in 0 … {K - 1}"
        bad = [(pointer("t", i), detail) for i, c in enumerate(self.t) if not (c.is_integer() and 0 <= c < K)]
        if bad:
            raise invalid(bad)
        return self.t.reshape(N, 1).astype(inputs.x.dtype)


class BackwardRequest(LossRequest):
    """What the gradients need, and which opt-in extras to add to the response."""

    per_example_gradients: bool = Field(
        False,
        description="add each point's ∂Eₙ/∂W⁽ˡ⁾ and ∂Eₙ/∂b⁽ˡ⁾ (`per_example_grad_weights`, `per_example_grad_bias` per layer) "
        "and their norms; they sum (reduction sum or none) or average (mean) to the batch gradient",
    )
    input_jacobian: bool = Field(False, description="add `input_jacobian`: ∂y/∂x per point, K⁽ᴸ⁾ × M⁽¹⁾")

    def to_engine(self) -> BackwardInputs:
        """The loss's inputs and the extras, each checked against ``max_extra_values`` (N × parameters, N × K⁽ᴸ⁾ × M⁽¹⁾)."""
        inputs = super().to_engine()
        N = inputs.x.shape[0]
        sizes = {
            "per_example_gradients": N * sum(layer.W.size + (0 if layer.b is None else layer.b.size) for layer in inputs.layers),
            "input_jacobian": N * self.network.output_size * self.network.input_size,
        }
        check_extras({name: size for name, size in sizes.items() if getattr(self, name)})
        return BackwardInputs(**extended(inputs), per_example_gradients=self.per_example_gradients, input_jacobian=self.input_jacobian)


class StepRequest(LossRequest):
    """What backward takes, plus the optimizer and its state from the previous step (train-step's and train's fields)."""

    reduction: StepReduction = Field(
        "sum", description="over the batch: sum (Bishop, the primer) or mean (Keras/PyTorch); a step needs one loss, so no none"
    )
    optimizer: OptimizerSpec = Field(description="the optimizer (`name`), its hyperparameters (torch.optim's) and gradient clipping")
    optimizer_state: OptimizerState | None = Field(
        None, description="the `optimizer_state` of the previous response; absent or null on the first step"
    )
    regularization: RegularizationIn | None = Field(
        None, description="L1/L2 penalty on the weights (not biases), added to the loss and its gradient; absent for none"
    )

    def _step_inputs(self) -> TrainStepInputs:
        """The loss's inputs, the engine's optimizer (clipping included), its state checked against the network's shapes, the penalty."""
        inputs = super().to_engine()
        optimizer = self.optimizer.to_engine()
        state = EngineState() if self.optimizer_state is None else self.optimizer_state.to_engine(optimizer, inputs.layers)
        regularization = NONE if self.regularization is None else self.regularization.to_engine()
        return TrainStepInputs(**extended(inputs), optimizer=optimizer, state=state, regularization=regularization)


class TrainStepRequest(StepRequest):
    """What backward takes, plus the optimizer and its state from the previous step."""

    model_config = ConfigDict(json_schema_extra={"examples": [TRAIN_STEP_EXAMPLE]})

    def to_engine(self) -> TrainStepInputs:
        """The step's inputs: see :meth:`StepRequest._step_inputs`."""
        return self._step_inputs()
