"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""

from __future__ import annotations

from service.engine.catalog import CatalogEntry, Parameter
from service.engine.errors import EngineError
from service.engine.optimizers.base import Array, Optimizer, OptimizerState


def sgd(
    learning_rate: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False
) -> Optimizer:
    """torch.optim.SGD (single-tensor path), with η = ``learning_rate``, μ = momentum, τ = dampening, λ = weight_decay:

        g ← g + λ θ                                  (if λ ≠ 0)
        b ← g                                        (first step: torch creates the buffer from g)
        b ← μ b + (1 − τ) g                          (later steps)
        g ← g + μ b  (Nesterov)   or   g ← b         (if μ ≠ 0)
        θ ← θ − η g

    Slot ``momentum_buffer`` (b, one array per θᵢ) exists only when μ ≠ 0.
    """
    if nesterov and (momentum <= 0 or dampening != 0):
        raise EngineError("sgd: nesterov momentum requires momentum > 0 and dampening = 0 (as torch.optim.SGD)")

    def update(params: list[Array], grads: list[Array], state: OptimizerState) -> tuple[list[Array], OptimizerState]:
        buffers = state.slots.get("momentum_buffer")
        new_params: list[Array] = []
        new_buffers: list[Array] = []
        for i, (theta, g) in enumerate(zip(params, grads, strict=True)):
            if weight_decay != 0:
                g = g + weight_decay * theta
            if momentum != 0:
                b = g.copy() if buffers is None else momentum * buffers[i] + (1 - dampening) * g
                new_buffers.append(b)
                g = g + momentum * b if nesterov else b
            new_params.append(theta - learning_rate * g)
        slots = {"momentum_buffer": new_buffers} if momentum != 0 else {}
        return new_params, OptimizerState(state.step + 1, slots)

    return Optimizer("sgd", ("momentum_buffer",) if momentum != 0 else (), update)


CATALOG = CatalogEntry(
    name="sgd",
    formula="g ← g + λθ;  b ← g (step 1), b ← μb + (1−τ)g (later);  g ← g + μb (nesterov) or b;  θ ← θ − ηg",
    parameters=(
        Parameter("learning_rate", 1e-3, "> 0", "η, the step size (torch's `lr`)"),
        Parameter("momentum", 0.0, "0 ≤ μ < 1", "μ; 0 turns momentum off (no state slot)"),
        Parameter("dampening", 0.0, "0 ≤ τ ≤ 1", "τ: the new gradient enters the buffer with weight 1 − τ"),
        Parameter("weight_decay", 0.0, "≥ 0", "λ: L2 penalty added to the gradient, g + λθ, on every parameter including biases"),
        Parameter("nesterov", False, "true needs momentum > 0 and dampening = 0", "Nesterov momentum: step along g + μb"),
    ),
    keras_difference=(
        "Keras SGD: learning_rate 0.01, no dampening, velocity v ← μv − ηg (same steps as torch for a constant η), "
        "weight_decay decoupled (θ ← θ − ηλθ) instead of added to g."
    ),
    notes=("State slot `momentum_buffer` appears after the first step when momentum > 0; it starts as the first gradient.",),
)
