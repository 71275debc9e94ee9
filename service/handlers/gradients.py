"""/v1/forward and /v1/backward: the forward pass, and backpropagation with its opt-in extras."""

from __future__ import annotations

from typing import Any

from service.engine import backward as engine_backward
from service.engine import forward as engine_forward
from service.engine.arrays import Checkpoint, no_checkpoint
from service.engine.extras import input_jacobian, per_example_gradients
from service.schemas.requests import BackwardRequest, ForwardRequest
from service.schemas.responses import backward_body, encoded, forward_body, with_extras


def forward(req: ForwardRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """a⁽ˡ⁾ and z⁽ˡ⁾ of every layer, and y."""
    inputs = req.to_engine()
    trace = engine_forward(inputs.layers, inputs.x, checkpoint)
    return encoded(forward_body(trace, inputs.batched, req.include), req.response_encoding)


def backward(req: BackwardRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """E, δ⁽ˡ⁾ and the gradients of every layer, ∂E/∂x; per-example gradients and ∂y/∂x when asked for."""
    inputs = req.to_engine()
    trace, grads = engine_backward(inputs.layers, inputs.x, inputs.t, inputs.loss, inputs.reduction, checkpoint)
    per_example = per_example_gradients(inputs.layers, trace, grads, inputs.reduction) if inputs.per_example_gradients else None
    jacobian = input_jacobian(inputs.layers, trace) if inputs.input_jacobian else None
    body = with_extras(backward_body(trace, grads, inputs.batched, req.include), per_example, jacobian, inputs.batched)
    return encoded(body, req.response_encoding)
