"""The computing routes: forward, backward, train-step. Each parses, calls the engine once, wraps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from service.api.body import JsonBytes, json_body
from service.api.compute import compute
from service.api.deadline import checkpoint
from service.engine import backward as engine_backward
from service.engine import forward as engine_forward
from service.engine.training import train_step as engine_train_step
from service.errors import ERROR_RESPONSES
from service.schemas.requests import BackwardRequest, ForwardRequest, TrainStepRequest
from service.schemas.responses import (
    BackwardResponse,
    ForwardResponse,
    TrainStepResponse,
    backward_body,
    forward_body,
    train_step_body,
)

router = APIRouter(prefix="/v1", tags=["gradients"], responses=ERROR_RESPONSES)


def _forward(req: ForwardRequest) -> dict[str, Any]:
    inputs = req.inputs()
    return forward_body(engine_forward(inputs.layers, inputs.x, checkpoint), inputs.batched)


def _backward(req: BackwardRequest) -> dict[str, Any]:
    inputs = req.inputs()
    trace, grads = engine_backward(inputs.layers, inputs.x, req.targets(inputs), req.loss_function(), req.reduction, checkpoint)
    return backward_body(trace, grads, inputs.batched)


def _train_step(req: TrainStepRequest) -> dict[str, Any]:
    inputs = req.inputs()
    optimizer, state = req.optimizer_and_state(inputs)
    step = engine_train_step(inputs.layers, inputs.x, req.targets(inputs), req.loss_function(), req.reduction, optimizer, state, checkpoint)
    return train_step_body(step, req.network.activations(), inputs.batched)


@router.post("/forward", response_model=ForwardResponse, operation_id="forward", openapi_extra=json_body(ForwardRequest))
async def forward(body: JsonBytes) -> Response:
    """Forward pass: a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾) for every layer, and y = z⁽ᴸ⁾."""
    return await compute(body, ForwardRequest, _forward)


@router.post("/backward", response_model=BackwardResponse, operation_id="backward", openapi_extra=json_body(BackwardRequest))
async def backward(body: JsonBytes) -> Response:
    """Backpropagation: the forward pass, E, δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾ for every layer (primer eq. 7), ∂E/∂W⁽ˡ⁾, ∂E/∂b⁽ˡ⁾ and ∂E/∂x."""
    return await compute(body, BackwardRequest, _backward)


@router.post("/train-step", response_model=TrainStepResponse, operation_id="train_step", openapi_extra=json_body(TrainStepRequest))
async def train_step(body: JsonBytes) -> Response:
    """One optimizer step: the gradients at the current θ, then θ ← optimizer(θ, ∂E/∂θ, state).

    The service keeps no state: send the returned `optimizer_state` back with the next step.
    """
    return await compute(body, TrainStepRequest, _train_step)
