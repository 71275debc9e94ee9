"""Gradient clipping, applied to ∂E/∂θ before the optimizer's update (as torch.nn.utils does).

Both act on the flat list of gradients gᵢ (W⁽¹⁾, b⁽¹⁾, W⁽²⁾, … in layer order):

    by norm  (torch.nn.utils.clip_grad_norm_):  ‖g‖ = √(Σᵢ ‖gᵢ‖²) over all gradients together,
                                                 gᵢ ← gᵢ · min(1, c / (‖g‖ + 10⁻⁶))
    by value (torch.nn.utils.clip_grad_value_): gᵢ ← min(max(gᵢ, −c), c), elementwise

The list holds the gradients of the parameters being trained only: a frozen parameter's
gradient (a layer's ``trainable`` or ``train_bias`` False) is left out before the update
(:func:`service.engine.training.train_step`), so it does not count in ‖g‖, as torch's
clip_grad_norm_ skips a parameter without a gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from service.engine.arrays import Array
from service.engine.errors import EngineError
from service.engine.optimizers.base import Optimizer, OptimizerState
from service.engine.registry import optional_real

#: torch adds this to the total norm before dividing, so a zero gradient stays zero.
NORM_EPS = 1e-6


def global_norm(grads: list[Array]) -> float:
    """‖g‖ = √(Σᵢ ‖gᵢ‖²), the L2 norm of all gradients as one vector (0 for none)."""
    return float(np.linalg.norm(np.array([np.linalg.norm(g) for g in grads])))


def norm_coefficient(grads: list[Array], max_norm: float) -> float:
    """min(1, c / (‖g‖ + 10⁻⁶)): the factor clip_norm scales every gradient by."""
    return min(max_norm / (global_norm(grads) + NORM_EPS), 1.0)


def clip_by_global_norm(grads: list[Array], max_norm: float) -> list[Array]:
    """gᵢ · min(1, c / (‖g‖ + 10⁻⁶)) with ‖g‖ the L2 norm of all gradients as one vector."""
    coef = norm_coefficient(grads, max_norm)
    return [g * g.dtype.type(coef) for g in grads]


def clip_by_value(grads: list[Array], clip_value: float) -> list[Array]:
    """Each entry of each gᵢ clamped to [−c, c]."""
    return [np.clip(g, -clip_value, clip_value) for g in grads]


def with_clipping(optimizer: Optimizer, clip_norm: float | None = None, clip_value: float | None = None) -> Optimizer:
    """``optimizer`` whose update first clips the gradients (at most one of the two, as Keras allows)."""
    if clip_norm is not None and clip_value is not None:
        raise EngineError("set at most one of clip_norm and clip_value (as Keras allows)")
    clip: Callable[[list[Array]], list[Array]]
    if clip_norm is not None:
        clip = partial(clip_by_global_norm, max_norm=clip_norm)
    elif clip_value is not None:
        clip = partial(clip_by_value, clip_value=clip_value)
    else:
        return optimizer
    inner = optimizer.update

    def update(params: list[Array], grads: list[Array], state: OptimizerState) -> tuple[list[Array], OptimizerState]:
        return inner(params, clip(grads), state)

    return Optimizer(optimizer.name, optimizer.slots, update)


#: The clipping options every optimizer accepts (at most one of the two, as Keras allows).
SPECS = (
    optional_real(
        "clip_norm",
        "if set, scale all gradients together so that their global L2 norm is at most this "
        "(torch.nn.utils.clip_grad_norm_: g·min(1, c/(‖g‖ + 1e-6)); Keras's global_clipnorm)",
        gt=0,
    ),
    optional_real("clip_value", "if set, clamp every gradient entry to [−c, c] (torch.nn.utils.clip_grad_value_; Keras's clipvalue)", gt=0),
)
