"""Analytic gradients against central finite differences, as torch.autograd.gradcheck does.

For every entry θᵢ of every W⁽ˡ⁾, b⁽ˡ⁾ and of x, the numerical derivative is

    nᵢ = (E(θ + ε eᵢ) − E(θ − ε eᵢ)) / 2ε

and the analytic one aᵢ passes when |aᵢ − nᵢ| ≤ atol + rtol |nᵢ| (torch's test,
with its defaults ε = 1e-6, atol = 1e-5, rtol = 1e-3, in float64). The
perturbations of one tensor are evaluated together: a stack of P perturbed
copies runs through the layers from the one that holds the tensor, as a leading
batch axis (P × N × K), so there is no Python loop over entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from service.engine.errors import EngineError
from service.engine.losses import Loss, per_point_loss, reduce
from service.engine.network import Array, Gradients, Layer, Trace, backward, finite

Analytic = Callable[[Sequence[Layer], Array, Array, Loss, str], tuple[Trace, Gradients]]
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class Comparison:
    """One tensor: the largest |a − n|, the largest |a − n| / max(|n|, atol), and whether every entry passed."""

    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclass(frozen=True)
class GradcheckResult:
    """Per layer the weights' and bias' comparisons (None without bias), the input's, and all of them passed."""

    weights: list[Comparison]
    bias: list[Comparison | None]
    x: Comparison
    passed: bool


def _E(layers: Sequence[Layer], start: int, z: Array, t: Array, loss: Loss, reduction: str, W: Array, b: Array | None) -> Array:
    """E for a stack of P variants (P,): layer ``start`` uses W (P × K × M or K × M) and b, on z (P × N × M or N × M)."""
    a = z
    for l in range(start, len(layers)):
        W_l, b_l = (W, b) if l == start else (layers[l].W, layers[l].b)
        a = z @ np.swapaxes(W_l, -1, -2)
        if b_l is not None:
            a = a + (b_l[:, None, :] if b_l.ndim == 2 else b_l)
        z = layers[l].h.forward(a)
    E, _ = reduce(per_point_loss(loss, layers[-1].h, a, z, t)[0], reduction)
    return E.sum(axis=-1) if reduction == "none" else E  # none: the gradients are those of Σₙ Eₙ


def _numerical(theta: Array, eps: float, E_of: Callable[[Array], Array]) -> Array:
    """Central differences of E with respect to every entry of θ, from two stacked evaluations."""
    P = theta.size
    steps = (eps * np.eye(P, dtype=theta.dtype)).reshape(P, *theta.shape)
    return ((E_of(theta + steps) - E_of(theta - steps)) / (2 * eps)).reshape(theta.shape)


def _compare(analytic: Array, numerical: Array, atol: float, rtol: float, quantity: str, layer: int | None) -> Comparison:
    err = finite(np.abs(analytic - numerical), quantity, layer)  # E overflowed at θ ± ε: a 422, not a NaN
    return Comparison(
        float(err.max()),
        float((err / np.maximum(np.abs(numerical), atol if atol > 0 else np.finfo(err.dtype).tiny)).max()),
        bool((err <= atol + rtol * np.abs(numerical)).all()),
    )


def gradcheck(
    layers: Sequence[Layer],
    x: Array,
    t: Array,
    loss: Loss,
    reduction: str = "sum",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    analytic: Analytic = backward,
) -> GradcheckResult:
    """Compare ``analytic`` (backpropagation by default; a test may inject a wrong one) with finite differences.

    ``x`` is N × M⁽¹⁾ and ``t`` N × K⁽ᴸ⁾, in float64. Refuses more than
    MAX_ENTRIES entries in total: each costs two evaluations of E.
    """
    entries = x.size + sum(layer.W.size + (layer.b.size if layer.b is not None else 0) for layer in layers)
    if entries > MAX_ENTRIES:
        raise EngineError(f"gradcheck perturbs each of the {entries} weights, biases and inputs; at most {MAX_ENTRIES} are allowed")
    trace, grads = analytic(layers, x, t, loss, reduction)
    weights: list[Comparison] = []
    bias: list[Comparison | None] = []
    with np.errstate(all="ignore"):  # a perturbation that overflows is reported by finite
        for l, layer in enumerate(layers):
            z_prev = trace.z[l - 1] if l > 0 else x
            W, b, grad_b = layer.W, layer.b, grads.grad_b[l]

            def E_of_W(Ws: Array, l: int = l, z: Array = z_prev, b: Array | None = b) -> Array:
                return _E(layers, l, z, t, loss, reduction, Ws, b)

            def E_of_b(bs: Array, l: int = l, z: Array = z_prev, W: Array = W) -> Array:
                return _E(layers, l, z, t, loss, reduction, W, bs)

            weights.append(_compare(grads.grad_W[l], _numerical(W, eps, E_of_W), atol, rtol, "finite-difference grad_weights", l))
            if b is None or grad_b is None:
                bias.append(None)
            else:
                bias.append(_compare(grad_b, _numerical(b, eps, E_of_b), atol, rtol, "finite-difference grad_bias", l))

        def E_of_x(xs: Array) -> Array:
            return _E(layers, 0, xs, t, loss, reduction, layers[0].W, layers[0].b)

        on_x = _compare(grads.grad_x, _numerical(x, eps, E_of_x), atol, rtol, "finite-difference grad_x", 0)
    passed = on_x.passed and all(c.passed for c in (*weights, *bias) if c is not None)
    return GradcheckResult(weights, bias, on_x, passed)
