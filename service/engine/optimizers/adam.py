"""Adam and AdamW, with AMSGrad (torch.optim.Adam / torch.optim.AdamW)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from service.engine.arrays import Array
from service.engine.optimizers.base import Optimizer, OptimizerState, lerp, slot
from service.engine.optimizers.hyperparameters import eps, learning_rate, weight_decay
from service.engine.registry import Entry, Spec, entry, flag, pair


def adam(
    *,
    learning_rate: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
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


def adamw(*, learning_rate: float, betas: tuple[float, float], eps: float, weight_decay: float, amsgrad: bool) -> Optimizer:
    """torch.optim.AdamW: :func:`adam` with decoupled weight decay, θ ← θ(1 − ηλ) before the Adam step."""
    return adam(
        learning_rate=learning_rate,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        decoupled_weight_decay=True,
        name="adamw",
    )


def _specs(decay: Spec) -> tuple[Spec, ...]:
    return (
        learning_rate(1e-3),
        pair("betas", (0.9, 0.999), "[β₁, β₂], each in [0, 1): decay rates of the first and second moment estimates m and v"),
        eps(1e-8, "ε, added to the bias-corrected √v against division by zero"),
        decay,
        flag("amsgrad", False, "AMSGrad: divide by the running maximum v̂ of v (slot max_exp_avg_sq)"),
    )


_ADAM_FORMULA = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)"
_KERAS_EPS = "Keras adds ε to the uncorrected √v (so Keras's ε is torch's ε·√(1−β₂ᵗ)) and defaults it to 1e-7"


def _entry(build: Callable[..., Optimizer], name: str, decay: str, decay_spec: Spec, keras: str, notes: str) -> Entry[Optimizer]:
    """Adam or AdamW: the Adam step after its weight decay ``decay`` (``decay_spec``: its λ)."""
    title = {"adam": "Adam", "adamw": "AdamW"}[name]
    return entry(
        build, name, f"{decay};  {_ADAM_FORMULA}", *_specs(decay_spec), title=title, keras=f"{_KERAS_EPS}; {keras}", notes=(notes,)
    )


ADAM = _entry(
    adam,
    "adam",
    "g ← g + λθ",
    weight_decay(0.0, "λ: L2 penalty added to the gradient, g + λθ (coupled: it passes through m and v)"),
    "Keras weight_decay is decoupled (as adamw).",
    "State slots exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad) start at zero; t is the state's step + 1.",
)
ADAMW = _entry(
    adamw,
    "adamw",
    "θ ← θ(1 − ηλ)",
    weight_decay(1e-2, "λ: decoupled weight decay, θ ← θ(1 − ηλ) before the Adam step"),
    "Keras AdamW's weight_decay defaults to 0.004.",
    "State slots as adam.",
)
