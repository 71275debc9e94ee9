"""Adagrad with learning-rate decay (torch.optim.Adagrad)."""

from __future__ import annotations

import numpy as np

from service.engine.catalog import CatalogEntry, Parameter
from service.engine.optimizers.base import Array, Optimizer, OptimizerState, slot


def adagrad(
    learning_rate: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> Optimizer:
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


CATALOG = CatalogEntry(
    name="adagrad",
    formula="g ← g + λθ;  S ← S + g²;  θ ← θ − η/(1 + (t−1)·lr_decay) · g / (√S + ε)",
    parameters=(
        Parameter("learning_rate", 1e-2, "> 0", "η, the step size (torch's `lr`)"),
        Parameter("lr_decay", 0.0, "≥ 0", "η_t = η / (1 + (t − 1) · lr_decay)"),
        Parameter("weight_decay", 0.0, "≥ 0", "λ: L2 penalty added to the gradient, g + λθ"),
        Parameter("initial_accumulator_value", 0.0, "≥ 0", "S before the first step"),
        Parameter("eps", 1e-10, "> 0", "ε, added to √S"),
    ),
    keras_difference=(
        "Keras Adagrad: learning_rate 0.001, initial_accumulator_value 0.1, epsilon 1e-7 added inside the root (√(S + ε)), "
        "no lr_decay (use a schedule), weight_decay decoupled."
    ),
    notes=("State slot `sum` (S) starts at initial_accumulator_value.",),
)
