"""The peer of benchmark (b′): the same /v1/backward written the way a FastAPI + PyTorch service usually is.

A pydantic request model in the route's signature (FastAPI reads and validates the body), the lists made
tensors with ``torch.tensor``, autograd for δ and the gradients, and the answer as NumPy arrays written by
orjson (what FastAPI's ``ORJSONResponse`` did, the fastest way to answer arrays). It computes what the service's answer
holds for the benchmark's network: every layer's a, z, δ, ∂E/∂W, ∂E/∂b, and y, ∂E/∂x and E. It lives here, not in
the service; ``benchmarks.run`` checks that its numbers agree with the service's before timing them.
"""

from __future__ import annotations

from typing import Any

import orjson
import torch
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.responses import Response

app = FastAPI()

_ACTIVATIONS = {
    "linear": lambda a: a,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softmax": lambda a: torch.softmax(a, dim=-1),
}


class LayerIn(BaseModel):
    weights: list[list[float]]
    bias: list[float] | None = None
    activation: str = "linear"


class NetworkIn(BaseModel):
    layers: list[LayerIn]


class BackwardIn(BaseModel):
    network: NetworkIn
    x: list[list[float]]
    t: list[list[float]]
    loss: str = "half_sse"
    reduction: str = "sum"
    dtype: str = "float64"


def _loss(y: torch.Tensor, t: torch.Tensor, name: str, reduction: str) -> torch.Tensor:
    per_point = -(t * torch.log(y)).sum(dim=1) if name == "categorical_cross_entropy" else 0.5 * ((y - t) ** 2).sum(dim=1)
    return per_point.mean() if reduction == "mean" else per_point.sum()


@app.post("/v1/backward")
def backward(req: BackwardIn) -> Response:
    """Forward, E, backward with autograd; every quantity of the service's answer."""
    dtype = torch.float32 if req.dtype == "float32" else torch.float64
    x = torch.tensor(req.x, dtype=dtype, requires_grad=True)
    params = []
    a_s, z_s = [], []
    z = x
    for layer in req.network.layers:
        W = torch.tensor(layer.weights, dtype=dtype, requires_grad=True)
        b = None if layer.bias is None else torch.tensor(layer.bias, dtype=dtype, requires_grad=True)
        a = torch.nn.functional.linear(z, W, b)
        a.retain_grad()
        z = _ACTIVATIONS[layer.activation](a)
        params.append((W, b))
        a_s.append(a)
        z_s.append(z)
    loss = _loss(z, torch.tensor(req.t, dtype=dtype), req.loss, req.reduction)
    loss.backward()
    layers: list[dict[str, Any]] = []
    for (W, b), a, z_l in zip(params, a_s, z_s, strict=True):
        assert W.grad is not None
        assert a.grad is not None
        layer_out = {"a": a.detach().numpy(), "z": z_l.detach().numpy(), "delta": a.grad.numpy(), "grad_weights": W.grad.numpy()}
        if b is not None and b.grad is not None:
            layer_out["grad_bias"] = b.grad.numpy()
        layers.append(layer_out)
    assert x.grad is not None
    body = {"loss": loss.item(), "y": z.detach().numpy(), "grad_x": x.grad.numpy(), "layers": layers}
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


@app.get("/livez")
def livez() -> dict[str, str]:
    """What the benchmark's server start waits for."""
    return {"status": "ok"}
