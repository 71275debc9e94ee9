"""Gradients from /v1/backward against central finite differences of an independent E(θ).

Seeded random networks: depth 1–4, widths 1–8, every core activation, with and
without bias, batches of 1 and 5, every loss with an output that fits its domain,
both reductions, both dtypes. Tolerances: float64 rtol 1e-6 (atol 1e-8), float32
(against float64 differences) rtol 2e-3 (atol 2e-4).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.oracle import central_difference, loss_of

HIDDEN = ["linear", "tanh", "sigmoid", "relu", "softmax"]
#: loss → output activations whose range fits it
OUTPUTS = {
    "half_sse": ["linear", "tanh", "sigmoid", "relu", "softmax"],
    "mse": ["linear", "tanh", "sigmoid", "relu", "softmax"],
    "categorical_cross_entropy": ["softmax"],
}
TOL = {"float64": {"rtol": 1e-6, "atol": 1e-8}, "float32": {"rtol": 2e-3, "atol": 2e-4}}


def _case(seed: int, output: str, loss: str, bias: bool, batch: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 5))
    widths = [int(w) for w in rng.integers(1, 9, size=depth + 1)]
    if loss == "categorical_cross_entropy":
        widths[-1] = max(widths[-1], 2)
    layers = []
    for l in range(depth):
        act = output if l == depth - 1 else HIDDEN[int(rng.integers(len(HIDDEN)))]
        layer: dict[str, Any] = {"weights": rng.normal(0, 0.8, (widths[l + 1], widths[l])).tolist(), "activation": act}
        if bias:
            layer["bias"] = rng.normal(0, 0.5, widths[l + 1]).tolist()
        layers.append(layer)
    x = rng.normal(0, 1, (batch, widths[0]))
    probabilities = loss == "categorical_cross_entropy"
    t = rng.dirichlet(np.ones(widths[-1]), size=batch) if probabilities else rng.normal(0, 1, (batch, widths[-1]))
    return {"network": {"layers": layers}, "x": x.tolist(), "t": t.tolist(), "loss": loss}


CASES = [
    (loss, output, bias, batch, reduction)
    for loss, outputs in OUTPUTS.items()
    for output in outputs
    for bias, batch, reduction in itertools.product([False, True], [1, 5], ["sum", "mean"])
]


def _finite_differences(req: dict[str, Any], reduction: str) -> tuple[list[np.ndarray], list[np.ndarray | None], np.ndarray]:
    layers = [
        {**layer, "weights": np.array(layer["weights"]), "bias": np.array(layer["bias"]) if "bias" in layer else None}
        for layer in req["network"]["layers"]
    ]
    x, t = np.array(req["x"]), np.array(req["t"])

    def E() -> float:
        return loss_of(layers, x, t, req["loss"], reduction)

    grad_W = [central_difference(E, layer["weights"]) for layer in layers]
    grad_b = [central_difference(E, layer["bias"]) if layer["bias"] is not None else None for layer in layers]
    return grad_W, grad_b, central_difference(E, x)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("loss", "output", "bias", "batch", "reduction"), CASES)
def test_gradients_match_finite_differences(
    client: TestClient, loss: str, output: str, bias: bool, batch: int, reduction: str, dtype: str
) -> None:
    seed = CASES.index((loss, output, bias, batch, reduction))
    req = _case(seed, output, loss, bias, batch)
    r = client.post("/v1/backward", json={**req, "reduction": reduction, "dtype": dtype})
    assert r.status_code == 200, r.text
    got = r.json()
    grad_W, grad_b, grad_x = _finite_differences(req, reduction)
    for l, layer in enumerate(got["layers"]):
        np.testing.assert_allclose(layer["grad_weights"], grad_W[l], **TOL[dtype], err_msg=f"grad_weights of layer {l}")
        if grad_b[l] is not None:
            np.testing.assert_allclose(layer["grad_bias"], grad_b[l], **TOL[dtype], err_msg=f"grad_bias of layer {l}")
    np.testing.assert_allclose(got["grad_x"], grad_x, **TOL[dtype], err_msg="grad_x")


def test_finite_difference_check_catches_a_wrong_gradient(client: TestClient) -> None:
    """The comparison above is not vacuous: one gradient entry off by 1e-4 relative fails it."""
    req = _case(7, "tanh", "half_sse", True, 5)
    got = client.post("/v1/backward", json=req).json()
    grad_W, _, _ = _finite_differences(req, "sum")
    wrong = np.array(got["layers"][0]["grad_weights"])
    wrong.flat[0] *= 1 + 1e-4
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(wrong, grad_W[0], **TOL["float64"])
