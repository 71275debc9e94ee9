"""POST /v1/gradcheck: the request (what backward takes, plus the tolerances) and the response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from service.engine.gradcheck import Comparison, GradcheckResult, cost
from service.errors import invalid, pointer
from service.limits import check_gradcheck
from service.schemas.examples import BACKWARD_EXAMPLE
from service.schemas.requests import LossInputs, LossRequest, extended

GRADCHECK_EXAMPLE: dict[str, Any] = {**BACKWARD_EXAMPLE, "eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}


@dataclass(frozen=True)
class GradcheckInputs(LossInputs):
    """The loss's inputs (float64) and the finite-difference step and tolerances."""

    eps: float
    atol: float
    rtol: float


class GradcheckRequest(LossRequest):
    """A network, input, target and loss, and the finite-difference settings (torch.autograd.gradcheck's defaults)."""

    model_config = ConfigDict(json_schema_extra={"examples": [GRADCHECK_EXAMPLE]})

    eps: float = Field(1e-6, gt=0, le=1, description="ε, the step of the central differences (E(θ+ε) − E(θ−ε)) / 2ε")
    atol: float = Field(1e-5, ge=0, description="an entry passes when |analytic − numerical| ≤ atol + rtol·|numerical|")
    rtol: float = Field(1e-3, ge=0, description="see atol")

    def to_engine(self) -> GradcheckInputs:
        """The loss's inputs in float64 (finite differences with ε = 1e-6 need it, as torch.autograd.gradcheck does), within the limits."""
        if self.dtype != "float64":
            raise invalid([(pointer("dtype"), "gradcheck runs in float64 only (finite differences need its precision)")])
        inputs = super().to_engine()
        check_gradcheck(*cost(inputs.layers, inputs.x))
        return GradcheckInputs(**extended(inputs), eps=self.eps, atol=self.atol, rtol=self.rtol)


class ComparisonOut(BaseModel):
    """Analytic gradients against finite differences, over one tensor's entries."""

    max_abs_error: float = Field(description="max |analytic − numerical| over the tensor's entries")
    max_rel_error: float = Field(description="max |analytic − numerical| / max(|numerical|, atol)")
    passed: bool = Field(description="every entry within atol + rtol·|numerical|")


class LayerCheckOut(BaseModel):
    """One layer's check: its W and, if it has one, its b."""

    weights: ComparisonOut = Field(description="∂E/∂W⁽ˡ⁾ against finite differences in W⁽ˡ⁾")
    bias: ComparisonOut | SkipJsonSchema[None] = Field(
        None, description="∂E/∂b⁽ˡ⁾ against finite differences; absent for a layer without bias"
    )


class GradcheckResponse(BaseModel):
    """Per layer and for x, how far backpropagation's gradients are from central finite differences."""

    passed: bool = Field(description="every layer's weights and bias, and x, passed")
    layers: list[LayerCheckOut] = Field(description="per layer, the first layer first")
    x: ComparisonOut = Field(description="∂E/∂x against finite differences in x")


def _comparison(c: Comparison) -> dict[str, Any]:
    return {"max_abs_error": c.max_abs_error, "max_rel_error": c.max_rel_error, "passed": c.passed}


def gradcheck_body(result: GradcheckResult) -> dict[str, Any]:
    """The gradcheck response."""
    layers = []
    for w, b in zip(result.weights, result.bias, strict=True):
        layers.append({"weights": _comparison(w), **({"bias": _comparison(b)} if b is not None else {})})
    return {"passed": result.passed, "layers": layers, "x": _comparison(result.x)}
