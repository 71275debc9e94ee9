"""POST /v1/gradcheck: analytic gradients against finite differences (handler: service/handlers/gradcheck.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.api.body import json_body
from service.api.compute import compute
from service.api.problems import ERROR_RESPONSES
from service.handlers.gradcheck import gradcheck as handle_gradcheck
from service.schemas.gradcheck import GradcheckRequest, GradcheckResponse

router = APIRouter(prefix="/v1", tags=["gradients"], responses=ERROR_RESPONSES)


@router.post(
    "/gradcheck",
    response_model=GradcheckResponse,
    operation_id="gradcheck",
    summary="Check the analytic gradients against finite differences",
    openapi_extra=json_body(GradcheckRequest),
)
async def gradcheck(request: Request) -> Response:
    """Backpropagation's gradients against central finite differences, per layer, as torch.autograd.gradcheck checks them.

    Every entry of every W, b and x is perturbed by ±eps (float64); an entry passes when
    |analytic − numerical| ≤ atol + rtol·|numerical|. Defaults are torch's: eps 1e-6, atol 1e-5, rtol 1e-3.
    """
    return await compute(request, GradcheckRequest, handle_gradcheck)
