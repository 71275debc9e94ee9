"""One optimizer step, explained: each new weight and bias, then the loss at the new parameters.

    w̃⁽ˡ⁾ₖ,ₘ = w⁽ˡ⁾ₖ,ₘ − Δw⁽ˡ⁾ₖ,ₘ        Δw: the optimizer's step from ∂E/∂w⁽ˡ⁾ₖ,ₘ (and its state)

The new values are those of :func:`service.engine.training.train_step`, so they
equal /v1/train-step's; Δw is shown as the difference it made (w − w̃).
"""

from __future__ import annotations

from collections.abc import Sequence

from service.engine.explain import symbols as S
from service.engine.explain.context import Context
from service.engine.explain.output import loss_formula, loss_substituted
from service.engine.explain.steps import step_id
from service.engine.network import Layer, forward, output_delta


def _tilde(symbol: str) -> str:
    """w^{(2)}_{1,3} → \\tilde{w}^{(2)}_{1,3}."""
    return f"\\tilde{{{symbol[0]}}}{symbol[1:]}"


def update_steps(ctx: Context, l: int, new_layers: Sequence[Layer], optimizer: str) -> None:
    """w̃⁽ˡ⁾ₖ,ₘ for every weight of layer l, then b̃⁽ˡ⁾ₖ."""
    old, new = ctx.layers[l], new_layers[l]
    g, c = ctx.numbers.given, ctx.numbers.computed
    step = f"\\Delta_{{\\mathrm{{{optimizer}}}}}"
    K, M = old.W.shape
    for k in range(K):
        for m in range(M):
            w_old, w_new = float(old.W[k, m]), float(new.W[k, m])
            formula = f"{S.w(l, k, m)} - {step}({S.dE(S.w(l, k, m))})"
            substituted = f"{g(w_old)} - ({c(w_old - w_new)})"
            deps = [step_id("grad_weights", l, None, (k, m))]
            ctx.add("update", l, None, (k, m), _tilde(S.w(l, k, m)), formula, substituted, w_new, deps, kind="W")
    if old.b is not None and new.b is not None:
        for k in range(K):
            b_old, b_new = float(old.b[k]), float(new.b[k])
            formula = f"{S.b(l, k)} - {step}({S.dE(S.b(l, k))})"
            substituted = f"{g(b_old)} - ({c(b_old - b_new)})"
            deps = [step_id("grad_bias", l, None, (k,))]
            ctx.add("update", l, None, (k,), _tilde(S.b(l, k)), formula, substituted, b_new, deps, kind="b")


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
