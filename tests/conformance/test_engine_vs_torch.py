"""The engine against PyTorch autograd on the whole matrix: every activation × every loss that fits it.

For each pair: bias and no bias, batches of 1 and 7, float64 and float32, the
reduction cycling through sum, mean and none. Compared: y, E (or the Eₙ), every
layer's a, z and δ (torch: ``retain_grad`` on the pre-activations), ∂E/∂W, ∂E/∂b
and ∂E/∂x. Tolerances: float64 rtol 1e-10, atol 1e-12; float32 rtol 1e-5, atol 1e-5
(both sides round in float32: a gradient entry of 0.2 summed from terms of size
20 carries an absolute error of a few 1e-6, which atol covers).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from service.engine import backward
from tests.conformance import torch_reference
from tests.conformance.cases import (
    TORCH_ACTIVATIONS,
    engine_activation,
    engine_layers,
    engine_loss,
    in_torch,
    label,
    pairs,
    problem,
    rng_for,
)

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out

TOL = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-5}}
REDUCTIONS = ("sum", "mean", "none")
VARIANTS = list(itertools.product([False, True], [1, 7], ["float64", "float32"]))


def assert_matches_torch(p: dict[str, Any], loss: Any, reduction: str, dtype: str) -> None:
    """Run the engine and torch on problem ``p`` and compare every quantity."""
    trace, grads = backward(engine_layers(p, dtype), p["x"].astype(dtype), p["t"].astype(dtype), engine_loss(loss), reduction)
    want = torch_reference.backward(p["Ws"], p["bs"], p["acts"], p["x"], p["t"], loss, reduction, dtype)
    tol = TOL[dtype]
    close = np.testing.assert_allclose
    close(trace.y, want.y, **tol, err_msg="y")
    close(grads.loss, want.loss, **tol, err_msg="loss")
    close(grads.grad_x, want.grad_x, **tol, err_msg="grad_x")
    for l in range(len(p["Ws"])):
        close(trace.a[l], want.a[l], **tol, err_msg=f"a of layer {l}")
        close(trace.z[l], want.z[l], **tol, err_msg=f"z of layer {l}")
        close(grads.delta[l], want.delta[l], **tol, err_msg=f"delta of layer {l}")
        close(grads.grad_W[l], want.grad_W[l], **tol, err_msg=f"grad_weights of layer {l}")
        if p["bs"][l] is not None:
            close(grads.grad_b[l], want.grad_b[l], **tol, err_msg=f"grad_bias of layer {l}")
        for got in (trace.a[l], trace.z[l], grads.delta[l], grads.grad_W[l]):
            assert got.dtype == np.dtype(dtype)


PAIRS = [p for p in pairs() if in_torch(p[0])]  # every activation PyTorch has (tests/engine/test_records.py: the others)


@pytest.mark.parametrize(("act", "loss", "kind"), PAIRS, ids=[f"{label(a)}+{label(l)}" for a, l, _ in PAIRS])
def test_engine_matches_torch_autograd(act: Any, loss: Any, kind: str) -> None:
    for i, (bias, N, dtype) in enumerate(VARIANTS):
        reduction = REDUCTIONS[(i + len(label(act))) % 3]
        p = problem(act, kind, bias, N, rng_for(label(act), label(loss), bias, N))
        assert_matches_torch(p, loss, reduction, dtype)


#: Each activation's kinks and the points around which PyTorch picks a one-sided derivative.
KINKS = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 20.0, 21.0])


@pytest.mark.parametrize("act", TORCH_ACTIVATIONS, ids=[label(a) for a in TORCH_ACTIVATIONS])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_derivative_at_kinks_is_pytorchs(act: Any, dtype: str) -> None:
    """relu'(0) = 0, relu6'(6) = 0, hard_silu'(−3) = 0, elu'(0) = α …: the vjp at exact kinks equals torch's backward."""
    a = np.stack([KINKS, KINKS / 2]).astype(dtype)  # two rows: softmax needs a row to act on
    g = rng_for("kinks", label(act)).normal(0, 1, a.shape).astype(dtype)
    h = engine_activation(act)
    z = h.forward(a)
    at = torch.tensor(a, requires_grad=True)
    zt = torch_reference.activation(act)(at)
    zt.backward(torch.tensor(g))
    np.testing.assert_allclose(z, zt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(h.vjp(a, z, g), at.grad.numpy(), **TOL[dtype])


def test_hard_sigmoid_differs_from_torch_only_by_its_float32_one_sixth() -> None:
    """F.hardsigmoid's float64 backward uses 1/6 rounded to float32; ours is exact (and torch's relu6(a+3)/6 agrees)."""
    a = np.linspace(-4, 4, 17)
    at = torch.tensor(a, requires_grad=True)
    F.hardsigmoid(at).sum().backward()
    h = engine_activation("hard_sigmoid")
    got = h.vjp(a, h.forward(a), np.ones_like(a))
    np.testing.assert_allclose(h.forward(a), F.hardsigmoid(torch.tensor(a)).numpy(), rtol=1e-15)
    np.testing.assert_allclose(got, at.grad.numpy(), rtol=1e-7)
    assert not np.allclose(got, at.grad.numpy(), rtol=1e-10, atol=0)
    np.testing.assert_array_equal(got[(a > -3) & (a < 3)], 1 / 6)


def test_comparison_catches_a_wrong_delta() -> None:
    """The tolerance is not vacuous: a δ off by 1e-9 relative fails the float64 comparison."""
    p = problem("tanh", "real", True, 7, rng_for("wrong"))
    want = torch_reference.backward(p["Ws"], p["bs"], p["acts"], p["x"], p["t"], "mse", "sum", "float64")
    _, grads = backward(engine_layers(p, "float64"), p["x"], p["t"], engine_loss("mse"), "sum")
    wrong = grads.delta[0] * (1 + 1e-9)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(wrong, want.delta[0], **TOL["float64"])
