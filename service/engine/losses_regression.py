"""Regression losses Eₙ(y, t), each with its gradient ∂Eₙ/∂y beside it.

y and t are N × K (any leading axes are batch axes); Eₙ is reduced over the K
outputs of one point: summed for half_sse and sse (the primer's convention),
averaged for mse, mae, huber and poisson (Keras's per-sample loss; with
reduction "mean" this is PyTorch's mean over all N·K elements).
"""

from __future__ import annotations

import math

import numpy as np

from service.engine.arrays import Array
from service.engine.loss_base import Loss, mean_last, within
from service.engine.registry import Entry, entry, flag, real
from service.engine.tex import loss_tex as tex
from service.engine.tex import param

_SQUARE = "(⟨y⟩ - ⟨t⟩)^{2}"


def _half_sse() -> Loss:
    # The primer's loss; δ⁽ᴸ⁾ = y − t for a linear output (eq. 5).
    t = tex("\\frac{1}{2}", _SQUARE, "⟨y⟩ - ⟨t⟩")
    return Loss("half_sse", lambda y, t: 0.5 * ((y - t) ** 2).sum(axis=-1), lambda y, t: y - t, tex=t)


def _sse() -> Loss:
    return Loss("sse", lambda y, t: ((y - t) ** 2).sum(axis=-1), lambda y, t: 2.0 * (y - t), tex=tex("", _SQUARE, "2\\,(⟨y⟩ - ⟨t⟩)"))


def _mse() -> Loss:
    t = tex("\\frac{1}{⟨K⟩}", _SQUARE, "\\frac{2}{⟨K⟩}\\,(⟨y⟩ - ⟨t⟩)")
    return Loss("mse", lambda y, t: mean_last((y - t) ** 2), lambda y, t: (2.0 / y.shape[-1]) * (y - t), tex=t)


def _mae() -> Loss:
    # sign(0) = 0: the subgradient PyTorch's l1_loss backward returns where y = t.
    t = tex("\\frac{1}{⟨K⟩}", "|⟨y⟩ - ⟨t⟩|", "\\frac{1}{⟨K⟩}\\operatorname{sign}(⟨y⟩ - ⟨t⟩)")
    return Loss("mae", lambda y, t: mean_last(np.abs(y - t)), lambda y, t: np.sign(y - t) / y.shape[-1], tex=t)


def _huber(delta: float) -> Loss:
    def value(y: Array, t: Array) -> Array:
        d = np.abs(y - t)
        return mean_last(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)))

    d = param(delta)
    t = tex(
        "\\frac{1}{⟨K⟩}",
        f"[|⟨y⟩ - ⟨t⟩| < {d}]\\,\\tfrac{{1}}{{2}}(⟨y⟩ - ⟨t⟩)^{{2}} + [|⟨y⟩ - ⟨t⟩| \\ge {d}]\\,{d}\\,(|⟨y⟩ - ⟨t⟩| - \\tfrac{{{d}}}{{2}})",
        f"\\frac{{1}}{{⟨K⟩}}\\operatorname{{clip}}(⟨y⟩ - ⟨t⟩, -{d}, {d})",
    )
    return Loss("huber", value, lambda y, t: np.clip(y - t, -delta, delta) / y.shape[-1], tex=t)


def _poisson(log_input: bool, full: bool, eps: float) -> Loss:
    def stirling(t: Array) -> Array:
        """t log t − t + ½ log(2πt) where t > 1, else 0 (PyTorch's ``full`` term; constant in y)."""
        s = np.maximum(t, 1.0)
        return np.where(t > 1, s * np.log(s) - s + 0.5 * np.log(2 * math.pi * s), 0.0)

    def value(y: Array, t: Array) -> Array:
        E = np.exp(y) - t * y if log_input else y - t * np.log(y + eps)
        return mean_last(E + stirling(t) if full else E)

    def grad(y: Array, t: Array) -> Array:
        return (np.exp(y) - t if log_input else 1.0 - t / (y + eps)) / y.shape[-1]

    def check(y: Array, t: Array) -> None:
        within("poisson", "t", t, 0, None)
        if not log_input:
            within("poisson", "y", y, 0, None, " (with log_input false, y is a rate; use a softplus or exponential output)")

    e = param(eps)
    term = "(e^{⟨y⟩} - ⟨t⟩\\,⟨y⟩)" if log_input else f"(⟨y⟩ - ⟨t⟩\\,\\log(⟨y⟩ + {e}))"
    if full:
        term = term[:-1] + " + [⟨t⟩ > 1]\\,(⟨t⟩\\log ⟨t⟩ - ⟨t⟩ + \\tfrac{1}{2}\\log(2\\pi\\,⟨t⟩)))"
    grad_tex = "\\frac{1}{⟨K⟩}\\,(e^{⟨y⟩} - ⟨t⟩)" if log_input else f"\\frac{{1}}{{⟨K⟩}}\\,(1 - \\frac{{⟨t⟩}}{{⟨y⟩ + {e}}})"
    return Loss("poisson", value, grad, check=check, tex=tex("\\frac{1}{⟨K⟩}", term, grad_tex))


ENTRIES: list[Entry[Loss]] = [
    entry(
        _half_sse,
        "half_sse",
        "Eₙ = ½ Σₖ (yₖ − tₖ)²,  ∂Eₙ/∂y = y − t",
        keras="Not in Keras or PyTorch: the primer's loss. Equals mse × K/2 (mse for K = 2 outputs).",
    ),
    entry(_sse, "sse", "Eₙ = Σₖ (yₖ − tₖ)²,  ∂Eₙ/∂y = 2(y − t)", keras="PyTorch's mse_loss with reduction 'sum'; not in Keras."),
    entry(
        _mse,
        "mse",
        "Eₙ = (1/K) Σₖ (yₖ − tₖ)²,  ∂Eₙ/∂y = 2(y − t)/K",
        aliases=("mean_squared_error",),
        keras="Same as Keras; with reduction mean, PyTorch's mse_loss (mean over all N·K elements).",
    ),
    entry(
        _mae,
        "mae",
        "Eₙ = (1/K) Σₖ |yₖ − tₖ|,  ∂Eₙ/∂y = sign(y − t)/K",
        aliases=("mean_absolute_error",),
        keras="Same as Keras; with reduction mean, PyTorch's l1_loss.",
        notes=("∂Eₙ/∂y = 0 where y = t, as in PyTorch",),
    ),
    entry(
        _huber,
        "huber",
        "Eₙ = (1/K) Σₖ (½dₖ² if |dₖ| < δ else δ(|dₖ| − ½δ)), d = y − t;  ∂Eₙ/∂y = clip(d, −δ, δ)/K",
        real("delta", 1.0, "δ, where the loss turns from quadratic to linear", gt=0),
        keras="Same as Keras's Huber (delta 1.0); with reduction mean, PyTorch's huber_loss.",
    ),
    entry(
        _poisson,
        "poisson",
        "Eₙ = (1/K) Σₖ (e^yₖ − tₖ yₖ) (log_input) or (1/K) Σₖ (yₖ − tₖ log(yₖ + ε))",
        flag("log_input", True, "y is the log of the rate (true, PyTorch's default) or the rate itself"),
        flag("full", False, "add the Stirling term t log t − t + ½ log(2πt) (for t > 1)"),
        real("eps", 1e-8, "ε, keeps log(y + ε) finite at y = 0 (only with log_input false)", gt=0),
        keras="Keras's poisson takes the rate y (log_input false) with ε = 1e-7; PyTorch's default, used here, takes log y.",
        notes=("t ≥ 0; with log_input false y ≥ 0", "PyTorch's poisson_nll_loss with reduction mean is reduction mean here"),
    ),
]
