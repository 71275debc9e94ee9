"""POST /v1/gradcheck: parse, compare analytic gradients with finite differences, wrap."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.api.body import json_body
from service.api.compute import compute
from service.engine.gradcheck import gradcheck as engine_gradcheck
from service.errors import ERROR_RESPONSES
from service.schemas.gradcheck import GradcheckRequest, GradcheckResponse, gradcheck_body

router = APIRouter(prefix="/v1", tags=["gradients"], responses=ERROR_RESPONSES)


def _gradcheck(req: GradcheckRequest) -> dict[str, Any]:
    req.check_dtype()
    inputs = req.inputs()
    result = engine_gradcheck(inputs.layers, inputs.x, req.targets(inputs), req.loss_function(), req.reduction, req.eps, req.atol, req.rtol)
    return gradcheck_body(result)


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
    return await compute(request, GradcheckRequest, _gradcheck)
