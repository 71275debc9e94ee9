"""An independent reference for the tests: E(θ) written out plainly, and central differences.

Nothing here imports the engine. The formulas are the textbook ones (sigmoid as
1/(1+e⁻ᵃ), softmax without the max shift), which is fine for the moderate
values the tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda a: a,
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "relu": lambda a: np.where(a > 0, a, 0.0),
    "softmax": lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True),
}

LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "half_sse": lambda y, t: 0.5 * ((y - t) ** 2).sum(axis=-1),
    "mse": lambda y, t: ((y - t) ** 2).mean(axis=-1),
    "categorical_cross_entropy": lambda y, t: -(t * np.log(y)).sum(axis=-1),
}


def loss_of(layers: list[dict[str, Any]], x: np.ndarray, t: np.ndarray, loss: str, reduction: str) -> float:
    """E for a wire-form network (weights K × M, optional bias), x and t as N × … arrays."""
    z = x
    for layer in layers:
        a = z @ np.asarray(layer["weights"]).T
        if layer.get("bias") is not None:
            a = a + np.asarray(layer["bias"])
        z = ACTIVATIONS[layer["activation"]](a)
    per_point = LOSSES[loss](z, t)
    return float(per_point.sum() if reduction == "sum" else per_point.mean())


def central_difference(f: Callable[[], float], theta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂θ by (f(θ + ε) − f(θ − ε)) / 2ε, one entry at a time (θ is modified in place and restored)."""
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        saved = theta[i]
        theta[i] = saved + eps
        up = f()
        theta[i] = saved - eps
        down = f()
        theta[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad
