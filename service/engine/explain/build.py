"""explain(): the derivation of one backward pass (and optionally one optimizer step), as steps.

The values come from the engine's own :func:`~service.engine.network.backward` (or
:func:`~service.engine.training.train_step`); the steps are built group by group in
the order of :func:`~service.engine.explain.plan.groups`, so :func:`count_steps`
gives their number before any is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from service.engine.arrays import Array, Checkpoint, no_checkpoint
from service.engine.errors import EngineError
from service.engine.explain import backward as compact
from service.engine.explain import chain as chained
from service.engine.explain.context import Context
from service.engine.explain.forward import a_steps, z_steps
from service.engine.explain.numbers import Numbers
from service.engine.explain.output import loss_steps, output_delta_steps, point_loss_steps
from service.engine.explain.plan import Group, groups
from service.engine.explain.steps import EVERYTHING, Selection, Step
from service.engine.explain.update import Update, loss_after_step, update_steps
from service.engine.losses import Loss
from service.engine.network import Layer, backward
from service.engine.optimizers import Optimizer, OptimizerState
from service.engine.training import train_step

#: How δ and the gradients are written: as the primer does (compact), or as the chain rule's factors.
CHAINS = ("compact", "factors")


def sizes_of(layers: Sequence[Layer]) -> list[int]:
    """[M⁽¹⁾, K⁽¹⁾, …, K⁽ᴸ⁾] of a network."""
    return [int(layers[0].W.shape[1]), *(int(layer.W.shape[0]) for layer in layers)]


def explain(
    layers: Sequence[Layer],
    x: Array,
    t: Array,
    loss: Loss,
    reduction: str = "sum",
    *,
    digits: int = 4,
    selection: Selection = EVERYTHING,
    optimizer: Optimizer | None = None,
    optimizer_state: OptimizerState | None = None,
    chain: str = "compact",
    checkpoint: Checkpoint = no_checkpoint,
) -> list[Step]:
    """The steps of backpropagation for ``layers`` on ``x`` (N × M⁽¹⁾) and ``t`` (N × K⁽ᴸ⁾), in the primer's order.

    Forward a, z per layer; the loss; δ⁽ᴸ⁾ (eq. 5); δ of the earlier layers (eq. 7);
    ∂E/∂W and ∂E/∂b from the last layer back (eq. 1, 6); ∂E/∂x. With ``optimizer``,
    one update step (every new weight and bias) and the loss after it. ``digits``
    (1–17) is the significant digits of the numbers in ``substituted``; every
    ``value`` is the engine's full-precision number. ``reduction`` is "sum" or
    "mean". ``chain`` "factors" writes δ, ∂E/∂w, ∂E/∂b and ∂E/∂x as the chain rule's
    factors (:mod:`.chain`), "compact" as the primer does. ``checkpoint`` is called between
    layers and every few hundred steps; it may raise to stop. Raises the engine's errors
    (shapes are the caller's to check).
    """
    if reduction not in ("sum", "mean"):
        raise EngineError(f"explain supports reduction 'sum' or 'mean', not {reduction!r}")
    if chain not in CHAINS:
        raise EngineError(f"chain must be one of {CHAINS}, not {chain!r}")
    if not 1 <= digits <= 17:
        raise EngineError(f"digits must be 1 … 17, not {digits}")
    before = optimizer_state or OptimizerState()
    update: Update | None = None
    if optimizer is not None:
        step = train_step(layers, x, t, loss, reduction, optimizer, before, checkpoint)
        trace, grads = step.trace, step.grads
    else:
        trace, grads = backward(layers, x, t, loss, reduction, checkpoint)
    ctx = Context(layers, x, t, loss, reduction, trace, grads, Numbers(digits), selection, checkpoint, chain == "factors")
    if optimizer is not None:
        update = Update(ctx, step.layers, optimizer, before, step.state)
    rules = chained if ctx.chain else compact
    build: dict[str, Callable[[Group], None]] = {
        "a": lambda g: a_steps(ctx, _int(g.layer), _int(g.point)),
        "z": lambda g: z_steps(ctx, _int(g.layer), _int(g.point)),
        "loss": lambda g: loss_steps(ctx) if g.point is None else point_loss_steps(ctx, g.point),
        "delta": lambda g: _delta(ctx, _int(g.layer), _int(g.point)),
        "grad_weights": lambda g: (
            rules.grad_weight_steps(ctx, _int(g.layer)) if g.point is None else rules.grad_weight_terms(ctx, _int(g.layer), g.point)
        ),
        "grad_bias": lambda g: rules.grad_bias_steps(ctx, _int(g.layer)),
        "grad_x": lambda g: rules.grad_x_steps(ctx, _int(g.point)),
        "update": lambda g: update_steps(ctx, _int(g.layer), _given(update)),
        "loss_after": lambda g: loss_after_step(ctx, _given(update).new_layers),
    }
    biases = [layer.b is not None for layer in layers]
    last: tuple[str, int | None] | None = None
    with np.errstate(all="ignore"):  # display-only arithmetic (products of shown terms) may underflow
        for group in groups(sizes_of(layers), biases, int(x.shape[0]), optimizer is not None):
            if (group.quantity, group.layer) != last:
                checkpoint()
                last = (group.quantity, group.layer)
            if selection.wants(group.quantity, group.layer, group.point):
                build[group.quantity](group)
    return ctx.steps


def _delta(ctx: Context, l: int, n: int) -> None:
    if ctx.chain:
        chained.delta_steps(ctx, l, n)
    elif l == ctx.L - 1:
        output_delta_steps(ctx, n)
    else:
        compact.hidden_delta_steps(ctx, l, n)


def _int(value: int | None) -> int:
    assert value is not None
    return value


def _given(update: Update | None) -> Update:
    assert update is not None
    return update
