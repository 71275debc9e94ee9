"""Property tests of the engine: for any shapes and values, a finite answer or a clean EngineError.

Random networks (1-4 layers of 1-8 units, every activation), batches of 1-6
points, every loss and reduction, values from tiny to 1e300. The suite turns
NumPy warnings into errors, so an overflow that escapes ``np.errstate`` fails
here. A finite answer must have the shapes of the primer (δ like a, ∂E/∂W like W).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from service.engine import EngineError, Layer, backward, forward, get_activation, get_loss
from service.engine.activations import activation_names
from service.engine.arrays import Array
from service.engine.losses import loss_names

VALUES = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
MODEST = st.floats(min_value=-10, max_value=10, allow_nan=False)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@st.composite
def problems(draw: st.DrawFn, values: st.SearchStrategy[float]) -> tuple[list[Layer], Array, Array, str, str]:
    """(layers, x, t, loss, reduction), with x and t of matching sizes."""
    dtype = np.dtype(draw(st.sampled_from(["float64", "float32"])))
    sizes = draw(st.lists(st.integers(1, 8), min_size=2, max_size=5))
    N = draw(st.integers(1, 6))
    floats = values.map(lambda v: float(np.clip(v, -np.finfo(dtype).max, np.finfo(dtype).max)))
    layers = []
    for M, K in itertools.pairwise(sizes):
        W = draw(arrays(dtype, (K, M), elements=floats))
        b = draw(st.none() | arrays(dtype, (K,), elements=floats))
        layers.append(Layer(W, b, get_activation(draw(st.sampled_from(activation_names())))))
    x = draw(arrays(dtype, (N, sizes[0]), elements=floats))
    t = draw(arrays(dtype, (N, sizes[-1]), elements=floats))
    return layers, x, t, draw(st.sampled_from(loss_names())), draw(st.sampled_from(["sum", "mean"]))


def _all_finite(*values: Any) -> bool:
    return all(v is None or bool(np.isfinite(v).all()) for v in values)


@PROPERTY_SETTINGS
@given(problems(MODEST | VALUES))
def test_backward_is_finite_with_primer_shapes_or_a_clean_error(problem: tuple[list[Layer], Array, Array, str, str]) -> None:
    layers, x, t, loss, reduction = problem
    try:
        trace, grads = backward(layers, x, t, get_loss(loss), reduction)
    except EngineError:
        return
    assert _all_finite(grads.loss, grads.grad_x, *trace.a, *trace.z, *grads.delta, *grads.grad_W, *grads.grad_b)
    assert grads.grad_x.shape == x.shape
    for layer, a, delta, gW, gb in zip(layers, trace.a, grads.delta, grads.grad_W, grads.grad_b, strict=True):
        assert delta.shape == a.shape == (x.shape[0], layer.W.shape[0])
        assert gW.shape == layer.W.shape
        assert (gb is None) == (layer.b is None)


@PROPERTY_SETTINGS
@given(problems(MODEST))
def test_modest_values_never_overflow_forward(problem: tuple[list[Layer], Array, Array, str, str]) -> None:
    """Weights and inputs within ±10 over at most 4 layers of 8 units stay far from overflow: an answer, unless e^a overflows."""
    layers, x, *_ = problem
    try:
        trace = forward(layers, x)
    except EngineError:  # only e^a can overflow here: past a = 88 in float32 (709 in float64), reported as non-finite z
        assert any(layer.h.name == "exponential" for layer in layers)
        return
    assert _all_finite(*trace.a, *trace.z)
    assert trace.y.shape == (x.shape[0], layers[-1].W.shape[0])


def test_the_finiteness_check_can_fail() -> None:
    """_all_finite is what the properties rest on: it does see an infinity."""
    assert not _all_finite(np.array([1.0, np.inf]))
    assert _all_finite(np.array([1.0]), None)
