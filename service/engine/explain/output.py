"""The loss and the output error δ⁽ᴸ⁾ (primer eq. 5–6).

    Eₙ = prefix Σₖ term(yₖ, tₖ)              E = Σₙ Eₙ  (sum)  or  (1/N) Σₙ Eₙ  (mean)
    δ⁽ᴸ⁾ₖ = ḣ⁽ᴸ⁾(a⁽ᴸ⁾ₖ) ∂Eₙ/∂yₖ              elementwise output activation (= yₖ − tₖ for the primer)
    δ⁽ᴸ⁾ₖ = yₖ Σⱼ t'ⱼ − t'ₖ                    softmax + cross-entropy, fused as the engine computes it
    δ⁽ᴸ⁾ₖ = yₖ (gₖ − Σⱼ gⱼ yⱼ)                 softmax, any other loss (gⱼ = ∂Eₙ/∂yⱼ): a vjp
    δ⁽ᴸ⁾ₖ = gₖ − softmax(a)ₖ Σⱼ gⱼ             log_softmax: a vjp

For reduction "mean" each δ⁽ᴸ⁾ carries the factor 1/N, as the engine's does.
"""

from __future__ import annotations

import numpy as np

from service.engine.arrays import Array
from service.engine.explain import symbols as S
from service.engine.explain.context import Context
from service.engine.explain.numbers import product, total
from service.engine.explain.steps import step_id
from service.engine.tex import fill

_SYMBOLS = {"y": "y_{k}", "t": "t_{k}", "K": "K", "s": "\\operatorname{softmax}(y)_{k}", "S": "\\sum_{j} t_{j}"}


def _softmax(y: Array) -> Array:
    e = np.exp(y - y.max())
    return e / e.sum()


def _values(ctx: Context, y: Array, t: Array, k: int) -> dict[str, str]:
    """The numbers that fill the loss templates for output k of one point (yₖ with the digits that tell it from tₖ)."""
    c = ctx.numbers.computed
    t_text = ctx.t_text(float(t[k]))
    values = {"y": ctx.numbers.beside(float(y[k]), float(t[k]), t_text), "t": t_text, "K": str(y.shape[0])}
    if "⟨s⟩" in ctx.ltex.term + ctx.ltex.grad:
        values["s"] = c(float(_softmax(y)[k]))
        values["S"] = c(float(t.sum()))
    return values


def _symbols(ctx: Context, k: int | None = None) -> dict[str, str]:
    """The symbols that fill the loss templates: for output k (0-based), or the general k of the sum (None)."""
    smoothed = ctx.ltex.smoothing != 0
    sub = "k" if k is None else str(k + 1)
    symbols = {key: value.replace("_{k}", f"_{{{sub}}}") for key, value in _SYMBOLS.items()}
    return {**symbols, "t": f"t'_{{{sub}}}" if smoothed else f"t_{{{sub}}}", "S": "\\sum_{j} t'_{j}" if smoothed else "\\sum_{j} t_{j}"}


def loss_formula(ctx: Context) -> str:
    """Eₙ in symbols: prefix Σₖ term."""
    tex = ctx.ltex
    return f"{fill(tex.prefix, {'K': 'K'})}\\sum_{{k}} {fill(tex.term, _symbols(ctx))}"


def loss_substituted(ctx: Context, y: Array, t: Array) -> str:
    """Eₙ with this point's numbers: prefix [term₁ + term₂ + …]."""
    tex = ctx.ltex
    terms = [fill(tex.term, _values(ctx, y, t, k)) for k in range(y.shape[0])]
    prefix = fill(tex.prefix, {"K": str(y.shape[0])})
    return f"{prefix}\\,[{total(terms)}]" if prefix else f"[{total(terms)}]"


def _y_ids(ctx: Context, n: int) -> list[str]:
    return [step_id("z", ctx.L - 1, n, (k,)) for k in range(ctx.trace.y.shape[1])]


def point_loss_steps(ctx: Context, n: int) -> None:
    """Eₙ for point n of a batch."""
    value = float(ctx.grads.per_point[n])
    substituted = loss_substituted(ctx, ctx.trace.y[n], ctx.t_shown[n])
    ctx.add("loss", None, n, (), S.loss(n), loss_formula(ctx), substituted, value, _y_ids(ctx, n))


def loss_steps(ctx: Context) -> None:
    """E: Eₙ itself for one point, else the sum (or mean) of the Eₙ."""
    value = float(ctx.grads.loss)
    if ctx.N == 1:
        substituted = loss_substituted(ctx, ctx.trace.y[0], ctx.t_shown[0])
        ctx.add("loss", None, None, (), "E", loss_formula(ctx), substituted, value, _y_ids(ctx, 0))
        return
    terms = total([ctx.numbers.computed(float(e)) for e in ctx.grads.per_point])
    deps = [step_id("loss", None, n, ()) for n in range(ctx.N)]
    if ctx.reduction == "mean":
        formula, substituted = "\\frac{1}{N}\\sum_{n} E_{n}", f"\\frac{{1}}{{{ctx.N}}}\\,({terms})"
    else:
        formula, substituted = "\\sum_{n} E_{n}", terms
    ctx.add("loss", None, None, (), "E", formula, substituted, value, deps)


def _scale(ctx: Context) -> tuple[str, str]:
    """The 1/N of reduction mean, in symbols and in numbers (empty for sum or one point)."""
    if ctx.reduction == "mean" and ctx.N > 1:
        return "\\frac{1}{N}\\,", f"\\frac{{1}}{{{ctx.N}}}\\,"
    return "", ""


def output_delta_steps(ctx: Context, n: int) -> None:
    """δ⁽ᴸ⁾ₖ for every output k of point n, in the form the engine computes it."""
    l, p = ctx.L - 1, ctx.point(n)
    h, htex, ltex = ctx.layers[l].h, ctx.htex(l), ctx.ltex
    a, y, t = ctx.trace.a[l][n], ctx.trace.y[n], ctx.t_shown[n]
    delta = ctx.grads.delta[l][n]
    K = y.shape[0]
    c = ctx.numbers.computed
    sym_scale, num_scale = _scale(ctx)
    fused = h.name in ctx.loss.fused
    if fused:
        one = float(t.sum()) == 1.0
        for k in range(K):
            t_text = ctx.t_text(float(t[k]))
            vals = {"y": ctx.numbers.beside(float(y[k]), float(t[k]), t_text), "t": t_text}
            tk = S.t(k, None, ltex.smoothing != 0)
            if one:
                formula = f"{sym_scale}({S.y(k)} - {tk})"
                substituted = f"{num_scale}({vals['y']} - {vals['t']})"
            else:
                formula = f"{sym_scale}({S.y(k)}\\sum_{{j}} t_{{j}} - {tk})"
                substituted = f"{num_scale}({product(vals['y'], c(float(t.sum())))} - {vals['t']})"
            deps = [*_y_ids(ctx, n)]
            ctx.add("delta", l, n, (k,), S.delta(l, k, p), formula, substituted, float(delta[k]), deps)
        return
    grad_syms = [fill(ltex.grad, _symbols(ctx, k)) for k in range(K)]
    grads = [fill(ltex.grad, _values(ctx, y, t, k)) for k in range(K)]
    if htex.jacobian == "diagonal":
        dh = ctx.derivative(l)[n]
        linear = h.name == "linear"
        for k in range(K):
            deps = [step_id("z", l, n, (k,))] if linear else [step_id("a", l, n, (k,)), step_id("z", l, n, (k,))]
            if linear:
                formula, substituted, line = f"{sym_scale}({grad_syms[k]})", f"{num_scale}({grads[k]})", None
            else:
                a_text = c(float(a[k]))
                formula = f"{sym_scale}{S.dh(l, S.a(l, k))}\\,({grad_syms[k]})"
                substituted = f"{num_scale}{htex.name}'({a_text})\\,({grads[k]})"
                line = f"{htex.name}'({a_text}) = {fill(htex.dh, {'a': a_text, 'z': c(float(y[k]))})} = {c(float(dh[k]))}"
            ctx.add("delta", l, n, (k,), S.delta(l, k, p), formula, substituted, float(delta[k]), deps, derivative=line)
        return
    g = ctx.loss.grad(y[None, :], ctx.t[n][None, :])[0]  # the loss one-hots and smooths t itself
    grad_sym = fill(ltex.grad, _symbols(ctx))
    _vjp_steps(ctx, l, n, [c(float(v)) for v in g], f"\\frac{{\\partial E_{{n}}}}{{\\partial y_{{k}}}} = {grad_sym}", _y_ids(ctx, n))


def _vjp_steps(ctx: Context, l: int, n: int, g: list[str], g_is: str, g_deps: list[str]) -> None:
    """δ⁽ˡ⁾ₖ = gJ for a softmax or log_softmax layer, with g = ∂E/∂z⁽ˡ⁾ of point n given as numbers."""
    htex, p, c = ctx.htex(l), ctx.point(n), ctx.numbers.computed
    z, delta = ctx.trace.z[l][n], ctx.grads.delta[l][n]
    K = z.shape[0]
    z_text = [c(float(v)) for v in z]
    deps = [*g_deps, *(step_id("z", l, n, (j,)) for j in range(K))]
    sym_scale, num_scale = _scale(ctx) if l == ctx.L - 1 else ("", "")
    zs = f"z^{{({l + 1})}}"
    if htex.jacobian == "softmax":
        G = total([product(g[j], z_text[j]) for j in range(K)])
        formula = f"{sym_scale}{zs}_{{k}}\\,(g_{{k}} - \\sum_{{j}} g_{{j}}\\,{zs}_{{j}}),\\quad {g_is}"
        subs = [f"{num_scale}{product(z_text[k], f'({g[k]} - [{G}])')}" for k in range(K)]
    else:
        G = total(g)
        p_text = [c(float(v)) for v in np.exp(z)]
        formula = f"{sym_scale}(g_{{k}} - e^{{{zs}_{{k}}}}\\sum_{{j}} g_{{j}}),\\quad {g_is}"
        subs = [f"{num_scale}({g[k]} - {product(p_text[k], f'[{G}]')})" for k in range(K)]
    for k in range(K):
        ctx.add("delta", l, n, (k,), S.delta(l, k, p), formula.replace("_{k}", f"_{{{k + 1}}}"), subs[k], float(delta[k]), deps)
