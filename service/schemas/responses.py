"""Response bodies: pydantic models that document them, and the functions that build them.

Responses are serialized straight from the NumPy arrays by orjson (no
``tolist()``, no ``jsonable_encoder``); the models below describe that JSON for
the OpenAPI docs. Per-point quantities come back in the form ``x`` came in: a
vector for one point, a matrix (one row per point) for a batch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Annotated, Any

import numpy as np
import orjson
from pydantic import BaseModel, Discriminator, Field, Tag
from pydantic.json_schema import SkipJsonSchema

from service.engine.arrays import Array
from service.engine.extras import PerExample
from service.engine.network import Gradients, Layer, Trace
from service.engine.training import Step
from service.schemas.names import Dtype
from service.schemas.network import Network, frozen_fields
from service.schemas.optimizer import OptimizerState, state_to_wire
from service.schemas.tensor import MATRIX, TENSOR, VECTOR, to_wire, wire_form


class Tensor(BaseModel):
    """An array as a binary tensor (with ``"response_encoding": "base64"``); read it as the request's tensors are sent."""

    dtype: Dtype = Field(description="the request's dtype")
    shape: list[int] = Field(description="the array's shape, e.g. [N, K] for a batch")
    b64: str = Field(description="base64 (RFC 4648, padded) of the little-endian bytes in row-major (C) order")


_Vector = Annotated[list[float], Tag(VECTOR)]
_Matrix = Annotated[list[list[float]], Tag(MATRIX)]
_Tensor = Annotated[Tensor, Tag(TENSOR)]
#: Per-point arrays (a vector for one point, a matrix for a batch), matrices and vectors, each JSON or binary (oneOf).
Floats = Annotated[_Vector | _Matrix | _Tensor, Discriminator(wire_form)]
Rows = Annotated[_Matrix | _Tensor, Discriminator(wire_form)]
Row = Annotated[_Vector | _Tensor, Discriminator(wire_form)]
#: Per-point matrices (one K × M matrix per point; a batch of them is N × K × M), JSON or binary.
PerPointRows = list[list[list[float]]] | list[list[float]] | Tensor
#: A number per point (a vector for a batch, a number for one point), JSON or binary.
PerPointNumbers = list[float] | float | Tensor
#: A field that is absent from the response unless asked for: never null, so the document has no null either.
Absent = SkipJsonSchema[None]
_UNLESS = "; absent unless listed in the request's `include`"


class LayerForward(BaseModel):
    """One layer's forward pass (the quantities listed in the request's `include`)."""

    a: Floats | Absent = Field(None, description="a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾, per point" + _UNLESS)
    z: Floats | Absent = Field(None, description="z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾), per point" + _UNLESS)


class LayerGradients(LayerForward):
    """One layer's forward pass, propagated error and gradients (those listed in the request's `include`)."""

    delta: Floats | Absent = Field(None, description="δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾ (primer eq. 7), per point" + _UNLESS)
    grad_weights: Rows | Absent = Field(None, description="∂E/∂W⁽ˡ⁾ = Δ⁽ˡ⁾ᵀ Z⁽ˡ⁻¹⁾, K × M, reduced over the batch" + _UNLESS)
    grad_bias: Row | Absent = Field(None, description="∂E/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾; absent for a layer without bias" + _UNLESS)


class LayerBackward(LayerGradients):
    """One layer's backpropagation, and its per-example gradients when they were asked for."""

    per_example_grad_weights: PerPointRows | Absent = Field(
        None, description="∂Eₙ/∂W⁽ˡ⁾ = δₙ⁽ˡ⁾ z⁽ˡ⁻¹⁾ₙᵀ per point (N × K × M); only with per_example_gradients"
    )
    per_example_grad_bias: Floats | Absent = Field(
        None, description="∂Eₙ/∂b⁽ˡ⁾ = δₙ⁽ˡ⁾ per point; only with per_example_gradients, for a layer with bias"
    )
    per_example_grad_norm: PerPointNumbers | Absent = Field(
        None, description="‖(∂Eₙ/∂W⁽ˡ⁾, ∂Eₙ/∂b⁽ˡ⁾)‖₂ per point; only with per_example_gradients"
    )


class ForwardResponse(BaseModel):
    """The network's output and every layer's a and z."""

    y: Floats = Field(description="y = z⁽ᴸ⁾, per point")
    layers: list[LayerForward] = Field(description="per layer, the first layer first")


class GradientsResponse(BaseModel):
    """What backpropagation computes; the training routes answer with it too."""

    loss: float = Field(description="E, reduced over the batch")
    y: Floats = Field(description="y = z⁽ᴸ⁾, per point")
    grad_x: Floats = Field(description="∂E/∂x, per point")
    layers: list[LayerGradients] = Field(description="per layer, the first layer first")


class BackwardResponse(GradientsResponse):
    """What backpropagation computes, and the opt-in extras that were asked for."""

    loss: float | list[float] | Tensor = Field(  # type: ignore[assignment]
        description="E, reduced over the batch; for reduction none the per-point Eₙ (in the form of x)"
    )
    layers: list[LayerBackward] = Field(description="per layer, the first layer first")  # type: ignore[assignment]
    per_example_grad_norm: PerPointNumbers | Absent = Field(
        None, description="‖∂Eₙ/∂θ‖₂ over all layers' parameters, per point; only with per_example_gradients"
    )
    input_jacobian: PerPointRows | Absent = Field(None, description="∂y/∂x per point, K⁽ᴸ⁾ × M⁽¹⁾ each; only with input_jacobian")


class TrainStepResponse(GradientsResponse):
    """The gradients at θ before the step, and the network and optimizer state after it.

    With `regularization`, `loss` is E + P and `grad_weights` is ∂(E + P)/∂W (before any clipping).
    """

    penalty: float = Field(description="P, the regularization penalty included in `loss` (0 without regularization)")
    network: Network = Field(description="the network after the step: send it back as `network` with the next step")
    optimizer_state: OptimizerState = Field(description="send this back as `optimizer_state` with the next step")


def _per_point(value: Array, batched: bool) -> Array:
    return value if batched else value[0]


ALL = ("a", "z", "delta", "grad_weights", "grad_bias")


def _selected(quantities: dict[str, Array | None], include: Collection[str], batched: bool) -> dict[str, Any]:
    """The quantities named in ``include`` that the layer has; the per-point ones in the form x came in."""
    return {
        name: value if name.startswith("grad_") else _per_point(value, batched)
        for name, value in quantities.items()
        if value is not None and name in include
    }


def forward_body(trace: Trace, batched: bool, include: Collection[str] = ALL) -> dict[str, Any]:
    """The forward response: y and every layer's a and z (those in ``include``)."""
    return {
        "y": _per_point(trace.y, batched),
        "layers": [_selected({"a": a, "z": z}, include, batched) for a, z in zip(trace.a, trace.z, strict=True)],
    }


def backward_body(trace: Trace, grads: Gradients, batched: bool, include: Collection[str] = ALL) -> dict[str, Any]:
    """The backward response: E, y, ∂E/∂x and every layer's a, z, δ and gradients (those in ``include``)."""
    layers = [
        _selected({"a": a, "z": z, "delta": delta, "grad_weights": gW, "grad_bias": gb}, include, batched)
        for a, z, delta, gW, gb in zip(trace.a, trace.z, grads.delta, grads.grad_W, grads.grad_b, strict=True)
    ]
    loss = grads.loss[()] if grads.loss.ndim == 0 else _per_point(grads.loss, batched)
    return {"loss": loss, "y": _per_point(trace.y, batched), "grad_x": _per_point(grads.grad_x, batched), "layers": layers}


def with_extras(body: dict[str, Any], per_example: PerExample | None, jacobian: Array | None, batched: bool) -> dict[str, Any]:
    """The backward body with the opt-in per-example gradients and input Jacobian added."""
    if per_example is not None:
        for l, layer in enumerate(body["layers"]):
            layer["per_example_grad_weights"] = _per_point(per_example.grad_W[l], batched)
            gb = per_example.grad_b[l]
            if gb is not None:
                layer["per_example_grad_bias"] = _per_point(gb, batched)
            layer["per_example_grad_norm"] = _per_point(per_example.norm[l], batched)
        body["per_example_grad_norm"] = _per_point(per_example.total_norm, batched)
    if jacobian is not None:
        body["input_jacobian"] = _per_point(jacobian, batched)
    return body


def network_body(layers: Sequence[Layer], activations: Sequence[Any]) -> dict[str, Any]:
    """A network in the request's wire form, with the activations as they were sent."""
    return {
        "layers": [
            {
                "weights": layer.W,
                **({"bias": layer.b} if layer.b is not None else {}),
                "activation": act,
                **frozen_fields(layer.trainable, layer.train_bias),
            }
            for layer, act in zip(layers, activations, strict=True)
        ]
    }


def train_step_body(step: Step, activations: Sequence[Any], batched: bool, include: Collection[str] = ALL) -> dict[str, Any]:
    """The train-step response: the backward body at the old θ, the new network and state."""
    return {
        **backward_body(step.trace, step.grads, batched, include),
        "penalty": step.penalty,
        "network": network_body(step.layers, activations),
        "optimizer_state": state_to_wire(step.state, step.layers),
    }


def encoded(body: dict[str, Any], encoding: str) -> dict[str, Any]:
    """``body`` with every array (not a 0-d one, such as the loss) as a binary tensor when ``encoding`` is base64."""
    return body if encoding == "json" else _tensors(body)


def _tensors(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim:
        return to_wire(value)
    if isinstance(value, dict):
        return {key: _tensors(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tensors(item) for item in value]
    return value


_NUMPY = orjson.OPT_SERIALIZE_NUMPY
#: Numbers per orjson call (a few ms): orjson holds the GIL while it runs, so a
#: 30 MB response written in one call would stall the event loop (and /livez).
_CHUNK = 1 << 16


def dump(body: dict[str, Any]) -> bytes:
    """JSON bytes straight from NumPy arrays and scalars (float32 printed as float32).

    The same bytes as ``orjson.dumps(body, option=OPT_SERIALIZE_NUMPY)``, written
    in pieces of at most ``_CHUNK`` numbers so that other threads run in between;
    a body whose arrays are all that small is written in one call.
    """
    return b"".join(dump_pieces(body))


#: Bytes of small pieces gathered into one before it is sent: a large answer goes out in a few dozen messages.
_GATHER = 1 << 20


def dump_pieces(body: dict[str, Any]) -> list[bytes]:
    """:func:`dump`'s bytes as the pieces they were written in (one for a small body), to be sent one after the other:
    a large answer is then never also joined into one more copy of itself."""
    if not has_large_array(body):
        return [orjson.dumps(body, option=_NUMPY)]
    pieces: list[bytes] = []
    pending = bytearray()
    for piece in _pieces(body):
        pending += piece
        if len(pending) >= _GATHER:
            pieces.append(bytes(pending))
            pending.clear()
    if pending:
        pieces.append(bytes(pending))
    return pieces


def has_large_array(value: Any) -> bool:
    """Whether ``value`` holds an array of more than ``_CHUNK`` numbers (then it is written in pieces)."""
    if isinstance(value, np.ndarray):
        return bool(value.size > _CHUNK)
    if isinstance(value, dict):
        return any(has_large_array(item) for item in value.values())
    if isinstance(value, list):
        return any(has_large_array(item) for item in value)
    return False


def _pieces(value: Any) -> Iterator[bytes]:
    if isinstance(value, dict):
        yield b"{"
        for i, (key, item) in enumerate(value.items()):
            yield (b"," if i else b"") + orjson.dumps(key) + b":"
            yield from _pieces(item)
        yield b"}"
    elif isinstance(value, list):
        yield b"["
        for i, item in enumerate(value):
            if i:
                yield b","
            yield from _pieces(item)
        yield b"]"
    elif isinstance(value, np.ndarray) and value.size > _CHUNK:
        rows = max(1, _CHUNK // (value.size // len(value)))
        yield b"["
        for i in range(0, len(value), rows):
            yield (b"," if i else b"") + orjson.dumps(value[i : i + rows], option=_NUMPY)[1:-1]
        yield b"]"
    else:
        yield orjson.dumps(value, option=_NUMPY)


__all__ = [
    "BackwardResponse",
    "ForwardResponse",
    "TrainStepResponse",
    "backward_body",
    "dump",
    "dump_pieces",
    "encoded",
    "forward_body",
    "has_large_array",
    "train_step_body",
    "with_extras",
]
