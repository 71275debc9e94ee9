"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""

from __future__ import annotations

from service.engine.arrays import Array
from service.engine.errors import EngineError
from service.engine.optimizers.base import Optimizer, OptimizerState
from service.engine.optimizers.hyperparameters import learning_rate, momentum, weight_decay
from service.engine.registry import Entry, entry, flag, interval


def sgd(*, learning_rate: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool) -> Optimizer:
    """torch.optim.SGD (single-tensor path), with η = ``learning_rate``, μ = momentum, τ = dampening, λ = weight_decay:

        g ← g + λ θ                                  (if λ ≠ 0)
        b ← g                                        (first step: torch creates the buffer from g)
        b ← μ b + (1 − τ) g                          (later steps)
        g ← g + μ b  (Nesterov)   or   g ← b         (if μ ≠ 0)
        θ ← θ − η g

    Slot ``momentum_buffer`` (b, one array per θᵢ) exists only when μ ≠ 0.
    """
    if nesterov and (momentum <= 0 or dampening != 0):
        raise EngineError("nesterov needs momentum > 0 and dampening = 0 (as torch.optim.SGD)")

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


ENTRY: Entry[Optimizer] = entry(
    sgd,
    "sgd",
    "g ← g + λθ;  b ← g (step 1), b ← μb + (1−τ)g (later);  g ← g + μb (nesterov) or b;  θ ← θ − ηg",
    learning_rate(1e-3),
    momentum("μ, in [0, 1); 0 turns momentum off (no state slot)"),
    interval("dampening", 0.0, "τ: the new gradient enters the momentum buffer with weight 1 − τ", closed=True),
    weight_decay(0.0, "λ: adds λθ to the gradient (L2 penalty on every parameter, biases included)"),
    flag("nesterov", False, "Nesterov momentum, a step along g + μb; needs momentum > 0 and dampening = 0"),
    title="SGD",
    keras=(
        "Keras SGD: learning_rate 0.01, no dampening, velocity v ← μv − ηg (same steps as torch for a constant η), "
        "weight_decay decoupled (θ ← θ − ηλθ) instead of added to g."
    ),
    notes=("State slot `momentum_buffer` appears after the first step when momentum > 0; it starts as the first gradient.",),
)
