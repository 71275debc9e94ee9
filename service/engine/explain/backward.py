"""Backward steps: δ of the earlier layers (primer eq. 7) and the gradients (eq. 1, 6).

δ⁽ˡ⁾ₘ = ḣ⁽ˡ⁾(a⁽ˡ⁾ₘ) Σₖ w⁽ˡ⁺¹⁾ₖ,ₘ δ⁽ˡ⁺¹⁾ₖ      (a vjp for softmax / log_softmax layers)
∂E/∂w⁽ˡ⁾ₖ,ₘ = Σₙ δ⁽ˡ⁾ₖ z⁽ˡ⁻¹⁾ₘ                (one term per data point; just δ z for one point)
∂E/∂b⁽ˡ⁾ₖ = Σₙ δ⁽ˡ⁾ₖ
∂E/∂xₘ = Σₖ w⁽¹⁾ₖ,ₘ δ⁽¹⁾ₖ                       (per data point)
"""

from __future__ import annotations

from service.engine.explain import symbols as S
from service.engine.explain.context import Context
from service.engine.explain.numbers import product, total
from service.engine.explain.output import _vjp_steps
from service.engine.explain.steps import step_id
from service.engine.tex import fill


def _weighted_errors(ctx: Context, l: int, n: int, m: int) -> tuple[str, str, list[str]]:
    """Σₖ w⁽ˡ⁺¹⁾ₖ,ₘ δ⁽ˡ⁺¹⁾ₖ in symbols and in numbers, and the δ ids it reads (l + 1 is the next layer)."""
    W, delta = ctx.layers[l + 1].W, ctx.grads.delta[l + 1][n]
    K = W.shape[0]
    c, g = ctx.numbers.computed, ctx.numbers.given
    formula = f"\\sum_{{k}} w^{{({l + 2})}}_{{k,{m + 1}}}\\,\\delta^{{({l + 2})}}_{{k}}"
    substituted = total([product(g(float(W[k, m])), c(float(delta[k]))) for k in range(K)])
    return formula, substituted, [step_id("delta", l + 1, n, (k,)) for k in range(K)]


def hidden_delta_steps(ctx: Context, l: int, n: int) -> None:
    """δ⁽ˡ⁾ₘ for every neuron m of a layer before the last, point n."""
    htex, p, c = ctx.htex(l), ctx.point(n), ctx.numbers.computed
    a, z, delta = ctx.trace.a[l][n], ctx.trace.z[l][n], ctx.grads.delta[l][n]
    K = a.shape[0]
    if htex.jacobian != "diagonal":
        g = (ctx.grads.delta[l + 1][n] @ ctx.layers[l + 1].W).tolist()  # ∂E/∂z⁽ˡ⁾, shown as numbers only
        g_is = f"g_{{k}} = \\sum_{{i}} w^{{({l + 2})}}_{{i,k}}\\,\\delta^{{({l + 2})}}_{{i}}"
        deps = [step_id("delta", l + 1, n, (i,)) for i in range(ctx.layers[l + 1].W.shape[0])]
        _vjp_steps(ctx, l, n, [c(v) for v in g], g_is, deps)
        return
    dh = ctx.derivative(l)[n]
    linear = ctx.layers[l].h.name == "linear"
    for m in range(K):
        sum_formula, sum_numbers, deps = _weighted_errors(ctx, l, n, m)
        if linear:
            formula, substituted, line = sum_formula, sum_numbers, None
        else:
            a_text = c(float(a[m]))
            formula = f"{S.dh(l, S.a(l, m))} {sum_formula}"
            substituted = f"{htex.name}'({a_text})\\,[{sum_numbers}]"
            line = f"{htex.name}'({a_text}) = {_fill_dh(htex.dh, a_text, c(float(z[m])))} = {c(float(dh[m]))}"
            deps = [step_id("a", l, n, (m,)), *deps]
        ctx.add("delta", l, n, (m,), S.delta(l, m, p), formula, substituted, float(delta[m]), deps, derivative=line)


def _fill_dh(template: str, a: str, z: str) -> str:
    return fill(template, {"a": a, "z": z})


def grad_weight_terms(ctx: Context, l: int, n: int) -> None:
    """Point n's term δ⁽ˡ⁾ₖ z⁽ˡ⁻¹⁾ₘ of every ∂E/∂w⁽ˡ⁾ₖ,ₘ (a batch only)."""
    delta, z_prev = ctx.grads.delta[l][n], ctx.z_prev(l)[n]
    K, M = ctx.layers[l].W.shape
    c = ctx.numbers.computed
    for k in range(K):
        for m in range(M):
            formula = f"{S.delta(l, k, n)}\\,{S.z(l - 1, m, n)}"
            substituted = product(c(float(delta[k])), ctx.z_prev_text(l, float(z_prev[m])))
            deps = [step_id("delta", l, n, (k,)), *ctx.z_prev_id(l, n, m)]
            ctx.add("grad_weights", l, n, (k, m), S.dE(S.w(l, k, m), n), formula, substituted, float(delta[k] * z_prev[m]), deps)


def grad_weight_steps(ctx: Context, l: int) -> None:
    """∂E/∂w⁽ˡ⁾ₖ,ₘ: δ z for one point, the sum of the per-point terms for a batch."""
    grad_W, delta, z_prev = ctx.grads.grad_W[l], ctx.grads.delta[l], ctx.z_prev(l)
    K, M = grad_W.shape
    c = ctx.numbers.computed
    for k in range(K):
        for m in range(M):
            if ctx.N == 1:
                formula = f"{S.delta(l, k)}\\,{S.z(l - 1, m)}"
                substituted = product(c(float(delta[0, k])), ctx.z_prev_text(l, float(z_prev[0, m])))
                deps = [step_id("delta", l, 0, (k,)), *ctx.z_prev_id(l, 0, m)]
            else:
                formula = f"\\sum_{{n}} {S.delta(l, k)}\\,{S.z(l - 1, m)}"
                substituted = total([c(float(delta[n, k] * z_prev[n, m])) for n in range(ctx.N)])
                deps = [step_id("grad_weights", l, n, (k, m)) for n in range(ctx.N)]
            ctx.add("grad_weights", l, None, (k, m), S.dE(S.w(l, k, m)), formula, substituted, float(grad_W[k, m]), deps)


def grad_bias_steps(ctx: Context, l: int) -> None:
    """∂E/∂b⁽ˡ⁾ₖ = Σₙ δ⁽ˡ⁾ₖ (δ itself for one point)."""
    grad_b, delta = ctx.grads.grad_b[l], ctx.grads.delta[l]
    assert grad_b is not None
    c = ctx.numbers.computed
    for k in range(grad_b.shape[0]):
        formula = S.delta(l, k) if ctx.N == 1 else f"\\sum_{{n}} {S.delta(l, k)}"
        substituted = total([c(float(delta[n, k])) for n in range(ctx.N)])
        deps = [step_id("delta", l, n, (k,)) for n in range(ctx.N)]
        ctx.add("grad_bias", l, None, (k,), S.dE(S.b(l, k)), formula, substituted, float(grad_b[k]), deps)


def grad_x_steps(ctx: Context, n: int) -> None:
    """∂E/∂xₘ = Σₖ w⁽¹⁾ₖ,ₘ δ⁽¹⁾ₖ for point n."""
    W, delta, grad_x = ctx.layers[0].W, ctx.grads.delta[0][n], ctx.grads.grad_x[n]
    K, M = W.shape
    c, g, p = ctx.numbers.computed, ctx.numbers.given, ctx.point(n)
    deps = [step_id("delta", 0, n, (k,)) for k in range(K)]
    for m in range(M):
        formula = f"\\sum_{{k}} w^{{(1)}}_{{k,{m + 1}}}\\,\\delta^{{(1)}}_{{k}}"
        substituted = total([product(g(float(W[k, m])), c(float(delta[k]))) for k in range(K)])
        ctx.add("grad_x", None, n, (m,), S.dE(S.z(-1, m), p), formula, substituted, float(grad_x[m]), deps)
