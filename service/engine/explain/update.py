"""One optimizer step, explained: each new weight and bias with the optimizer's own lines, then the loss after it.

    w̃⁽ˡ⁾ₖ,ₘ = w⁽ˡ⁾ₖ,ₘ − η ∂E/∂w⁽ˡ⁾ₖ,ₘ             SGD; each optimizer's lines are in :mod:`.optimizer_lines`
    w̃⁽ˡ⁾ₖ,ₘ = w⁽ˡ⁾ₖ,ₘ                           a frozen parameter (the layer's trainable or train_bias false)

The new values are those of :func:`service.engine.training.train_step`, so they equal /v1/train-step's;
so are the state slots the lines show (m, v, the momentum buffer …). Clipping's coefficient is taken
over the trainable gradients, as train_step's update takes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.engine.arrays import Array
from service.engine.explain import symbols as S
from service.engine.explain.context import Context
from service.engine.explain.optimizer_lines import WRITERS, Param
from service.engine.explain.output import loss_formula, loss_substituted
from service.engine.explain.steps import Part, step_id
from service.engine.network import Layer, forward, output_delta
from service.engine.optimizers import Optimizer, OptimizerState
from service.engine.optimizers.clipping import norm_coefficient
from service.engine.parameters import gradients, owners


def _tilde(symbol: str) -> str:
    """w^{(2)}_{1,3} → \\tilde{w}^{(2)}_{1,3}."""
    return f"\\tilde{{{symbol[0]}}}{symbol[1:]}"


class Update:
    """What every update line reads: θ and ∂E/∂θ before the step, the state before and after, the optimizer."""

    def __init__(self, ctx: Context, new_layers: Sequence[Layer], optimizer: Optimizer, before: OptimizerState, after: OptimizerState):
        self.ctx, self.new_layers, self.optimizer, self.before, self.after = ctx, new_layers, optimizer, before, after
        self.index = {owner: i for i, owner in enumerate(owners(ctx.layers))}
        self.grads = gradients(ctx.layers, ctx.grads)
        hp = optimizer.hyperparameters
        live = [g for (l, kind), g in zip(owners(ctx.layers), self.grads, strict=True) if ctx.layers[l].trains(kind)]
        self.clip = "norm" if hp.get("clip_norm") is not None else "value" if hp.get("clip_value") is not None else ""
        self.coefficient = norm_coefficient(live, hp["clip_norm"]) if self.clip == "norm" else 1.0

    def param(self, l: int, kind: str, at: tuple[int, ...], symbol: str, old: Array, new: Array) -> Param:
        i = self.index[(l, kind)]
        grad = float(self.grads[i][at])
        g = grad * self.coefficient if self.clip == "norm" else grad
        if self.clip == "value":
            limit = self.optimizer.hyperparameters["clip_value"]
            g = float(np.clip(grad, -limit, limit))
        slots_before = {name: float(arrays[i][at]) for name, arrays in self.before.slots.items()}
        slots_after = {name: float(arrays[i][at]) for name, arrays in self.after.slots.items()}
        return Param(
            symbol, float(old[at]), grad, g, self.clip, self.coefficient, slots_before, slots_after, self.after.step, float(new[at])
        )

    def line(self, l: int, kind: str, at: tuple[int, ...], symbol: str, old: Array, new: Array) -> None:
        """The step for one weight (kind "weights", at (k, m)) or bias ("bias", at (k,))."""
        ctx = self.ctx
        p = self.param(l, kind, at, symbol, old, new)
        gradient = step_id("grad_weights" if kind == "weights" else "grad_bias", l, None, at)
        parts: list[Part]
        if not ctx.layers[l].trains(kind):
            why = "trainable" if not ctx.layers[l].trainable else "train\\_bias"
            formula = substituted = f"{symbol}\\quad(\\text{{frozen: {why} false}})"
            parts = []
        else:
            formula, substituted, parts = WRITERS[self.optimizer.name](p, self.optimizer.hyperparameters, ctx.numbers)
        ctx.add(
            "update",
            l,
            None,
            at,
            _tilde(symbol),
            formula,
            substituted,
            p.value,
            [gradient],
            kind="W" if kind == "weights" else "b",
            parts=tuple(parts),
        )


def update_steps(ctx: Context, l: int, update: Update) -> None:
    """w̃⁽ˡ⁾ₖ,ₘ for every weight of layer l, then b̃⁽ˡ⁾ₖ."""
    old, new = ctx.layers[l], update.new_layers[l]
    K, M = old.W.shape
    for k in range(K):
        for m in range(M):
            update.line(l, "weights", (k, m), S.w(l, k, m), old.W, new.W)
    if old.b is not None and new.b is not None:
        for k in range(K):
            update.line(l, "bias", (k,), S.b(l, k), old.b, new.b)


def loss_after_step(ctx: Context, new_layers: Sequence[Layer]) -> None:
    """E at the updated parameters: a forward pass and the loss, as the engine computes them."""
    trace = forward(new_layers, ctx.x, ctx.checkpoint)
    E, per_point, _ = output_delta(trace, new_layers[-1].h, ctx.t, ctx.loss, ctx.reduction)
    if ctx.N == 1:
        formula, substituted = loss_formula(ctx), loss_substituted(ctx, trace.y[0], ctx.t_shown[0])
    else:
        terms = " + ".join(ctx.numbers.computed(float(e)) for e in per_point)
        formula = "\\sum_{n} E_{n}" if ctx.reduction == "sum" else "\\frac{1}{N}\\sum_{n} E_{n}"
        substituted = terms if ctx.reduction == "sum" else f"\\frac{{1}}{{{ctx.N}}}\\,({terms})"
    deps = [s.id for s in ctx.steps if s.quantity == "update"]
    ctx.add("loss_after", None, None, (), "\\tilde{E}", f"E(\\tilde{{W}}, \\tilde{{b}}) = {formula}", substituted, float(E), deps)
