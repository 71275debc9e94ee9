"""Each optimizer's update of one parameter written out, with its state and hyperparameters (torch.optim's equations).

    SGD       g ← ∂E/∂w + λw;  b_t = μ b_{t−1} + (1 − τ) g  (b_1 = g);  w̃ = w − η g  |  w − η b_t  |  w − η (g + μ b_t)
    Adam      g ← ∂E/∂w + λw;  m_t = β₁ m_{t−1} + (1 − β₁) g;  v_t = β₂ v_{t−1} + (1 − β₂) g²;
              m̂_t = m_t / (1 − β₁ᵗ);  v̂_t = v_t / (1 − β₂ᵗ);  w̃ = w − η m̂_t / (√v̂_t + ε)     (AMSGrad: v_t ← max(v_{t−1}^max, v_t))
    AdamW     w′ = w (1 − ηλ);  then Adam's lines without λ, from w′
    RMSprop   s_t = α s_{t−1} + (1 − α) g²;  ḡ_t = α ḡ_{t−1} + (1 − α) g (centered);  d = √(s_t − ḡ_t²) + ε or √s_t + ε;
              b_t = μ b_{t−1} + g / d,  w̃ = w − η b_t   (momentum)   or   w̃ = w − η g / d
    Adagrad   η_t = η / (1 + (t − 1) lr_decay);  S_t = S_{t−1} + g²;  w̃ = w − η_t g / (√S_t + ε)

Before them, when it is on, clipping: g = c ∂E/∂w with c = min(1, clip_norm / (‖∂E/∂θ‖ + 10⁻⁶)) over every
trainable gradient, or g = clamp(∂E/∂w, −clip_value, clip_value). A state slot's value is the engine's (what
/v1/train-step returns in ``optimizer_state``); m̂, v̂, d and the like are worked out here from it for the line;
the new w is the engine's. Each returns the update's formula and substituted form, and its :class:`~.steps.Part`\\ s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.engine.explain import symbols as S
from service.engine.explain.numbers import Numbers, product
from service.engine.explain.steps import Part
from service.engine.tex import param


@dataclass(frozen=True)
class Param:
    """One parameter's numbers around the step: before, its gradient, its state slots before and after, after."""

    symbol: str  #: w^{(2)}_{1,1} or b^{(1)}_{2}
    theta: float
    grad: float  #: ∂E/∂θ as backward gives it (with a regularization penalty's gradient)
    g: float  #: after clipping
    clip: str  #: "", "norm" or "value"
    coefficient: float  #: clip_norm's c
    old: Mapping[str, float]  #: slots before the step; a slot absent is one the optimizer has not started yet
    new: Mapping[str, float]  #: slots after the step (the engine's)
    t: int  #: the step's number (1 for the first)
    value: float  #: θ after the step (the engine's)


Lines = tuple[str, str, list[Part]]


def _n(numbers: Numbers, value: float) -> str:
    return numbers.computed(value)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _gradient(p: Param, hp: Mapping[str, Any], numbers: Numbers, decay: float) -> tuple[str, float, list[Part]]:
    """The gradient the update uses, g: ∂E/∂w clipped, plus λw (coupled weight decay); its symbol, value and line."""
    dE = S.dE(p.symbol)
    formula, substituted, note, g = dE, _n(numbers, p.grad), "", p.g
    if p.clip == "norm":
        formula, substituted = f"c\\,{dE}", product(_n(numbers, p.coefficient), _n(numbers, p.grad))
        note = f",\\quad c = \\min(1, \\frac{{{param(hp['clip_norm'])}}}{{\\lVert \\partial E/\\partial \\theta \\rVert + 10^{{-6}}}})"
    elif p.clip == "value":
        c = param(hp["clip_value"])
        formula, substituted = f"\\min(\\max({dE}, -{c}), {c})", f"\\min(\\max({_n(numbers, p.grad)}, -{c}), {c})"
    if decay:
        formula += f" + \\lambda\\,{p.symbol}"
        substituted += f" + {product(param(decay), numbers.given(p.theta))}"
        g = p.g + decay * p.theta
    if not p.clip and not decay:
        return dE, g, []
    return "g", g, [Part("grad", "g", formula + note, substituted, g)]


def _previous(p: Param, slot: str, numbers: Numbers, initial: float) -> str:
    return _n(numbers, p.old[slot]) if slot in p.old else _n(numbers, initial)


def sgd(p: Param, hp: Mapping[str, Any], numbers: Numbers) -> Lines:
    eta, mu, tau, nesterov = hp["learning_rate"], hp["momentum"], hp["dampening"], hp["nesterov"]
    g_sym, g, parts = _gradient(p, hp, numbers, hp["weight_decay"])
    e, w = param(eta), numbers.given(p.theta)
    if mu == 0:
        return f"{p.symbol} - \\eta\\,{g_sym}", f"{w} - {product(e, _n(numbers, g))}", parts
    b = p.new["momentum_buffer"]
    if "momentum_buffer" in p.old:
        parts.append(
            Part(
                "momentum_buffer",
                "b_{t}",
                f"\\mu\\,b_{{t-1}} + (1 - \\tau)\\,{g_sym}",
                f"{product(param(mu), _n(numbers, p.old['momentum_buffer']))} + {product(param(1 - tau), _n(numbers, g))}",
                b,
            )
        )
    else:
        parts.append(Part("momentum_buffer", "b_{t}", f"{g_sym}\\quad(t = 1)", _n(numbers, g), b))
    if nesterov:
        return (
            f"{p.symbol} - \\eta\\,({g_sym} + \\mu\\,b_{{t}})",
            f"{w} - {product(e, f'{_n(numbers, g)} + {product(param(mu), _n(numbers, b))}')}",
            parts,
        )
    return f"{p.symbol} - \\eta\\,b_{{t}}", f"{w} - {product(e, _n(numbers, b))}", parts


def adam(p: Param, hp: Mapping[str, Any], numbers: Numbers, decoupled: bool = False) -> Lines:
    eta, (beta1, beta2), eps, decay = hp["learning_rate"], hp["betas"], hp["eps"], hp["weight_decay"]
    parts: list[Part] = []
    w_sym, w_text, theta = p.symbol, numbers.given(p.theta), p.theta
    if decoupled and decay:
        theta = p.theta * (1 - eta * decay)
        parts.append(
            Part(
                "decayed",
                f"{p.symbol}'",
                f"{p.symbol}\\,(1 - \\eta\\lambda)",
                product(w_text, f"1 - {product(param(eta), param(decay))}"),
                theta,
            )
        )
        w_sym, w_text = f"{p.symbol}'", _n(numbers, theta)
    g_sym, g, grad_parts = _gradient(p, hp, numbers, 0.0 if decoupled else decay)
    parts += grad_parts
    m, v = p.new["exp_avg"], p.new["exp_avg_sq"]
    gt = _n(numbers, g)
    parts.append(
        Part(
            "exp_avg",
            "m_{t}",
            f"\\beta_{{1}}\\,m_{{t-1}} + (1 - \\beta_{{1}})\\,{g_sym}",
            f"{product(param(beta1), _previous(p, 'exp_avg', numbers, 0.0))} + {product(param(1 - beta1), gt)}",
            m,
        )
    )
    parts.append(
        Part(
            "exp_avg_sq",
            "v_{t}",
            f"\\beta_{{2}}\\,v_{{t-1}} + (1 - \\beta_{{2}})\\,{g_sym}^{{2}}",
            f"{product(param(beta2), _previous(p, 'exp_avg_sq', numbers, 0.0))} + {param(1 - beta2)}\\,{_paren(gt)}^{{2}}",
            v,
        )
    )
    v_sym = "v_{t}"
    if hp["amsgrad"]:
        v_max = p.new["max_exp_avg_sq"]
        before = _previous(p, "max_exp_avg_sq", numbers, 0.0)
        parts.append(Part("max_exp_avg_sq", "v^{\\max}_{t}", "\\max(v^{\\max}_{t-1}, v_{t})", f"\\max({before}, {_n(numbers, v)})", v_max))
        v, v_sym = v_max, "v^{\\max}_{t}"
    t = p.t
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    parts.append(
        Part(
            "bias_corrected_exp_avg",
            "\\hat{m}_{t}",
            "\\frac{m_{t}}{1 - \\beta_{1}^{t}}",
            f"\\frac{{{_n(numbers, m)}}}{{1 - {param(beta1)}^{{{t}}}}}",
            m_hat,
        )
    )
    parts.append(
        Part(
            "bias_corrected_exp_avg_sq",
            "\\hat{v}_{t}",
            f"\\frac{{{v_sym}}}{{1 - \\beta_{{2}}^{{t}}}}",
            f"\\frac{{{_n(numbers, v)}}}{{1 - {param(beta2)}^{{{t}}}}}",
            v_hat,
        )
    )
    formula = f"{w_sym} - \\eta\\,\\frac{{\\hat{{m}}_{{t}}}}{{\\sqrt{{\\hat{{v}}_{{t}}}} + \\epsilon}}"
    substituted = f"{w_text} - {param(eta)}\\,\\frac{{{_n(numbers, m_hat)}}}{{\\sqrt{{{_n(numbers, v_hat)}}} + {param(eps)}}}"
    return formula, substituted, parts


def adamw(p: Param, hp: Mapping[str, Any], numbers: Numbers) -> Lines:
    return adam(p, hp, numbers, decoupled=True)


def rmsprop(p: Param, hp: Mapping[str, Any], numbers: Numbers) -> Lines:
    eta, alpha, eps, mu, centered = hp["learning_rate"], hp["alpha"], hp["eps"], hp["momentum"], hp["centered"]
    g_sym, g, parts = _gradient(p, hp, numbers, hp["weight_decay"])
    gt, s = _n(numbers, g), p.new["square_avg"]
    parts.append(
        Part(
            "square_avg",
            "s_{t}",
            f"\\alpha\\,s_{{t-1}} + (1 - \\alpha)\\,{g_sym}^{{2}}",
            f"{product(param(alpha), _previous(p, 'square_avg', numbers, 0.0))} + {param(1 - alpha)}\\,{_paren(gt)}^{{2}}",
            s,
        )
    )
    if centered:
        g_avg = p.new["grad_avg"]
        parts.append(
            Part(
                "grad_avg",
                "\\bar{g}_{t}",
                f"\\alpha\\,\\bar{{g}}_{{t-1}} + (1 - \\alpha)\\,{g_sym}",
                f"{product(param(alpha), _previous(p, 'grad_avg', numbers, 0.0))} + {product(param(1 - alpha), gt)}",
                g_avg,
            )
        )
        d = math.sqrt(max(s - g_avg * g_avg, 0.0)) + eps
        d_formula, d_subs = (
            "\\sqrt{s_{t} - \\bar{g}_{t}^{2}} + \\epsilon",
            f"\\sqrt{{{_n(numbers, s)} - {_paren(_n(numbers, g_avg))}^{{2}}}} + {param(eps)}",
        )
    else:
        d = math.sqrt(s) + eps
        d_formula, d_subs = "\\sqrt{s_{t}} + \\epsilon", f"\\sqrt{{{_n(numbers, s)}}} + {param(eps)}"
    parts.append(Part("denominator", "d_{t}", d_formula, d_subs, d))
    w = numbers.given(p.theta)
    if mu > 0:
        b = p.new["momentum_buffer"]
        before = _previous(p, "momentum_buffer", numbers, 0.0)
        parts.append(
            Part(
                "momentum_buffer",
                "b_{t}",
                f"\\mu\\,b_{{t-1}} + \\frac{{{g_sym}}}{{d_{{t}}}}",
                f"{product(param(mu), before)} + \\frac{{{gt}}}{{{_n(numbers, d)}}}",
                b,
            )
        )
        return f"{p.symbol} - \\eta\\,b_{{t}}", f"{w} - {product(param(eta), _n(numbers, b))}", parts
    return f"{p.symbol} - \\eta\\,\\frac{{{g_sym}}}{{d_{{t}}}}", f"{w} - {param(eta)}\\,\\frac{{{gt}}}{{{_n(numbers, d)}}}", parts


def adagrad(p: Param, hp: Mapping[str, Any], numbers: Numbers) -> Lines:
    eta, decay, eps = hp["learning_rate"], hp["lr_decay"], hp["eps"]
    g_sym, g, parts = _gradient(p, hp, numbers, hp["weight_decay"])
    eta_t, eta_sym, eta_text = eta / (1 + (p.t - 1) * decay), "\\eta", param(eta)
    if decay:
        parts.append(
            Part(
                "step_size",
                "\\eta_{t}",
                "\\frac{\\eta}{1 + (t - 1)\\,\\mathrm{lr\\_decay}}",
                f"\\frac{{{param(eta)}}}{{1 + {p.t - 1}\\,({param(decay)})}}",
                eta_t,
            )
        )
        eta_sym, eta_text = "\\eta_{t}", _n(numbers, eta_t)
    gt, S_t = _n(numbers, g), p.new["sum"]
    before = _previous(p, "sum", numbers, hp["initial_accumulator_value"])
    parts.append(Part("sum", "S_{t}", f"S_{{t-1}} + {g_sym}^{{2}}", f"{before} + {_paren(gt)}^{{2}}", S_t))
    formula = f"{p.symbol} - {eta_sym}\\,\\frac{{{g_sym}}}{{\\sqrt{{S_{{t}}}} + \\epsilon}}"
    substituted = f"{numbers.given(p.theta)} - {eta_text}\\,\\frac{{{gt}}}{{\\sqrt{{{_n(numbers, S_t)}}} + {param(eps)}}}"
    return formula, substituted, parts


#: The writer of each optimizer's lines, by its name (the engine's registry names).
WRITERS: dict[str, Callable[[Param, Mapping[str, Any], Numbers], Lines]] = {
    "sgd": sgd,
    "adam": adam,
    "adamw": adamw,
    "rmsprop": rmsprop,
    "adagrad": adagrad,
}
