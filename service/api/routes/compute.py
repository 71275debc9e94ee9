"""The computing routes: forward and backward. Each binds a path to its handler (service/handlers/)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.json_route import post_json
from service.api.problems import ERROR_RESPONSES
from service.handlers import gradients
from service.schemas.examples import BACKWARD_EXAMPLES, FORWARD_EXAMPLES
from service.schemas.requests import BackwardRequest, ForwardRequest
from service.schemas.responses import BackwardResponse, ForwardResponse

router = APIRouter(prefix="/v1", tags=["gradients"], responses=ERROR_RESPONSES)


post_json(
    router,
    "/forward",
    ForwardRequest,
    gradients.forward,
    operation_id="forward",
    summary="Forward pass: a and z of every layer",
    description="""Forward pass: a⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and z⁽ˡ⁾ = h⁽ˡ⁾(a⁽ˡ⁾) for every layer, and y = z⁽ᴸ⁾.

    x = z⁽⁰⁾ is one point (a vector) or a batch (a matrix, one row per point); `a`, `z` and `y` come back in that form.
    """,
    examples=FORWARD_EXAMPLES,
    response_model=ForwardResponse,
)


post_json(
    router,
    "/backward",
    BackwardRequest,
    gradients.backward,
    operation_id="backward",
    summary="Backpropagation: δ and the gradients of every layer",
    description="""Backpropagation: the forward pass, E, δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾ for every layer (primer eq. 7), ∂E/∂W⁽ˡ⁾, ∂E/∂b⁽ˡ⁾ and ∂E/∂x.

    δ⁽ᴸ⁾ = h'(a⁽ᴸ⁾) ⊙ ∂E/∂y at the output, δ⁽ˡ⁾ = h'(a⁽ˡ⁾) ⊙ W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾ below it, and ∂E/∂W⁽ˡ⁾ = δ⁽ˡ⁾ z⁽ˡ⁻¹⁾ᵀ
    summed (or averaged) over the batch. With a softmax output and categorical cross-entropy, δ⁽ᴸ⁾ = y − t.

    Opt in to per-example gradients (`per_example_gradients`) and to ∂y/∂x (`input_jacobian`).
    """,
    examples=BACKWARD_EXAMPLES,
    response_model=BackwardResponse,
)
