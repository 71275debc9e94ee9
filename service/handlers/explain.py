"""/v1/explain: the primer's derivation of one backward pass (and optionally one optimizer step), as steps and one document."""

from __future__ import annotations

from typing import Any

from service.engine.arrays import Checkpoint, no_checkpoint
from service.engine.explain import explain as engine_explain
from service.engine.explain import render
from service.schemas.explain import ExplainRequest, explain_body


def explain(req: ExplainRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """Every step `symbol = formula = substituted = value` in the primer's order, and their rendering."""
    i = req.to_engine()
    steps = engine_explain(
        i.layers, i.x, i.t, i.loss, i.reduction, digits=i.digits, selection=i.selection, optimizer=i.optimizer, optimizer_state=i.state,
        chain=i.chain, checkpoint=checkpoint,
    )  # fmt: skip
    return explain_body(steps, None if i.render == "none" else render(steps, i.render, i.digits))
