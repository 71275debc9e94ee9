"""The hyperparameters several optimizers share, described once (torch.optim's names, except ``learning_rate``)."""

from __future__ import annotations

from service.engine.registry import Spec, real, unit_interval


def learning_rate(default: float) -> Spec:
    """η, the step size (torch.optim's ``lr``)."""
    return real("learning_rate", default, "η, the step size (torch.optim's `lr`)", gt=0)


def momentum(description: str) -> Spec:
    """μ in [0, 1); 0 turns momentum off."""
    return unit_interval("momentum", 0.0, description)


def weight_decay(default: float, description: str) -> Spec:
    """λ ≥ 0; what it does is the optimizer's (coupled L2 or decoupled decay)."""
    return real("weight_decay", default, description, ge=0)


def eps(default: float, description: str) -> Spec:
    """ε > 0 against division by zero."""
    return real("eps", default, description, gt=0)
