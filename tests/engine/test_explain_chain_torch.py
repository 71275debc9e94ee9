"""explain(chain="factors") against PyTorch autograd, factor by factor: every activation and every loss, bias, batches of 1 and 3.

Each factor names what it differentiates (``of``) by what (``wrt``); torch computes the same derivative with
``torch.autograd.grad`` on the same network (tests/conformance/torch_reference.py, its notes on hard_sigmoid and
celu apply), and each sum's terms are checked to multiply and add up to the factor. Tolerance (float64): rtol
1e-10, atol 1e-12. The step values and counts are those of the compact form (checked here too). Seeds: the cases'
(tests/conformance/cases.rng_for). The last tests show the check fails on a wrong factor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from service.engine.explain import Factor, Step, count_steps, explain, sizes_of
from tests.conformance import torch_reference
from tests.conformance.cases import engine_layers, engine_loss, label, problem, rng_for
from tests.engine.explain_helpers import assert_values
from tests.engine.test_explain_torch import CASES, TOL, TorchAsResult


class Autograd:
    """The network of a problem in torch, and ∂(of)/∂(wrt) for the names a Factor uses (``a/l/n/k``, ``w/l/k/m`` …)."""

    def __init__(self, p: dict[str, Any], loss: Any, reduction: str) -> None:
        d = torch.float64
        W = [torch.tensor(W, dtype=d, requires_grad=True) for W in p["Ws"]]
        b = [torch.tensor(b, dtype=d, requires_grad=True) if b is not None else None for b in p["bs"]]
        x = torch.tensor(p["x"], dtype=d, requires_grad=True)
        y, a, z = torch_reference.network(W, b, p["acts"], x)
        self.E = torch_reference.reduce(torch_reference.per_point_loss(loss)(y, torch.tensor(p["t"], dtype=d)), reduction)
        self.named = {"x": x} | {f"{q}/{l}": v[l] for q, v in (("a", a), ("z", z), ("w", W), ("b", b)) for l in range(len(W))}
        self.named = {k: v for k, v in self.named.items() if v is not None}
        self.cache: dict[str, dict[str, torch.Tensor]] = {}

    def _split(self, name: str) -> tuple[str, tuple[int, ...]]:
        """``a/1/0/2`` → ("a/1", (0, 2)); ``x/0/1`` → ("x", (0, 1))."""
        q, *rest = name.split("/")
        i = tuple(int(r) for r in rest)
        return ("x", i) if q == "x" else (f"{q}/{i[0]}", i[1:])

    def derivative(self, of: str, wrt: str) -> float:
        if of not in self.cache:
            tensor, index = ("", ()) if of == "loss" else self._split(of)
            scalar = self.E if of == "loss" else self.named[tensor][index]
            grads = torch.autograd.grad(scalar, list(self.named.values()), retain_graph=True, allow_unused=True)
            self.cache[of] = {n: torch.zeros_like(t) if g is None else g for (n, t), g in zip(self.named.items(), grads, strict=True)}
        tensor, index = self._split(wrt)
        return float(self.cache[of][tensor][index])


def assert_factor(f: Factor, torch_side: Autograd, where: str) -> None:
    np.testing.assert_allclose(f.value, torch_side.derivative(f.of, f.wrt), **TOL, err_msg=f"{where}: ∂{f.of}/∂{f.wrt}")
    if f.terms:
        np.testing.assert_allclose(f.value, math.fsum(t.value for t in f.terms), **TOL, err_msg=f"{where}: the terms' sum")
        for term in f.terms:
            np.testing.assert_allclose(term.value, math.prod(g.value for g in term.factors), rtol=1e-12, atol=1e-15, err_msg=where)
            for g in term.factors:
                assert_factor(g, torch_side, f"{where} term")


def assert_chain(steps: list[Step], torch_side: Autograd) -> int:
    """Every factor of every step against autograd, and each product of factors against the step; the number checked."""
    checked = 0
    for s in steps:
        for f in s.factors:
            assert_factor(f, torch_side, s.id)
            checked += 1
        if (s.factors and s.quantity in ("grad_weights", "grad_bias")) or (s.quantity == "delta" and len(s.factors) == 2):
            np.testing.assert_allclose(math.prod(f.value for f in s.factors), s.value, **TOL, err_msg=f"{s.id}: the product")
    return checked


def run(act: Any, loss: Any, kind: str, bias: bool, N: int, reduction: str) -> tuple[list[Step], dict[str, Any]]:
    p = problem(act, kind, bias, N, rng_for("explain-chain", label(act), label(loss), bias, N))
    steps = explain(engine_layers(p, "float64"), p["x"], p["t"], engine_loss(loss), reduction, digits=5, chain="factors")
    return steps, p


@pytest.mark.parametrize(("act", "loss", "kind"), CASES, ids=[f"{label(a)}+{label(l)}" for a, l, _ in CASES])
def test_every_factor_matches_torch_autograd(act: Any, loss: Any, kind: str) -> None:
    for bias, N, reduction in ((True, 1, "sum"), (False, 3, "mean")):
        steps, p = run(act, loss, kind, bias, N, reduction)
        assert_values(steps, TorchAsResult(p, loss, reduction), **TOL)  # the steps' own values: as in the compact form
        assert len(steps) == count_steps(sizes_of(engine_layers(p, "float64")), [bias, bias], N)
        assert assert_chain(steps, Autograd(p, loss, reduction)) > 0
        assert all("⟨" not in s.formula + s.substituted + "".join(f.formula + f.substituted for f in s.factors) for s in steps)


def test_softmax_with_cross_entropy_goes_through_the_jacobian_to_the_shortcut() -> None:
    steps, p = run("softmax", "categorical_cross_entropy", "distribution", True, 1, "sum")
    delta = next(s for s in steps if s.id == "delta/1/0/0")
    assert [f.wrt for f in delta.factors] == ["z/1/0/0", "z/1/0/1", "z/1/0/2", "a/1/0/0", "a/1/0/0", "a/1/0/0"]
    assert [f.of for f in delta.factors[3:]] == ["z/1/0/0", "z/1/0/1", "z/1/0/2"]
    assert "\\frac{t_{j}}{y_{j}}" in delta.formula
    assert delta.formula.endswith("(y_{1}\\sum_{j} t_{j} - t_{1})")  # the shortcut the engine computes, after the sum
    assert_chain(steps, Autograd(p, "categorical_cross_entropy", "sum"))


def test_mazurs_chain_for_w5_and_w1() -> None:
    """Mazur's 2-2-2 example: ∂E/∂w5 = 0.74136507 · 0.186815602 · 0.593269992; ∂E/∂w1's ∂E/∂out_h1 = 0.055399425 − 0.019049119."""
    from service.engine import Layer, get_activation, get_loss

    s = get_activation("sigmoid")
    layers = [
        Layer(np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35]), s),
        Layer(np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60]), s),
    ]
    steps = {s.id: s for s in explain(layers, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), get_loss("half_sse"), chain="factors")}
    assert [round(f.value, 9) for f in steps["grad_weights/1/0/0"].factors] == [0.74136507, 0.186815602, 0.593269992]
    assert round(steps["grad_weights/1/0/0"].value, 9) == 0.082167041
    dE_dout_h1 = steps["grad_weights/0/0/0"].factors[0]
    assert [round(t.value, 9) for t in dE_dout_h1.terms] == [0.055399425, -0.019049118]  # Mazur: −0.019049119 (his rounding)
    assert round(dE_dout_h1.value, 9) == 0.036350306
    assert round(steps["grad_weights/0/0/0"].value, 9) == 0.000438568


def test_the_check_fails_on_a_wrong_factor() -> None:
    steps, p = run("tanh", "half_sse", "real", True, 1, "sum")
    torch_side = Autograd(p, "half_sse", "sum")
    f = steps[-1].factors[0].terms[0].factors[1]  # ∂a⁽¹⁾₁/∂x₁ = w⁽¹⁾₁,₁
    with pytest.raises(AssertionError):
        assert_factor(Factor(f.of, f.wrt, f.symbol, f.formula, f.substituted, f.value * (1 + 1e-8)), torch_side, "perturbed")
    wrong_wrt = Factor(f.of, "x/0/1", f.symbol, f.formula, f.substituted, f.value)  # the other input's derivative
    with pytest.raises(AssertionError):
        assert_factor(wrong_wrt, torch_side, "wrong wrt")
