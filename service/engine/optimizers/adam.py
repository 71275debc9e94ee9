"""Adam and AdamW, with AMSGrad (torch.optim.Adam / torch.optim.AdamW)."""

from __future__ import annotations

import numpy as np

from service.engine.catalog import CatalogEntry, Parameter
from service.engine.optimizers.base import Array, Optimizer, OptimizerState, lerp, slot


def adam(
    learning_rate: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
    name: str = "adam",
) -> Optimizer:
    """torch.optim.Adam (single-tensor path), at step t = state.step + 1, with η = ``learning_rate``, λ = weight_decay:

    g ← g + λθ   (Adam)      or      θ ← θ(1 − ηλ)   (AdamW: decoupled)
    m ← m + (1 − β₁)(g − m)                   slot exp_avg, zeros before step 1
    v ← β₂ v + (1 − β₂) g²                    slot exp_avg_sq, zeros before step 1
    v̂ ← max(v̂, v)                             slot max_exp_avg_sq (amsgrad only); v̂ replaces v below
    θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    """
    beta1, beta2 = betas
    names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")

    def update(params: list[Array], grads: list[Array], state: OptimizerState) -> tuple[list[Array], OptimizerState]:
        t = state.step + 1
        step_size = learning_rate / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        slots = [slot(state, n, params, np.zeros_like) for n in names]
        new_params: list[Array] = []
        new_slots: list[list[Array]] = [[] for _ in names]
        for i, (theta, g) in enumerate(zip(params, grads, strict=True)):
            if weight_decay != 0:
                if decoupled_weight_decay:
                    theta = theta * (1 - learning_rate * weight_decay)
                else:
                    g = g + weight_decay * theta
            m = lerp(slots[0][i], g, 1 - beta1)
            v = beta2 * slots[1][i] + (1 - beta2) * (g * g)
            new = [m, v]
            if amsgrad:
                v = np.maximum(slots[2][i], v)
                new.append(v)
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
            new_params.append(theta - step_size * (m / denom))
            for arrays, value in zip(new_slots, new, strict=True):
                arrays.append(value)
        return new_params, OptimizerState(t, dict(zip(names, new_slots, strict=True)))

    return Optimizer(name, names, update)


def adamw(
    learning_rate: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> Optimizer:
    """torch.optim.AdamW: :func:`adam` with decoupled weight decay, θ ← θ(1 − ηλ) before the Adam step."""
    return adam(learning_rate, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True, name="adamw")


def _parameters(weight_decay: float, decay_text: str) -> tuple[Parameter, ...]:
    return (
        Parameter("learning_rate", 1e-3, "> 0", "η, the step size (torch's `lr`)"),
        Parameter("betas", [0.9, 0.999], "0 ≤ β₁, β₂ < 1", "[β₁, β₂]: decay rates of the first and second moment estimates"),
        Parameter("eps", 1e-8, "> 0", "ε, added to the bias-corrected √v"),
        Parameter("weight_decay", weight_decay, "≥ 0", decay_text),
        Parameter("amsgrad", False, "true or false", "AMSGrad: divide by the running maximum v̂ of v (slot max_exp_avg_sq)"),
    )


_ADAM_FORMULA = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)"
_KERAS_EPS = "Keras adds ε to the uncorrected √v (so Keras's ε is torch's ε·√(1−β₂ᵗ)) and defaults it to 1e-7"

CATALOG = (
    CatalogEntry(
        name="adam",
        formula="g ← g + λθ;  " + _ADAM_FORMULA,
        parameters=_parameters(0.0, "λ: L2 penalty added to the gradient, g + λθ (coupled: it passes through m and v)"),
        keras_difference=f"{_KERAS_EPS}; Keras weight_decay is decoupled (as adamw).",
        notes=("State slots exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad) start at zero; t is the state's step + 1.",),
    ),
    CatalogEntry(
        name="adamw",
        formula="θ ← θ(1 − ηλ);  " + _ADAM_FORMULA,
        parameters=_parameters(1e-2, "λ: decoupled weight decay, θ ← θ(1 − ηλ) before the Adam step"),
        keras_difference=f"{_KERAS_EPS}; Keras AdamW's weight_decay defaults to 0.004.",
        notes=("State slots as adam.",),
    ),
)
