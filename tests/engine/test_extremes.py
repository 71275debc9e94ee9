"""Every activation and loss stays finite, warning-free and in its dtype at |a| up to 1000.

The suite turns warnings into errors, so an overflow or a log(0) warning fails here.
Only exponential overflows (e^1000), which the network reports as a non-finite z.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service.engine import NonFiniteError, backward, get_activation
from service.engine.network import Layer
from tests.conformance.cases import ACTIVATIONS, LOSSES, engine_activation, engine_loss, label, pairs, rng_for, targets

A = np.array([[-1000.0, -700.0, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 700.0, 1000.0]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=[label(a) for a in ACTIVATIONS])
def test_activation_is_finite_at_1000(act: Any, dtype: str) -> None:
    a = A.astype(dtype)
    h = engine_activation(act)
    if label(act) == "exponential":
        with np.errstate(over="ignore"):
            assert not np.isfinite(h.forward(a)).all()
        return
    z = h.forward(a)
    g = h.vjp(a, z, np.ones_like(a))
    assert z.dtype == g.dtype == np.dtype(dtype)
    assert np.isfinite(z).all()
    assert np.isfinite(g).all()


#: outputs at the edge of each loss's domain: saturated probabilities, huge logits
EDGE_Y = {
    "real": np.array([[-1000.0, 0.0, 1000.0]]),
    "unit": np.array([[0.0, 1.0, 0.5]]),
    "distribution": np.array([[0.0, 1.0, 0.0]]),
    "log_distribution": np.array([[-1000.0, 0.0, -1000.0]]),
    "class": np.array([[0.0, 1.0, 0.0]]),
    "counts": np.array([[0.0, 1000.0, 0.0]]),
}
EDGE_T = {
    "real": np.array([[1.0, 0.0, -1.0]]),
    "unit": np.array([[1.0, 0.0, 0.3]]),
    "distribution": np.array([[0.5, 0.0, 0.5]]),
    "log_distribution": np.log(np.array([[0.5, 0.25, 0.25]])),
    "class": np.array([[2.0]]),
    "counts": np.array([[3.0, 0.0, 1.0]]),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("loss", "outputs", "kind"), LOSSES, ids=[label(spec) for spec, _, _ in LOSSES])
def test_loss_is_finite_at_the_edge_of_its_domain(loss: Any, outputs: Any, kind: str, dtype: str) -> None:
    L = engine_loss(loss)
    logits = outputs is None and kind in ("distribution", "class", "unit")
    y = (np.array([[-1000.0, 1000.0, 0.0]]) if logits else EDGE_Y[kind]).astype(dtype)
    if label(loss) == "poisson":  # log_input: y is a log-rate; e^1000 overflows, e^80 does not
        y = np.array([[-1000.0, 80.0, 0.0]], dtype=dtype)
    t = EDGE_T[kind].astype(dtype)
    L.check(y, t)
    value, grad = L.value(y, t), L.grad(y, t)
    assert np.isfinite(value).all(), value
    assert np.isfinite(grad).all(), grad
    assert value.dtype == grad.dtype == np.dtype(dtype)


def test_exponential_overflow_is_reported_as_non_finite_z() -> None:
    layers = [Layer(np.array([[1000.0]]), None, get_activation("exponential"))]
    with pytest.raises(NonFiniteError, match="z of layer 0"):
        backward(layers, np.ones((1, 1)), np.ones((1, 1)), engine_loss("mse"))


@pytest.mark.parametrize(("act", "loss", "kind"), pairs(), ids=[f"{label(a)}+{label(l)}" for a, l, _ in pairs()])
def test_backward_is_finite_with_pre_activations_of_1000(act: Any, loss: Any, kind: str) -> None:
    """a⁽ᴸ⁾ = ±1000 through every activation/loss pair: finite numbers, or (only where e^1000 is computed) a NonFiniteError."""
    W = np.array([[1000.0], [-1000.0], [0.0]])
    layers = [Layer(W, None, engine_activation(act))]
    x = np.array([[1.0], [-1.0]])
    t = targets(rng_for("extreme", label(loss)), kind, 2, 3)
    name = label(act).split("-")[0]
    bounded = engine_activation(act).image.high <= 80  # e^y stays finite (poisson's log_input), even in float32
    overflows = name == "exponential" or (label(loss) == "poisson" and not bounded)
    try:
        trace, grads = backward(layers, x, t, engine_loss(loss), "sum")
    except NonFiniteError:
        assert overflows, "only e^1000 may overflow"
        return
    for value in (grads.loss, grads.delta[0], grads.grad_W[0], grads.grad_x, trace.y):
        assert np.isfinite(value).all()
