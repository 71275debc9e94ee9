"""/v1/networks/init: a network drawn from an initializer and a seed."""

from __future__ import annotations

from typing import Any

from service.engine import Layer
from service.engine.arrays import Checkpoint, no_checkpoint
from service.engine.initializers import init_parameters
from service.schemas.initializers import InitRequest
from service.schemas.responses import network_body


def init_network(req: InitRequest, checkpoint: Checkpoint = no_checkpoint) -> dict[str, Any]:
    """W (and b) of every layer drawn by the initializer from the seed, in the wire form every route takes."""
    i = req.to_engine()
    parameters = init_parameters(i.sizes, i.initializer, i.bias_initializer, i.seed)
    layers = [Layer(W, b, h) for (W, b), h in zip(parameters, i.activations, strict=True)]
    return {"network": network_body(layers, i.wire_activations)}
