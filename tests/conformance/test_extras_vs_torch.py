"""Per-example gradients against torch.func.vmap(grad(Eₙ)) and the input Jacobian against
torch.autograd.functional.jacobian, in float64 (rtol 1e-10, atol 1e-12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch.func import grad, vmap

from service.engine import backward
from service.engine.extras import input_jacobian, per_example_gradients
from tests.conformance import torch_reference
from tests.conformance.cases import engine_layers, engine_loss, label, problem, rng_for

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

TOL = {"rtol": 1e-10, "atol": 1e-12}

#: (output activation, loss, target kind): a representative spread, softmax's vjp and the fused loss included
CASES: list[tuple[Any, Any, str]] = [
    ("tanh", "half_sse", "real"),
    ({"name": "gelu", "approximate": "tanh"}, "mse", "real"),
    ("softmax", "categorical_cross_entropy", "distribution"),
    ("log_softmax", "kl_divergence", "distribution"),
    ("sigmoid", "binary_cross_entropy", "unit"),
    ("linear", {"name": "sparse_categorical_cross_entropy", "from_logits": True}, "class"),
    ({"name": "leaky_relu", "negative_slope": 0.2}, {"name": "huber", "delta": 0.5}, "real"),
]
IDS = [f"{label(a)}+{label(l)}" for a, l, _ in CASES]


def _torch_per_example(p: dict[str, Any], loss: Any) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """∂Eₙ/∂W and ∂Eₙ/∂b for each point n, by torch.func.vmap over grad of one point's loss."""
    params = {f"W{l}": torch.tensor(W) for l, W in enumerate(p["Ws"])}
    params.update({f"b{l}": torch.tensor(b) for l, b in enumerate(p["bs"]) if b is not None})
    L = len(p["Ws"])

    def E_n(params: dict[str, torch.Tensor], x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        Ws = [params[f"W{l}"] for l in range(L)]
        bs = [params.get(f"b{l}") for l in range(L)]
        y, _, _ = torch_reference.network(Ws, bs, p["acts"], x[None])
        return torch_reference.per_point_loss(loss)(y, t[None])[0]

    g = vmap(grad(E_n), in_dims=(None, 0, 0))(params, torch.tensor(p["x"]), torch.tensor(p["t"]))
    return [g[f"W{l}"].numpy() for l in range(L)], [g[f"b{l}"].numpy() if f"b{l}" in g else None for l in range(L)]


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(("act", "loss", "kind"), CASES, ids=IDS)
def test_per_example_gradients_match_torch_func_and_add_up(act: Any, loss: Any, kind: str, bias: bool, reduction: str) -> None:
    p = problem(act, kind, bias, 7, rng_for("per-example", label(act), label(loss), bias))
    layers = engine_layers(p, "float64")
    trace, grads = backward(layers, p["x"], p["t"], engine_loss(loss), reduction)
    got = per_example_gradients(layers, trace, grads, reduction)
    want_W, want_b = _torch_per_example(p, loss)
    combine = np.mean if reduction == "mean" else np.sum
    squared = np.zeros(7)
    for l in range(len(layers)):
        np.testing.assert_allclose(got.grad_W[l], want_W[l], **TOL, err_msg=f"per-example grad_weights of layer {l}")
        np.testing.assert_allclose(combine(got.grad_W[l], axis=0), grads.grad_W[l], **TOL, err_msg="they add up to grad_weights")
        layer_squared = (want_W[l] ** 2).sum(axis=(1, 2))
        if bias:
            np.testing.assert_allclose(got.grad_b[l], want_b[l], **TOL, err_msg=f"per-example grad_bias of layer {l}")
            np.testing.assert_allclose(combine(got.grad_b[l], axis=0), grads.grad_b[l], **TOL, err_msg="they add up to grad_bias")
            layer_squared += (want_b[l] ** 2).sum(axis=1)
        else:
            assert got.grad_b[l] is None
        np.testing.assert_allclose(got.norm[l], np.sqrt(layer_squared), **TOL, err_msg=f"norm of layer {l}")
        squared += layer_squared
    np.testing.assert_allclose(got.total_norm, np.sqrt(squared), **TOL)


@pytest.mark.parametrize("N", [1, 7])
@pytest.mark.parametrize(("act", "loss", "kind"), CASES, ids=IDS)
def test_input_jacobian_matches_torch_autograd_jacobian(act: Any, loss: Any, kind: str, N: int) -> None:
    p = problem(act, kind, True, N, rng_for("jacobian", label(act), N))
    layers = engine_layers(p, "float64")
    trace, _ = backward(layers, p["x"], p["t"], engine_loss(loss), "sum")
    got = input_jacobian(layers, trace)
    Ws, bs = [torch.tensor(W) for W in p["Ws"]], [torch.tensor(b) for b in p["bs"]]
    for n in range(N):
        want = torch.autograd.functional.jacobian(
            lambda x: torch_reference.network(Ws, bs, p["acts"], x)[0], torch.tensor(p["x"][n])
        ).numpy()
        np.testing.assert_allclose(got[n], want, **TOL, err_msg=f"point {n}")


def test_per_example_check_catches_a_wrong_point() -> None:
    """The comparison is not vacuous: swapping two points' gradients fails it."""
    p = problem("tanh", "real", True, 7, rng_for("wrong per-example"))
    layers = engine_layers(p, "float64")
    trace, grads = backward(layers, p["x"], p["t"], engine_loss("mse"), "sum")
    got = per_example_gradients(layers, trace, grads, "sum").grad_W[0][[1, 0, 2, 3, 4, 5, 6]]
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(got, _torch_per_example(p, "mse")[0][0], **TOL)
