"""POST /v1/gradcheck: analytic gradients against finite differences (handler: service/handlers/gradcheck.py)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.json_route import post_json
from service.api.problems import ERROR_RESPONSES
from service.handlers.gradcheck import gradcheck as handle_gradcheck
from service.schemas.gradcheck import GradcheckRequest, GradcheckResponse

router = APIRouter(prefix="/v1", tags=["gradients"], responses=ERROR_RESPONSES)


post_json(
    router,
    "/gradcheck",
    GradcheckRequest,
    handle_gradcheck,
    operation_id="gradcheck",
    summary="Check the analytic gradients against finite differences",
    description="""Backpropagation's gradients against central finite differences, per layer, as torch.autograd.gradcheck checks them.

    Every entry of every W, b and x is perturbed by ±eps (float64); an entry passes when
    |analytic − numerical| ≤ atol + rtol·|numerical|. Defaults are torch's: eps 1e-6, atol 1e-5, rtol 1e-3.
    """,
    response_model=GradcheckResponse,
)
