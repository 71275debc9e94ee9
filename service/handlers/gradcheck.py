"""/v1/gradcheck: the analytic gradients against central finite differences."""

from __future__ import annotations

from typing import Any

from service.engine.arrays import Checkpoint, no_checkpoint
from service.engine.gradcheck import gradcheck as engine_gradcheck
from service.schemas.gradcheck import GradcheckRequest, gradcheck_body


def gradcheck(req: GradcheckRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """Per layer, the largest errors of ∂E/∂W⁽ˡ⁾, ∂E/∂b⁽ˡ⁾ (and of ∂E/∂x) against finite differences, and pass/fail."""
    i = req.to_engine()
    result = engine_gradcheck(i.layers, i.x, i.t, i.loss, i.reduction, i.eps, i.atol, i.rtol, checkpoint=checkpoint)
    return gradcheck_body(result)
