"""The computing routes: forward and backward. Each binds a path to its handler (service/handlers/)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.api.body import json_body
from service.api.compute import DirectRoute, compute
from service.api.examples import answer_examples
from service.api.problems import ERROR_RESPONSES
from service.handlers import gradients
from service.schemas.examples import BACKWARD_EXAMPLES, FORWARD_EXAMPLES
from service.schemas.requests import BackwardRequest, ForwardRequest
from service.schemas.responses import BackwardResponse, ForwardResponse

router = APIRouter(prefix="/v1", tags=["gradients"], responses=ERROR_RESPONSES, route_class=DirectRoute)


@router.post(
    "/forward",
    response_model=ForwardResponse,
    operation_id="forward",
    responses=answer_examples("forward", ForwardRequest, gradients.forward, FORWARD_EXAMPLES),
    summary="Forward pass: a and z of every layer",
    openapi_extra=json_body(ForwardRequest, FORWARD_EXAMPLES),
)
async def forward(request: Request) -> Response:
    """Forward pass: a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾) for every layer, and y = z⁽ᴸ⁾.

    x = z⁽⁰⁾ is one point (a vector) or a batch (a matrix, one row per point); `a`, `z` and `y` come back in that form.
    """
    return await compute(request, ForwardRequest, gradients.forward)


@router.post(
    "/backward",
    response_model=BackwardResponse,
    operation_id="backward",
    responses=answer_examples("backward", BackwardRequest, gradients.backward, BACKWARD_EXAMPLES),
    summary="Backpropagation: δ and the gradients of every layer",
    openapi_extra=json_body(BackwardRequest, BACKWARD_EXAMPLES),
)
async def backward(request: Request) -> Response:
    """Backpropagation: the forward pass, E, δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾ for every layer (primer eq. 7), ∂E/∂W⁽ˡ⁾, ∂E/∂b⁽ˡ⁾ and ∂E/∂x.

    δ⁽ᴸ⁾ = h'(a⁽ᴸ⁾) ⊙ ∂E/∂y at the output, δ⁽ˡ⁾ = h'(a⁽ˡ⁾) ⊙ W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾ below it, and ∂E/∂W⁽ˡ⁾ = δ⁽ˡ⁾ z⁽ˡ⁻¹⁾ᵀ
    summed (or averaged) over the batch. With a softmax output and categorical cross-entropy, δ⁽ᴸ⁾ = y − t.

    Opt in to per-example gradients (`per_example_gradients`) and to ∂y/∂x (`input_jacobian`).
    """
    return await compute(request, BackwardRequest, gradients.backward)
