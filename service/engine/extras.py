"""Opt-in quantities beyond the batch gradient: per-example gradients and the input Jacobian.

Both reuse the forward trace and the δ of :func:`service.engine.network.backward`;
neither loops over data points in Python (one einsum, or one pass per layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.engine.arrays import Array, finite
from service.engine.network import Gradients, Layer, Trace


@dataclass(frozen=True)
class PerExample:
    """Each point's gradient of its own Eₙ: ``grad_W[l]`` (N × K × M), ``grad_b[l]`` (N × K or None),
    ``norm[l]`` (N: ‖(∂Eₙ/∂W⁽ˡ⁾, ∂Eₙ/∂b⁽ˡ⁾)‖₂ over the layer's parameters) and ``total_norm`` (N: over all layers).
    """

    grad_W: list[Array]
    grad_b: list[Array | None]
    norm: list[Array]
    total_norm: Array


def per_example_gradients(layers: Sequence[Layer], trace: Trace, grads: Gradients, reduction: str) -> PerExample:
    """∂Eₙ/∂W⁽ˡ⁾ = δₙ⁽ˡ⁾ z⁽ˡ⁻¹⁾ₙᵀ and ∂Eₙ/∂b⁽ˡ⁾ = δₙ⁽ˡ⁾ for every point n at once.

    ``grads.delta[l]`` is ∂E/∂a⁽ˡ⁾, which for reduction mean carries the factor 1/N;
    it is taken out, so the per-example gradients sum (sum, none) or average (mean)
    to the batch gradient, as torch.func.vmap(grad(Eₙ)) gives them.
    """
    with np.errstate(all="ignore"):  # overflow is detected by finite
        return _per_example_gradients(layers, trace, grads, reduction)


def _per_example_gradients(layers: Sequence[Layer], trace: Trace, grads: Gradients, reduction: str) -> PerExample:
    N = trace.x.shape[0]
    unscale = N if reduction == "mean" else 1
    grad_W: list[Array] = []
    grad_b: list[Array | None] = []
    norm: list[Array] = []
    for l, layer in enumerate(layers):
        delta_n = grads.delta[l] * unscale if unscale != 1 else grads.delta[l]
        z_prev = trace.z[l - 1] if l > 0 else trace.x
        gW = finite(np.einsum("nk,nm->nkm", delta_n, z_prev), "per_example_grad_weights", l)
        squared = np.einsum("nkm,nkm->n", gW, gW)
        grad_W.append(gW)
        grad_b.append(delta_n if layer.b is not None else None)
        if layer.b is not None:
            squared = squared + np.einsum("nk,nk->n", delta_n, delta_n)
        norm.append(np.sqrt(squared))
    total = np.sqrt(sum(n * n for n in norm))
    return PerExample(grad_W, grad_b, norm, finite(np.asarray(total), "per_example_grad_norm"))


def input_jacobian(layers: Sequence[Layer], trace: Trace) -> Array:
    """∂y/∂x for every point: N × K⁽ᴸ⁾ × M⁽¹⁾.

    Reverse mode with the K⁽ᴸ⁾ unit vectors as seeds, all points at once: G starts
    as K⁽ᴸ⁾ × N × K⁽ᴸ⁾ (eₖ for every point) and each layer maps it by
    G ← vjp⁽ˡ⁾(G) W⁽ˡ⁾, so G ends as K⁽ᴸ⁾ × N × M⁽¹⁾.
    """
    y = trace.y
    K_L = y.shape[-1]
    G: Array = np.broadcast_to(np.eye(K_L, dtype=y.dtype)[:, None, :], (K_L, *y.shape))
    with np.errstate(all="ignore"):  # overflow is detected by finite
        for l in range(len(layers) - 1, -1, -1):
            G = layers[l].h.vjp(trace.a[l], trace.z[l], G) @ layers[l].W
    return finite(np.ascontiguousarray(G.transpose(1, 0, 2)), "input_jacobian", 0)
