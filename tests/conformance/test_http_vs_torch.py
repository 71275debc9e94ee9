"""A representative subset over HTTP: the wire forms (activation and loss objects, class-index
targets, reduction none, the opt-in extras) give PyTorch's numbers.

Tolerances: float64 rtol 1e-10, atol 1e-12 (JSON carries float64 exactly);
float32 rtol 1e-5, atol 1e-5, as in test_engine_vs_torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conformance import torch_reference
from tests.conformance.cases import label, name_and_params, problem, rng_for

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

TOL = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-5}}

CASES: list[tuple[Any, Any, str, str]] = [
    ({"name": "gelu", "approximate": "tanh"}, "mse", "real", "mean"),
    ({"name": "leaky_relu", "negative_slope": 0.2}, {"name": "huber", "delta": 0.5}, "real", "sum"),
    ("softmax", {"name": "sparse_categorical_cross_entropy", "label_smoothing": 0.1}, "class", "none"),
    ("sigmoid", "binary_cross_entropy", "unit", "mean"),
    ("log_softmax", "kl_divergence", "distribution", "mean"),
    ("linear", "binary_cross_entropy_with_logits", "unit", "sum"),
    ({"name": "softplus", "beta": 2.0, "threshold": 1.0}, {"name": "poisson", "log_input": False}, "counts", "none"),
    ("swish", {"name": "categorical_cross_entropy", "from_logits": True}, "distribution", "sum"),
]


def _request(p: dict[str, Any], loss: Any, reduction: str, dtype: str, batched: bool) -> dict[str, Any]:
    layers = []
    for W, b, act in zip(p["Ws"], p["bs"], p["acts"], strict=True):
        layers.append({"weights": W.tolist(), "activation": act, **({"bias": b.tolist()} if b is not None else {})})
    x, t = p["x"], p["t"]
    sparse = name_and_params(loss)[0] == "sparse_categorical_cross_entropy"
    wire_t = t[:, 0].tolist() if sparse else (t.tolist() if batched else t[0].tolist())
    return {
        "network": {"layers": layers},
        "x": x.tolist() if batched else x[0].tolist(),
        "t": wire_t,
        "loss": loss,
        "reduction": reduction,
        "dtype": dtype,
        "per_example_gradients": True,
        "input_jacobian": True,
    }


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("N", [1, 7])
@pytest.mark.parametrize(("act", "loss", "kind", "reduction"), CASES, ids=[f"{label(c[0])}+{label(c[1])}" for c in CASES])
def test_backward_over_http_matches_torch(client: TestClient, act: Any, loss: Any, kind: str, reduction: str, N: int, dtype: str) -> None:
    p = problem(act, kind, True, N, rng_for("http", label(act), label(loss), N))
    batched = N > 1
    r = client.post("/v1/backward", json=_request(p, loss, reduction, dtype, batched))
    assert r.status_code == 200, r.text
    got = r.json()
    want = torch_reference.backward(p["Ws"], p["bs"], p["acts"], p["x"], p["t"], loss, reduction, dtype)
    tol = TOL[dtype]
    point = (lambda v: v) if batched else (lambda v: v[0])
    np.testing.assert_allclose(got["y"], point(want.y), **tol)
    np.testing.assert_allclose(got["loss"], want.loss if reduction != "none" else point(want.loss), **tol)
    np.testing.assert_allclose(got["grad_x"], point(want.grad_x), **tol)
    for l, layer in enumerate(got["layers"]):
        np.testing.assert_allclose(layer["delta"], point(want.delta[l]), **tol, err_msg=f"delta {l}")
        np.testing.assert_allclose(layer["grad_weights"], want.grad_W[l], **tol, err_msg=f"grad_weights {l}")
        np.testing.assert_allclose(layer["grad_bias"], want.grad_b[l], **tol, err_msg=f"grad_bias {l}")
        per_example = np.asarray(layer["per_example_grad_weights"]).reshape(N, *want.grad_W[l].shape)
        combine = np.mean if reduction == "mean" else np.sum
        np.testing.assert_allclose(combine(per_example, axis=0), want.grad_W[l], **tol, err_msg=f"per-example {l}")
    jacobian = np.asarray(got["input_jacobian"])
    assert jacobian.shape == ((N,) if batched else ()) + (3, 3)
    for word in ("NaN", "Infinity", "null"):
        assert word not in r.text
