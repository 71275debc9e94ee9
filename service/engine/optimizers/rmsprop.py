"""RMSprop, centered and with momentum (torch.optim.RMSprop)."""

from __future__ import annotations

import numpy as np

from service.engine.arrays import Array
from service.engine.optimizers.base import Optimizer, OptimizerState, lerp, slot
from service.engine.optimizers.hyperparameters import eps, learning_rate, momentum, weight_decay
from service.engine.registry import Entry, entry, flag, unit_interval


def rmsprop(*, learning_rate: float, alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool) -> Optimizer:
    """torch.optim.RMSprop (single-tensor path), with η = ``learning_rate``, α = alpha, μ = momentum, λ = weight_decay:

        g ← g + λθ                                  (if λ ≠ 0)
        s ← α s + (1 − α) g²                        slot square_avg, zeros before step 1
        ḡ ← ḡ + (1 − α)(g − ḡ)                      slot grad_avg (centered only)
        d ← √(s − ḡ²) + ε  (centered)   or   √s + ε
        b ← μ b + g / d;  θ ← θ − η b               slot momentum_buffer (if μ > 0), zeros before step 1
        θ ← θ − η g / d                             (if μ = 0)

    s − ḡ² is a variance, ≥ 0 in exact arithmetic; it is clamped at 0 against rounding.
    """
    names = ("square_avg", *(("momentum_buffer",) if momentum > 0 else ()), *(("grad_avg",) if centered else ()))

    def update(params: list[Array], grads: list[Array], state: OptimizerState) -> tuple[list[Array], OptimizerState]:
        slots = {n: slot(state, n, params, np.zeros_like) for n in names}
        new_params: list[Array] = []
        new_slots: dict[str, list[Array]] = {n: [] for n in names}
        for i, (theta, g) in enumerate(zip(params, grads, strict=True)):
            if weight_decay != 0:
                g = g + weight_decay * theta
            s = alpha * slots["square_avg"][i] + (1 - alpha) * (g * g)
            new_slots["square_avg"].append(s)
            if centered:
                g_avg = lerp(slots["grad_avg"][i], g, 1 - alpha)
                new_slots["grad_avg"].append(g_avg)
                d = np.sqrt(np.maximum(s - g_avg * g_avg, 0)) + eps
            else:
                d = np.sqrt(s) + eps
            if momentum > 0:
                b = momentum * slots["momentum_buffer"][i] + g / d
                new_slots["momentum_buffer"].append(b)
                new_params.append(theta - learning_rate * b)
            else:
                new_params.append(theta - learning_rate * (g / d))
        return new_params, OptimizerState(state.step + 1, new_slots)

    return Optimizer("rmsprop", names, update)


ENTRY: Entry[Optimizer] = entry(
    rmsprop,
    "rmsprop",
    "g ← g + λθ;  s ← αs + (1−α)g²;  d ← √(s − ḡ²) + ε (centered, ḡ ← αḡ + (1−α)g) or √s + ε;  b ← μb + g/d;  θ ← θ − ηb",
    learning_rate(1e-2),
    unit_interval("alpha", 0.99, "α: decay rate of the running average of g² (Keras's `rho`, 0.9 there)"),
    eps(1e-8, "ε, added to the root of the running average against division by zero"),
    weight_decay(0.0, "λ: L2 penalty added to the gradient, g + λθ"),
    momentum("μ, in [0, 1); 0 turns momentum off (no momentum_buffer slot)"),
    flag("centered", False, "normalize by an estimate of the gradient's variance (slot grad_avg)"),
    title="RMSprop",
    keras=(
        "Keras RMSprop: learning_rate 0.001, rho 0.9 (torch alpha 0.99), epsilon 1e-7 added inside the root (√(s + ε)), "
        "momentum buffer holds η-scaled steps, weight_decay decoupled."
    ),
    notes=("State slots square_avg, momentum_buffer (momentum > 0) and grad_avg (centered) start at zero.",),
)
