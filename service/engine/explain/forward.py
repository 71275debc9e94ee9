"""Forward steps (primer §3): a⁽ˡ⁾ₖ = Σₘ w⁽ˡ⁾ₖ,ₘ z⁽ˡ⁻¹⁾ₘ + b⁽ˡ⁾ₖ, then z⁽ˡ⁾ₖ = h⁽ˡ⁾(a⁽ˡ⁾ₖ)."""

from __future__ import annotations

from service.engine.explain import symbols as S
from service.engine.explain.context import Context
from service.engine.explain.numbers import product, total
from service.engine.explain.steps import step_id
from service.engine.tex import fill


def a_steps(ctx: Context, l: int, n: int) -> None:
    """a⁽ˡ⁾ₖ for every neuron k of layer l, point n: the weighted sum of the layer's inputs (M terms)."""
    layer, p = ctx.layers[l], ctx.point(n)
    W, z_prev, A = layer.W, ctx.z_prev(l)[n], ctx.trace.a[l][n]
    K, M = W.shape
    deps = [d for m in range(M) for d in ctx.z_prev_id(l, n, m)]
    inputs = [ctx.z_prev_text(l, float(z_prev[m])) for m in range(M)]
    for k in range(K):
        formula = f"\\sum_{{m}} w^{{({l + 1})}}_{{{k + 1},m}}\\,{'x' if l == 0 else f'z^{{({l})}}'}_{{m}}"
        terms = [product(ctx.numbers.given(float(W[k, m])), inputs[m]) for m in range(M)]
        if layer.b is not None:
            formula += f" + {S.b(l, k)}"
            terms.append(ctx.numbers.given(float(layer.b[k])))
        ctx.add("a", l, n, (k,), S.a(l, k, p), formula, total(terms), float(A[k]), deps)


def z_steps(ctx: Context, l: int, n: int) -> None:
    """z⁽ˡ⁾ₖ = h⁽ˡ⁾(a⁽ˡ⁾ₖ); for softmax and log_softmax, of the whole row a⁽ˡ⁾."""
    tex, p = ctx.htex(l), ctx.point(n)
    A, Z = ctx.trace.a[l][n], ctx.trace.z[l][n]
    K = A.shape[0]
    a_text = [ctx.numbers.computed(float(v)) for v in A]
    if tex.jacobian != "diagonal":
        deps = [step_id("a", l, n, (j,)) for j in range(K)]
        sum_e = total([f"e^{{{v}}}" for v in a_text])
        for k in range(K):
            if tex.jacobian == "softmax":
                formula = f"\\frac{{e^{{a^{{({l + 1})}}_{{{k + 1}}}}}}}{{\\sum_{{j}} e^{{a^{{({l + 1})}}_{{j}}}}}}"
                substituted = f"\\frac{{e^{{{a_text[k]}}}}}{{{sum_e}}}"
            else:
                formula = f"a^{{({l + 1})}}_{{{k + 1}}} - \\log\\sum_{{j}} e^{{a^{{({l + 1})}}_{{j}}}}"
                substituted = f"{a_text[k]} - \\log({sum_e})"
            ctx.add("z", l, n, (k,), S.z(l, k, p), formula, substituted, float(Z[k]), deps)
        return
    for k in range(K):
        formula = fill(tex.h, {"a": S.a(l, k)})
        substituted = fill(tex.h, {"a": a_text[k]})
        ctx.add("z", l, n, (k,), S.z(l, k, p), formula, substituted, float(Z[k]), [step_id("a", l, n, (k,))])
