"""The chain rule written out (explain's ``chain`` "factors"): δ, ∂E/∂w, ∂E/∂b and ∂E/∂x as products of factors.

    δ⁽ˡ⁾ₖ = ∂E/∂z⁽ˡ⁾ₖ · ∂z⁽ˡ⁾ₖ/∂a⁽ˡ⁾ₖ                    elementwise h (Mazur's ∂E/∂out · ∂out/∂net)
    ∂E/∂z⁽ᴸ⁾ₖ = ∂E/∂yₖ                                  the loss's derivative (yₖ − tₖ for ½Σ(y − t)²)
    ∂E/∂z⁽ˡ⁾ₖ = Σⱼ ∂E/∂a⁽ˡ⁺¹⁾ⱼ · ∂a⁽ˡ⁺¹⁾ⱼ/∂z⁽ˡ⁾ₖ            a hidden neuron: the sum over the layer above, term by term
              = Σⱼ δ⁽ˡ⁺¹⁾ⱼ w⁽ˡ⁺¹⁾ⱼ,ₖ
    δ⁽ˡ⁾ₖ = Σⱼ ∂E/∂z⁽ˡ⁾ⱼ · ∂z⁽ˡ⁾ⱼ/∂a⁽ˡ⁾ₖ                  softmax, log_softmax: through the Jacobian; with
                                                        cross-entropy that sum is the shortcut yₖ − tₖ
    ∂E/∂w⁽ˡ⁾ₖ,ₘ = (the factors of δ⁽ˡ⁾ₖ) · ∂a⁽ˡ⁾ₖ/∂w⁽ˡ⁾ₖ,ₘ,   ∂a⁽ˡ⁾ₖ/∂w⁽ˡ⁾ₖ,ₘ = z⁽ˡ⁻¹⁾ₘ
    ∂E/∂b⁽ˡ⁾ₖ   = (the factors of δ⁽ˡ⁾ₖ) · ∂a⁽ˡ⁾ₖ/∂b⁽ˡ⁾ₖ,     ∂a⁽ˡ⁾ₖ/∂b⁽ˡ⁾ₖ = 1
    ∂E/∂xₘ      = Σₖ ∂E/∂a⁽¹⁾ₖ · ∂a⁽¹⁾ₖ/∂xₘ = Σₖ δ⁽¹⁾ₖ w⁽¹⁾ₖ,ₘ

E is the reduced loss: for reduction mean, ∂E/∂yₖ carries the 1/N. A factor's value is display arithmetic on
the engine's numbers (δ, W, z, the activation's vjp with g = 1, the loss's gradient); the step's own value is
the engine's, as in the compact form. Each factor names what it differentiates (:class:`~.steps.Factor`'s
``of`` and ``wrt``), so a test can compare it with autograd. A batch's reduced ∂E/∂w and ∂E/∂b stay sums of
per-point terms (each per-point term of ∂E/∂w is factored).
"""

from __future__ import annotations

import numpy as np

from service.engine.errors import EngineError
from service.engine.explain import backward as compact
from service.engine.explain import symbols as S
from service.engine.explain.context import Context
from service.engine.explain.numbers import product, total
from service.engine.explain.output import _scale, _symbols, _values, _y_ids
from service.engine.explain.steps import Factor, Term, step_id
from service.engine.tex import fill


class ChainError(EngineError):
    """A chain through a softmax's Jacobian that floating point cannot write (an output at 0 or 1: 0 · ∞)."""

    field = "chain"


def _d(of: str, wrt: str) -> str:
    return f"\\frac{{\\partial {of}}}{{\\partial {wrt}}}"


def _z(ctx: Context, l: int, k: int, p: int | None) -> str:
    """z⁽ˡ⁾ₖ, written yₖ for the output layer."""
    return S.y(k, p) if l == ctx.L - 1 else S.z(l, k, p)


def _var(quantity: str, l: int | None, n: int | None, *index: int) -> str:
    return step_id(quantity, l, n, tuple(index))


def dE_dz(ctx: Context, l: int, n: int, k: int) -> Factor:
    """∂E/∂z⁽ˡ⁾ₖ at point n: the loss's derivative for the output layer, the sum over the layer above for a hidden one."""
    p, c, g = ctx.point(n), ctx.numbers.computed, ctx.numbers.given
    symbol = S.dE(_z(ctx, l, k, p))
    of, wrt = "loss", _var("z", l, n, k)
    if l == ctx.L - 1:
        y, t = ctx.trace.y[n], ctx.t_shown[n]
        scale = 1.0 / ctx.N if ctx.reduction == "mean" else 1.0
        value = float(ctx.loss.grad(y[None, :], ctx.t[n][None, :])[0, k] * scale)
        sym_scale, num_scale = _scale(ctx)
        formula = f"{sym_scale}{fill(ctx.ltex.grad, _symbols(ctx, k))}"
        substituted = f"{num_scale}{fill(ctx.ltex.grad, _values(ctx, y, t, k))}"
        return Factor(of, wrt, symbol, formula, substituted, value)
    W, delta = ctx.layers[l + 1].W, ctx.grads.delta[l + 1][n]
    terms = tuple(
        Term(
            float(delta[j] * W[j, k]),
            (
                Factor("loss", _var("a", l + 1, n, j), S.dE(S.a(l + 1, j, p)), S.delta(l + 1, j, p), c(float(delta[j])), float(delta[j])),
                Factor(
                    _var("a", l + 1, n, j), wrt, _d(S.a(l + 1, j, p), S.z(l, k, p)), S.w(l + 1, j, k), g(float(W[j, k])), float(W[j, k])
                ),
            ),
        )
        for j in range(W.shape[0])
    )
    formula = f"\\sum_{{j}} \\delta^{{({l + 2})}}_{{j}}\\,w^{{({l + 2})}}_{{j,{k + 1}}}"
    products = total([product(c(float(delta[j])), g(float(W[j, k]))) for j in range(W.shape[0])])
    values = total([c(s.value) for s in terms])
    substituted = products if len(terms) == 1 else f"{products} = {values}"
    return Factor(of, wrt, symbol, formula, substituted, float(delta @ W[:, k]), terms)


def dz_da(ctx: Context, l: int, n: int, j: int, k: int) -> Factor:
    """∂z⁽ˡ⁾ⱼ/∂a⁽ˡ⁾ₖ at point n: ḣ(aₖ) on the diagonal of an elementwise h; a Jacobian entry of softmax or log_softmax."""
    p, c, htex = ctx.point(n), ctx.numbers.computed, ctx.htex(l)
    a, z = ctx.trace.a[l][n], ctx.trace.z[l][n]
    symbol = _d(_z(ctx, l, j, p), S.a(l, k, p))
    of, wrt = _var("z", l, n, j), _var("a", l, n, k)
    zj, zk = _z(ctx, l, j, None), _z(ctx, l, k, None)
    if htex.jacobian == "diagonal":
        value = float(ctx.derivative(l)[n][k])
        formula = fill(htex.dh, {"a": S.a(l, k), "z": zk})
        substituted = fill(htex.dh, {"a": c(float(a[k])), "z": c(float(z[k]))})
    elif htex.jacobian == "softmax":  # ∂zⱼ/∂aₖ = zⱼ([j = k] − zₖ)
        value = float(z[j] * ((j == k) - z[k]))
        formula = f"{zj}\\,(1 - {zk})" if j == k else f"-{zj}\\,{zk}"
        substituted = product(c(float(z[j])), f"1 - {c(float(z[k]))}") if j == k else f"-{product(c(float(z[j])), c(float(z[k])))}"
    else:  # log_softmax: ∂zⱼ/∂aₖ = [j = k] − e^{zₖ}
        e_k = float(np.exp(z[k]))
        value = float((j == k) - e_k)
        formula = f"{'1 ' if j == k else ''}- e^{{{zk}}}"
        substituted = f"{'1 ' if j == k else ''}- {c(e_k)}"
    return Factor(of, wrt, symbol, formula, substituted, value)


def dE_da(ctx: Context, l: int, n: int, k: int) -> Factor:
    """δ⁽ˡ⁾ₖ as the factor ∂E/∂a⁽ˡ⁾ₖ (the δ step above works it out)."""
    p, value = ctx.point(n), float(ctx.grads.delta[l][n][k])
    return Factor("loss", _var("a", l, n, k), S.dE(S.a(l, k, p)), S.delta(l, k, p), ctx.numbers.computed(value), value)


def delta_factors(ctx: Context, l: int, n: int, k: int) -> tuple[Factor, ...]:
    """The factors whose product (or, through a softmax, sum of products) is δ⁽ˡ⁾ₖ."""
    if ctx.htex(l).jacobian == "diagonal":
        return dE_dz(ctx, l, n, k), dz_da(ctx, l, n, k, k)
    K = ctx.trace.a[l].shape[1]
    return (*(dE_dz(ctx, l, n, j) for j in range(K)), *(dz_da(ctx, l, n, j, k) for j in range(K)))


def _product_of(factors: tuple[Factor, ...], c: object) -> tuple[str, str]:
    assert callable(c)
    return "\\,".join(f.symbol for f in factors), product(*(f"({c(f.value)})" for f in factors))


def delta_steps(ctx: Context, l: int, n: int) -> None:
    """δ⁽ˡ⁾ₖ for every neuron k of layer l, point n, as its factors."""
    p, c = ctx.point(n), ctx.numbers.computed
    K = ctx.trace.a[l].shape[1]
    for k in range(K):
        factors = delta_factors(ctx, l, n, k)
        deps = _delta_deps(ctx, l, n, k)
        if ctx.htex(l).jacobian == "diagonal":
            formula, substituted = _product_of(factors, c)
        else:
            zj = "y_{j}" if l == ctx.L - 1 else f"z^{{({l + 1})}}_{{j}}"
            formula = f"\\sum_{{j}} {_d('E', zj)}\\,{_d(zj, S.a(l, k))}"
            substituted = total([product(c(factors[j].value), c(factors[K + j].value)) for j in range(K)])
            _check_sum(l, n, k, [factors[j].value * factors[K + j].value for j in range(K)], float(ctx.grads.delta[l][n][k]))
            shortcut = _shortcut(ctx, l, k)
            if shortcut:
                formula += f" = {shortcut}"
        ctx.add("delta", l, n, (k,), S.delta(l, k, p), formula, substituted, float(ctx.grads.delta[l][n][k]), deps, factors=factors)


def _check_sum(l: int, n: int, k: int, terms: list[float], delta: float) -> None:
    """The Jacobian's terms add up to δ, as they do in exact arithmetic; else the line would show a wrong sum."""
    total_value = float(np.sum(terms))
    scale = float(np.sum(np.abs(terms))) + abs(delta)
    if not (np.isfinite(total_value) and abs(total_value - delta) <= 1e-9 * max(scale, 1e-300)):
        raise ChainError(
            f"δ of layer {l}, point {n}, neuron {k} through the softmax's Jacobian is a sum floating point cannot write "
            "(an output is 0 or 1, so ∂E/∂y is infinite where the Jacobian is 0): explain it with chain compact"
        )


def _shortcut(ctx: Context, l: int, k: int) -> str:
    """For softmax with cross-entropy, what the sum of the Jacobian's terms comes to (the engine's fused form)."""
    if l != ctx.L - 1 or ctx.layers[l].h.name not in ctx.loss.fused:
        return ""
    sym_scale, _ = _scale(ctx)
    t = S.t(k, None, ctx.ltex.smoothing != 0)
    algebra = f"\\sum_{{j}} (-\\frac{{t_{{j}}}}{{y_{{j}}}})\\,y_{{j}}\\,([j = {k + 1}] - {S.y(k)})"
    return f"{sym_scale}{algebra} = {sym_scale}({S.y(k)}\\sum_{{j}} t_{{j}} - {t})"


def _delta_deps(ctx: Context, l: int, n: int, k: int) -> list[str]:
    if l == ctx.L - 1:
        return [*(_y_ids(ctx, n)), step_id("a", l, n, (k,))]
    return [step_id("a", l, n, (k,)), *(step_id("delta", l + 1, n, (j,)) for j in range(ctx.layers[l + 1].W.shape[0]))]


def _chain_to_a(ctx: Context, l: int, n: int, k: int) -> tuple[Factor, ...]:
    """The factors down to a⁽ˡ⁾ₖ: those of δ for an elementwise h, δ itself (∂E/∂aₖ) through a softmax."""
    return delta_factors(ctx, l, n, k) if ctx.htex(l).jacobian == "diagonal" else (dE_da(ctx, l, n, k),)


def _da_dw(ctx: Context, l: int, n: int, k: int, m: int) -> Factor:
    p, value = ctx.point(n), float(ctx.z_prev(l)[n][m])
    return Factor(
        _var("a", l, n, k), _var("w", l, None, k, m), _d(S.a(l, k, p), S.w(l, k, m)), S.z(l - 1, m), ctx.z_prev_text(l, value), value
    )


def _weight_step(ctx: Context, l: int, n: int, k: int, m: int, point: int | None) -> None:
    factors = (*_chain_to_a(ctx, l, n, k), _da_dw(ctx, l, n, k, m))
    formula, substituted = _product_of(factors, ctx.numbers.computed)
    value = float(ctx.grads.grad_W[l][k, m]) if point is None else float(ctx.grads.delta[l][n, k] * ctx.z_prev(l)[n, m])
    deps = [step_id("delta", l, n, (k,)), *ctx.z_prev_id(l, n, m)]
    ctx.add("grad_weights", l, point, (k, m), S.dE(S.w(l, k, m), point), formula, substituted, value, deps, factors=factors)


def grad_weight_steps(ctx: Context, l: int) -> None:
    """∂E/∂w⁽ˡ⁾ₖ,ₘ: its factors for one point; for a batch the sum of the per-point terms (as in the compact form)."""
    if ctx.N > 1:
        compact.grad_weight_steps(ctx, l)
        return
    K, M = ctx.layers[l].W.shape
    for k in range(K):
        for m in range(M):
            _weight_step(ctx, l, 0, k, m, None)


def grad_weight_terms(ctx: Context, l: int, n: int) -> None:
    """Point n's term of every ∂E/∂w⁽ˡ⁾ₖ,ₘ (a batch only), as its factors."""
    K, M = ctx.layers[l].W.shape
    for k in range(K):
        for m in range(M):
            _weight_step(ctx, l, n, k, m, n)


def grad_bias_steps(ctx: Context, l: int) -> None:
    """∂E/∂b⁽ˡ⁾ₖ: its factors for one point (∂a/∂b = 1); for a batch the sum of the δ's."""
    if ctx.N > 1:
        compact.grad_bias_steps(ctx, l)
        return
    grad_b = ctx.grads.grad_b[l]
    assert grad_b is not None
    for k in range(grad_b.shape[0]):
        one = Factor(_var("a", l, 0, k), _var("b", l, None, k), _d(S.a(l, k), S.b(l, k)), "1", "1", 1.0)
        factors = (*_chain_to_a(ctx, l, 0, k), one)
        formula, substituted = _product_of(factors, ctx.numbers.computed)
        ctx.add(
            "grad_bias",
            l,
            None,
            (k,),
            S.dE(S.b(l, k)),
            formula,
            substituted,
            float(grad_b[k]),
            [step_id("delta", l, 0, (k,))],
            factors=factors,
        )


def grad_x_steps(ctx: Context, n: int) -> None:
    """∂E/∂xₘ = Σₖ ∂E/∂a⁽¹⁾ₖ ∂a⁽¹⁾ₖ/∂xₘ for point n, term by term."""
    W, delta, p, c, g = ctx.layers[0].W, ctx.grads.delta[0][n], ctx.point(n), ctx.numbers.computed, ctx.numbers.given
    K, M = W.shape
    deps = [step_id("delta", 0, n, (k,)) for k in range(K)]
    for m in range(M):
        terms = tuple(
            Term(
                float(delta[k] * W[k, m]),
                (
                    dE_da(ctx, 0, n, k),
                    Factor(
                        _var("a", 0, n, k),
                        _var("x", None, n, m),
                        _d(S.a(0, k, p), S.z(-1, m, p)),
                        S.w(0, k, m),
                        g(float(W[k, m])),
                        float(W[k, m]),
                    ),
                ),
            )
            for k in range(K)
        )
        value = float(ctx.grads.grad_x[n][m])
        formula = f"\\sum_{{k}} {_d('E', 'a^{(1)}_{k}')}\\,{_d('a^{(1)}_{k}', S.z(-1, m))}"
        products = total([product(c(float(delta[k])), g(float(W[k, m]))) for k in range(K)])
        substituted = products if K == 1 else f"{products} = {total([c(s.value) for s in terms])}"
        whole = Factor("loss", _var("x", None, n, m), S.dE(S.z(-1, m, p)), formula, substituted, value, terms)
        ctx.add("grad_x", None, n, (m,), S.dE(S.z(-1, m), p), formula, substituted, value, deps, factors=(whole,))
