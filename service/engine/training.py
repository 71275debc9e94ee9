"""One training step: backpropagate, then let the optimizer update W and b."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from service.engine.losses import Loss
from service.engine.network import Array, Checkpoint, Gradients, Layer, Trace, backward, no_checkpoint
from service.engine.optimizers import Optimizer, OptimizerState


def parameters(layers: Sequence[Layer]) -> list[Array]:
    """θ as a flat list: W⁽¹⁾, b⁽¹⁾ (if any), W⁽²⁾, … in layer order."""
    return [p for layer in layers for p in (layer.W, layer.b) if p is not None]


def gradients(layers: Sequence[Layer], grads: Gradients) -> list[Array]:
    """∂E/∂θ in the order of :func:`parameters`."""
    return [
        g
        for layer, gW, gb in zip(layers, grads.grad_W, grads.grad_b, strict=True)
        for g in (gW, gb if layer.b is not None else None)
        if g is not None
    ]


def with_parameters(layers: Sequence[Layer], params: Sequence[Array]) -> list[Layer]:
    """The layers with θ replaced, in the order of :func:`parameters`."""
    it = iter(params)
    return [replace(layer, W=next(it), b=next(it) if layer.b is not None else None) for layer in layers]


@dataclass(frozen=True)
class Step:
    """A training step's result: the new layers and state, and what was computed before it."""

    layers: list[Layer]
    state: OptimizerState
    trace: Trace
    grads: Gradients


def train_step(
    layers: Sequence[Layer],
    x: Array,
    t: Array,
    loss: Loss,
    reduction: str,
    optimizer: Optimizer,
    state: OptimizerState,
    checkpoint: Checkpoint = no_checkpoint,
) -> Step:
    """θ ← optimizer(θ, ∂E/∂θ, state), with ∂E/∂θ from :func:`backward` at the old θ."""
    trace, grads = backward(layers, x, t, loss, reduction, checkpoint)
    new_params, new_state = optimizer.update(parameters(layers), gradients(layers, grads), state)
    return Step(with_parameters(layers, new_params), new_state, trace, grads)
