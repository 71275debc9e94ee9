"""Adagrad with learning-rate decay (torch.optim.Adagrad)."""

from __future__ import annotations

import numpy as np

from service.engine.arrays import Array
from service.engine.optimizers.base import Optimizer, OptimizerState, slot
from service.engine.optimizers.hyperparameters import eps, learning_rate, weight_decay
from service.engine.registry import Entry, entry, real


def adagrad(*, learning_rate: float, lr_decay: float, weight_decay: float, initial_accumulator_value: float, eps: float) -> Optimizer:
    """torch.optim.Adagrad (single-tensor path), at step t = state.step + 1, with η = ``learning_rate``, λ = weight_decay:

    g ← g + λθ                                  (if λ ≠ 0)
    η_t = η / (1 + (t − 1) · lr_decay)
    S ← S + g²                                  slot sum, initial_accumulator_value before step 1
    θ ← θ − η_t g / (√S + ε)
    """

    def initial(theta: Array) -> Array:
        return np.full_like(theta, initial_accumulator_value)

    def update(params: list[Array], grads: list[Array], state: OptimizerState) -> tuple[list[Array], OptimizerState]:
        t = state.step + 1
        eta_t = learning_rate / (1 + (t - 1) * lr_decay)
        sums = slot(state, "sum", params, initial)
        new_params: list[Array] = []
        new_sums: list[Array] = []
        for theta, g, S in zip(params, grads, sums, strict=True):
            if weight_decay != 0:
                g = g + weight_decay * theta
            S = S + g * g
            new_sums.append(S)
            new_params.append(theta - eta_t * (g / (np.sqrt(S) + eps)))
        return new_params, OptimizerState(t, {"sum": new_sums})

    return Optimizer("adagrad", ("sum",), update)


ENTRY: Entry[Optimizer] = entry(
    adagrad,
    "adagrad",
    "g ← g + λθ;  S ← S + g²;  θ ← θ − η/(1 + (t−1)·lr_decay) · g / (√S + ε)",
    learning_rate(1e-2),
    real("lr_decay", 0.0, "the step size at step t is η_t = η / (1 + (t − 1) · lr_decay)", ge=0),
    weight_decay(0.0, "λ: L2 penalty added to the gradient, g + λθ"),
    real("initial_accumulator_value", 0.0, "S before the first step (Keras: 0.1)", ge=0),
    eps(1e-10, "ε, added to √S against division by zero"),
    title="Adagrad",
    keras=(
        "Keras Adagrad: learning_rate 0.001, initial_accumulator_value 0.1, epsilon 1e-7 added inside the root (√(S + ε)), "
        "no lr_decay (use a schedule), weight_decay decoupled."
    ),
    notes=("State slot `sum` (S) starts at initial_accumulator_value.",),
)
