"""The flat parameter list θ and its order: W⁽¹⁾, b⁽¹⁾ (if the layer has one), W⁽²⁾, … — known here only.

Optimizers see θ, its gradients and their state slots as flat lists of arrays in
this order (one array per θᵢ); networks and the wire see them per layer. Everything
that goes from one view to the other goes through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from service.engine.arrays import Array
from service.engine.network import Gradients, Layer

#: One layer's share of a per-parameter quantity: (for W, for b or None).
PerLayer = tuple[Array, Array | None]


def flatten(per_layer: Sequence[PerLayer]) -> list[Array]:
    """[(W⁽¹⁾, b⁽¹⁾), (W⁽²⁾, None), …] → [W⁽¹⁾, b⁽¹⁾, W⁽²⁾, …]."""
    return [p for W, b in per_layer for p in (W, b) if p is not None]


def unflatten(layers: Sequence[Layer], flat: Sequence[Array]) -> list[PerLayer]:
    """The inverse of :func:`flatten` for these layers: a b-array only where the layer has a bias."""
    it = iter(flat)
    return [(next(it), next(it) if layer.b is not None else None) for layer in layers]


def parameters(layers: Sequence[Layer]) -> list[Array]:
    """θ: W⁽¹⁾, b⁽¹⁾ (if any), W⁽²⁾, … in layer order."""
    return flatten([(layer.W, layer.b) for layer in layers])


def gradients(layers: Sequence[Layer], grads: Gradients) -> list[Array]:
    """∂E/∂θ in the order of :func:`parameters`."""
    return flatten([(gW, gb if layer.b is not None else None) for layer, gW, gb in zip(layers, grads.grad_W, grads.grad_b, strict=True)])


def with_parameters(layers: Sequence[Layer], theta: Sequence[Array]) -> list[Layer]:
    """The layers with θ replaced, in the order of :func:`parameters`."""
    return [replace(layer, W=W, b=b) for layer, (W, b) in zip(layers, unflatten(layers, theta), strict=True)]


def owners(layers: Sequence[Layer]) -> list[tuple[int, str]]:
    """For each θᵢ, its layer and whether it is the layer's "weights" or its "bias"."""
    return [(l, kind) for l, layer in enumerate(layers) for kind, p in (("weights", layer.W), ("bias", layer.b)) if p is not None]
