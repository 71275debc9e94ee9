"""Analytic gradients against central finite differences, as torch.autograd.gradcheck does.

For every entry θᵢ of every W⁽ˡ⁾, b⁽ˡ⁾ and of x, the numerical derivative is

    nᵢ = (E(θ + ε eᵢ) − E(θ − ε eᵢ)) / 2ε

and the analytic one aᵢ passes when |aᵢ − nᵢ| ≤ atol + rtol |nᵢ| (torch's test,
with its defaults ε = 1e-6, atol = 1e-5, rtol = 1e-3, in float64). The
perturbations of one tensor are evaluated together: a stack of P perturbed
copies runs through the layers from the one that holds the tensor, as a leading
batch axis (P × N × K), in chunks that bound the memory; entries within a chunk
are not looped over in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from service.engine.arrays import Array, Checkpoint, finite, no_checkpoint
from service.engine.losses import Loss, per_point_loss, reduce
from service.engine.network import Gradients, Layer, Trace, backward

Analytic = Callable[[Sequence[Layer], Array, Array, Loss, str], tuple[Trace, Gradients]]
CHUNK_FLOATS = 1 << 22  # floats held by one stack of perturbed evaluations (32 MiB in float64)


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


def _numerical(theta: Array, eps: float, E_of: Callable[[Array], Array], variant_size: int, checkpoint: Checkpoint) -> Array:
    """Central differences of E with respect to every entry of θ: stacks of perturbed copies, in chunks.

    ``variant_size`` is the number of floats one perturbed evaluation holds (N × the widest layer);
    a chunk holds about CHUNK_FLOATS of them, so memory stays bounded whatever the size of θ.
    """
    P = theta.size
    chunk = max(1, CHUNK_FLOATS // (variant_size + P))
    numerical = np.empty(P, dtype=theta.dtype)
    for start in range(0, P, chunk):
        checkpoint()
        rows = np.arange(min(chunk, P - start))
        steps = np.zeros((rows.size, P), dtype=theta.dtype)
        steps[rows, start + rows] = eps
        steps = steps.reshape(rows.size, *theta.shape)
        numerical[start : start + rows.size] = (E_of(theta + steps) - E_of(theta - steps)) / (2 * eps)
    return numerical.reshape(theta.shape)


def _compare(analytic: Array, numerical: Array, atol: float, rtol: float, quantity: str, layer: int | None) -> Comparison:
    err = finite(np.abs(analytic - numerical), quantity, layer)  # E overflowed at θ ± ε: a 422, not a NaN
    return Comparison(
        float(err.max()),
        float((err / np.maximum(np.abs(numerical), atol if atol > 0 else np.finfo(err.dtype).tiny)).max()),
        bool((err <= atol + rtol * np.abs(numerical)).all()),
    )


def cost(layers: Sequence[Layer], x: Array) -> tuple[int, int]:
    """What a check of these layers on ``x`` (N × M⁽¹⁾) costs: the entries perturbed (weights, biases and inputs),
    and an upper bound on its multiply-adds, entries × N × (weights of all layers)."""
    entries = x.size + sum(layer.W.size + (layer.b.size if layer.b is not None else 0) for layer in layers)
    return entries, entries * x.shape[0] * sum(layer.W.size for layer in layers)


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
    checkpoint: Checkpoint = no_checkpoint,
) -> GradcheckResult:
    """Compare ``analytic`` (backpropagation by default; a test may inject a wrong one) with finite differences.

    ``x`` is N × M⁽¹⁾ and ``t`` N × K⁽ᴸ⁾, in float64. Each entry costs two evaluations
    of E (:func:`cost` says how much in all; the caller bounds it). ``checkpoint`` is called
    before each stack of evaluations.
    """
    trace, grads = analytic(layers, x, t, loss, reduction)
    variant_size = x.shape[0] * max(max(layer.W.shape) for layer in layers)

    def check(got: Array, theta: Array, E_of: Callable[[Array], Array], quantity: str, l: int) -> Comparison:
        numerical = _numerical(theta, eps, E_of, variant_size, checkpoint)
        return _compare(got, numerical, atol, rtol, f"finite-difference {quantity}", l)

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

            weights.append(check(grads.grad_W[l], W, E_of_W, "grad_weights", l))
            bias.append(None if b is None or grad_b is None else check(grad_b, b, E_of_b, "grad_bias", l))

        def E_of_x(xs: Array) -> Array:
            return _E(layers, 0, xs, t, loss, reduction, layers[0].W, layers[0].b)

        on_x = check(grads.grad_x, x, E_of_x, "grad_x", 0)
    passed = on_x.passed and all(c.passed for c in (*weights, *bias) if c is not None)
    return GradcheckResult(weights, bias, on_x, passed)
