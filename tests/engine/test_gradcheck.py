"""service.engine.gradcheck: passes on every activation/loss pair, and fails on a corrupted gradient."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from service.engine import Gradients, Layer, Loss, Trace, backward, get_activation
from service.engine.arrays import Array
from service.engine.gradcheck import cost, gradcheck
from tests.conformance.cases import engine_layers, engine_loss, label, pairs, problem, rng_for

PAIRS = pairs()


@pytest.mark.parametrize(("act", "loss", "kind"), PAIRS, ids=[f"{label(a)}+{label(l)}" for a, l, _ in PAIRS])
def test_gradcheck_passes_for_every_activation_and_loss(act: Any, loss: Any, kind: str) -> None:
    for reduction in ("sum", "mean", "none"):
        p = problem(act, kind, True, 3, rng_for("gradcheck", label(act), label(loss), reduction))
        result = gradcheck(engine_layers(p, "float64"), p["x"], p["t"], engine_loss(loss), reduction)
        assert result.passed, result
        assert all(c.max_abs_error < 1e-6 for c in (*result.weights, result.x))


def _corrupted(l: int, field: str, factor: float) -> Any:
    """backpropagation, with the largest entry of one gradient scaled by ``factor``."""

    def analytic(layers: Sequence[Layer], x: Array, t: Array, loss: Loss, reduction: str) -> tuple[Trace, Gradients]:
        trace, grads = backward(layers, x, t, loss, reduction)
        target = {"W": grads.grad_W[l], "b": grads.grad_b[l], "x": grads.grad_x}[field]
        assert target is not None
        target.flat[np.abs(target).argmax()] *= factor
        return trace, grads

    return analytic


@pytest.mark.parametrize(("l", "field"), [(0, "W"), (1, "W"), (0, "b"), (1, "b"), (0, "x")])
def test_gradcheck_fails_on_a_corrupted_gradient(l: int, field: str) -> None:
    p = problem("tanh", "real", True, 3, rng_for("corrupt"))
    layers, loss = engine_layers(p, "float64"), engine_loss("mse")
    assert gradcheck(layers, p["x"], p["t"], loss).passed
    result = gradcheck(layers, p["x"], p["t"], loss, analytic=_corrupted(l, field, 1.01))
    assert not result.passed
    failed = {"W": result.weights[l], "b": result.bias[l], "x": result.x}[field]
    assert failed is not None
    assert not failed.passed
    others = [c for c in (*result.weights, *result.bias, result.x) if c is not None and c is not failed]
    assert all(c.passed for c in others), "only the corrupted tensor fails"


def test_gradcheck_tolerances_are_torchs() -> None:
    """A 1e-4 relative error passes (within rtol 1e-3), a 1e-2 one fails; a tighter rtol catches the first."""
    p = problem("sigmoid", "real", True, 3, rng_for("tolerance"))
    layers, loss = engine_layers(p, "float64"), engine_loss("half_sse")
    grads = backward(layers, p["x"], p["t"], loss)[1]
    assert np.abs(grads.grad_W[0]).max() > 0.05  # so atol 1e-5 does not decide
    assert gradcheck(layers, p["x"], p["t"], loss, analytic=_corrupted(0, "W", 1 + 1e-4)).passed
    assert not gradcheck(layers, p["x"], p["t"], loss, analytic=_corrupted(0, "W", 1 + 1e-2)).passed
    assert not gradcheck(layers, p["x"], p["t"], loss, rtol=1e-5, analytic=_corrupted(0, "W", 1 + 1e-4)).passed


def test_gradcheck_cost_counts_every_perturbed_entry() -> None:
    """40,000 weights and 200 inputs are perturbed; the multiply-add bound is entries × N × weights."""
    layers = [Layer(np.zeros((200, 200)), None, get_activation("tanh"))]
    assert cost(layers, np.zeros((1, 200))) == (40_200, 40_200 * 1 * 40_000)


def test_chunked_evaluation_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Perturbations evaluated one by one (tiny chunks) give what one stack gives (up to the rounding
    that finite differences amplify by 1/ε: 1e-8 absolute)."""
    p = problem("softplus", "real", True, 5, rng_for("chunks"))
    layers, loss = engine_layers(p, "float64"), engine_loss("huber")
    whole = gradcheck(layers, p["x"], p["t"], loss)
    monkeypatch.setattr("service.engine.gradcheck.CHUNK_FLOATS", 1)
    chunked = gradcheck(layers, p["x"], p["t"], loss)
    for a, b in zip((*whole.weights, *whole.bias, whole.x), (*chunked.weights, *chunked.bias, chunked.x), strict=True):
        assert a is not None
        assert b is not None
        assert a.passed == b.passed
        assert a.max_abs_error == pytest.approx(b.max_abs_error, abs=1e-8)
